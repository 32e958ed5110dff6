"""Pod-to-pod checks NM-P2P-001..010 on small inline topologies: exact (object, ID) pairs."""

import ipaddress

from checkkit import CLUSTER, COMMON_RULES, CP_RULES, NODES, base, findings, firewall, pairs
from hypothesis import given, settings
from hypothesis import strategies as st


def test_node_range_outside_cluster_range():
    nodes = NODES.replace("10.244.2.0/24", "10.250.2.0/24")
    assert pairs(base(nodes=nodes), "NM-P2P") == {("Node/w-2", "NM-P2P-001")}


def test_overlapping_node_ranges_name_both_nodes():
    nodes = NODES.replace("10.244.2.0/24", "10.244.1.128/25")
    [finding] = findings(base(nodes=nodes), "NM-P2P")
    assert (finding.id, finding.objects) == ("NM-P2P-002", ("Node/w-1", "Node/w-2"))
    assert "10.244.1.0/24" in finding.message and "10.244.1.128/25" in finding.message


def test_pod_cidr_overlapping_service_cidr():
    cluster = CLUSTER.replace('serviceCIDRs: ["10.96.0.0/12"]', 'serviceCIDRs: ["10.244.128.0/20"]')
    dns = ""  # kube-dns's 10.96.0.10 would be outside the new service CIDR
    assert pairs(base(cluster=cluster, dns=dns), "NM-P2P-003") == {("Cluster/lab", "NM-P2P-003")}


def test_pod_cidr_containing_a_node_or_cut_by_a_network():
    nodes = NODES.replace("10.0.0.22", "10.244.200.5")
    assert ("Cluster/lab", "NM-P2P-004") in pairs(base(nodes=nodes), "NM-P2P")
    cluster = CLUSTER.replace('cidrs: ["198.51.100.0/24"]', 'cidrs: ["10.244.7.0/24"]')
    assert pairs(base(cluster=cluster), "NM-P2P-004") == {("Cluster/lab", "NM-P2P-004")}
    # A network that wholly contains the pod range (the internet) is not an overlap.
    assert pairs(base(), "NM-P2P-004") == set()


def test_pod_ips_outside_node_range_and_shared():
    pods = """
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: default}
spec: {nodeName: w-1, containers: [{name: c}]}
status: {podIP: 10.244.2.9}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: default}
spec: {nodeName: w-2, containers: [{name: c}]}
status: {podIP: 10.244.2.9}
"""
    assert pairs(base(pods), "NM-P2P") == {("Pod/default/a", "NM-P2P-005"), ("Pod/default/a", "NM-P2P-006")}


NODE_RANGES = {"w-1": ipaddress.ip_network("10.244.1.0/24"), "w-2": ipaddress.ip_network("10.244.2.0/24")}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(NODE_RANGES)),
                          st.lists(st.sampled_from(["10.244.1.5", "10.244.1.6", "10.244.2.5", "10.250.0.1",
                                                    "fd00::5"]), min_size=1, max_size=2, unique=True)),
                min_size=1, max_size=5))
def test_pod_ip_findings_are_each_address_outside_its_node_or_held_before(placed):
    """check_pod_ips judges per node first (the Pods' addresses as a set within the node's range, none held
    twice) and walks the Pods only when that fails: its findings are still exactly the per-address ones, in
    Pod order."""
    pods = "".join(f"""---
apiVersion: v1
kind: Pod
metadata: {{name: p{i}, namespace: default}}
spec: {{nodeName: {node}, containers: [{{name: c}}]}}
status: {{podIPs: [{", ".join(f"{{ip: '{ip}'}}" for ip in ips)}]}}
""" for i, (node, ips) in enumerate(placed))
    want = []
    held: set[str] = set()
    for i, (node, ips) in enumerate(placed):
        for ip in ips:
            if ipaddress.ip_address(ip) not in NODE_RANGES[node]:
                want.append((f"Pod/default/p{i}", "NM-P2P-005"))
            if ip in held:
                want.append((f"Pod/default/{next(f'p{j}' for j, (_, o) in enumerate(placed) if ip in o)}",
                             "NM-P2P-006"))
            held.add(ip)
    got = [(f.objects[0], f.id) for f in findings(base(pods), "NM-P2P-00") if f.id in ("NM-P2P-005", "NM-P2P-006")]
    assert sorted(got) == sorted(want)


