"""Firewall rules with a node-side end: ``to`` on ingress (the node itself, its Pods, CIDRs), ``from`` on egress.

The layout is topologies/calico-bgp-forward.yaml: Calico BGP without encapsulation, so Pod packets cross the
nodes with Pod addresses; each node's firewall admits the Pod range ``to: [{pods: {}}]`` only, and the workers
deny Pod-sourced (``from: [{pods: {}}]``) traffic to etcd. Its variant broken-etcd-pods-forward.yaml drops the
``to`` and so opens the control plane's own ports to every Pod. Checked through the CLI (check, query), the
port matrix and the connectivity matrix; the lab agrees in tests/emulate/test_emulate.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netmodel.analyze.checks import CheckContext
from netmodel.analyze.portmatrix import port_matrix
from netmodel.analyze.reach import CompiledCluster, Disposition, query
from netmodel.cli.main import main
from netmodel.load import parse_text
from netmodel.model.build import build_topology, load_topology
from netmodel.sets import AddressSet, Box, IntervalSet, parse_address
from netmodel.sets.ports import TCP, UDP
from tests.emulate.strategies import Doc, to_yaml, topologies

ROOT = Path(__file__).resolve().parent.parent
HEALTHY = "topologies/calico-bgp-forward.yaml"
BROKEN = "topologies/broken-etcd-pods-forward.yaml"


def dual_stack_native() -> str:
    """topologies/dual-stack.yaml with Calico BGP instead of VXLAN: the firewalls' VXLAN rule becomes BGP plus
    a Pod-forwarding rule for both families, `to: [{pods: {}}]`."""
    text = (ROOT / "topologies/dual-stack.yaml").read_text()
    text = text.replace("cni: {plugin: calico, mode: vxlan, encryption: none}",
                        "cni: {plugin: calico, mode: bgp, encryption: none}")
    vxlan = ("    - name: calico-vxlan\n      action: allow\n      protocol: UDP\n      ports: [\"4789\"]\n"
             "      from:\n      - nodeSelector: {matchLabels: {kubernetes.io/os: linux}}\n")
    native = ("    - name: calico-bgp\n      action: allow\n      protocol: TCP\n      ports: [\"179\"]\n"
              "      from:\n      - nodeSelector: {matchLabels: {kubernetes.io/os: linux}}\n"
              "    - name: routed-to-pods\n      action: allow\n      from:\n      - cidr: 10.244.0.0/16\n"
              "      - cidr: \"fd00:10:244::/56\"\n      - nodeSelector: {matchLabels: {kubernetes.io/os: linux}}\n"
              "      to:\n      - pods: {}\n")
    assert text.count(vxlan) == 2
    return text.replace(vxlan, native)


def check_json(capsys: pytest.CaptureFixture[str], layout: str) -> tuple[int, dict]:
    code = main(["check", layout, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def cells(payload: dict, node: str, purpose: str, source: str) -> list[dict]:
    return [c for c in payload["portMatrix"]
            if c["node"] == node and c["purpose"] == purpose and c["source"] == source]


def test_pod_forwarding_rule_keeps_etcd_closed_to_pods(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, payload = check_json(capsys, HEALTHY)
    assert code == 0
    assert [f["id"] for f in payload["findings"] if f["severity"] != "info"] == []
    [etcd] = cells(payload, "cp-1", "etcd", "pods")
    assert (etcd["allowed"], etcd["status"]) == (False, "ok")
    [etcd_workers] = cells(payload, "cp-1", "etcd", "workers")
    assert (etcd_workers["allowed"], etcd_workers["status"]) == (False, "ok")
    # the Pods still reach what they need on the node itself
    [api] = cells(payload, "cp-1", "kube-apiserver", "pods")
    assert (api["required"], api["allowed"], api["status"]) == (True, True, "ok")
    statuses = {r["id"]: r["status"] for r in payload["requirements"]}
    assert statuses["pod-to-pod"] == "pass"


def test_without_the_destination_the_same_rule_exposes_etcd(capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, payload = check_json(capsys, BROKEN)
    assert code == 1
    [etcd] = cells(payload, "cp-1", "etcd", "pods")
    assert (etcd["allowed"], etcd["status"]) == (True, "exposed")
    assert "Firewall control-plane ingress rule 'routed-to-pods' (allow)" in etcd["decidedBy"]
    errors = {(f["id"], f["message"].split(" is reachable from ")[1].split(" (e.g.")[0])
              for f in payload["findings"] if f["id"] == "NM-PORT-002"}
    assert errors == {("NM-PORT-002", "the Pods (pod CIDRs)"), ("NM-PORT-002", "the worker nodes")}
    # native routing: the finding says how to keep the forwarding rule and close the node's own ports
    assert all("add `to: [{pods: {}}]` to it" in f["message"] for f in payload["findings"]
               if f["id"] in ("NM-PORT-002", "NM-PORT-004"))


def test_query_names_the_rule_that_admits_pod_traffic_and_the_one_that_keeps_etcd_closed(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code = main(["query", HEALTHY, "--from", "shop/web-0", "--to", "shop/api-1", "-p", "9000", "-o", "json"])
    answer = json.loads(capsys.readouterr().out)
    assert code == 0, answer
    steps = [(s["step"], d["name"], d["rule"]) for p in answer["paths"] for h in p["hops"] for s in h["steps"]
             for d in s["decisions"] if s["step"].startswith("firewall")]
    assert ("firewall-ingress", "workers", "ingress rule routed-to-pods") in steps
    code = main(["query", HEALTHY, "--from", "shop/web-0", "--to", "node:cp-1", "-p", "2379", "-o", "json"])
    answer = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {(b["name"], b["rule"]) for b in answer["blockedBy"]} == {
        ("workers", "egress rule pods-not-to-etcd"), ("control-plane", "ingress defaultAction deny")}


def test_node_side_match_per_packet() -> None:
    """decide(): the rule judges only packets whose node-side address it lists; the default is the node's own."""
    compiled = CompiledCluster(load_topology([str(ROOT / HEALTHY)]))
    firewalls = compiled.firewalls
    cp = compiled.topology.node_by_name["cp-1"]
    w1 = compiled.topology.node_by_name["w-1"]
    pod, other_pod = parse_address("10.244.1.7"), parse_address("10.244.0.9")
    to_pod = firewalls.decide(cp, "ingress", pod, TCP, 2379, local=other_pod)
    assert [d.rule.name if d.rule else None for d in to_pod.decisions] == ["routed-to-pods"]
    to_node = firewalls.decide(cp, "ingress", pod, TCP, 2379)  # local defaults to cp-1's own 10.0.0.11
    assert to_node.decisions[0].rule is None and not to_node.allowed
    # egress `from: pods`: a Pod-sourced packet is denied, the node's own is not
    etcd = parse_address("10.0.0.11")
    assert not firewalls.decide(w1, "egress", etcd, TCP, 2379, local=pod).allowed
    assert firewalls.decide(w1, "egress", etcd, TCP, 2379).allowed
    assert firewalls.decide(w1, "egress", etcd, UDP, 2379, local=pod).allowed  # the rule is TCP only


