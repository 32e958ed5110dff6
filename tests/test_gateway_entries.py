"""Gateway API entry paths in every command (issue 13.4): ``query``/``--expect`` with a listener port and host,
the ``matrix`` rows outside network → backend through a Gateway listener (pairwise and grouped, exact), ``diff``
opening and closing them (accepted by Expectations through the Gateway), and ``diagram --focus``.

Truth tables come from the Gateway API conformance suite (kubernetes-sigs/gateway-api, commit in
tests/corpus/gateway-api/SOURCE.md): the upstream manifests of conformance/tests/<name>.yaml, unmodified, are
laid out on the bundled gateway-api-envoy cluster with an Envoy Gateway proxy per conformance Gateway and the
conformance backends (infra-backend-v1..v3, web-backend); each table row is a request of the matching
conformance/tests/<name>.go and the backend (or 404) it expects.
"""

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
from netmodel.cli.main import main
from netmodel.compile.gateway import listeners_for
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.model.topology import Topology
from netmodel.sets import format_ports
from tests.test_grouped import assert_exact

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = ROOT / "topologies" / "gateway-api-envoy.yaml"
HEALTHY = LAYOUT.read_text()
CONFORMANCE = ROOT / "tests" / "corpus" / "gateway-api" / "conformance"
VIA_HTTP = "Gateway infra/web listener http (HTTP 80)"
VIA_TLS = "Gateway infra/web listener tls (TLS 8443)"


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _topology(text: str) -> Topology:
    return build_topology(parse_text(text, "layout.yaml"))


def _replace(old: str, new: str, text: str = HEALTHY) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def reached(compiled: CompiledCluster, gateway: str, port: int, host: str = "",
            source: str = "network:internet") -> tuple[str, set[str]]:
    """(verdict, backend Services' Pods reached, as NS/POD-PREFIX) of a query through ``gateway``."""
    answer = query(compiled, source, gateway, port, host=host)
    pods = {p.destination.rpartition("pod:")[2].rsplit("-", 1)[0] for p in answer.paths if p.delivered}
    return answer.verdict, pods


def gateway_rows(topology: Topology, by: str = "workload") -> set[tuple[str, str, str, str, bool]]:
    """(from, to, ports, via, partial) of the matrix rows entering through a Gateway."""
    return {(c.source, c.destination, format_ports(c.ports), c.via, c.partial)
            for c in connectivity(CompiledCluster(topology), by) if c.via.startswith("Gateway ")}


# -- query and --expect: listener port and host --------------------------------------------------------------------

@pytest.mark.parametrize(("port", "host", "verdict", "pods"), [
    (80, "", "allowed", {"shop/store", "billing/invoices"}),   # every route of the listener
    (80, "www.example.com", "allowed", {"shop/store"}),         # HTTPRoute shop/store's hostname
    (80, "api.example.com", "allowed", {"billing/invoices"}),   # shop/store-api, through its ReferenceGrant
    (80, "API.Example.com.", "allowed", {"billing/invoices"}),  # host names compare case-blind, root dot dropped
    (80, "vault.example.com", "denied", set()),                 # no HTTPRoute serves it: 404
    (8443, "vault.example.com", "allowed", {"infra/vault"}),    # the TLS listener *.example.com → TLSRoute
    (8443, "vault.example.org", "denied", set()),               # the listener's hostname does not match
    (443, "", "denied", set()),                                 # no listener on the port
])
def test_query_through_the_gateway_picks_listener_and_routes_by_host(port: int, host: str, verdict: str,
                                                                    pods: set[str]) -> None:
    compiled = CompiledCluster(_topology(HEALTHY))
    got = reached(compiled, "gateway:infra/web", port, host)
    assert got == (verdict, pods)


def test_a_backend_ref_of_weight_0_gets_no_traffic_in_query_nor_matrix() -> None:
    text = _replace("    - {name: invoices, namespace: billing, port: 9000}",
                    "    - {name: invoices, namespace: billing, port: 9000, weight: 0}")
    compiled = CompiledCluster(_topology(text))
    assert reached(compiled, "gateway:infra/web", 80, "api.example.com") == ("denied", set())
    assert reached(compiled, "gateway:infra/web", 80) == ("allowed", {"shop/store"})
    assert all(d != "billing/invoices[Deployment]" for _, d, *_ in gateway_rows(compiled.topology))


