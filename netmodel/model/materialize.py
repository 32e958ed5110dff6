"""Filling in what the input leaves open, deterministically and with a note for each default.

The rules, in order (documented in docs/input.md):

1. No ``Cluster``: kubeadm-style defaults (pod CIDR 10.244.0.0/16, service CIDR 10.96.0.0/12, NodePorts
   30000-32767, kube-proxy iptables, an unnamed CNI with native routing, no outside networks).
2. No ``Node``: one implicit node, ``node-1``, both control plane and worker (no taint).
3. Nodes without ``spec.podCIDR(s)``: a range of ``nodeCIDRMaskSize`` per family, the lowest free one of the
   cluster pod CIDR, in input order.
4. Workloads expand into Pods: ``NAME-0 … NAME-(replicas-1)`` (StatefulSet ordinals likewise; DaemonSets one
   Pod ``NAME-NODE`` per eligible node). A workload whose Pods are given in the input (by ownerReferences) is
   not expanded again, so ``kubectl get all -o yaml`` output works.
5. Pods without ``spec.nodeName`` go round-robin over the eligible nodes (schedulable, nodeSelector, required
   node affinity, taints with effect NoSchedule/NoExecute tolerated), in node order.
6. Pod IPs: ``status.podIP(s)`` when given; hostNetwork Pods take their node's addresses; otherwise the next
   free address of the node's pod range(s), from the second host address up (the first is the CNI's gateway on
   most plugins).
7. Services without ``clusterIP``: the next free address of the service CIDR from the 11th up (the 1st is the
   ``kubernetes`` Service, the 10th cluster DNS by kubeadm's convention, so kube-system/kube-dns gets it).
   NodePort/LoadBalancer ports without ``nodePort`` get the next free port of the range.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from netmodel.model.fields import Problems
from netmodel.model.labels import Labels
from netmodel.model.objects import (
    CONTROL_PLANE_LABELS,
    NOWHERE,
    Cluster,
    CniSpec,
    ControlPlane,
    ControlPlanePorts,
    Namespace,
    Node,
    NodeAddress,
    ObjectRef,
    Pod,
    PodTemplate,
    Service,
    ServicePort,
    Workload,
)
from netmodel.model.read_kubernetes import NAMESPACE_NAME_LABEL
from netmodel.model.read_netmodel import DEFAULT_NODE_PORT_RANGE, DEFAULT_POD_CIDRS, DEFAULT_SERVICE_CIDRS
from netmodel.model.topology import Note, Topology
from netmodel.sets import AddressSet, IPAddress, IPNetwork, parse_network

if TYPE_CHECKING:
    from netmodel.model.build import Inventory

IMPLICIT_NODE = "node-1"
IMPLICIT_NODE_ADDRESS_CANDIDATES = ("192.168.0.10", "172.16.0.10", "10.0.0.10", "100.64.0.10")


def default_cluster() -> Cluster:
    return Cluster(
        name="default",
        pod_cidrs=tuple(parse_network(t) for t in DEFAULT_POD_CIDRS),
        service_cidrs=tuple(parse_network(t) for t in DEFAULT_SERVICE_CIDRS),
        node_cidr_mask_size_v4=24,
        node_cidr_mask_size_v6=64,
        node_port_range=DEFAULT_NODE_PORT_RANGE,
        cni=CniSpec("other", "native", "none", False, False, NOWHERE),
        kube_proxy_mode="iptables",
        masquerade_all=False,
        non_masquerade_cidrs=None,
        control_plane=ControlPlane("", 6443, ControlPlanePorts(), False, (), NOWHERE),
        networks=(),
        source=NOWHERE,
        implicit=True,
    )


def materialize(inv: Inventory, notes: list[Note], problems: Problems) -> Topology:
    if inv.clusters:
        cluster = inv.clusters[0][0]
    else:
        cluster = default_cluster()
        notes.append(Note("NM-INPUT-002", "no Cluster object: using defaults (pod CIDR 10.244.0.0/16, service "
                          "CIDR 10.96.0.0/12, NodePorts 30000-32767, kube-proxy iptables, CNI unknown with "
                          "native routing, no outside networks)", (), ()))
    nodes = _nodes(inv, cluster, notes)
    node_by_name = {n.name: n for n in nodes}
    _check_references(inv, cluster, node_by_name, problems)
    pods = _pods(inv, nodes, cluster, notes, problems)
    services = _services(inv, cluster, notes)
    namespaces = _namespaces(inv, pods, services)
    return Topology(
        cluster=cluster,
        namespaces=namespaces,
        nodes=tuple(nodes),
        workloads=tuple(w for w, _ in inv.workloads),
        pods=tuple(pods),
        services=tuple(services),
        endpoint_slices=tuple(inv.endpoint_slices),
        ingresses=tuple(inv.ingresses),
        ingress_classes=tuple(inv.ingress_classes),
        network_policies=tuple(inv.network_policies),
        firewalls=tuple(inv.firewalls),
        expectations=tuple(inv.expectations),
        skipped=tuple(inv.skipped),
        notes=tuple(notes),
    )


# -- nodes ---------------------------------------------------------------------------------------------------------


def _nodes(inv: Inventory, cluster: Cluster, notes: list[Note]) -> list[Node]:
    nodes = list(inv.nodes)
    if not nodes:
        taken = AddressSet.of_networks(cluster.pod_cidrs + cluster.service_cidrs
                                       + tuple(c for n in cluster.networks for c in n.cidrs if c.prefixlen > 0))
        address = next((ipaddress.ip_address(a) for a in IMPLICIT_NODE_ADDRESS_CANDIDATES
                        if not taken.contains(ipaddress.ip_address(a))), ipaddress.ip_address("192.168.0.10"))
        nodes = [Node(IMPLICIT_NODE, Labels({CONTROL_PLANE_LABELS[0]: "", "kubernetes.io/hostname": IMPLICIT_NODE}),
                      (), (), (NodeAddress("InternalIP", address),), False, NOWHERE, implicit=True)]
        notes.append(Note("NM-INPUT-003", f"no Node objects: one implicit node {IMPLICIT_NODE} ({address}) that is "
                          "both control plane and worker", (f"Node/{IMPLICIT_NODE}",), ()))
    # Allocate pod ranges for nodes that have none, avoiding ranges other nodes already hold.
    used = AddressSet.of_networks(c for n in nodes for c in n.pod_cidrs)
    allocated: list[str] = []
    out = []
    for node in nodes:
        if node.pod_cidrs:
            out.append(node)
            continue
        cidrs = []
        for pool in cluster.pod_cidrs:
            mask = cluster.node_cidr_mask_size_v4 if pool.version == 4 else cluster.node_cidr_mask_size_v6
            if mask < pool.prefixlen:
                continue
            subnet = next((s for s in _subnets(pool, mask) if AddressSet.of_networks([s]).isdisjoint(used)), None)
            if subnet is not None:
                cidrs.append(subnet)
                used = used | AddressSet.of_networks([subnet])
        if cidrs:
            allocated.append(f"{node.name}={','.join(map(str, cidrs))}")
        out.append(replace(node, pod_cidrs=tuple(cidrs)))
    if allocated:
        shown = ", ".join(allocated[:5]) + (f" and {len(allocated) - 5} more" if len(allocated) > 5 else "")
        notes.append(Note("NM-INPUT-006", f"pod CIDRs allocated to {len(allocated)} node(s) without "
                          f"spec.podCIDR: {shown}", (), ()))
    return out


def _subnets(pool: IPNetwork, mask: int) -> Iterator[IPNetwork]:
    # ip_network.subnets() materializes lazily, but IPv6 pools can hold 2**64 subnets: walk by integer steps.
    step = 1 << (pool.max_prefixlen - mask)
    base = int(pool.network_address)
    count = 1 << (mask - pool.prefixlen)
    cls = ipaddress.IPv4Network if pool.version == 4 else ipaddress.IPv6Network
    for i in range(min(count, 1 << 20)):
        yield cls((base + i * step, mask))


def _check_references(inv: Inventory, cluster: Cluster, nodes: dict[str, Node], problems: Problems) -> None:
    networks = {n.name for n in cluster.networks}
    for fw in inv.firewalls:
        for name in fw.node_names:
            if name not in nodes:
                problems.add(f"Firewall {fw.name}: node {name!r} does not exist", fw.source,
                             f"use one of the nodes: {', '.join(sorted(nodes)[:10])}")
        for chain in (fw.ingress, fw.egress):
            for rule in chain.rules:
                for peer in rule.peers or ():
                    if peer.network and peer.network not in networks:
                        problems.add(f"Firewall {fw.name}: rule {rule.name} names network {peer.network!r}, which "
                                     "the Cluster does not define", peer.source,
                                     "define it under Cluster spec.networks, or fix the name"
                                     + (f" (known: {', '.join(sorted(networks))})" if networks else ""))
                    for name in peer.nodes:
                        if name not in nodes:
                            problems.add(f"Firewall {fw.name}: rule {rule.name} names node {name!r}, which does not "
                                         "exist", peer.source, "fix the node name")


# -- pods ----------------------------------------------------------------------------------------------------------


def _eligible(template: PodTemplate, node: Node) -> bool:
    if node.unschedulable:
        return False
    for taint in node.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not any(t.tolerates(taint) for t in template.tolerations):
            return False
    for key, value in template.node_selector.items():
        if node.labels.get(key) != value:
            return False
    if template.node_affinity:
        labels = node.labels.with_items({"@metadata.name": node.name})
        if not any(term.matches(labels) for term in template.node_affinity):
            return False
    return True


class _Scheduler:
    """Round-robin over the eligible nodes of each distinct placement constraint, in node order."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self.cursors: dict[tuple, int] = {}
        self.eligible: dict[tuple, list[Node]] = {}

    def _key(self, t: PodTemplate) -> tuple:
        return (t.node_selector, t.node_affinity, t.tolerations)

    def eligible_nodes(self, template: PodTemplate) -> list[Node]:
        key = self._key(template)
        if key not in self.eligible:
            self.eligible[key] = [n for n in self.nodes if _eligible(template, n)]
        return self.eligible[key]

    def place(self, template: PodTemplate) -> Node | None:
        candidates = self.eligible_nodes(template)
        if not candidates:
            return None
        key = self._key(template)
        i = self.cursors.get(key, 0)
        self.cursors[key] = i + 1
        return candidates[i % len(candidates)]