def test_cidr_destination_splits_node_classes() -> None:
    """Two nodes under one Firewall whose CIDR destination covers only one of them are judged apart."""
    text = (ROOT / HEALTHY).read_text().replace(
        "      to:\n      - pods: {}\n", "      to:\n      - pods: {}\n      - cidr: 10.0.0.21/32\n", 2)
    topology = build_topology(parse_text(text, "cidr.yaml"))
    ctx = CheckContext(topology)
    classes = [sorted(n.name for n in c.nodes) for c in ctx.node_classes]
    assert sorted(classes) == [["cp-1"], ["w-1"], ["w-2"]]
    cells_ = {(c.node.name, c.row.key, c.source.name): c for c in port_matrix(ctx)}
    # w-1's own address is a destination of the worker rule now: Pods reach its kubelet, w-2's stay closed
    assert cells_[("w-1", "kubelet", "pods")].allowed
    assert not cells_[("w-2", "kubelet", "pods")].allowed


def test_pod_to_pod_across_nodes_is_delivered_and_node_ports_are_not() -> None:
    compiled = CompiledCluster(load_topology([str(ROOT / HEALTHY)]))
    assert query(compiled, "shop/web-0", "shop/api-1", 9000, "TCP").disposition == Disposition.DELIVERED
    assert query(compiled, "shop/web-0", "kube-system/coredns-0", 53, "UDP").disposition == Disposition.DELIVERED
    assert query(compiled, "shop/web-0", "node:cp-1", 10259, "TCP").disposition == Disposition.DENIED_BY_FIREWALL