def test_host_is_refused_off_a_gateway_or_when_not_a_name() -> None:
    code, _, err = _run("query", str(LAYOUT), "--from", "network:internet", "--to", "service:shop/store",
                        "--port", "8080", "--host", "www.example.com")
    assert code == 2 and "asked of a Gateway or an Ingress only" in err
    code, _, err = _run("query", str(LAYOUT), "--from", "network:internet", "--to", "gateway:infra/web",
                        "--port", "80", "--host", "*.example.com")
    assert code == 2 and "not a host name" in err


EXPECT = """
---
apiVersion: netmodel.io/v1alpha1
kind: Expectations
metadata: {name: gateway-entries}
spec:
  flows:
  - {from: network:internet, to: gateway:infra/web, port: 80, host: api.example.com, allowed: true}
  - {from: network:internet, to: gateway:infra/web, port: 80, host: vault.example.com, allowed: false}
  - {from: network:internet, to: gateway:infra/web, port: 8443, host: vault.example.com, allowed: true}
  - {from: network:internet, to: gateway:infra/web, port: 443, allowed: false}
"""


def test_expectations_through_a_gateway_hold_and_echo_the_host(tmp_path: Path) -> None:
    path = tmp_path / "layout.yaml"
    path.write_text(HEALTHY + EXPECT)
    code, out, err = _run("check", str(path), "--format", "json")
    assert code == 0, err
    results = json.loads(out)["expectations"]
    assert [(r["port"], r.get("host"), r["verdict"], r["ok"]) for r in results] == [
        (80, "api.example.com", "allowed", True), (80, "vault.example.com", "denied", True),
        (8443, "vault.example.com", "allowed", True), (443, None, "denied", True)]


def test_an_expectation_through_a_gateway_fails_where_the_backend_is_blocked(tmp_path: Path) -> None:
    path = tmp_path / "layout.yaml"
    path.write_text((ROOT / "topologies" / "broken-gateway-backend-blocked.yaml").read_text() + EXPECT)
    code, out, _ = _run("check", str(path), "--format", "json")
    report = json.loads(out)
    failed = [f for f in report["findings"] if f["id"] == "NM-EXPECT-001"]
    assert code == 1 and len(failed) == 1
    assert "gateway:infra/web TCP 80 host api.example.com to be allowed, but it is denied" in failed[0]["message"]
    assert "NetworkPolicy billing/default-deny-ingress" in failed[0]["message"]


def test_a_host_on_a_flow_not_to_a_gateway_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "layout.yaml"
    path.write_text(HEALTHY + EXPECT.replace("to: gateway:infra/web, port: 443", "to: service:shop/store, port: 8080, "
                                                                             "host: www.example.com"))
    code, _, err = _run("check", str(path))
    assert code == 2 and "host" in err and "gateway:NS/NAME" in err


# -- matrix ------------------------------------------------------------------------------------------------------

def test_matrix_lists_the_backends_outside_networks_reach_through_each_listener() -> None:
    assert gateway_rows(_topology(HEALTHY)) == {
        (f"network:{n}", dst, ports, via, False) for n in ("internet", "office") for dst, ports, via in (
            ("shop/store[Deployment]", "3000", VIA_HTTP), ("billing/invoices[Deployment]", "3000", VIA_HTTP),
            ("infra/vault[StatefulSet]", "8200", VIA_TLS))}


def test_matrix_drops_a_backend_the_gateway_cannot_reach_and_a_reference_no_grant_admits() -> None:
    blocked = _topology((ROOT / "topologies" / "broken-gateway-backend-blocked.yaml").read_text())
    assert {(s, d) for s, d, *_ in gateway_rows(blocked)} == {
        (f"network:{n}", d) for n in ("internet", "office") for d in ("shop/store[Deployment]",
                                                                         "infra/vault[StatefulSet]")}
    ungranted = _topology(HEALTHY.replace(GRANT, ""))
    assert all(d != "billing/invoices[Deployment]" for _, d, *_ in gateway_rows(ungranted))


