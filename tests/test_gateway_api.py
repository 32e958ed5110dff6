"""Gateway API entry paths (issue 13.4): reading the kinds, attaching routes, backends, ReferenceGrants, the
gateway's own Pods and the gateway → backend leg, through the command line on the bundled layout
topologies/gateway-api-envoy.yaml and on upstream examples (tests/corpus/gateway-api/SOURCE.md).

Each defect variant changes one thing of the healthy layout; the test asserts the exact (object, check ID) pairs
of the warnings and errors it brings, read off the Gateway API rules (docs/reachability.md, "Gateway API").
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from netmodel.cli.main import main
from netmodel.compile.gateway import Gateways
from netmodel.compile.pod_index import PodIndex
from netmodel.load import parse_text
from netmodel.model.build import build_topology

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = ROOT / "topologies" / "gateway-api-envoy.yaml"
CORPUS = ROOT / "tests" / "corpus" / "gateway-api"
HEALTHY = LAYOUT.read_text()


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def check(path: Path) -> tuple[int, dict[str, Any]]:
    code, out, err = _run("check", str(path), "--format", "json")
    assert code != 2, err
    return code, json.loads(out)


def pairs(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["objects"][0] if f["objects"] else "", f["id"]) for f in report["findings"]
            if f["severity"] != "info"}


def variant(tmp_path: Path, old: str, new: str) -> Path:
    assert HEALTHY.count(old) == 1, old
    path = tmp_path / "layout.yaml"
    path.write_text(HEALTHY.replace(old, new))
    return path


def test_the_healthy_layout_checks_clean() -> None:
    code, report = check(LAYOUT)
    assert (code, pairs(report)) == (0, set())
    topology = build_topology(parse_text(HEALTHY, str(LAYOUT)))
    gateways = Gateways(topology, PodIndex.of(topology))
    attached = {(a.route.name, tuple(li.name for li in a.listeners)) for a in gateways.attachments}
    # store names its listener; store-api names the whole Gateway and only `http` admits namespace shop.
    assert attached == {("store", ("http",)), ("store-api", ("http",)), ("vault", ("tls",))}
    plane = gateways.data_planes[("infra", "web")]
    assert plane.implementation == "Envoy Gateway"
    assert sorted(topology.pods[i].name for i in plane.pods) == ["envoy-infra-web-5d6f8c9a-0",
                                                                 "envoy-infra-web-5d6f8c9a-1"]
    assert [str(s.ref) for s in gateways.entry_services(topology.gateway_api.gateways[0])] == [
        "Service/envoy-gateway-system/envoy-infra-web-5d6f8c9a"]


DEFECTS = [
    pytest.param('labels: {kubernetes.io/metadata.name: shop, shared-gateway-access: "true"}',
                 "labels: {kubernetes.io/metadata.name: shop}",
                 {("HTTPRoute/shop/store", "NM-EXT-011"), ("HTTPRoute/shop/store-api", "NM-EXT-011")},
                 id="namespace-not-selected"),
    pytest.param('hostnames: ["vault.example.com"]', 'hostnames: ["vault.example.org"]',
                 {("TLSRoute/infra/vault", "NM-EXT-011")}, id="hostname-outside-listener"),
    pytest.param("{name: web, sectionName: tls}", "{name: web, sectionName: https}",
                 {("TLSRoute/infra/vault", "NM-EXT-011")}, id="no-such-listener"),
    pytest.param("kind: TLSRoute\n", "kind: TCPRoute\n", set(), id="tcproute-on-tls-listener"),
    pytest.param("{name: web, sectionName: tls}", "{name: web, sectionName: http}",
                 {("TLSRoute/infra/vault", "NM-EXT-011")}, id="tlsroute-on-http-listener"),
    pytest.param("{name: invoices, namespace: billing, port: 9000}", "{name: invoices, namespace: billing, port: 9001}",
                 {("HTTPRoute/shop/store-api", "NM-EXT-012")}, id="missing-port"),
    pytest.param("{group: \"\", kind: Service, name: store, port: 8080, weight: 1}",
                 "{group: \"\", kind: Service, name: storefront, port: 8080, weight: 1}",
                 {("HTTPRoute/shop/store", "NM-EXT-012")}, id="missing-service"),
    pytest.param("  - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}",
                 "  - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}",
                 {("HTTPRoute/shop/store-api", "NM-EXT-013")}, id="grant-for-another-namespace"),
    pytest.param("  - {group: \"\", kind: Service, name: invoices}", "  - {group: \"\", kind: Service, name: other}",
                 {("HTTPRoute/shop/store-api", "NM-EXT-013")}, id="grant-for-another-service"),
    pytest.param("  - {group: \"\", kind: Service, name: invoices}", "  - {group: \"\", kind: Service}",
                 set(), id="grant-for-every-service"),
    pytest.param("  gatewayClassName: eg", "  gatewayClassName: envoy",
                 {("Gateway/infra/web", "NM-EXT-014")}, id="missing-class"),
    # Pods labelled for the Gateway carry it whatever the controller's name.
    pytest.param("  controllerName: gateway.envoyproxy.io/gatewayclass-controller",
                 "  controllerName: example.com/gateway", set(), id="any-controller-with-labelled-pods"),
    pytest.param("""      podSelector:
        matchLabels: {gateway.envoyproxy.io/owning-gateway-name: web}""", """      podSelector:
        matchLabels: {app.kubernetes.io/name: ingress-nginx}""",
                 {("Gateway/infra/web", "NM-EXT-015"), ("NetworkPolicy/billing/invoices-from-gateway", "NM-POL-002"),
                  ("Service/billing/invoices", "NM-SVC-009")}, id="policy-admits-the-old-ingress-controller"),
    pytest.param("  - {name: web, namespace: infra}\n", "  - {name: web-v2, namespace: infra}\n",
                 {("HTTPRoute/shop/store-api", "NM-INPUT-025")}, id="gateway-not-in-input"),
]


@pytest.mark.parametrize(("old", "new", "expected"), DEFECTS)
def test_one_defect_gives_exactly_its_findings(tmp_path: Path, old: str, new: str,
                                               expected: set[tuple[str, str]]) -> None:
    code, report = check(variant(tmp_path, old, new))
    assert pairs(report) == expected
    errors = any(f["severity"] == "error" for f in report["findings"])
    assert code == (1 if errors else 0)


def test_an_unrecognised_controller_without_labelled_pods_is_named(tmp_path: Path) -> None:
    text = HEALTHY.replace("  controllerName: gateway.envoyproxy.io/gatewayclass-controller",
                           "  controllerName: example.com/gateway").replace(
        "gateway.envoyproxy.io/owning-gateway-name: web\n", "gateway.envoyproxy.io/owning-gateway-name: old\n")
    (tmp_path / "layout.yaml").write_text(text)
    _, report = check(tmp_path / "layout.yaml")
    found = [f for f in report["findings"] if f["id"] == "NM-EXT-014"]
    assert len(found) == 1 and "'example.com/gateway', which netmodel does not recognise" in found[0]["message"]
    # Envoy Gateway's proxies for another Gateway only: the class is recognised, its Pods are not in the input.
    (tmp_path / "layout.yaml").write_text(HEALTHY.replace("gateway.envoyproxy.io/owning-gateway-name: web\n",
                                                          "gateway.envoyproxy.io/owning-gateway-name: old\n"))
    _, report = check(tmp_path / "layout.yaml")
    found = [f for f in report["findings"] if f["id"] == "NM-EXT-014"]
    assert len(found) == 1 and "served by Envoy Gateway, but none of its Pods" in found[0]["message"]


def test_a_listener_closed_to_a_network_that_uses_the_ingress(tmp_path: Path) -> None:
    """The firewalls open only the TLS listener's nodePort (30443) to the internet: its HTTP listener (80,
    nodePort 30080) is unreachable from there; the office reaches every NodePort and is fine."""
    text = HEALTHY.replace('ports: ["30080", "30443"]', 'ports: ["30443"]')
    assert text.count('ports: ["30443"]') == 2
    (tmp_path / "layout.yaml").write_text(text)
    code, report = check(tmp_path / "layout.yaml")
    assert (code, pairs(report)) == (1, {("Gateway/infra/web", "NM-EXT-015")})
    found = next(f for f in report["findings"] if f["id"] == "NM-EXT-015")
    assert "listener http (HTTP 80) is unreachable from network internet" in found["message"]
    assert "nodePort 30080" in found["message"] and "network:internet" in found["objects"]


def test_a_blocked_backend_names_the_policy_and_its_line(tmp_path: Path) -> None:
    path = variant(tmp_path, "        matchLabels: {gateway.envoyproxy.io/owning-gateway-name: web}",
                   "        matchLabels: {app.kubernetes.io/name: ingress-nginx}")
    _, report = check(path)
    found = next(f for f in report["findings"] if f["id"] == "NM-EXT-015")
    assert "HTTPRoute shop/store-api" in found["message"] and "Service billing/invoices port 9000" in found["message"]
    assert "NetworkPolicy/billing/default-deny-ingress" in found["objects"]
    lines = {s["line"] for s in found["sources"]}
    text = HEALTHY.splitlines()
    assert any(text[line - 1].strip() == "name: default-deny-ingress" or "kind: NetworkPolicy" in text[line - 1]
               for line in lines if line <= len(text)) or len(lines) > 1


def test_a_firewall_between_gateway_and_backend_nodes_blocks_the_leg(tmp_path: Path) -> None:
    """Native routing shows the node firewalls the Pod addresses: a workers firewall that admits no Pod range
    blocks the gateway Pods on one node from the backends on the other."""
    path = variant(tmp_path, "cni: {plugin: flannel, mode: vxlan, encryption: none}",
                   "cni: {plugin: flannel, mode: host-gw}")
    code, report = check(path)
    found = [f for f in report["findings"] if f["id"] == "NM-EXT-015"]
    assert found and all("Firewall" in " ".join(f["objects"]) for f in found)
    assert code == 1


@pytest.mark.parametrize("name", sorted(p.name for p in (CORPUS / "invalid").iterdir()))
def test_upstream_invalid_examples_are_input_errors(name: str) -> None:
    code, _, err = _run("check", str(CORPUS / "invalid" / name))
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith(f"{CORPUS / 'invalid' / name}:") and ": error: " in first
    assert "Traceback" not in err


UPSTREAM = [
    # The examples leave out the Services and the controller's Pods: netmodel says so, nothing more.
    pytest.param("basic-http.yaml", {("HTTPRoute/default/http-app-1", "NM-EXT-012"),
                                     ("Gateway/default/my-gateway", "NM-EXT-014")}, id="basic-http"),
    pytest.param("basic-tcp.yaml", {("TCPRoute/default/tcp-app-1", "NM-EXT-012"),
                                    ("TCPRoute/default/tcp-app-2", "NM-EXT-012"),
                                    ("Gateway/default/my-tcp-gateway", "NM-EXT-014")}, id="basic-tcp"),
    pytest.param("cross-namespace-routing", {("HTTPRoute/site-ns/home", "NM-EXT-012"),
                                             ("HTTPRoute/site-ns/login", "NM-EXT-012"),
                                             ("HTTPRoute/store-ns/store", "NM-EXT-012"),
                                             ("Gateway/infra-ns/shared-gateway", "NM-EXT-014")}, id="cross-namespace"),
    pytest.param("tls-routing", {("TLSRoute/default/example-route", "NM-EXT-012"),
                                 ("Gateway/default/example-gateway", "NM-EXT-014")}, id="tls-v1alpha2"),
    pytest.param("envoy-gateway-quickstart.yaml", {("Gateway/default/eg", "NM-EXT-014")}, id="envoy-quickstart"),
]


@pytest.mark.parametrize(("name", "expected"), UPSTREAM)
def test_upstream_examples(name: str, expected: set[tuple[str, str]]) -> None:
    _, report = check(CORPUS / name)
    assert pairs(report) == expected
    # Every route of the examples attaches: none is reported unattached.
    assert not [f for f in report["findings"] if f["id"] in ("NM-EXT-011", "NM-INPUT-015")]


def test_istio_bookinfo_gateway_on_bookinfo() -> None:
    """Istio's Bookinfo sample with its Gateway API gateway: the route attaches, its backend exists; only the
    class and the gateway's Pods (made by Istio, not in the input) are missing, which is a warning."""
    code, out, err = _run("check", str(ROOT / "tests" / "corpus" / "bookinfo" / "bookinfo.yaml"),
                          str(CORPUS / "istio-bookinfo-gateway.yaml"), "--format", "json")
    assert code == 0, err
    assert pairs(json.loads(out)) == {("Gateway/default/bookinfo-gateway", "NM-EXT-014")}


