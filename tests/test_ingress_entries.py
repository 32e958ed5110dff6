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

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.reach import CompiledCluster, query
from netmodel.analyze.reach.ingress import host_matches
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


ACCEPT = """---
apiVersion: netmodel.io/v1alpha1
kind: Expectations
metadata: {name: admin-pages}
spec:
  flows:
  - {from: network:internet, to: ingress:blog/blog, port: 443, host: admin.blog.example.com, allowed: true}
  - {from: network:office, to: ingress:blog/blog, port: 443, host: admin.blog.example.com, allowed: true}
"""


def test_diff_accepts_an_ingress_rule_an_expectation_through_the_ingress_asks_for(tmp_path: Path) -> None:
    code, payload = _diff(tmp_path, HEALTHY, with_admin_rule() + ACCEPT)
    assert code == 0 and {f["accepted"]["by"] for f in payload["flows"]["opened"]} == {"expectation"}
    # ... not by one for the other host, whose rule sends to WordPress too but is not the new one.
    code, _ = _diff(tmp_path, HEALTHY, with_admin_rule() + ACCEPT.replace("admin.blog.example.com", "blog.example.com"))
    assert code == 1
    # ... nor by one that does not hold (an expectation asking for every rule, when some rule is blocked).
    blocked = _replace("      podSelector:\n        matchLabels: {app.kubernetes.io/component: controller}\n    ports:\n"
                       "    - {port: http, protocol: TCP}\n",
                       "      podSelector:\n        matchLabels: {app.kubernetes.io/component: controller}\n    ports:\n"
                       "    - {port: 9999, protocol: TCP}\n", with_admin_rule())
    code, payload = _diff(tmp_path, HEALTHY, blocked + ACCEPT)
    assert payload["flows"]["opened"] == []  # nothing opens: the controller cannot reach WordPress at all


# -- query and --expect through an Ingress -------------------------------------------------------------------------

@pytest.mark.parametrize(("port", "host", "verdict", "pods"), [
    (80, "", "allowed", {"blog/wordpress"}),                  # every rule
    (443, "blog.example.com", "allowed", {"blog/wordpress"}),
    (80, "BLOG.example.com.", "allowed", {"blog/wordpress"}),  # host names compare case-blind, root dot dropped
    (80, "other.example.com", "denied", set()),               # no rule, no defaultBackend: the controller's 404
    (8080, "", "denied", set()),                              # the controller takes 80 and 443 only
])
def test_query_through_the_ingress_picks_rules_by_host(port: int, host: str, verdict: str, pods: set[str]) -> None:
    answer = query(CompiledCluster(_topology(HEALTHY)), "network:internet", "ingress:blog/blog", port, host=host)
    reached = {p.destination.rpartition("pod:")[2].rsplit("-", 1)[0] for p in answer.paths if p.delivered}
    assert (answer.verdict, reached) == (verdict, pods)


def test_query_host_picks_a_wildcard_rule_or_the_default_backend() -> None:
    text = _with_more_rules().replace("  - host: admin.example.com\n", "  - host: \"*.example.org\"\n")
    compiled = CompiledCluster(_topology(text))

    def backends(host: str) -> set[str]:
        answer = query(compiled, "network:internet", "ingress:blog/blog", 80, host=host)
        return {p.destination.rpartition("pod:")[2].rsplit("-", 1)[0] for p in answer.paths}

    # *.example.org takes one label below example.org, and its path /db leaves other paths to the default backend.
    assert backends("admin.example.org") == {"blog/mysql"}
    assert backends("a.b.example.org") == {"blog/mysql"}  # the default backend only: the wildcard does not match
    assert backends("blog.example.com") == {"blog/wordpress"}  # path / takes every path: no default backend
    assert host_matches("*.example.org", "admin.example.org") and not host_matches("*.example.org", "example.org")


def test_an_unknown_ingress_or_a_host_on_another_destination_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "layout.yaml").write_text(HEALTHY)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["query", str(tmp_path / "layout.yaml"), "--from", "network:internet", "--to", "ingress:blog/x",
                     "--port", "80"])
    assert code == 2 and "unknown Ingress 'blog/x'" in err.getvalue() and "blog/blog" in err.getvalue()
    (tmp_path / "layout.yaml").write_text(HEALTHY + ACCEPT.replace("ingress:blog/blog", "deployment:blog/wordpress"))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(tmp_path / "layout.yaml")])
    assert code == 2 and "ingress:NS/NAME" in err.getvalue()


def test_expectations_through_the_ingress_hold_with_check_expect(tmp_path: Path) -> None:
    (tmp_path / "layout.yaml").write_text(with_admin_rule() + ACCEPT)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(["check", str(tmp_path / "layout.yaml"), "--format", "json"])
    results = json.loads(out.getvalue())["expectations"]
    assert [r["ok"] for r in results] == [True, True] and {r.get("host") for r in results} == {"admin.blog.example.com"}


def test_emulate_skips_expectations_through_an_ingress_with_the_reason() -> None:
    from netmodel.emulate.flows import expectation_flows
    from netmodel.emulate.run import _Planner

    compiled = CompiledCluster(_topology(with_admin_rule() + ACCEPT))
    flows = expectation_flows(compiled)  # ingress: is no address: resolving it would stop the run (exit 2)
    assert flows and {f.destination for f in flows} == {"ingress:blog/blog"}
    planner = _Planner(compiled.topology, compiled, None, None)  # type: ignore[arg-type]  # no lab is needed
    assert all("through an Ingress" in planner.plan(f).skipped for f in flows)
