"""One rule for what backs a Service and who proxies Services (issue 9, item 14): the analyzer (CompiledCluster) and
``emulate`` (the DNAT targets it writes) read the same function, so they cannot disagree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from checkkit import COMMON_RULES, CP_RULES, base, firewall, pairs

from netmodel.analyze.policy.classes import PodClass
from netmodel.analyze.reach import CompiledCluster
from netmodel.cli.main import main
from netmodel.emulate.services import nat_ruleset, service_backends
from netmodel.load import parse_text
from netmodel.model.build import build_topology, load_topology
from netmodel.model.objects import Service, ServicePort
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


# Pod names that would repeat (a StatefulSet's web-0 and a Pod of the input named web-0, which the StatefulSet
# cannot adopt, so it makes no Pod, NM-INPUT-048; a Deployment of the same name has its Pods renamed, NM-INPUT-047),
# and Pods of one class whose containers name one port twice in opposite orders (a named targetPort resolves on
# the first).
TWINS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: c, image: x, ports: [{containerPort: 80, name: http}]}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: b}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: c, image: x, ports: [{containerPort: 81, name: http}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: shop, labels: {app: z}}
spec: {containers: [{name: c, image: x, ports: [{containerPort: 82, name: http}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: first, namespace: shop, labels: {app: c}}
spec:
  containers:
  - {name: one, image: x, ports: [{containerPort: 8080, name: http}]}
  - {name: two, image: x, ports: [{containerPort: 9090, name: http}]}
---
apiVersion: v1
kind: Pod
metadata: {name: second, namespace: shop, labels: {app: c}}
spec:
  containers:
  - {name: two, image: x, ports: [{containerPort: 9090, name: http}]}
  - {name: one, image: x, ports: [{containerPort: 8080, name: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: shop}
spec: {selector: {app: a}, ports: [{name: http, port: 80, targetPort: http}, {name: raw, port: 81, targetPort: 81}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: shop}
spec: {selector: {app: b}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: c, namespace: shop}
spec: {selector: {app: c}, ports: [{name: http, port: 80, targetPort: http}, {name: gone, port: 81, targetPort: nope}]}
"""


def _classes_of_backends(compiled: CompiledCluster, svc: Service, port: ServicePort) -> dict[tuple[int, int], PodClass]:
    out: dict[tuple[int, int], PodClass] = {}
    for b in compiled.backends(svc, port):
        if b.pod is not None and b.port is not None:
            cls = compiled.class_of(b.pod)
            out.setdefault((cls.id, b.port), cls)
    return out


@pytest.mark.parametrize("layout", [LAYOUT, TWINS], ids=["slices", "twins"])
def test_endpoint_classes_are_the_classes_of_the_backends(layout: str) -> None:
    """CompiledCluster.endpoint_classes (a selector's Pods grouped by class and ports tuple) gives what gathering
    the classes of every backend gives, in the same order."""
    t = build_topology(parse_text(layout, "l.yaml"))
    compiled = CompiledCluster(t)
    for svc in t.services:
        for port in svc.ports:
            assert list(compiled.endpoint_classes(svc, port).items()) == \
                list(_classes_of_backends(compiled, svc, port).items())


def test_twin_layout_covers_repeated_names_and_ports() -> None:
    t = build_topology(parse_text(TWINS, "l.yaml"))
    assert len(t.pod_position) == len(t.pods)  # one Pod named shop/web-0: the input's
    assert [p.labels.get("app") for p in t.pods if p.name == "web-0"] == ["z"]
    assert [n.id for n in t.notes if n.id in ("NM-INPUT-047", "NM-INPUT-048")] == ["NM-INPUT-047", "NM-INPUT-048"]
    assert sorted(p.name for p in t.pods if p.owner is not None and p.owner.kind == "Deployment") == \
        ["web-deployment-0", "web-deployment-1"]
    compiled = CompiledCluster(t)
    c = t.service_by_key[("shop", "c")]
    assert sorted(port for _, port in compiled.endpoint_classes(c, c.ports[0])) == [8080, 9090]
    assert not compiled.endpoint_classes(c, c.ports[1])


@pytest.mark.parametrize("layout", sorted(p.name for p in (Path(__file__).parent.parent / "topologies").iterdir()
                                          if p.suffix == ".yaml"))
def test_endpoint_classes_on_the_example_topologies(layout: str) -> None:
    t = load_topology([str(Path(__file__).parent.parent / "topologies" / layout)])
    compiled = CompiledCluster(t)
    for svc in t.services:
        for port in svc.ports:
            assert list(compiled.endpoint_classes(svc, port).items()) == \
                list(_classes_of_backends(compiled, svc, port).items())
