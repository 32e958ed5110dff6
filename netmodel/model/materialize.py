"""Filling in what the input leaves open, deterministically and with a note for each default.

The rules, in order (documented in docs/input.md):

1. No ``Cluster``: kubeadm-style defaults (pod CIDR 10.244.0.0/16, service CIDR 10.96.0.0/12, NodePorts
   30000-32767, kube-proxy iptables, an unnamed CNI with native routing, no outside networks), the ranges widened
   to hold the Pod and Service addresses the input gives (:func:`_covering`).
2. No ``Node``: one implicit node, ``node-1``, both control plane and worker (no taint), holding the whole pod
   range, at an address no range and no given Pod or Service has, with the labels the kubelet sets
   (:func:`kubelet_labels`).
3. Nodes without ``spec.podCIDR(s)``: a range of ``nodeCIDRMaskSize`` per family, the lowest free one of the
   cluster pod CIDR, in input order.
4. Workloads expand into Pods: ``NAME-0 … NAME-(replicas-1)`` (StatefulSet ordinals likewise; Jobs and
   CronJobs ``parallelism`` Pods; DaemonSets one Pod ``NAME-NODE`` per eligible node). A workload whose Pods are
   given in the input (by ownerReferences) is not expanded again, so ``kubectl get all -o yaml`` output works.
5. Pods without ``spec.nodeName`` go round-robin over the eligible nodes (schedulable, nodeSelector, required
   node affinity, taints with effect NoSchedule/NoExecute tolerated), in node order. Pods that fit no node stay
   Pending and are left out of the model (with a note).
6. Pod IPs: ``status.podIP(s)`` when given; hostNetwork Pods take their node's addresses; otherwise the next
   free address of the node's pod range(s), from the second host address up (the first is the CNI's gateway on
   most plugins).
7. Services without ``clusterIP``: the next free address of the service CIDR from the 11th up (the 1st is the
   ``kubernetes`` Service, so default/kubernetes gets it; the 10th is cluster DNS by kubeadm's convention, so
   kube-system/kube-dns gets it). Single-stack: IPv4 when the cluster has an IPv4 service CIDR. NodePort and
   LoadBalancer ports without ``nodePort`` get the next free port of the range, and a LoadBalancer with
   ``externalTrafficPolicy: Local`` a ``healthCheckNodePort``.
8. Namespaces that objects use but no ``Namespace`` declares exist implicitly. Every namespace carries the label
   ``kubernetes.io/metadata.name: NAME``, as the API server sets it.

Rules 4-6 live in :mod:`netmodel.model.placement`. Every default taken is recorded as a :class:`Note` (an info
finding later).
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from netmodel.model.cni_inference import CniEvidence, infer_cni
from netmodel.model.gateway import GatewayAPI
from netmodel.model.inventory import IMPLICIT_NODE, Inventory
from netmodel.model.labels import Labels
from netmodel.model.objects import (
    CONTROL_PLANE_LABELS,
    FINISHED_PHASES,
    NOWHERE,
    Cluster,
    CniSpec,
    ControlPlane,
    ControlPlanePorts,
    Namespace,
    Node,
    NodeAddress,
    Pod,
    Service,
    ServicePort,
)
from netmodel.model.placement import place_pods
from netmodel.model.read_kubernetes import NAMESPACE_NAME_LABEL
from netmodel.model.read_netmodel import (
    CNI_MODES,
    DEFAULT_NODE_PORT_RANGE,
    DEFAULT_POD_CIDRS,
    DEFAULT_SERVICE_CIDRS,
    NAT_OUTGOING_DEFAULTS,
)
from netmodel.model.topology import Note, Topology
from netmodel.sets import (
    NO_ADDRESSES,
    AddressSet,
    IntervalSet,
    IPAddress,
    IPNetwork,
    network_within,
    parse_network,
)

# The labels the kubelet sets on its own Node whatever the input says (Kubernetes "Well-Known Labels,
# Annotations and Taints": kubernetes.io/os from runtime.GOOS, kubernetes.io/arch from runtime.GOARCH,
# kubernetes.io/hostname the node's host name). Nodes netmodel makes up carry them, so charts pinned with
# `nodeSelector: {kubernetes.io/os: linux}` schedule; Linux on amd64 is the assumption, said in the note.
# The kubelet still sets the deprecated beta.kubernetes.io/os and beta.kubernetes.io/arch beside them
# (kubernetes/kubernetes pkg/kubelet/kubelet_node_status.go, initialNode: kubeletapis.LabelOS/LabelArch from
# pkg/kubelet/apis/well_known_labels.go), and older manifests still pin with them (sock-shop's complete-demo.yaml:
# `nodeSelector: {beta.kubernetes.io/os: linux}`), so made-up nodes carry those too.
DEFAULT_NODE_OS, DEFAULT_NODE_ARCH = "linux", "amd64"


def kubelet_labels(name: str) -> dict[str, str]:
    """The labels a kubelet on Linux/amd64 gives the node ``name``.

    >>> kubelet_labels("node-1")["kubernetes.io/os"]
    'linux'
    >>> kubelet_labels("node-1")["beta.kubernetes.io/os"]
    'linux'
    """
    return {"kubernetes.io/os": DEFAULT_NODE_OS, "kubernetes.io/arch": DEFAULT_NODE_ARCH,
            "beta.kubernetes.io/os": DEFAULT_NODE_OS, "beta.kubernetes.io/arch": DEFAULT_NODE_ARCH,
            "kubernetes.io/hostname": name}


# The native-routing mode of each plugin netmodel can infer (compile/cni.py NATIVE_MODES): Pod addresses on the
# wire, as for an unnamed CNI, until a Cluster states the mode.
NATIVE_MODE = {"calico": "bgp", "cilium": "native", "flannel": "host-gw", "other": "native"}

IMPLICIT_NODE_ADDRESS_CANDIDATES = ("192.168.0.10", "172.16.0.10", "10.0.0.10", "100.64.0.10", "198.18.0.10",
                                    "192.168.255.10", "172.31.255.10", "10.255.255.10")
SERVICE_CIDR_CANDIDATES = ("10.96.0.0/12", "172.30.0.0/16", "100.96.0.0/12", "192.168.240.0/20")


def default_cluster(given_pod_ips: AddressSet = NO_ADDRESSES, given_service_ips: AddressSet = NO_ADDRESSES,
                    ip_pools: tuple[IPNetwork, ...] = (), cni_plugin: str = "other") -> Cluster:
    """kubeadm-style defaults, widened to the addresses the input already gives (see :func:`_covering`). With
    Calico IPPools the pod ranges are the pools' CIDRs (plus the blocks around given Pod IPs outside them).
    ``cni_plugin`` is the CNI the input's node agents show (:mod:`netmodel.model.cni_inference`), with its
    default outbound NAT, in its native-routing mode (the input does not say whether it tunnels, and routing
    stays what it is for an unnamed CNI); "other" is an unnamed CNI with native routing."""
    if ip_pools:
        pod_cidrs = ip_pools + _covering((), given_pod_ips - AddressSet.of_networks(ip_pools))
    else:
        pod_cidrs = _covering(tuple(parse_network(t) for t in DEFAULT_POD_CIDRS), given_pod_ips)
    service_cidrs = _covering(tuple(parse_network(t) for t in DEFAULT_SERVICE_CIDRS), given_service_ips)
    pods = AddressSet.of_networks(pod_cidrs)
    if not given_service_ips and not pods.isdisjoint(AddressSet.of_networks(service_cidrs)):
        # Pods given in 10.96.0.0/12 (say): move the service range out of their way.
        service_cidrs = next(((parse_network(t),) for t in SERVICE_CIDR_CANDIDATES
                              if pods.isdisjoint(AddressSet.parse(t))), service_cidrs)
    return Cluster(
        name="default",
        pod_cidrs=pod_cidrs,
        service_cidrs=service_cidrs,
        node_cidr_mask_size_v4=24,
        node_cidr_mask_size_v6=64,
        node_port_range=DEFAULT_NODE_PORT_RANGE,
        cni=CniSpec(cni_plugin, NATIVE_MODE[cni_plugin], "none", False, False, NOWHERE,
                    NAT_OUTGOING_DEFAULTS[cni_plugin]),
        kube_proxy_mode="iptables",
        masquerade_all=False,
        non_masquerade_cidrs=None,
        control_plane=ControlPlane("", 6443, ControlPlanePorts(), False, (), NOWHERE),
        networks=(),
        source=NOWHERE,
        implicit=True,
    )


def _with_ip_pools(cluster: Cluster, inv: Inventory, notes: list[Note]) -> Cluster:
    """The Cluster's pod ranges plus each Calico IPPool CIDR outside them: Calico IPAM hands out addresses from
    its pools whatever the cluster CIDR says, so those are Pod addresses too."""
    outside = [p for p in inv.ip_pools if not any(network_within(p.cidr, c) for c in cluster.pod_cidrs)]
    added = tuple(dict.fromkeys(p.cidr for p in outside))
    if not added:
        return cluster
    notes.append(Note("NM-INPUT-012", f"Calico IPPool(s) outside the Cluster's podCIDRs: "
                      f"{', '.join(f'{p.name} ({p.cidr})' for p in outside)}; their ranges are pod ranges too "
                      "(Calico IPAM allocates from them)", tuple(f"IPPool/{p.name}" for p in outside),
                      tuple(p.source for p in outside)))
    return replace(cluster, pod_cidrs=cluster.pod_cidrs + added)


def _unknown_to_the_input(evidence: CniEvidence, cluster: Cluster) -> list[Note]:
    """What an input without a Cluster (a live cluster's dump, a folder of manifests) cannot tell, each with the
    one ``Cluster`` line that tells it: the CNI and its mode (NM-INPUT-035) and the outside networks
    (NM-INPUT-036). Host firewalls and security groups are NM-PORT-007's."""
    plugins = ", ".join(p for p in CNI_MODES if p != "other")
    if evidence.plugin:
        plugin, mode = cluster.cni.plugin, cluster.cni.mode
        canal = " (Calico with flannel is Canal: flannel carries the traffic)" if len(evidence.seen) > 1 else ""
        agents = evidence.describe() if canal else evidence.seen[0][1]
        usual = CNI_MODES[plugin][0]
        cni = Note("NM-INPUT-035", f"the CNI is {plugin}, read from its node agent ({agents}){canal}; its "
                   f"mode is not in the input, so native routing is assumed (mode {mode}), as for an unnamed CNI: Pod "
                   f"addresses on the wire, no tunnel. {plugin}'s install default is {usual} (modes: "
                   f"{', '.join(CNI_MODES[plugin])}). State it in a Cluster: "
                   f"`cni: {{plugin: {plugin}, mode: {usual}}}`",
                   tuple(what.replace(" ", "/", 1) for _, what, _ in evidence.seen),
                   tuple(span for _, _, span in evidence.seen))
    else:
        seen = (f"node agents of several CNIs ({evidence.describe()}) are not read as one" if evidence.seen
                else "no node agent Pod shows it (calico-node, cilium, kube-flannel)")
        cni = Note("NM-INPUT-035", f"the input does not name the CNI and {seen}: an unnamed CNI with native "
                   "routing is assumed, so no tunnel port is required between nodes. State it in a Cluster: "
                   f"`cni: {{plugin: calico, mode: vxlan}}` (plugins: {plugins})",
                   tuple(what.replace(" ", "/", 1) for _, what, _ in evidence.seen),
                   tuple(span for _, _, span in evidence.seen))
    networks = Note("NM-INPUT-036", "the input names no outside network, so exposure to clients outside the "
                    "cluster (API server, kubelet, etcd, NodePorts, Ingress) is not judged. Name them in a "
                    "Cluster: `networks: [{name: internet, cidrs: [\"0.0.0.0/0\"], uses: [ingress]}]`", (), ())
    return [cni, networks]


def _covering(defaults: tuple[IPNetwork, ...], given: AddressSet) -> tuple[IPNetwork, ...]:
    """Per IP family: the default range when every given address fits in it; otherwise the default (if some
    given address is in it) plus the /16 (IPv4) or /64 (IPv6) around each given address outside it.

    Without a Cluster object the input never said what the ranges are, so addresses it does give (status.podIP,
    clusterIP) are not called wrong for missing an assumed range.

    >>> [str(c) for c in _covering((parse_network("10.244.0.0/16"),), AddressSet.parse("192.168.3.4"))]
    ['192.168.0.0/16']
    """
    out: list[IPNetwork] = []
    for version, intervals in ((4, given.v4), (6, given.v6)):
        default = next((d for d in defaults if d.version == version), None)
        family = AddressSet(v4=intervals) if version == 4 else AddressSet(v6=intervals)
        inside = AddressSet.of_networks([default]) if default is not None else AddressSet()
        outside = family - inside
        if default is not None and (not outside or family & inside):
            out.append(default)
        if not outside:
            continue
        host_bits = 16 if version == 4 else 64  # widen each address to its /16 (IPv4) or /64 (IPv6)
        out_ranges = (outside.v4 if version == 4 else outside.v6).ranges
        blocks = IntervalSet((lo >> host_bits << host_bits, ((hi >> host_bits) + 1 << host_bits) - 1)
                             for lo, hi in out_ranges)
        out.extend((AddressSet(v4=blocks) if version == 4 else AddressSet(v6=blocks)).cidrs())
    return tuple(out)


def _given_addresses(inv: Inventory) -> tuple[AddressSet, AddressSet]:
    """The Pod addresses (not hostNetwork) and Service cluster IPs the input states."""
    pods = AddressSet.of_networks(ip for pod, _, _ in inv.pods
                                  if not pod.host_network and pod.phase not in FINISHED_PHASES for ip in pod.ips)
    services = AddressSet.of_networks(ip for s in inv.services for ip in s.cluster_ips)
    return pods, services


def materialize(inv: Inventory, notes: list[Note]) -> Topology:
    """Fill in the defaults of rules 1-8 on an inventory whose references are known to resolve."""
    given_pods, given_services = _given_addresses(inv)
    pools = tuple(dict.fromkeys(p.cidr for p in inv.ip_pools))
    if inv.clusters:
        cluster = _with_ip_pools(inv.clusters[0][0], inv, notes)
    else:
        evidence = infer_cni(inv)
        cluster = default_cluster(given_pods, given_services, pools, evidence.plugin or "other")
        cni = (f"CNI {cluster.cni.plugin} in mode {cluster.cni.mode}" if evidence.plugin
               else "CNI unknown with native routing")
        notes.append(Note("NM-INPUT-002", "no Cluster object: using defaults (pod CIDR "
                          f"{', '.join(map(str, cluster.pod_cidrs))}, service CIDR "
                          f"{', '.join(map(str, cluster.service_cidrs))}, NodePorts 30000-32767, kube-proxy "
                          f"iptables, {cni}, no outside networks)", (), ()))
        notes.extend(_unknown_to_the_input(evidence, cluster))
    # A made-up node takes no address the input gives anything else: Pod, ClusterIP, externalIP or LB address.
    service_entries = AddressSet.of_networks(ip for s in inv.services for ip in s.external_ips + s.load_balancer_ips)
    nodes = _nodes(inv, cluster, notes, given_pods | given_services | service_entries)
    pods, unscheduled, finished = place_pods(inv, nodes, notes)
    services = _services(inv, cluster, notes)
    return Topology(
        cluster=cluster,
        namespaces=_namespaces(inv, pods, services),
        nodes=tuple(nodes),
        workloads=tuple(w for w, _ in inv.workloads),
        pods=tuple(pods),
        services=tuple(services),
        endpoint_slices=tuple(inv.endpoint_slices),
        ingresses=tuple(inv.ingresses),
        ingress_classes=tuple(inv.ingress_classes),
        network_policies=tuple(inv.network_policies),
        admin_policies=tuple(inv.admin_policies),
        calico_policies=tuple(p for p in inv.calico_policies if not p.unevaluated),
        calico_tiers=tuple(inv.calico_tiers),
        calico_network_sets=tuple(inv.calico_network_sets),
        service_accounts=tuple(inv.service_accounts),
        cilium_policies=tuple(inv.cilium_policies),
        firewalls=tuple(f for f, _ in inv.firewalls),
        ip_pools=tuple(inv.ip_pools),
        gateway_api=GatewayAPI(tuple(inv.gateway_classes), tuple(inv.gateways), tuple(inv.routes),
                               tuple(inv.reference_grants)),
        expectations=tuple(inv.expectations),
        skipped=tuple(inv.skipped),
        notes=tuple(notes),
        unscheduled=tuple(unscheduled),
        finished=frozenset(finished),
        pod_makers=inv.rbac.pod_makers(w for w, _ in inv.workloads),
    )


# -- nodes ---------------------------------------------------------------------------------------------------------


def _reserved(cluster: Cluster, given: AddressSet) -> AddressSet:
    """Addresses a made-up node must not take. Not one the input gives a Pod or Service: traffic from a Pod's
    own node is always allowed, so a clash would let that Pod through every policy; nor one of a cluster range
    or a named outside network."""
    return given | AddressSet.of_networks(
        cluster.pod_cidrs + cluster.service_cidrs
        + tuple(c for n in cluster.networks for c in n.cidrs if c.prefixlen > 0))


def named_nodes(inv: Inventory) -> list[str]:
    """Node names that Pods (``spec.nodeName``) or Pod templates give but no Node object of the input declares,
    in input order. A finished Pod's node is not one: the Pod is left out, and its node may be long gone."""
    declared = {n.name for n in inv.nodes}
    names = [p.node_name for p, _, _ in inv.pods if p.phase not in FINISHED_PHASES] + \
        [w.template.node_name for w, _ in inv.workloads]
    return [n for n in dict.fromkeys(names) if n and n not in declared]


def known_node_names(inv: Inventory) -> set[str]:
    """Every node the model will hold: declared, named by a Pod, or the implicit one when there is neither."""
    return {n.name for n in inv.nodes} | set(named_nodes(inv)) or {IMPLICIT_NODE}


# kubeadm's static Pod of the API server carries these labels (component=kube-apiserver, tier=control-plane):
# the node it runs on is a control-plane node.
APISERVER_POD_LABELS = {"component": "kube-apiserver", "tier": "control-plane"}


def _free_node_addresses(taken: AddressSet, count: int) -> list[IPAddress]:
    """``count`` addresses for made-up nodes: from 192.168.0.10 up (then the other private and shared ranges),
    none in ``taken``."""
    out: list[IPAddress] = []
    for block in ("192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8", "100.64.0.0/10", "198.18.0.0/15"):
        network = parse_network(block)
        start = int(network.network_address) + 10
        for lo, hi in (AddressSet.parse(block) - taken).v4.ranges:
            for value in range(max(lo, start), hi + 1):
                if len(out) == count:
                    return out
                if value & 0xFF not in (0, 255):  # no .0 or .255: they read as network/broadcast addresses
                    out.append(ipaddress.IPv4Address(value))
    return out


def _named_nodes(inv: Inventory, names: list[str], explicit: list[Node], cluster: Cluster, notes: list[Note],
                 taken: AddressSet) -> list[Node]:
    """Nodes for the names Pods give that no Node object declares, with the implicit node's defaults: the
    kubelet's labels, a pod range allocated by rule 3, and an address — a hostNetwork Pod's given IP on it, else
    one nothing else has; control plane when it runs kubeadm's API server Pod."""
    # A hostNetwork Pod's status.podIP is its node's address (the kubelet reports the node IP): use it.
    host_ips: dict[str, list[IPAddress]] = {}
    for pod, _, _ in inv.pods:
        if pod.host_network and pod.phase not in FINISHED_PHASES:
            for ip in pod.ips:
                known = host_ips.setdefault(pod.node_name, [])
                if all(ip.version != k.version for k in known):
                    known.append(ip)
    taken = taken | AddressSet.of_networks(ip for n in explicit for ip in n.ips) | \
        AddressSet.of_networks(ip for ips in host_ips.values() for ip in ips)
    unknown = [n for n in names if n not in host_ips]
    free = _free_node_addresses(taken, len(unknown))
    if len(free) < len(unknown):  # outside networks cover every candidate block: keep clear of the cluster only
        free += _free_node_addresses(taken - AddressSet.of_networks(
            c for n in cluster.networks for c in n.cidrs) | AddressSet.of_networks(free), len(unknown) - len(free))
    made_up: dict[str, tuple[IPAddress, ...]] = dict(zip(unknown, ((ip,) for ip in free), strict=False))
    apiserver_nodes = {p.node_name for p, _, _ in inv.pods if p.namespace == "kube-system"
                       and all(p.labels.get(k) == v for k, v in APISERVER_POD_LABELS.items())}
    made = []
    for name in names:
        labels = kubelet_labels(name) | ({CONTROL_PLANE_LABELS[0]: ""} if name in apiserver_nodes else {})
        addresses = tuple(NodeAddress("InternalIP", ip) for ip in host_ips.get(name) or made_up.get(name, ()))
        made.append(Node(name, Labels(labels), (), (), addresses, False, NOWHERE, implicit=True))
    shown = ", ".join(f"{n.name} ({n.ips[0]})" for n in made[:5]) + \
        (f" and {len(made) - 5} more" if len(made) > 5 else "")
    roles = (f"; control plane: {', '.join(sorted(apiserver_nodes & set(names)))} (runs kube-apiserver)"
             if apiserver_nodes & set(names) else "; all workers (no kube-apiserver Pod on them)")
    notes.append(Note("NM-INPUT-011", f"{len(made)} node(s) that Pods name in spec.nodeName but no Node object "
                      f"declares were created with the implicit node's defaults (kubelet labels, its hostNetwork "
                      f"Pods' address or an unused one, an allocated pod range){roles}: {shown}",
                      tuple(str(n.ref) for n in made), ()))
    return explicit + made


def _nodes(inv: Inventory, cluster: Cluster, notes: list[Note], given: AddressSet) -> list[Node]:
    nodes = list(inv.nodes)
    missing = named_nodes(inv)
    if missing:
        nodes = _named_nodes(inv, missing, nodes, cluster, notes, _reserved(cluster, given))
    elif not nodes:
        taken = _reserved(cluster, given)
        address = next((ipaddress.ip_address(a) for a in IMPLICIT_NODE_ADDRESS_CANDIDATES
                        if not taken.contains(ipaddress.ip_address(a))), None)
        if address is None:  # every candidate taken: the lowest free address of 198.18.0.0/15 (benchmarking)
            free = AddressSet.parse("198.18.0.0/15") - taken
            address = free.sample() or ipaddress.ip_address("198.18.0.10")
        # One node holds the whole cluster pod range.
        nodes = [Node(IMPLICIT_NODE, Labels({CONTROL_PLANE_LABELS[0]: "", **kubelet_labels(IMPLICIT_NODE)}),
                      cluster.pod_cidrs, (), (NodeAddress("InternalIP", address),), False, NOWHERE, implicit=True,
                      pod_cidrs_allocated=True)]
        notes.append(Note("NM-INPUT-003", f"no Node objects: one implicit node {IMPLICIT_NODE} ({address}) that is "
                          "both control plane and worker, holds the whole pod range "
                          f"({', '.join(map(str, cluster.pod_cidrs))}) and carries the kubelet's labels "
                          f"(kubernetes.io/os={DEFAULT_NODE_OS}, kubernetes.io/arch={DEFAULT_NODE_ARCH}, "
                          "kubernetes.io/hostname)", (f"Node/{IMPLICIT_NODE}",), ()))
    if all(n.pod_cidrs for n in nodes):
        return nodes
    # Ranges other nodes already hold, per family, as sorted disjoint intervals.
    held = AddressSet.of_networks(c for n in nodes for c in n.pod_cidrs)
    cursors = [_SubnetCursor(pool, cluster.node_cidr_mask_size_v4 if pool.version == 4
                             else cluster.node_cidr_mask_size_v6, held) for pool in cluster.pod_cidrs]
    allocated: list[str] = []
    out = []
    for node in nodes:
        if node.pod_cidrs:
            out.append(node)
            continue
        cidrs = tuple(c for c in (cursor.take() for cursor in cursors) if c is not None)
        if cidrs:
            allocated.append(f"{node.name}={','.join(map(str, cidrs))}")
        out.append(replace(node, pod_cidrs=cidrs, pod_cidrs_allocated=True))
    if allocated:
        shown = ", ".join(allocated[:5]) + (f" and {len(allocated) - 5} more" if len(allocated) > 5 else "")
        notes.append(Note("NM-INPUT-006", f"pod CIDRs allocated to {len(allocated)} node(s) without "
                          f"spec.podCIDR: {shown}", (), ()))
    return out


class _SubnetCursor:
    """The free per-node ranges of one cluster pod range, lowest first, each handed out once."""

    def __init__(self, pool: ipaddress.IPv4Network | ipaddress.IPv6Network, mask: int, held: AddressSet) -> None:
        self.pool = pool
        self.mask = mask
        self.step = 1 << (pool.max_prefixlen - mask)
        self.next = int(pool.network_address)
        self.end = int(pool.broadcast_address)
        ranges = (held.v4 if pool.version == 4 else held.v6).ranges
        self.held_starts = [lo for lo, _ in ranges]
        self.held = ranges
        self.make = ipaddress.IPv4Network if pool.version == 4 else ipaddress.IPv6Network

    def _is_free(self, lo: int, hi: int) -> bool:
        i = bisect_right(self.held_starts, hi) - 1  # the last held range starting at or before hi
        return i < 0 or self.held[i][1] < lo

    def take(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        if self.mask < self.pool.prefixlen:
            return None  # the per-node mask is wider than the pool: nothing fits
        while self.next + self.step - 1 <= self.end:
            lo, hi = self.next, self.next + self.step - 1
            self.next += self.step
            if self._is_free(lo, hi):
                return self.make((lo, self.mask))
            # Skip straight past the held range in the way instead of stepping subnet by subnet.
            i = bisect_right(self.held_starts, hi) - 1
            past = self.held[i][1] + 1
            if past > self.next:
                self.next = lo + -(-(past - lo) // self.step) * self.step
        return None


# -- services and namespaces ---------------------------------------------------------------------------------------


# The addresses kubeadm gives well-known Services: the service CIDR's 1st and 10th.
WELL_KNOWN_SERVICE_OFFSETS = {("default", "kubernetes"): 1, ("kube-system", "kube-dns"): 10}
FIRST_FREE_SERVICE_OFFSET = 11


def _services(inv: Inventory, cluster: Cluster, notes: list[Note]) -> list[Service]:
    taken_ips: set[IPAddress] = {ip for s in inv.services for ip in s.cluster_ips}
    taken_ports: set[int] = {p.node_port for s in inv.services for p in s.ports if p.node_port}
    taken_ports |= {s.health_check_node_port for s in inv.services if s.health_check_node_port}
    # Single-stack by default (ipFamilyPolicy SingleStack): the cluster's first family, IPv4 when it has one.
    cidr = min(cluster.service_cidrs, key=lambda c: c.version, default=None)
    reserved = {int(cidr.network_address) + offset for offset in WELL_KNOWN_SERVICE_OFFSETS.values()} if cidr \
        else set()
    free_ips = _free_addresses(cidr, FIRST_FREE_SERVICE_OFFSET, taken_ips, reserved) if cidr else iter(())
    free_ports = (p for lo, hi in cluster.node_port_range for p in range(lo, hi + 1) if p not in taken_ports)
    out = []
    ips_made = ports_made = 0
    for svc in inv.services:
        changes: dict[str, Any] = {}  # field name -> new value, for dataclasses.replace
        if not svc.cluster_ips and not svc.headless and svc.type != "ExternalName" and cidr is not None:
            offset = WELL_KNOWN_SERVICE_OFFSETS.get((svc.namespace, svc.name))
            well_known = ipaddress.ip_address(int(cidr.network_address) + offset) if offset else None
            ip = well_known if well_known is not None and well_known not in taken_ips else next(free_ips, None)
            if ip is not None:
                taken_ips.add(ip)
                changes.update(cluster_ips=(ip,), cluster_ips_allocated=True)
                ips_made += 1
        if svc.type in ("NodePort", "LoadBalancer"):
            ports: list[ServicePort] = []
            for p in svc.ports:
                if p.node_port is None and (number := next(free_ports, None)) is not None:
                    p = replace(p, node_port=number)
                    ports_made += 1
                ports.append(p)
            changes["ports"] = tuple(ports)
            if svc.type == "LoadBalancer" and svc.external_traffic_policy == "Local" \
                    and svc.health_check_node_port is None and (number := next(free_ports, None)) is not None:
                changes["health_check_node_port"] = number
                ports_made += 1
        out.append(replace(svc, **changes) if changes else svc)
    if ips_made or ports_made:
        notes.append(Note("NM-INPUT-005", f"allocated {ips_made} ClusterIP(s) and {ports_made} NodePort(s) the "
                          "input left open", (), ()))
    return out


def _free_addresses(cidr: ipaddress.IPv4Network | ipaddress.IPv6Network, offset: int, taken: set[IPAddress],
                    reserved: set[int]) -> Iterator[IPAddress]:
    make = ipaddress.IPv4Address if cidr.version == 4 else ipaddress.IPv6Address
    last = int(cidr.broadcast_address) - (1 if cidr.version == 4 else 0)
    for value in range(int(cidr.network_address) + offset, last + 1):
        ip = make(value)
        if value not in reserved and ip not in taken:
            yield ip


def _namespaces(inv: Inventory, pods: list[Pod], services: list[Service]) -> tuple[Namespace, ...]:
    declared = {n.name: n for n in inv.namespaces}
    used = {p.namespace for p in pods} | {s.namespace for s in services} | \
        {p.namespace for p in inv.network_policies} | {w.namespace for w, _ in inv.workloads} | \
        {i.namespace for i in inv.ingresses} | {g.namespace for g in inv.gateways} | {r.namespace for r in inv.routes}
    out = list(inv.namespaces)
    for name in sorted(used - set(declared)):
        out.append(Namespace(name, Labels({NAMESPACE_NAME_LABEL: name}), NOWHERE,
                             implicit=True))
    return tuple(out)