def test_matrix_marks_partial_when_one_gateway_pod_cannot_reach_the_backend() -> None:
    # The store policy admits only proxy Pods labelled zone: a — one extra proxy Pod of the Gateway, not the
    # Deployment's two.
    text = _replace("        matchLabels: {app.kubernetes.io/component: proxy}",
                    "        matchLabels: {app.kubernetes.io/component: proxy, zone: a}")
    text += """---
apiVersion: v1
kind: Pod
metadata:
  name: envoy-infra-web-zone-a
  namespace: envoy-gateway-system
  labels:
    app.kubernetes.io/name: envoy
    app.kubernetes.io/component: proxy
    app.kubernetes.io/managed-by: envoy-gateway
    gateway.envoyproxy.io/owning-gateway-name: web
    gateway.envoyproxy.io/owning-gateway-namespace: infra
    zone: a
spec:
  nodeName: w-1
  containers:
  - name: envoy
    image: docker.io/envoyproxy/envoy:distroless-v1.32.1
    ports: [{containerPort: 10080}, {containerPort: 8443}]
"""
    rows = {(s, d): partial for s, d, _, via, partial in gateway_rows(_topology(text)) if via == VIA_HTTP}
    assert rows[("network:internet", "shop/store[Deployment]")] is True  # 1 of 3 proxy Pods reaches it
    assert rows[("network:internet", "billing/invoices[Deployment]")] is False


def test_matrix_of_a_gateway_without_known_data_plane_has_no_entry() -> None:
    text = _replace("gatewayClassName: eg", "gatewayClassName: missing")
    assert gateway_rows(_topology(text)) == set()


def test_the_grouped_map_states_the_gateway_entries_exactly() -> None:
    payload = assert_exact(_topology(HEALTHY))
    rules = {(r["from"], r["to"], r["connections"]) for r in payload["rules"]}
    assert any(c == f"TCP 3000 via {VIA_HTTP}" and t == "ns in [billing, shop]" for _, t, c in rules)
    assert any(c == f"TCP 8200 via {VIA_TLS}" for _, _, c in rules)


# The property: on random variations of the layout's Gateway API objects and policies, the grouped map expands
# to exactly the pairwise matrix (tests/test_grouped.py's check), gateway entries included.
VARIATIONS = {
    "grant": ("  - {group: \"\", kind: Service, name: invoices}", "  - {group: \"\", kind: Service, name: other}"),
    "selector": ("        from: Selector\n", "        from: Same\n"),
    "hostname": ("hostnames: [\"www.example.com\"]", "hostnames: [\"www.example.org\"]"),
    "store-policy": ("    - {port: http, protocol: TCP}", "    - {port: 8080, protocol: TCP}"),
    "internet": ("      ports: [\"30080\", \"30443\"]\n      from: [{network: internet}]\n    - name: flannel-vxlan",
                 "      ports: [\"30443\"]\n      from: [{network: internet}]\n    - name: flannel-vxlan"),
    "weight": ("    - {name: invoices, namespace: billing, port: 9000}",
               "    - {name: invoices, namespace: billing, port: 9000, weight: 0}"),
    "section": ("sectionName: tls}", "sectionName: http}"),
    "no-firewalls": ("", ""),
    "one-proxy": ("  replicas: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: envoy",
                  "  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: envoy"),
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(sorted(VARIATIONS))))
def test_grouped_map_is_exact_on_random_gateway_variations(chosen: set[str]) -> None:
    text = HEALTHY
    for name in sorted(chosen - {"no-firewalls"}):
        old, new = VARIATIONS[name]
        text = text.replace(old, new) if old in text else text
    assert_exact(_topology(without_firewalls(text) if "no-firewalls" in chosen else text))


# -- conformance truth tables ------------------------------------------------------------------------------------

CONFORMANCE_BASE = """
---
apiVersion: v1
kind: Namespace
metadata:
  name: gateway-conformance-infra
  labels: {kubernetes.io/metadata.name: gateway-conformance-infra}
---
apiVersion: v1
kind: Namespace
metadata:
  name: gateway-conformance-web-backend
  labels: {kubernetes.io/metadata.name: gateway-conformance-web-backend}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: same-namespace, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}
"""
PROXY = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: envoy-{gw}, namespace: envoy-gateway-system}
spec:
  replicas: 1
  selector:
    matchLabels: {app: envoy-{gw}}
  template:
    metadata:
      labels:
        app: envoy-{gw}
        gateway.envoyproxy.io/owning-gateway-name: {gw}
        gateway.envoyproxy.io/owning-gateway-namespace: gateway-conformance-infra
    spec:
      containers:
      - name: envoy
        image: docker.io/envoyproxy/envoy:distroless-v1.32.1
        ports: [{containerPort: 10080}, {containerPort: 8080}, {containerPort: 8090}]
---
apiVersion: v1
kind: Service
metadata: {name: envoy-{gw}, namespace: envoy-gateway-system}
spec:
  type: LoadBalancer
  selector: {app: envoy-{gw}}
  ports:
  - {name: http-80, port: 80, targetPort: 10080}
  - {name: http-8080, port: 8080, targetPort: 8080}
  - {name: http-8090, port: 8090, targetPort: 8090}
