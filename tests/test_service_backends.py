"""One rule for what backs a Service and who proxies Services (issue 9, item 14): the analyzer (CompiledCluster) and
``emulate`` (the DNAT targets it writes) read the same function, so they cannot disagree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from checkkit import COMMON_RULES, CP_RULES, base, firewall, pairs

from netmodel.analyze.reach import CompiledCluster
from netmodel.cli.main import main
from netmodel.emulate.services import nat_ruleset, service_backends
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.model.topology import Topology

# A Service with `selector: {}` (the API server treats an empty selector as none: the user manages the
# endpoints) fed by an EndpointSlice that names one of the two Pods; a selectorless one fed the same way; and a
# Service with a real selector whose named targetPort only one of its Pods declares.
LAYOUT = """
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, image: x, ports: [{name: sql, containerPort: 5432}]}]}
status: {podIP: 10.244.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.244.0.6}
---
apiVersion: v1
kind: Service
metadata: {name: empty-selector, namespace: shop}
spec: {selector: {}, clusterIP: 10.96.0.50, ports: [{name: sql, port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: no-selector, namespace: shop}
spec: {clusterIP: 10.96.0.51, ports: [{name: sql, port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: by-label, namespace: shop}
spec: {selector: {app: db}, clusterIP: 10.96.0.52, ports: [{name: sql, port: 5432, targetPort: sql}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: empty-selector-1, namespace: shop, labels: {kubernetes.io/service-name: empty-selector}}
addressType: IPv4
ports: [{name: sql, port: 5432, protocol: TCP}]
endpoints: [{addresses: [10.244.0.5], conditions: {ready: true}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: no-selector-1, namespace: shop, labels: {kubernetes.io/service-name: no-selector}}
addressType: IPv4
ports: [{name: sql, port: 5432, protocol: TCP}]
endpoints: [{addresses: [10.244.0.6], conditions: {ready: true}}]
"""


def _topology() -> Topology:
    return build_topology(parse_text(LAYOUT, "l.yaml"))


@pytest.mark.parametrize(("service", "expected"), [
    ("empty-selector", {("10.244.0.5", 5432)}),
    ("no-selector", {("10.244.0.6", 5432)}),
    ("by-label", {("10.244.0.5", 5432)}),  # b lacks the named port sql: no endpoint
])
def test_analyzer_and_emulate_pick_the_same_backends(service: str, expected: set[tuple[str, int]]) -> None:
    t = _topology()
    compiled = CompiledCluster(t)
    svc = t.service_by_key[("shop", service)]
    port = svc.ports[0]
    analyzer = {(str(b.address), b.port) for b in compiled.backends(svc, port) if b.port is not None}
    lab = {(str(b.address), b.port) for b in service_backends(t, svc, port, 4)}
    assert analyzer == lab == expected


def test_emulate_writes_a_dnat_rule_for_the_empty_selector_service() -> None:
    t = _topology()
    ruleset = nat_ruleset(t, t.nodes[0], ["eth0"])
    assert "ip daddr 10.96.0.50 meta l4proto 6 th dport 5432 dnat ip to numgen random mod 1 map { 0 : 10.244.0.5 . 5432 }" \
        in ruleset


def test_query_reaches_the_empty_selector_service_through_its_slice(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    layout = tmp_path / "l.yaml"
    layout.write_text(LAYOUT)
    code = main(["query", str(layout), "--from", "shop/b", "--to", "service:shop/empty-selector", "--port",
                 "5432", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["disposition"] == "delivered"
    assert {p["hops"][-1]["location"] for p in data["paths"]} == {"pod:shop/a"}


def test_a_local_nodeport_fed_by_endpointslices_is_judged_on_its_endpoint_node() -> None:
    """externalTrafficPolicy: Local answers only on nodes with an endpoint; for a Service without selector the
    endpoints come from its EndpointSlices, for the NM-EXT checks as for the analyzer."""
    app = """
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: shop}
spec: {nodeName: w-1, containers: [{name: app, ports: [{containerPort: 8080}]}]}
status: {podIP: 10.244.1.5}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: shop}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30100}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: a-1, namespace: shop, labels: {kubernetes.io/service-name: a}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.1.5], nodeName: w-1, conditions: {ready: true}}]
"""
    # The workers' firewall closes NodePorts to the office: w-1, the endpoint's node, cannot answer it.
    closed = COMMON_RULES.replace(", {network: office}]}", "]}")
    workers_closed = firewall("control-plane", "control-plane", CP_RULES + COMMON_RULES) + "---" + firewall(
        "workers", "worker", closed)
    assert pairs(base(app, firewalls=workers_closed), "NM-EXT") == {("Service/shop/a", "NM-EXT-003")}