def _owner_of(doc_data: dict, workload_keys: set[tuple[str, str, str]], namespace: str,
              rs_owner: dict[tuple[str, str], tuple[str, str, str]]) -> tuple[str, str, str] | None:
    meta = doc_data.get("metadata") or {}
    for ref in meta.get("ownerReferences") or ():
        if not isinstance(ref, dict):
            continue
        key = (str(ref.get("kind", "")), namespace, str(ref.get("name", "")))
        if key[0] == "ReplicaSet" and (key[1], key[2]) in rs_owner:
            return rs_owner[(key[1], key[2])]
        if key in workload_keys:
            return key
    return None


def _pods(inv: Inventory, nodes: list[Node], cluster: Cluster, notes: list[Note], problems: Problems) -> list[Pod]:
    node_by_name = {n.name: n for n in nodes}
    scheduler = _Scheduler(nodes)
    workload_keys = {(w.kind, w.namespace, w.name) for w, _ in inv.workloads}
    # A ReplicaSet owned by a Deployment in the input stands for that Deployment's Pods.
    rs_owner: dict[tuple[str, str], tuple[str, str, str]] = {}
    for w, doc in inv.workloads:
        if w.kind == "ReplicaSet":
            owner = _owner_of(doc.data, workload_keys, w.namespace, {})
            if owner is not None:
                rs_owner[(w.namespace, w.name)] = owner
    given_owners: set[tuple[str, str, str]] = set()
    placed: list[tuple[Pod, PodTemplate]] = []
    unplaced: list[str] = []
    for pod, template, doc in inv.pods:
        owner = _owner_of(doc.data, workload_keys, pod.namespace, rs_owner)
        if owner is not None:
            given_owners.add(owner)
            pod = replace(pod, owner=ObjectRef(*owner))
        if pod.node_name:
            if pod.node_name not in node_by_name:
                problems.add(f"Pod {pod.namespace}/{pod.name}: spec.nodeName {pod.node_name!r} is not a known node",
                             template.source, "fix nodeName or add the Node")
                continue
        else:
            node = scheduler.place(template)
            if node is None:
                unplaced.append(f"{pod.namespace}/{pod.name}")
                continue
            pod = replace(pod, node_name=node.name)
        placed.append((pod, template))
    for w, _ in inv.workloads:
        key = (w.kind, w.namespace, w.name)
        if key in given_owners or (w.kind == "ReplicaSet" and (w.namespace, w.name) in rs_owner):
            continue  # its Pods are in the input already
        for pod, template in _expand(w, scheduler, unplaced):
            placed.append((pod, template))
    if unplaced:
        shown = ", ".join(unplaced[:5]) + (f" and {len(unplaced) - 5} more" if len(unplaced) > 5 else "")
        notes.append(Note("NM-INPUT-007", f"{len(unplaced)} Pod(s) fit no node (nodeSelector, affinity or taints) "
                          f"and stay Pending without an IP: {shown}", (), ()))
    return _assign_ips(placed, node_by_name, notes)


