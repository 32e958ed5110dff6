"""Requirement 2, Pod-to-Pod without NAT: address plan, masquerading and the CNI's paths between nodes.

* NM-P2P-001..004 — the pod CIDR plan: node ranges inside the cluster range and disjoint; pod ranges clear of
  service CIDRs, node addresses, and outside networks (an outside network that wholly contains a pod range,
  like ``internet: 0.0.0.0/0``, is fine: the cluster's addresses are carved out of it).
* NM-P2P-005/006 — Pod IPs inside the range that binds them (:func:`netmodel.model.ipam.pod_ranges_of`: the
  node's given range under node-local IPAM, else the cluster's pod ranges) and unique (hostNetwork Pods use the
  node's address). Under Calico IPAM node ranges bind nothing, so NM-P2P-001/002 do not judge them.
* NM-P2P-007 — ip-masq-agent masquerades every destination outside ``nonMasqueradeCIDRs``; when those do not
  cover the pod CIDRs, Pod-to-Pod traffic leaves with the node's address.
* NM-P2P-008 — each node-to-node flow of the CNI (:mod:`netmodel.compile.cni`) must pass the sender's egress
  and the receiver's ingress firewalls for every pair of different nodes. Judged per firewall class.
* NM-P2P-009 — native routing: every node must accept (and send) traffic of any protocol from (to) the other
  nodes' pod CIDRs.
* NM-P2P-010 — a node without a pod CIDR.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from netmodel.analyze.checks.common import (
    FirstClaims,
    decision_span,
    describe_decisions,
    unique_spans,
)
from netmodel.analyze.checks.traffic import NodePairBlock, blocked_between
from netmodel.analyze.findings import Finding, Severity
from netmodel.compile.cni import NodeFlow, node_flows, routes_pod_cidrs
from netmodel.compile.context import CheckContext, describe_node_list, describe_nodes
from netmodel.errors import SourceSpan
from netmodel.model.ipam import judged_per_node, node_ranges_bind, pod_ranges_of
from netmodel.model.objects import Node, Pod
from netmodel.sets import (
    ALL_PORTS,
    ALL_PROTOCOLS,
    AddressSet,
    IntervalSet,
    IPNetwork,
    network_within,
    networks_overlap,
    protocol_label,
)
from netmodel.sets.ports import PORTED_PROTOCOLS

REQUIREMENT = "pod-to-pod"


def check_node_pod_cidrs_in_cluster_range(ctx: CheckContext) -> Iterator[Finding]:
    """NM-P2P-001."""
    cluster = ctx.topology.cluster
    if not node_ranges_bind(ctx.topology):
        return  # Calico IPAM: spec.podCIDR is not where Pod addresses come from
    for node in ctx.topology.nodes:
        for cidr in node.pod_cidrs:
            if not any(network_within(cidr, c) for c in cluster.pod_cidrs):
                ranges = ", ".join(str(c) for c in cluster.pod_cidrs if c.version == cidr.version) or "none"
                yield Finding(
                    "NM-P2P-001", Severity.ERROR, REQUIREMENT,
                    f"node {node.name}'s pod CIDR {cidr} is not inside the cluster pod CIDRs ({ranges}); other "
                    f"nodes do not route it as Pod traffic. Fix: give the node a range inside {ranges}, or add "
                    f"its range to Cluster spec.podCIDRs.",
                    (str(node.ref),), unique_spans([node.source, cluster.source]))


def check_node_pod_cidrs_disjoint(ctx: CheckContext) -> Iterator[Finding]:
    """NM-P2P-002: a sweep over ranges sorted by start finds overlaps without comparing every pair."""
    if not node_ranges_bind(ctx.topology):
        return  # Calico IPAM: spec.podCIDR is not where Pod addresses come from
    ranges = sorted(((c.version, int(c.network_address), int(c.broadcast_address), c, n)
                     for n in ctx.topology.nodes for c in n.pod_cidrs), key=lambda r: r[:3])
    widest: tuple[int, int, IPNetwork, Node] | None = None
    for version, low, high, cidr, node in ranges:
        if widest is not None and widest[0] == version and low <= widest[1]:
            other_cidr, other = widest[2], widest[3]
            yield Finding(
                "NM-P2P-002", Severity.ERROR, REQUIREMENT,
                f"pod CIDRs overlap: node {other.name} has {other_cidr} and node {node.name} has {cidr}; "
                f"addresses in both cannot be routed to one node. Fix: give node {node.name} a range disjoint "
                f"from {other_cidr}.",
                (str(other.ref), str(node.ref)), unique_spans([other.source, node.source]))
        if widest is None or widest[0] != version or high > widest[1]:
            widest = (version, high, cidr, node)


@dataclass(frozen=True, slots=True)
class PodRange:
    """A range Pod addresses come from: a cluster pod CIDR, or a node's pod CIDR outside them."""

    cidr: IPNetwork
    what: str  # "cluster pod CIDR" | "node w-1's pod CIDR"
    owner: str  # Cluster/NAME or Node/NAME
    source: SourceSpan


