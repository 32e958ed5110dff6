"""Encapsulated replies: a Pod's replies come back as a new outer packet, so the tunnel must pass both ways.

The reproducer is broken-cni-port-closed (cp-1's firewall opens UDP 4789, Flannel sends 8472): the kernel
(netmodel emulate) drops every connection from a cp-1 Pod to a worker Pod, because the worker's replies reach
cp-1 as VXLAN UDP 8472 from the worker. Query and matrix must both say so, naming the rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.reach import CompiledCluster, Disposition, query
from netmodel.model.build import load_topology

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "topologies" / "broken-cni-port-closed.yaml"


@pytest.fixture(scope="module")
def broken() -> CompiledCluster:
    return CompiledCluster(load_topology([str(BROKEN)]))


def test_reply_tunnel_blocked_at_the_source_node_denies_the_connection(broken: CompiledCluster) -> None:
    answer = query(broken, "kube-system/fluent-bit-cp-1", "kube-system/coredns-0", 53, "UDP")
    assert not answer.allowed and answer.disposition is Disposition.DENIED_BY_FIREWALL
    assert {(d.kind, d.name, d.rule) for d in answer.blocked_by} == {
        ("Firewall", "control-plane", "ingress defaultAction deny")}
    steps = [(h.location, s.step.value, s.ok) for h in answer.paths[0].hops for s in h.steps]
    # request outer packet cp-1 → w-1 passes; the reply's outer packet w-1 → cp-1 is what cp-1 drops
    assert steps[2:9] == [("node:cp-1", "route", True), ("node:cp-1", "encap", True),
                          ("node:cp-1", "firewall-egress", True), ("node:w-1", "firewall-ingress", True),
                          ("node:w-1", "encap", True), ("node:w-1", "firewall-egress", True),
                          ("node:cp-1", "firewall-ingress", False)]
    reply = answer.paths[0].hops[2].steps[1]
    assert "10.0.0.21 → 10.0.0.11" in reply.detail and "UDP 8472" in reply.detail


def test_the_other_direction_is_denied_by_the_request_tunnel(broken: CompiledCluster) -> None:
    answer = query(broken, "kube-system/coredns-0", "kube-system/fluent-bit-cp-1", 2020)
    assert answer.disposition is Disposition.DENIED_BY_FIREWALL
    assert [s.step.value for s in answer.paths[0].steps if not s.ok] == ["firewall-ingress"]


def test_pod_to_another_nodes_address_gets_its_replies_through_the_tunnel(broken: CompiledCluster, tmp_path: Path) -> None:
    # Flannel's --ip-masq (natOutgoing, on by default) SNATs a Pod's traffic to another node's address to its own
    # node, so the replies come back to cp-1's address unencapsulated, as the node's own do.
    masqueraded = query(broken, "kube-system/fluent-bit-cp-1", "node:w-1", 30080)
    assert masqueraded.allowed
    assert any(s.step.value == "snat" and "flannel --ip-masq" in s.detail for s in masqueraded.paths[0].steps)
    assert query(broken, "node:cp-1", "node:w-1", 30080).allowed
    # Without it the request rides the node network to w-1's NodePort (w-1 admits it), but the replies go to a
    # Pod address: VXLAN w-1 → cp-1, which cp-1 drops.
    text = BROKEN.read_text().replace("cni: {plugin: flannel, mode: vxlan, encryption: none}",
                                      "cni: {plugin: flannel, mode: vxlan, encryption: none, natOutgoing: false}")
    assert "natOutgoing: false" in text
    layout = tmp_path / "no-nat.yaml"
    layout.write_text(text)
    answer = query(CompiledCluster(load_topology([str(layout)])), "kube-system/fluent-bit-cp-1", "node:w-1", 30080)
    assert answer.disposition is Disposition.DENIED_BY_FIREWALL
    assert {(d.name, d.rule) for d in answer.blocked_by} == {("control-plane", "ingress defaultAction deny")}


def test_between_workers_both_directions_are_open(broken: CompiledCluster) -> None:
    assert query(broken, "kube-system/fluent-bit-w-1", "kube-system/fluent-bit-w-2", 2020).allowed


def test_matrix_agrees_on_the_reproducer(broken: CompiledCluster) -> None:
    found = {(c.source, c.destination) for c in connectivity(broken, "pod")}
    assert ("kube-system/fluent-bit-cp-1", "kube-system/coredns-0") not in found
    assert ("kube-system/fluent-bit-w-1", "kube-system/fluent-bit-w-2") in found


LAYOUT = """\
apiVersion: netmodel.io/v1alpha1
kind: Cluster
metadata: {{name: lab}}
spec:
  podCIDRs: ["10.244.0.0/16"]
  serviceCIDRs: ["10.96.0.0/12"]
  cni: {{plugin: calico, mode: {mode}}}
---
apiVersion: v1
kind: Node
metadata: {{name: a, labels: {{side: a}}}}
spec: {{podCIDR: 10.244.0.0/24}}
status: {{addresses: [{{type: InternalIP, address: 10.0.0.1}}]}}
---
apiVersion: v1
kind: Node
metadata: {{name: b, labels: {{side: b}}}}
spec: {{podCIDR: 10.244.1.0/24}}
status: {{addresses: [{{type: InternalIP, address: 10.0.0.2}}]}}
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {{name: b-sends-nothing}}
spec:
  nodeSelector: {{matchLabels: {{side: b}}}}
  stateful: {stateful}
  ingress: {{defaultAction: allow}}
  egress: {{defaultAction: deny}}
---
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: default}}
spec: {{nodeName: a, containers: [{{name: c}}]}}
status: {{podIP: 10.244.0.5}}
---
apiVersion: v1
kind: Pod
metadata: {{name: server, namespace: default}}
spec: {{nodeName: b, containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}
status: {{podIP: 10.244.1.5}}
"""


@pytest.mark.parametrize("mode, stateful, allowed", [
    ("vxlan", "true", False),   # the reply's VXLAN packet is a new flow: b's egress default deny drops it
    ("ipip", "true", True),     # IP-in-IP has no ports: the reply's outer packet is the tracked reverse
    ("ipip", "false", False),   # ... unless the firewall is stateless
])
def test_which_reply_tunnels_a_stateful_firewall_tracks(tmp_path: Path, mode: str, stateful: str,
                                                        allowed: bool) -> None:
    layout = tmp_path / "lab.yaml"
    layout.write_text(LAYOUT.format(mode=mode, stateful=stateful))
    compiled = CompiledCluster(load_topology([str(layout)]))
    answer = query(compiled, "default/client", "default/server", 80)
    assert answer.allowed is allowed
    if not allowed:
        assert {(d.name, d.rule) for d in answer.blocked_by} == {("b-sends-nothing", "egress defaultAction deny")}
    matrix = {(c.source, c.destination) for c in connectivity(compiled, "pod")}
    assert (("default/client", "default/server") in matrix) is allowed