def test_masquerade_must_cover_pod_cidrs():
    broken = CLUSTER.replace("  cni:", '  masquerade: {nonMasqueradeCIDRs: ["10.0.0.0/16"]}\n  cni:')
    fine = CLUSTER.replace("  cni:", '  masquerade: {nonMasqueradeCIDRs: ["10.0.0.0/8"]}\n  cni:')
    defaults = CLUSTER.replace("  cni:", "  masquerade: {}\n  cni:")
    assert pairs(base(cluster=broken), "NM-P2P") == {("Cluster/lab", "NM-P2P-007")}
    assert pairs(base(cluster=fine), "NM-P2P") == set()
    assert pairs(base(cluster=defaults), "NM-P2P") == set()  # RFC 1918 defaults cover 10.244.0.0/16


def test_cni_port_closed_on_one_class_is_reported_once_with_its_firewall():
    rules = COMMON_RULES.replace('ports: ["8472"]', 'ports: ["4789"]')
    firewalls = firewall("control-plane", "control-plane", CP_RULES + rules) + "---" + firewall(
        "workers", "worker", COMMON_RULES)
    [finding] = findings(base(firewalls=firewalls), "NM-P2P")
    assert finding.id == "NM-P2P-008"
    assert finding.objects == ("Node/w-1", "Node/cp-1", "Firewall/control-plane")
    assert "UDP 8472" in finding.message and "w-1, w-2" in finding.message


def test_cni_egress_is_judged_too():
    egress = """
  egress:
    defaultAction: allow
    rules:
    - {name: no-vxlan-out, action: deny, protocol: UDP, ports: ["8472"]}
"""
    firewalls = firewall("control-plane", "control-plane", CP_RULES + COMMON_RULES) + "---" + firewall(
        "workers", "worker", COMMON_RULES) + egress
    found = findings(base(firewalls=firewalls), "NM-P2P")
    assert {f.id for f in found} == {"NM-P2P-008"}
    assert all("egress" in f.message and "no-vxlan-out" in f.message for f in found)


def test_calico_ipip_needs_protocol_4_and_bgp():
    cluster = CLUSTER.replace("{plugin: flannel, mode: vxlan}", "{plugin: calico, mode: ipip}")
    found = findings(base(cluster=cluster), "NM-P2P-008")
    messages = " ".join(f.message for f in found)
    assert "Calico BGP (TCP 179)" in messages and "Calico IP-in-IP (IP protocol 4)" in messages


def test_native_routing_needs_pod_cidrs_between_nodes():
    cluster = CLUSTER.replace("{plugin: flannel, mode: vxlan}", "{plugin: flannel, mode: host-gw}")
    routed = COMMON_RULES + "    - {name: pods, action: allow, from: [{cidr: 10.244.0.0/16}]}\n"
    open_fw = firewall("control-plane", "control-plane", CP_RULES + routed) + "---" + firewall(
        "workers", "worker", routed)
    blocked = findings(base(cluster=cluster), "NM-P2P")
    assert {f.id for f in blocked} == {"NM-P2P-009"}
    # The example names a protocol number as a protocol, never a bare number that reads as a port.
    assert all("(e.g. IP protocol 0 from 10.244." in f.message for f in blocked)
    assert findings(base(cluster=cluster, firewalls=open_fw), "NM-P2P") == []


def test_single_node_has_no_pairs_to_block():
    nodes = NODES.split("---")[0]
    assert pairs(base(nodes=nodes, firewalls=firewall("cp", "control-plane", CP_RULES), dns=""), "NM-P2P") == set()


def test_node_without_pod_cidr_when_the_range_is_full():
    cluster = CLUSTER.replace('podCIDRs: ["10.244.0.0/16"]', 'podCIDRs: ["10.244.0.0/23"]')
    nodes = NODES.replace("spec: {podCIDR: 10.244.2.0/24}", "spec: {}").replace(
        "spec: {podCIDR: 10.244.1.0/24}", "spec: {podCIDR: 10.244.1.0/24}")
    assert ("Node/w-2", "NM-P2P-010") in pairs(base(cluster=cluster, nodes=nodes), "NM-P2P")