"""
BACKEND = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: {name}, namespace: {ns}}
spec:
  replicas: 1
  selector:
    matchLabels: {app: {name}}
  template:
    metadata:
      labels: {app: {name}}
    spec:
      containers:
      - {name: backend, image: registry.k8s.io/gateway-api/echo-basic, ports: [{containerPort: 3000}]}
---
apiVersion: v1
kind: Service
metadata: {name: {name}, namespace: {ns}}
spec:
  selector: {app: {name}}
  ports: [{port: 8080, targetPort: 3000}]
"""


def without_firewalls(text: str) -> str:
    """``text`` without its Firewall objects (Pods then group by behaviour, not by class and node)."""
    return "\n---\n".join(doc for doc in text.split("\n---\n") if "\nkind: Firewall\n" not in doc)


def conformance(*names: str, firewalls: bool = True) -> CompiledCluster:
    """The bundled cluster with the conformance manifests ``names``, their Gateways' proxies and backends."""
    text = (HEALTHY if firewalls else without_firewalls(HEALTHY)) + CONFORMANCE_BASE
    gateways = {"same-namespace"}
    for name in names:
        manifest = (CONFORMANCE / f"{name}.yaml").read_text().replace("{GATEWAY_CLASS_NAME}", "eg")
        text += "\n---\n" + manifest
        for doc in manifest.split("\n---"):
            if "\nkind: Gateway\n" in doc:
                gateways.add(doc.split("\n  name: ", 1)[1].split("\n", 1)[0])
    for gw in sorted(gateways):
        text += PROXY.replace("{gw}", gw)
    for name in ("infra-backend-v1", "infra-backend-v2", "infra-backend-v3"):
        text += BACKEND.replace("{name}", name).replace("{ns}", "gateway-conformance-infra")
    text += BACKEND.replace("{name}", "web-backend").replace("{ns}", "gateway-conformance-web-backend")
    return CompiledCluster(_topology(text))


INFRA = "gateway-conformance-infra"


@pytest.fixture(scope="module")
def hostname_matching() -> CompiledCluster:
    return conformance("httproute-listener-hostname-matching")


# conformance/tests/httproute-listener-hostname-matching.go: four HTTP listeners on port 80 distinct by
# hostname (bar.com, foo.bar.com, *.bar.com, *.foo.com), one route each (backend-v3 on the two wildcards).
@pytest.mark.parametrize(("host", "backend"), [
    ("bar.com", "infra-backend-v1"),
    ("foo.bar.com", "infra-backend-v2"),                 # the exact listener, not *.bar.com
    ("baz.bar.com", "infra-backend-v3"),
    ("boo.bar.com", "infra-backend-v3"),
    ("multiple.prefixes.bar.com", "infra-backend-v3"),   # the wildcard matches several labels
    ("multiple.prefixes.foo.com", "infra-backend-v3"),
    ("foo.com", None),                                   # 404: *.foo.com does not match foo.com
    ("no.matching.host", None),
])
def test_conformance_httproute_listener_hostname_matching(hostname_matching: CompiledCluster, host: str,
                                                          backend: str | None) -> None:
    got = reached(hostname_matching, f"gateway:{INFRA}/httproute-listener-hostname-matching", 80, host,
                  "network:office")
    assert got == (("allowed", {f"{INFRA}/{backend}"}) if backend else ("denied", set()))


# conformance/tests/gateway-http-listener-isolation.go: listeners "", *.example.com, *.foo.example.com and
# abc.foo.example.com on port 80; a request is served by the most specific matching listener only.
@pytest.mark.parametrize(("host", "listener"), [
    ("bar.com", "empty-hostname"),
    ("bar.example.com", "wildcard-example-com"),
    ("bar.foo.example.com", "wildcard-foo-example-com"),
    ("abc.foo.example.com", "abc-foo-example-com"),
])
def test_conformance_gateway_http_listener_isolation(host: str, listener: str) -> None:
    compiled = conformance("gateway-http-listener-isolation")
    gateway = compiled.gateways.gateway_by_key[(INFRA, "http-listener-isolation")]
    assert [li.name for li in listeners_for(gateway, 80, host)] == [listener]
    routes = [a.route.name for a, _ in compiled.gateways.serving(gateway, 80, host)]
    assert routes == [f"attaches-to-{listener}"]


