"""A node a Pod's spec.nodeName gives but no Node object declares is made with the implicit node's defaults
(issue 9, item 2), as every exported Pod names its node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.model.topology import Topology

# Pods as `kubectl get pods -A -o yaml` prints them, no Node objects: kubeadm's API server static Pod (host
# network, so its podIP is its node's address) and two app Pods whose IPs are not where netmodel would put them in
# input order.
DUMP = """
apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver-cp-a, namespace: kube-system, labels: {component: kube-apiserver, tier: control-plane}}
spec: {nodeName: cp-a, hostNetwork: true, containers: [{name: c, image: x, ports: [{containerPort: 6443}]}]}
status: {phase: Running, podIP: 10.0.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web}}
spec: {nodeName: worker-b, containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
status: {phase: Running, podIP: 10.244.2.7}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, namespace: shop, labels: {app: web}}
spec: {nodeName: worker-a, containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
status: {phase: Running, podIP: 10.244.0.9}
"""

NODE = """
---
apiVersion: v1
kind: Node
metadata: {name: w-1, labels: {kubernetes.io/os: linux}}
spec: {podCIDR: 10.244.9.0/24}
status: {addresses: [{type: InternalIP, address: 192.168.0.10}]}
"""


def _topology(text: str) -> Topology:
    return build_topology(parse_text(text, "dump.yaml"))


def test_a_dump_without_nodes_gets_the_nodes_its_pods_name() -> None:
    t = _topology(DUMP)
    nodes = {n.name: n for n in t.nodes}
    assert sorted(nodes) == ["cp-a", "worker-a", "worker-b"]  # no node-1 next to them
    assert all(n.implicit and n.labels["kubernetes.io/os"] == "linux" for n in nodes.values())
    assert nodes["worker-b"].labels["kubernetes.io/hostname"] == "worker-b"
    assert nodes["cp-a"].is_control_plane and not nodes["worker-a"].is_control_plane
    assert [str(ip) for ip in nodes["cp-a"].ips] == ["10.0.0.5"]  # its hostNetwork Pod's address
    pod_ips = {ip for p in t.pods if not p.host_network for ip in p.ips}
    assert not pod_ips & {ip for n in t.nodes for ip in n.ips}  # no node takes a Pod's address
    assert {p.name: p.node_name for p in t.pods} == {"kube-apiserver-cp-a": "cp-a", "web-1": "worker-b",
                                                     "web-2": "worker-a"}
    (note,) = [n for n in t.notes if n.id == "NM-INPUT-011"]
    assert "3 node(s)" in note.message and "control plane: cp-a" in note.message


def test_explicit_nodes_keep_theirs_and_made_up_ones_take_no_address_in_use() -> None:
    t = _topology(DUMP + NODE)
    nodes = {n.name: n for n in t.nodes}
    assert sorted(nodes) == ["cp-a", "w-1", "worker-a", "worker-b"] and not nodes["w-1"].implicit
    addresses = [ip for n in t.nodes for ip in n.ips]
    assert len(addresses) == len(set(addresses))
    # 192.168.0.10, the first made-up address, is w-1's.
    assert {str(ip) for ip in nodes["worker-a"].ips + nodes["worker-b"].ips} == {"192.168.0.11", "192.168.0.12"}


def test_check_passes_the_dump_with_an_info_note_instead_of_rejecting_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "dump.yaml"
    path.write_text(DUMP + NODE + """
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: workers}
spec:
  nodes: [worker-a, worker-b]
  ingress: {defaultAction: allow}
""")
    code = main(["check", str(path), "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    # Pod IPs the input gives are judged against the cluster's pod ranges, not a range netmodel made up.
    assert [f["id"] for f in findings if f["severity"] != "info"] == [] and code == 0
    assert [f["id"] for f in findings].count("NM-INPUT-011") == 1


def test_a_finished_pod_makes_no_node() -> None:
    t = _topology(DUMP + """
---
apiVersion: v1
kind: Pod
metadata: {name: evicted, namespace: shop}
spec: {nodeName: gone-node, containers: [{name: c, image: x}]}
status: {phase: Failed, reason: Evicted, podIP: 10.244.7.7}
""")
    assert "gone-node" not in {n.name for n in t.nodes}


def test_a_made_up_node_takes_no_service_external_address() -> None:
    t = _topology(DUMP + """
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: shop}
spec: {selector: {app: web}, clusterIP: 10.96.0.30, externalIPs: [192.168.0.10], ports: [{port: 80}]}
""")
    taken = {"192.168.0.10"}
    assert not taken & {str(ip) for n in t.nodes for ip in n.ips}