ADDRESSES = ["10.0.0.11", "10.0.0.12", "10.0.0.13", "10.244.0.5", "10.244.1.9", "10.244.2.3", "198.51.100.7",
             "192.0.2.130", "203.0.113.1"]


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(docs=topologies(node_side=True), data=st.data())
def test_packet_and_space_evaluation_agree(docs: list[Doc], data: st.DataObject) -> None:
    """decide() on one packet and allowed_space() on the box of that one packet give the same verdict, for
    random node-side rules, both directions, every node; and a set of node-side addresses is allowed for
    every address (default) exactly when each address alone is allowed."""
    topology = build_topology(parse_text(to_yaml(docs), "random.yaml"))
    firewalls = CompiledCluster(topology).firewalls
    for node in topology.nodes:
        for direction in ("ingress", "egress"):
            peer, local, other = (parse_address(data.draw(st.sampled_from(ADDRESSES))) for _ in range(3))
            protocol = data.draw(st.sampled_from([TCP, UDP]))
            port = data.draw(st.sampled_from([53, 80, 179, 2379, 8472, 10250, 30080]))
            box = Box(AddressSet.of_address(peer), IntervalSet.single(protocol), IntervalSet.single(port))
            one = firewalls.decide(node, direction, peer, protocol, port, local).allowed
            assert firewalls.allowed_space(node, direction, box, local).contains(peer, protocol, port) == one
            both = AddressSet.of_address(local) | AddressSet.of_address(other)
            alone = firewalls.decide(node, direction, peer, protocol, port, other).allowed
            every = firewalls.allowed_space(node, direction, box, both).contains(peer, protocol, port)
            some = firewalls.allowed_space(node, direction, box, both, some=True).contains(peer, protocol, port)
            assert (every, some) == (one and alone, one or alone)


def test_dual_stack_native_routing_forwards_both_families_and_keeps_etcd_closed() -> None:
    topology = build_topology(parse_text(dual_stack_native(), "dual-stack-native.yaml"))
    ctx = CheckContext(topology)
    cells = {(c.node.name, c.row.key, c.source.name): c for c in port_matrix(ctx)}
    assert (cells[("cp-1", "etcd", "pods")].allowed, cells[("cp-1", "etcd", "pods")].status) == (False, "ok")
    compiled = CompiledCluster(topology)
    for source, target in (("10.244.1.4", "10.244.2.5"), ("fd00:10:244:1::4", "fd00:10:244:2::5")):
        answer = query(compiled, f"ip:{source}", f"ip:{target}", 9200, "TCP")
        assert answer.disposition == Disposition.DELIVERED, answer
        rules = {d.rule for p in answer.paths for h in p.hops for s in h.steps for d in s.decisions
                 if s.step.value == "firewall-ingress"}
        assert rules == {"ingress rule routed-to-pods"}


EXTERNAL_IP_SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web-external, namespace: shop}
spec:
  selector: {app: web}
  externalIPs: [198.51.100.200]
  ports:
  - {name: http, port: 8443, targetPort: http, protocol: TCP}
"""


@pytest.mark.parametrize("to, delivered", [("[{node: {}}]", False), ("[{cidr: 198.51.100.200/32}]", True)])
def test_external_ip_is_its_own_destination_on_the_wire(to: str, delivered: bool) -> None:
    """An externalIP is routed to a node as it is: a `to: node` rule does not cover it, a CIDR naming it does."""
    rule = ("    - name: external-web\n      action: allow\n      protocol: TCP\n      ports: [\"8443\"]\n"
            f"      from: [{{network: office}}]\n      to: {to}\n")
    text = (ROOT / HEALTHY).read_text().replace("    - name: routed-to-pods\n", rule + "    - name: routed-to-pods\n")
    compiled = CompiledCluster(build_topology(parse_text(text + "---" + EXTERNAL_IP_SERVICE, "external.yaml")))
    answer = query(compiled, "ip:198.51.100.7", "ip:198.51.100.200", 8443, "TCP")
    assert (answer.disposition == Disposition.DELIVERED) == delivered, answer
    entries = [next(s for h in p.hops for s in h.steps if s.step.value == "firewall-ingress") for p in answer.paths]
    assert entries and all("198.51.100.7 → 198.51.100.200" in s.detail for s in entries)
    assert {d.rule for s in entries for d in s.decisions} == (
        {"ingress rule external-web"} if delivered else {"ingress defaultAction deny"})