# conformance/tests/httproute-listener-port-matching.go: parentRef port 80 → listener-1 (foo.com), port 8080
# → listener-2 and -3 (foo.com, bar.com), port 8090 with sectionName listener-4 (foo.com) only.
@pytest.mark.parametrize(("port", "host", "backend"), [
    (80, "foo.com", "infra-backend-v1"),
    (8080, "foo.com", "infra-backend-v2"),
    (8080, "bar.com", "infra-backend-v2"),
    (8090, "foo.com", "infra-backend-v3"),
    (8090, "bar.com", None),                             # listener-5 has no route: 404
])
def test_conformance_httproute_listener_port_matching(port: int, host: str, backend: str | None) -> None:
    compiled = conformance("httproute-listener-port-matching")
    got = reached(compiled, f"gateway:{INFRA}/httproute-listener-port-matching", port, host, "network:office")
    assert got == (("allowed", {f"{INFRA}/{backend}"}) if backend else ("denied", set()))


# conformance/tests/httproute-reference-grant.go (the grant admits the route's reference: web-backend answers)
# and httproute-invalid-reference-grant.go (grants in the wrong namespace, or from another group, kind or
# namespace: ResolvedRefs False, the request fails) — through Gateway same-namespace, in query and matrix.
@pytest.mark.parametrize(("name", "verdict"), [("httproute-reference-grant", "allowed"),
                                               ("httproute-invalid-reference-grant", "denied")])
def test_conformance_httproute_reference_grant(name: str, verdict: str) -> None:
    compiled = conformance(name)
    got = reached(compiled, f"gateway:{INFRA}/same-namespace", 80, "", "network:office")
    assert got == ((verdict, {"gateway-conformance-web-backend/web-backend"}) if verdict == "allowed"
                   else (verdict, set()))
    rows = {(c.source, c.destination) for c in connectivity(compiled, "workload")
            if c.via == f"Gateway {INFRA}/same-namespace listener http (HTTP 80)"}
    assert (("network:office", "gateway-conformance-web-backend/web-backend[Deployment]") in rows) == \
        (verdict == "allowed")
    assert_exact(compiled.topology)


@pytest.mark.parametrize("name", ["httproute-listener-port-matching", "httproute-reference-grant",
                                  "httproute-listener-hostname-matching"])
def test_grouped_map_tells_apart_backends_alike_but_for_the_gateway(name: str) -> None:
    # Without firewalls, Pods group by policy behaviour: infra-backend-v1..v3 and web-backend behave alike
    # but for the listeners that send to them.
    compiled = conformance(name, firewalls=False)
    rows = {(c.destination, c.via) for c in connectivity(compiled, "workload") if c.source == "network:office"
            and c.via.startswith("Gateway ")}
    assert len({d for d, _ in rows}) >= 2
    assert_exact(compiled.topology)


# -- diff ----------------------------------------------------------------------------------------------------------

ACCEPT = """
---
apiVersion: netmodel.io/v1alpha1
kind: Expectations
metadata: {name: invoices-through-the-gateway}
spec:
  flows:
  - {from: network:internet, to: gateway:infra/web, port: 80, host: api.example.com, allowed: true}
  - {from: network:office, to: gateway:infra/web, port: 80, host: api.example.com, allowed: true}
"""
GRANT = HEALTHY[HEALTHY.index("apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant"):]
GRANT = GRANT[:GRANT.index("---\n") + 4]