def _pod_ranges(ctx: CheckContext) -> list[PodRange]:
    """Cluster pod CIDRs, plus node ranges outside them (those are judged on their own)."""
    cluster = ctx.topology.cluster
    out = [PodRange(c, "cluster pod CIDR", f"Cluster/{cluster.name}", cluster.source) for c in cluster.pod_cidrs]
    if not node_ranges_bind(ctx.topology):
        return out  # Calico IPAM: node ranges hold no Pods
    for node in ctx.topology.nodes:
        for cidr in node.pod_cidrs:
            if not any(network_within(cidr, c) for c in cluster.pod_cidrs):
                out.append(PodRange(cidr, f"node {node.name}'s pod CIDR", str(node.ref), node.source))
    return out


def check_pod_cidrs_vs_service_cidrs(ctx: CheckContext) -> Iterator[Finding]:
    """NM-P2P-003."""
    cluster = ctx.topology.cluster
    for pod_range in _pod_ranges(ctx):
        for svc_cidr in cluster.service_cidrs:
            if networks_overlap(pod_range.cidr, svc_cidr):
                yield Finding(
                    "NM-P2P-003", Severity.ERROR, REQUIREMENT,
                    f"{pod_range.what} {pod_range.cidr} overlaps the service CIDR {svc_cidr}; kube-proxy would "
                    f"capture Pod addresses as Service IPs. Fix: choose disjoint pod and service ranges.",
                    (pod_range.owner,), unique_spans([pod_range.source, cluster.source]))


def check_pod_cidrs_vs_nodes_and_networks(ctx: CheckContext) -> Iterator[Finding]:
    """NM-P2P-004."""
    cluster = ctx.topology.cluster
    for pod_range in _pod_ranges(ctx):
        cidr, what, owner_ref = pod_range.cidr, pod_range.what, pod_range.owner
        block = AddressSet.of_networks([cidr])
        inside = [n for n in ctx.topology.nodes if any(block.contains(ip) for ip in n.ips)]
        if inside:
            names = [n.name for n in inside]
            yield Finding(
                "NM-P2P-004", Severity.ERROR, REQUIREMENT,
                f"{what} {cidr} contains the address of node {describe_nodes(names)}; the node and a Pod could "
                f"get the same address and routes are ambiguous. Fix: move the pod range off the node subnet.",
                (owner_ref,) + tuple(str(n.ref) for n in inside[:3]),
                unique_spans([pod_range.source, *(n.source for n in inside[:3])]))
        for network in cluster.networks:
            for net_cidr in network.cidrs:
                if networks_overlap(cidr, net_cidr) and not network_within(cidr, net_cidr):
                    yield Finding(
                        "NM-P2P-004", Severity.ERROR, REQUIREMENT,
                        f"{what} {cidr} overlaps outside network {network.name} ({net_cidr}) without being inside "
                        f"it; addresses there are both Pods and outside hosts. Fix: choose a pod range disjoint "
                        f"from {net_cidr}.",
                        (owner_ref, f"network:{network.name}"),
                        unique_spans([pod_range.source, network.source]))