def test_cross_namespace_example_attaches_only_labelled_namespaces(tmp_path: Path) -> None:
    """The example's namespaces carry shared-gateway-access: "true"; without it on store-ns, its route is
    refused by the listener's Selector (examples/standard/cross-namespace-routing)."""
    for f in (CORPUS / "cross-namespace-routing").iterdir():
        text = f.read_text()
        if f.name == "0-namespaces.yaml":
            text = text.replace("  name: store-ns\n  labels:\n    shared-gateway-access: \"true\"\n",
                                "  name: store-ns\n")
        (tmp_path / f.name).write_text(text)
    _, report = check(tmp_path)
    assert ("HTTPRoute/store-ns/store", "NM-EXT-011") in pairs(report)
    assert ("HTTPRoute/site-ns/home", "NM-EXT-011") not in pairs(report)


# -- query through a Gateway ---------------------------------------------------------------------------------------


def query(path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = _run("query", str(path), *args, "--format", "json")
    return code, (json.loads(out) if out.strip() else {}), err


def test_query_from_outside_through_the_gateway_names_listener_route_and_backend() -> None:
    code, answer, _ = query(LAYOUT, "--from", "network:internet", "--to", "gateway:infra/web", "--port", "80")
    assert (code, answer["verdict"]) == (0, "allowed")
    ends = {p["destination"].rsplit(" → ", 1)[1] for p in answer["paths"]}
    assert ends == {"pod:shop/store-0", "pod:shop/store-1", "pod:billing/invoices-0"}
    proxy = [s for p in answer["paths"] for h in p["hops"] for s in h["steps"] if s["step"] == "proxy"]
    assert {s["detail"].split(":")[0] for s in proxy} == {
        "listener http (HTTP 80) → HTTPRoute shop/store → Service shop/store port 8080",
        "listener http (HTTP 80) → HTTPRoute shop/store-api → Service billing/invoices port 9000"}
    kinds = {(d["kind"], d["rule"]) for s in proxy for d in s["decisions"]}
    assert kinds == {("Gateway", "listener http"), ("HTTPRoute", "parentRef"), ("HTTPRoute", "backendRef")}
    # The first leg enters through the load balancer or a nodePort, never the ClusterIP.
    first = [p["hops"][1]["location"] for p in answer["paths"]]
    assert all(loc.startswith(("service:envoy-gateway-system/", "node:")) for loc in first)


def test_query_through_the_gateway_to_a_blocked_backend_is_partial_and_names_the_policy() -> None:
    broken = ROOT / "topologies" / "broken-gateway-backend-blocked.yaml"
    code, answer, _ = query(broken, "--from", "network:internet", "--to", "gateway:infra/web", "--port", "80")
    assert (code, answer["verdict"]) == (1, "partial")
    denied = {p["destination"].rsplit(" → ", 1)[1] for p in answer["paths"] if p["disposition"] != "delivered"}
    assert denied == {"pod:billing/invoices-0"}
    assert {b["name"] for b in answer["blockedBy"]} == {"billing/default-deny-ingress",
                                                        "billing/invoices-from-gateway"}


def test_query_on_the_tls_listener_reaches_its_tlsroute_only() -> None:
    code, answer, _ = query(LAYOUT, "--from", "network:internet", "--to", "gateway:infra/web", "--port", "8443")
    assert (code, answer["verdict"]) == (0, "allowed")
    assert {p["destination"].rsplit(" → ", 1)[1] for p in answer["paths"]} == {"pod:infra/vault-0"}


def test_query_on_a_port_without_listener_or_an_unknown_gateway() -> None:
    code, answer, _ = query(LAYOUT, "--from", "network:internet", "--to", "gateway:infra/web", "--port", "81")
    assert (code, answer["disposition"]) == (1, "no-listener")
    code, _, err = query(LAYOUT, "--from", "network:internet", "--to", "gateway:infra/nope", "--port", "80")
    assert code == 2 and "unknown Gateway 'infra/nope'" in err and "infra/web" in err


def test_query_through_a_gateway_whose_route_does_not_attach(tmp_path: Path) -> None:
    path = variant(tmp_path, "{name: web, sectionName: tls}", "{name: web, sectionName: https}")
    code, answer, _ = query(path, "--from", "network:internet", "--to", "gateway:infra/web", "--port", "8443")
    assert (code, answer["disposition"]) == (1, "no-endpoints")
    assert "no route is attached" in json.dumps(answer)


# -- diagram -------------------------------------------------------------------------------------------------------


def test_the_topology_view_draws_the_gateway_as_an_entry_node() -> None:
    from netmodel.analyze.checks import CheckContext
    from netmodel.report.diagrams.layout import layout_topology

    topology = build_topology(parse_text(HEALTHY, str(LAYOUT)))
    layout = layout_topology(CheckContext(topology).graph)
    kinds = {b.key: b.kind for b in layout.boxes}
    assert kinds["gateway:infra/web"] == "gateway"
    assert {k for k, v in kinds.items() if v == "route"} == {
        "route:HTTPRoute/shop/store", "route:HTTPRoute/shop/store-api", "route:TLSRoute/infra/vault"}
    edges = {(e.source, e.target) for e in layout.edges}
    assert ("network:internet", "gateway:infra/web") in edges
    assert ("gateway:infra/web", "service:envoy-gateway-system/envoy-infra-web-5d6f8c9a") in edges
    assert ("gateway:infra/web", "route:HTTPRoute/shop/store-api") in edges
    assert ("route:HTTPRoute/shop/store-api", "service:billing/invoices") in edges


# -- other implementations: the GEP-1762 label (Istio) and shared proxies recognised by image (Traefik) ---------

APP = """
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: shop, labels: {app: web}}
spec:
  nodeName: w-2
  containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: gw, namespace: edge}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
"""

ISTIO = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio}
spec: {controllerName: istio.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
# What Istio's automated deployment makes: a Deployment and Service named <gateway>-istio, labelled with the
# Gateway's name (istio.io, "Gateway API" task, "Automated Deployment").
apiVersion: v1
kind: Pod
metadata:
  name: gw-istio-0
  namespace: edge
  labels: {gateway.networking.k8s.io/gateway-name: gw, istio.io/gateway-name: gw}
spec:
  nodeName: w-1
  containers: [{name: istio-proxy, image: docker.io/istio/proxyv2:1.22.0, args: [proxy, router],
                ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: gw-istio, namespace: edge}
spec:
  type: LoadBalancer
  selector: {gateway.networking.k8s.io/gateway-name: gw}
  ports: [{name: http, port: 80, targetPort: 80, nodePort: 30180}]
"""

TRAEFIK = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: traefik}
spec: {controllerName: traefik.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  gatewayClassName: traefik
  listeners: [{name: web, port: 8000, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: traefik-0, namespace: edge, labels: {app: traefik}}
spec:
  nodeName: w-1
  containers: [{name: traefik, image: docker.io/traefik:v3.1, ports: [{name: web, containerPort: 8000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: traefik, namespace: edge}
spec:
  type: LoadBalancer
  selector: {app: traefik}
  ports: [{name: web, port: 8000, targetPort: web, nodePort: 30180}]
"""

DENY_SHOP = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}}
"""


@pytest.mark.parametrize(("gateway", "implementation", "pods"), [
    pytest.param(ISTIO, "Istio", ["gw-istio-0"], id="istio"),
    pytest.param(TRAEFIK, "Traefik", ["traefik-0"], id="traefik"),
])
def test_other_implementations_find_their_pods(gateway: str, implementation: str, pods: list[str]) -> None:
    from tests.checkkit import COMMON_RULES, CP_RULES, base, findings, firewall, pairs, topology

    # The base cluster's internet uses the ingress: the firewalls open the gateway's nodePort to it.
    internet = """
    - {name: gateway, action: allow, protocol: TCP, ports: ["30180"], from: [{network: internet}]}
"""
    firewalls = (firewall("control-plane", "control-plane", CP_RULES + COMMON_RULES + internet) + "---"
                 + firewall("workers", "worker", COMMON_RULES + internet))
    text = base(APP, gateway, firewalls=firewalls)
    t = topology(text)
    gateways = Gateways(t, PodIndex.of(t))
    plane = gateways.data_planes[("edge", "gw")]
    assert (plane.implementation, [t.pods[i].name for i in plane.pods]) == (implementation, pods)
    assert pairs(text, "NM-EXT") == set()
    # A default-deny policy in the backend's namespace blocks the leg from that gateway's Pods.
    assert pairs(base(APP, gateway, DENY_SHOP, firewalls=firewalls), "NM-EXT") == {("Gateway/edge/gw", "NM-EXT-015")}
    # Without the internet rule the listener is closed to the internet, which uses the ingress.
    found = [f for f in findings(base(APP, gateway), "NM-EXT-015")]
    assert len(found) == 1 and "unreachable from network internet" in found[0].message