def _expand(w: Workload, scheduler: _Scheduler, unplaced: list[str]) -> Iterator[tuple[Pod, PodTemplate]]:
    t = w.template
    owner = w.ref

    def make(name: str, node_name: str) -> Pod:
        return Pod(w.namespace, name, t.labels, t.annotations, node_name, (), t.host_network, t.containers, owner,
                   t.source)

    if w.kind == "DaemonSet":
        for node in scheduler.eligible_nodes(t):
            yield make(f"{w.name}-{node.name}", node.name), t
        return
    for i in range(w.replicas or 0):
        name = f"{w.name}-{i}"
        if t.node_name:
            yield make(name, t.node_name), t
            continue
        node = scheduler.place(t)
        if node is None:
            unplaced.append(f"{w.namespace}/{name}")
            continue
        yield make(name, node.name), t


def _host_ips(pool: IPNetwork, skip_first: int) -> Iterator[int]:
    first = int(pool.network_address) + skip_first
    last = int(pool.broadcast_address) - (1 if pool.version == 4 else 0)
    return iter(range(first, last + 1))


def _assign_ips(placed: list[tuple[Pod, PodTemplate]], nodes: dict[str, Node], notes: list[Note]) -> list[Pod]:
    taken: set[IPAddress] = {ip for pod, _ in placed if not pod.host_network for ip in pod.ips}
    cursors: dict[IPNetwork, Iterator[int]] = {}
    out: list[Pod] = []
    allocated = exhausted = 0
    for pod, _ in placed:
        node = nodes[pod.node_name]
        if pod.host_network:
            out.append(replace(pod, ips=node.internal_ips or node.ips))
            continue
        if pod.ips:
            out.append(pod)
            continue
        ips: list[IPAddress] = []
        for pool in node.pod_cidrs:
            cursor = cursors.setdefault(pool, _host_ips(pool, 2))
            cls = ipaddress.IPv4Address if pool.version == 4 else ipaddress.IPv6Address
            for value in cursor:
                ip = cls(value)
                if ip not in taken:
                    taken.add(ip)
                    ips.append(ip)
                    break
            else:
                exhausted += 1
        allocated += 1
        out.append(replace(pod, ips=tuple(ips), ips_allocated=True))
    if allocated:
        notes.append(Note("NM-INPUT-004", f"{allocated} Pod(s) had no status.podIP: addresses allocated from "
                          "their node's pod CIDR", (), ()))
    if exhausted:
        notes.append(Note("NM-INPUT-008", f"{exhausted} Pod address(es) could not be allocated: the node's pod "
                          "CIDR is full", (), ()))
    return out