def check_pod_ips(ctx: CheckContext) -> Iterator[Finding]:
    """NM-P2P-005 (outside the node's range) and NM-P2P-006 (shared)."""
    nodes = ctx.topology.node_by_name
    cluster = ctx.topology.cluster
    binding: dict[str, AddressSet] = {}  # per node, the addresses its Pods' IPs must be in

    def binding_of(node_name: str) -> AddressSet:
        found = binding.get(node_name)
        if found is None:
            found = binding[node_name] = AddressSet.of_networks(pod_ranges_of(ctx.topology, nodes[node_name]))
        return found

    pods = [pod for pod in ctx.topology.pods if not pod.host_network]
    if _each_address_held_once_within(pods, binding_of):
        return
    # Keyed by (family, integer): equal exactly when the addresses are, and hashed in C (150,000 Pods).
    claims: FirstClaims[tuple[int, int], Pod] = FirstClaims()
    for pod in pods:
        within = binding_of(pod.node_name)
        for ip in pod.ips:
            if not within.contains(ip):
                node = nodes[pod.node_name]
                allowed = pod_ranges_of(ctx.topology, node)
                ranges = ", ".join(map(str, allowed)) or "none"
                if judged_per_node(ctx.topology, node):
                    why = (f"outside its node {node.name}'s pod CIDR ({ranges}); replies to it are routed to "
                           f"another node. Fix: correct status.podIP or the node's podCIDR.")
                else:
                    why = (f"outside every cluster pod range ({ranges}); other nodes do not route it as Pod "
                           f"traffic. Fix: correct status.podIP, or add its range to Cluster spec.podCIDRs (or "
                           f"the Calico IPPool it comes from to the input).")
                yield Finding(
                    "NM-P2P-005", Severity.ERROR, REQUIREMENT,
                    f"Pod {pod.qualified_name} has IP {ip}, {why}",
                    (str(pod.ref), str(node.ref)),
                    unique_spans([pod.source, node.source if judged_per_node(ctx.topology, node)
                                  else cluster.source]))
            other = claims.earlier((ip.version, int(ip)), pod)
            if other is not None:
                yield Finding(
                    "NM-P2P-006", Severity.ERROR, REQUIREMENT,
                    f"Pods {other.qualified_name} and {pod.qualified_name} share IP {ip}; "
                    f"traffic to it reaches only one. Fix: give each Pod its own status.podIP.",
                    (str(other.ref), str(pod.ref)), unique_spans([other.source, pod.source]))


def _each_address_held_once_within(pods: list[Pod], binding_of: Callable[[str], AddressSet]) -> bool:
    """Whether no Pod address lies outside what its node binds (NM-P2P-005) and none is held twice (NM-P2P-006).

    Judged per node, not per address: the addresses of a node's Pods, as one set, must be a subset of what the
    node binds, and the addresses of all Pods must be as many as the distinct ones. When that holds (a layout
    without these errors) there is nothing to report; otherwise :func:`check_pod_ips` walks the Pods one by one
    to say which and in what order.
    """
    by_node: dict[str, tuple[list[int], list[int]]] = {}  # node → its Pods' IPv4 and IPv6 addresses
    for pod in pods:
        families = by_node.get(pod.node_name)
        if families is None:
            families = by_node[pod.node_name] = ([], [])
        for ip in pod.ips:
            families[0 if ip.version == 4 else 1].append(int(ip))
    every_v4: set[int] = set()
    every_v6: set[int] = set()
    count = 0
    for node_name, (v4, v6) in by_node.items():
        within = binding_of(node_name)
        if not (_all_in(v4, within.v4) and _all_in(v6, within.v6)):
            return False
        every_v4.update(v4)
        every_v6.update(v6)
        count += len(v4) + len(v6)
    return len(every_v4) + len(every_v6) == count


def _all_in(values: list[int], allowed: IntervalSet) -> bool:
    """Whether every one of ``values`` is in ``allowed``; against one range (a node's pod CIDR), the least and the
    greatest decide."""
    if not values:
        return True
    if len(allowed.ranges) == 1:
        lo, hi = allowed.ranges[0]
        return lo <= min(values) and max(values) <= hi
    return IntervalSet.of_values(values) <= allowed


def check_masquerade(ctx: CheckContext) -> Iterator[Finding]:
    """NM-P2P-007."""
    cluster = ctx.topology.cluster
    if cluster.non_masquerade_cidrs is None:
        return
    kept = AddressSet.of_networks(cluster.non_masquerade_cidrs)
    missing = AddressSet.of_networks(cluster.pod_cidrs) - kept
    if missing:
        listed = ", ".join(map(str, cluster.non_masquerade_cidrs)) or "(empty)"
        yield Finding(
            "NM-P2P-007", Severity.ERROR, REQUIREMENT,
            f"ip-masq-agent masquerades Pod-to-Pod traffic to {missing}: nonMasqueradeCIDRs ({listed}) replace the "
            f"defaults and do not cover the pod CIDRs, so Pods see the node's address instead of the sender's. "
            f"Fix: add {', '.join(map(str, cluster.pod_cidrs))} to masquerade.nonMasqueradeCIDRs.",
            (f"Cluster/{cluster.name}",), unique_spans([cluster.source]))


