"""Entry paths through an Ingress (networking.k8s.io/v1 Ingress, served by an ingress controller by its class):
the ``matrix`` rows outside network → backend Pods through each rule (pairwise and grouped, exact), on a bundled
layout (topologies/flannel-vxlan.yaml) and on real manifests (tests/corpus: ingress-nginx's deploy.yaml in front
of Online Boutique on the corpus kubeadm cluster)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.reach import CompiledCluster
from netmodel.cli.main import main
from netmodel.load import parse_text
from netmodel.model.build import build_topology, load_topology
from netmodel.model.topology import Topology
from netmodel.sets import format_ports
from tests.test_grouped import assert_exact

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = ROOT / "topologies" / "flannel-vxlan.yaml"
HEALTHY = LAYOUT.read_text()
CORPUS = ROOT / "tests" / "corpus"
VIA_BLOG = "Ingress blog/blog (blog.example.com, / → wordpress:80)"
NETWORKS = ("internet", "office")


def _topology(text: str) -> Topology:
    return build_topology(parse_text(text, "layout.yaml"))


def _replace(old: str, new: str, text: str = HEALTHY) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def ingress_rows(topology: Topology, by: str = "workload") -> set[tuple[str, str, str, str, bool]]:
    """(from, to, ports, via, partial) of the matrix rows entering through an Ingress."""
    return {(c.source, c.destination, format_ports(c.ports), c.via, c.partial)
            for c in connectivity(CompiledCluster(topology), by) if c.via.startswith("Ingress ")}


# A second rule (its own host and path, to a named port) and a defaultBackend, to the blog's MySQL: what no rule
# matches goes there (the Ingress docs' "defaultBackend").
MORE_RULES = """  - host: admin.example.com
    http:
      paths:
      - path: /db
        pathType: Prefix
        backend:
          service:
            name: mysql
            port: {name: mysql}
  defaultBackend:
    service:
      name: mysql
      port: {number: 3306}
"""
OPEN_MYSQL = """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: mysql-from-ingress-controller
  namespace: blog
spec:
  podSelector:
    matchLabels: {app: mysql}
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: ingress-nginx}
"""


def _with_more_rules() -> str:
    text = _replace("            name: wordpress\n            port: {number: 80}\n",
                    "            name: wordpress\n            port: {number: 80}\n" + MORE_RULES)
    return text + OPEN_MYSQL


def test_matrix_lists_the_backends_outside_networks_reach_through_the_ingress() -> None:
    # Both networks enter the controller's LoadBalancer Service; the controller Pods reach WordPress on its
    # target port (the policy wordpress-from-ingress-controller), so the row is on 80, not partial.
    assert ingress_rows(_topology(HEALTHY)) == {(f"network:{n}", "blog/wordpress[Deployment]", "80", VIA_BLOG, False)
                                                for n in NETWORKS}


def test_every_rule_and_the_default_backend_is_a_row_of_its_own() -> None:
    rows = ingress_rows(_topology(_with_more_rules()))
    vias = {via for _, _, _, via, _ in rows}
    assert vias == {VIA_BLOG, "Ingress blog/blog (admin.example.com, /db → mysql:mysql)",
                    "Ingress blog/blog (defaultBackend → mysql:3306)"}
    assert {(t, p) for _, t, p, via, _ in rows if "mysql" in via} == {("blog/mysql[StatefulSet]", "3306")}


def test_a_backend_the_controller_cannot_reach_gets_no_row() -> None:
    # Without the policy letting the controller in, the blog's default deny drops the second leg.
    text = _replace("      podSelector:\n        matchLabels: {app.kubernetes.io/component: controller}\n    ports:\n"
                    "    - {port: http, protocol: TCP}\n",
                    "      podSelector:\n        matchLabels: {app.kubernetes.io/component: nothing}\n    ports:\n"
                    "    - {port: http, protocol: TCP}\n")
    assert ingress_rows(_topology(text)) == set()
    # ... nor does a rule to a MySQL the default deny keeps closed.
    assert all("mysql" not in via for *_, via, _ in ingress_rows(_topology(_with_more_rules()[:-len(OPEN_MYSQL)])))


def test_an_ingress_no_controller_serves_gets_no_row() -> None:
    # NM-EXT-010: the class does not exist, so no controller claims the Ingress.
    assert ingress_rows(_topology(_replace("  ingressClassName: nginx\n  rules:",
                                           "  ingressClassName: missing\n  rules:"))) == set()


def test_a_network_the_firewall_admits_on_one_port_only_is_partial() -> None:
    # The internet enters the controller only on 443 when its firewall rule drops 30080: still a path, partly;
    # the office, on both, fully.
    topology = _topology(HEALTHY)
    rule = next(r for f in topology.firewalls for r in f.ingress.rules if "30080" in str(r))
    assert rule is not None  # the layout's firewall names the nodePorts: the variation below is meaningful
    text = HEALTHY.replace('ports: ["30080", "30443"]', 'ports: ["30443"]')
    rows = ingress_rows(_topology(text))
    assert {(s, partial) for s, *_, partial in rows} == {("network:internet", True), ("network:office", False)}


def test_the_grouped_map_states_the_ingress_entries_exactly() -> None:
    payload = assert_exact(_topology(_with_more_rules()))
    connections = {r["connections"] for r in payload["rules"]}
    assert f"TCP 80 via {VIA_BLOG}" in connections


# The property: on random variations of the layout's Ingress, controller and policies, the grouped map expands to
# exactly the pairwise matrix (tests/test_grouped.py's check), Ingress entries included.
NEXT_POLICY = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: mysql-from-wordpress"
VARIATIONS = {
    "more-rules": None,
    "class": ("  ingressClassName: nginx\n  rules:", "  rules:"),
    "one-controller": ("  replicas: 2\n", "  replicas: 1\n"),
    "local": ("  type: LoadBalancer\n", "  type: LoadBalancer\n  externalTrafficPolicy: Local\n"),
    "port-name": ("            port: {number: 80}\n", "            port: {name: http}\n"),
    "no-policy": ("    - {port: http, protocol: TCP}\n" + NEXT_POLICY, "    - {port: 9999, protocol: TCP}\n" + NEXT_POLICY),
}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(sorted(VARIATIONS))))
def test_grouped_map_is_exact_on_random_ingress_variations(chosen: set[str]) -> None:
    text = _with_more_rules() if "more-rules" in chosen else HEALTHY
    for name in sorted(chosen - {"more-rules"}):
        old, new = VARIATIONS[name] or ("", "")
        text = text.replace(old, new, 1) if old and old in text else text
    assert_exact(_topology(text))


# -- real manifests: ingress-nginx's deploy.yaml in front of Online Boutique ----------------------------------------

BOUTIQUE_INGRESS = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: boutique, namespace: default}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: frontend, port: {number: 80}}
"""