# -- services and namespaces ---------------------------------------------------------------------------------------


def _services(inv: Inventory, cluster: Cluster, notes: list[Note]) -> list[Service]:
    taken_ips: set[IPAddress] = {ip for s in inv.services for ip in s.cluster_ips}
    taken_ports: set[int] = {p.node_port for s in inv.services for p in s.ports if p.node_port}
    taken_ports |= {s.health_check_node_port for s in inv.services if s.health_check_node_port}
    pools = {cidr.version: _host_ips(cidr, 11) for cidr in cluster.service_cidrs}
    dns_ip = {cidr.version: ipaddress.ip_address(int(cidr.network_address) + 10) for cidr in cluster.service_cidrs}
    port_pool = iter(range(cluster.node_port_range.first(), cluster.node_port_range.ranges[-1][1] + 1))
    out = []
    ips_made = ports_made = 0
    for svc in inv.services:
        changes: dict = {}
        if not svc.cluster_ips and not svc.headless and svc.type != "ExternalName":
            ips = []
            for version, pool in sorted(pools.items()):
                if (svc.namespace, svc.name) == ("kube-system", "kube-dns") and dns_ip[version] not in taken_ips:
                    ip = dns_ip[version]
                else:
                    ip = next((x for x in map(ipaddress.ip_address, pool) if x not in taken_ips
                               and x != dns_ip[version]), None)
                    if ip is None:
                        continue
                taken_ips.add(ip)
                ips.append(ip)
                if version == 4:
                    break  # single-stack by default (ipFamilyPolicy SingleStack), IPv4 first
            changes.update(cluster_ips=tuple(ips), cluster_ips_allocated=True)
            ips_made += 1
        if svc.type in ("NodePort", "LoadBalancer"):
            ports: list[ServicePort] = []
            for p in svc.ports:
                if p.node_port is None:
                    number = next((x for x in port_pool if x not in taken_ports), None)
                    if number is not None:
                        taken_ports.add(number)
                        p = replace(p, node_port=number)
                        ports_made += 1
                ports.append(p)
            changes["ports"] = tuple(ports)
            if svc.type == "LoadBalancer" and svc.external_traffic_policy == "Local" \
                    and svc.health_check_node_port is None:
                number = next((x for x in port_pool if x not in taken_ports), None)
                if number is not None:
                    taken_ports.add(number)
                    changes["health_check_node_port"] = number
                    ports_made += 1
        out.append(replace(svc, **changes) if changes else svc)
    if ips_made or ports_made:
        notes.append(Note("NM-INPUT-005", f"allocated {ips_made} ClusterIP(s) and {ports_made} NodePort(s) the "
                          "input left open", (), ()))
    return out


def _namespaces(inv: Inventory, pods: list[Pod], services: list[Service]) -> tuple[Namespace, ...]:
    declared = {n.name: n for n in inv.namespaces}
    used = {p.namespace for p in pods} | {s.namespace for s in services} | \
        {p.namespace for p in inv.network_policies} | {w.namespace for w, _ in inv.workloads} | \
        {i.namespace for i in inv.ingresses}
    out = list(inv.namespaces)
    for name in sorted(used - set(declared)):
        out.append(Namespace(name, Labels({NAMESPACE_NAME_LABEL: name}), NOWHERE,
                             implicit=True))
    return tuple(out)