def _flow_finding(check_id: str, what: str, block: NodePairBlock) -> Finding:
    sender, receiver = block.senders[0], block.receivers[0]
    deciding_node = receiver if block.direction == "ingress" else sender
    firewalls = [d.firewall for d in block.decisions] or list(block.at.firewalls)
    port = f" port {block.port}" if block.protocol in PORTED_PROTOCOLS else ""
    label = protocol_label(block.protocol)
    label = f"IP protocol {label}" if label.isdigit() else label  # "e.g. 0 from …" read as a port
    toward = "from" if block.direction == "ingress" else "to"
    peer = f"{toward} {block.peer}"
    return Finding(
        check_id, Severity.ERROR, REQUIREMENT,
        f"{what} from node {describe_node_list(block.senders)} to node "
        f"{describe_node_list(block.receivers)} is blocked in {block.direction} on "
        f"{deciding_node.name} (e.g. {label}{port} {peer}) by "
        f"{describe_decisions(block.decisions, block.direction)}. Fix: allow it in Firewall "
        f"{', '.join(f.name for f in firewalls)} {block.direction} {toward} every node.",
        tuple(dict.fromkeys([f"Node/{sender.name}", f"Node/{receiver.name}"] + [str(f.ref) for f in firewalls])),
        unique_spans([decision_span(d, block.direction) for d in block.decisions] + [f.source for f in firewalls]))


def _flow_receivers(ctx: CheckContext, flow: NodeFlow) -> tuple[list[Node], str]:
    nodes = list(ctx.topology.nodes)
    if flow.to != "typha":
        return nodes, ""
    hosts = {p.node_name for p in ctx.topology.pods if p.labels.get("k8s-app") == "calico-typha"}
    if not hosts:
        return nodes, " (no calico-typha Pods in the input, so any node may host Typha)"
    return [n for n in nodes if n.name in hosts], ""


def check_cni_ports(ctx: CheckContext) -> Iterator[Finding]:
    """NM-P2P-008."""
    cni = ctx.topology.cluster.cni
    for flow in node_flows(cni):
        def address_of(node: Node, families: frozenset[int] = flow.families) -> AddressSet:
            return AddressSet.of_networks(ip for ip in (node.internal_ips or node.ips) if ip.version in families)
        receivers, note = _flow_receivers(ctx, flow)
        for block in blocked_between(ctx, list(ctx.topology.nodes), receivers, IntervalSet.single(flow.protocol),
                                     flow.ports, address_of):
            yield _flow_finding("NM-P2P-008", f"{flow.purpose} ({flow.describe()}){note}", block)


def check_native_routing(ctx: CheckContext) -> Iterator[Finding]:
    """NM-P2P-009."""
    cni = ctx.topology.cluster.cni
    if not routes_pod_cidrs(cni):
        return

    def pod_range(node: Node) -> AddressSet:
        return AddressSet.of_networks(node.pod_cidrs)

    nodes = list(ctx.topology.nodes)
    for block in blocked_between(ctx, nodes, nodes, ALL_PROTOCOLS, ALL_PORTS, pod_range):
        yield _flow_finding("NM-P2P-009", f"natively routed Pod traffic ({cni.plugin} {cni.mode}: pod CIDRs "
                            "routed between nodes without encapsulation)", block)


def check_nodes_without_pod_cidr(ctx: CheckContext) -> Iterator[Finding]:
    """NM-P2P-010."""
    cluster = ctx.topology.cluster
    for node in ctx.topology.nodes:
        if not node.pod_cidrs:
            yield Finding(
                "NM-P2P-010", Severity.ERROR, REQUIREMENT,
                f"node {node.name} has no pod CIDR and none is free in the cluster pod CIDRs "
                f"({', '.join(map(str, cluster.pod_cidrs))}) at mask /{cluster.node_cidr_mask_size_v4}; its Pods "
                f"get no addresses. Fix: widen Cluster spec.podCIDRs, raise nodeCIDRMaskSize, or set the node's "
                f"spec.podCIDR.",
                (str(node.ref),), unique_spans([node.source, cluster.source]))