def boutique(tmp_path: Path, ingress: str = BOUTIQUE_INGRESS) -> Topology:
    (tmp_path / "ingress.yaml").write_text(ingress)
    return load_topology([str(CORPUS / "_cluster"), str(CORPUS / "ingress-nginx"),
                          str(CORPUS / "online-boutique" / "kubernetes-manifests.yaml"), str(tmp_path / "ingress.yaml")])


def test_real_manifests_reach_the_boutique_frontend_through_ingress_nginx(tmp_path: Path) -> None:
    # deploy.yaml's LoadBalancer Service ingress-nginx-controller (80, 443) in front of its controller, IngressClass
    # nginx (k8s.io/ingress-nginx); the frontend Service's port 80 targets the Pods' 8080.
    via = "Ingress default/boutique (shop.example.com, / → frontend:80)"
    rows = ingress_rows(boutique(tmp_path))
    assert {(s, t, p, v) for s, t, p, v, _ in rows} == {(f"network:{n}", "default/frontend[Deployment]", "8080", via)
                                                          for n in NETWORKS}


# -- diff ----------------------------------------------------------------------------------------------------------

# A new Service for WordPress's admin pages and the Ingress rule that publishes it.
ADMIN_SERVICE = """---
apiVersion: v1
kind: Service
metadata:
  name: wordpress-admin
  namespace: blog
spec:
  selector: {app: wordpress}
  ports:
  - {name: admin, port: 8080, targetPort: http, protocol: TCP}
"""
ADMIN_RULE = """  - host: admin.blog.example.com
    http:
      paths:
      - path: /wp-admin
        pathType: Prefix
        backend:
          service:
            name: wordpress-admin
            port: {number: 8080}
"""
VIA_ADMIN = "Ingress blog/blog (admin.blog.example.com, /wp-admin → wordpress-admin:8080)"


def with_admin_rule(text: str = HEALTHY) -> str:
    return _replace("  rules:\n  - host: blog.example.com\n", "  rules:\n" + ADMIN_RULE + "  - host: blog.example.com\n",
                    text) + ADMIN_SERVICE


def _diff(tmp_path: Path, old: str, new: str) -> tuple[int, dict[str, Any]]:
    (tmp_path / "old.yaml").write_text(old)
    (tmp_path / "new.yaml").write_text(new)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["diff", str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"), "--format", "json"])
    assert code != 2, err.getvalue()
    return code, json.loads(out.getvalue())


def _flows(payload: dict[str, Any], change: str) -> set[tuple[str, str, str, str]]:
    return {(f["from"], f["to"], f["ports"], f["via"]) for f in payload["flows"][change]}


def test_diff_fails_on_an_ingress_rule_that_publishes_a_new_service(tmp_path: Path) -> None:
    new = with_admin_rule()
    code, payload = _diff(tmp_path, HEALTHY, new)
    assert (code, _flows(payload, "opened")) == (1, {(f"network:{n}", "blog/wordpress[Deployment]", "80", VIA_ADMIN)
                                                     for n in NETWORKS})
    # Located at the rule's backend in NEW (the `service:` mapping of the new path).
    line = new[:new.index("            name: wordpress-admin")].count("\n")
    assert {f["location"]["line"] for f in payload["flows"]["opened"]} == {line}
    # Removing the rule again closes them.
    code, payload = _diff(tmp_path, new, HEALTHY)
    assert _flows(payload, "closed") == {(f"network:{n}", "blog/wordpress[Deployment]", "80", VIA_ADMIN)
                                         for n in NETWORKS}