def _diff(tmp_path: Path, old: str, new: str) -> tuple[int, dict[str, Any]]:
    (tmp_path / "old.yaml").write_text(old)
    (tmp_path / "new.yaml").write_text(new)
    code, out, err = _run("diff", str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"), "--format", "json")
    assert code != 2, err
    return code, json.loads(out)


def _flows(payload: dict[str, Any], change: str) -> set[tuple[str, str, str, str]]:
    return {(f["from"], f["to"], f["ports"], f["via"]) for f in payload["flows"][change]}


def test_diff_reports_a_reference_grant_that_opens_a_path_through_the_gateway(tmp_path: Path) -> None:
    code, payload = _diff(tmp_path, HEALTHY.replace(GRANT, ""), HEALTHY)
    opened = {(f"network:{n}", "billing/invoices[Deployment]", "3000", VIA_HTTP) for n in ("internet", "office")}
    assert (code, _flows(payload, "opened")) == (1, opened)
    # Located at HTTPRoute store-api (its document's first line, the apiVersion before its kind).
    route_line = HEALTHY[:HEALTHY.index("kind: HTTPRoute\nmetadata:\n  name: store-api")].count("\n")
    assert {f["location"]["line"] for f in payload["flows"]["opened"]} == {route_line}
    # Accepted by Expectations of NEW through the Gateway for the host the route serves.
    code, payload = _diff(tmp_path, HEALTHY.replace(GRANT, ""), HEALTHY + ACCEPT)
    assert code == 0 and all(f["accepted"]["by"] == "expectation" for f in payload["flows"]["opened"])
    # ... not by expectations for another host, whose routes do not send there.
    code, _ = _diff(tmp_path, HEALTHY.replace(GRANT, ""), HEALTHY + ACCEPT.replace("api.example", "www.example"))
    assert code == 1


def test_diff_reports_a_removed_grant_or_route_as_closed(tmp_path: Path) -> None:
    _, payload = _diff(tmp_path, HEALTHY, HEALTHY.replace(GRANT, ""))
    assert _flows(payload, "closed") == {(f"network:{n}", "billing/invoices[Deployment]", "3000", VIA_HTTP)
                                         for n in ("internet", "office")}
    new = _replace("hostnames: [\"vault.example.com\"]", "hostnames: [\"vault.example.org\"]")
    _, payload = _diff(tmp_path, HEALTHY, new)  # the TLSRoute no longer attaches to *.example.com
    assert _flows(payload, "closed") == {(f"network:{n}", "infra/vault[StatefulSet]", "8200", VIA_TLS)
                                         for n in ("internet", "office")}


# -- diagram --focus ---------------------------------------------------------------------------------------------

def test_diagram_focus_on_a_gateway_or_its_backend_draws_the_entry_path() -> None:
    from netmodel.analyze.checks import CheckContext
    from netmodel.report.diagrams.layout import layout_topology

    graph = CheckContext(_topology(HEALTHY)).graph
    layout = layout_topology(graph, focus="gateway:infra/web")
    keys = {b.key for b in layout.boxes}
    assert {"gateway:infra/web", "service:envoy-gateway-system/envoy-infra-web-5d6f8c9a",
            "route:HTTPRoute/shop/store-api", "service:billing/invoices", "route:TLSRoute/infra/vault",
            "namespace:billing", "namespace:shop", "namespace:infra"} <= keys
    assert "service:kube-system/kube-dns" not in keys and "namespace:kube-system" not in keys
    layout = layout_topology(graph, focus="service:billing/invoices")
    keys = {b.key for b in layout.boxes}
    assert {"gateway:infra/web", "route:HTTPRoute/shop/store-api", "service:billing/invoices"} <= keys
    assert "route:HTTPRoute/shop/store" not in keys and "service:shop/store" not in keys
    edges = {(e.source, e.target) for e in layout.edges}
    assert {("gateway:infra/web", "route:HTTPRoute/shop/store-api"),
            ("route:HTTPRoute/shop/store-api", "service:billing/invoices")} <= edges
    assert all(e.source in keys and e.target in keys for e in layout.edges)


def test_diagram_focus_gateway_through_the_command_line(tmp_path: Path) -> None:
    for view in ("topology", "matrix"):
        code, _, err = _run("diagram", str(LAYOUT), "--focus", "gateway:infra/web", "--view", view, "-q",
                            "-o", str(tmp_path / f"{view}.svg"))
        assert code == 0, err
        assert (tmp_path / f"{view}.svg").stat().st_size > 1000
    code, _, err = _run("diagram", str(LAYOUT), "--focus", "gateway:infra/nope", "-q", "-o", str(tmp_path / "x.svg"))
    assert code == 2 and "unknown Gateway" in err


def test_matrix_table_shows_the_gateway_rule_with_its_namespaces() -> None:
    code, out, _ = _run("matrix", str(LAYOUT))
    # The namespaces in brackets are text, not rich markup (which would drop "[billing, shop]").
    assert code == 0 and "ns in [billing, shop]" in out and f"TCP 3000 via {VIA_HTTP}" in out


def test_emulate_skips_expectations_through_a_gateway_with_the_reason() -> None:
    from netmodel.emulate.flows import expectation_flows
    from netmodel.emulate.run import _Planner

    compiled = CompiledCluster(_topology(HEALTHY + EXPECT))
    flows = expectation_flows(compiled)  # resolving gateway: as an address used to stop the run (exit 2)
    assert flows and {f.destination for f in flows} == {"gateway:infra/web"}
    planner = _Planner(compiled.topology, compiled, None, None)  # type: ignore[arg-type]  # no lab is needed
    assert all("through a Gateway" in planner.plan(f).skipped for f in flows)
