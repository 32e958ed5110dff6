"""A topology as a lab: which namespaces, links, tunnels, routes, rulesets and listeners replay it.

Layout (logical namespace names; the kernel layer adds a per-run prefix):

* ``ul`` — the underlay: one bridge ``br0``, an L2 segment every node and outside network plugs into.
* ``n<i>`` — node *i*: ``eth0`` on the underlay with every node address (as /32 and /128, with host routes
  to every other node and outside address), IP forwarding on, the node's Firewalls, Service NAT and
  the NetworkPolicy chains of its Pods. hostNetwork Pods and node components listen here.
* ``p<k>`` — Pod *k*: ``eth0`` with its Pod IPs, default route to a link-local gateway on its node-side
  veth ``v<k>`` (169.254.1.1 / fe80::1, the Calico idiom), so every Pod packet is routed by its node.
* ``x<m>`` — outside network *m*: its addresses on ``eth0``, routes to the node addresses (and, with
  native routing, to Pod IPs via their nodes: the underlay routes pod CIDRs).

Pod traffic between nodes follows the CNI mode: native routing puts Pod addresses on the wire (host routes
via the Pod's node); VXLAN (and Geneve, IP-in-IP where the kernel has them) builds one point-to-point
tunnel per node pair on the CNI's port, so the node Firewalls see the outer packet and a firewall that
drops the tunnel drops the Pod traffic. Modes the kernel cannot build (WireGuard, Weave fastdp, or
IP-in-IP/Geneve without their modules) are refused with the reason: substituting another tunnel would
change what the firewalls see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from netmodel.compile.cni import node_flows, routes_pod_cidrs
from netmodel.emulate.errors import FeatureUnsupported, PlanError
from netmodel.emulate.features import KernelFeatures
from netmodel.emulate.native import native_load
from netmodel.emulate.nft import firewall_ruleset, policy_ruleset
from netmodel.emulate.nft_calico import replayed as calico_replayed
from netmodel.emulate.nft_cilium import CiliumLines
from netmodel.emulate.plan import (
    PROTO_NAMES,
    Bridge,
    LabPlan,
    Listener,
    Namespace,
    NativeRules,
    Neighbor,
    NftRuleset,
    Route,
    Sysctl,
    Tunnel,
    TunnelKind,
    VethLink,
)
from netmodel.emulate.services import EPHEMERAL_PORTS, nat_ruleset, proxies_services
from netmodel.model.objects import Node, Pod
from netmodel.model.topology import Topology
from netmodel.sets import IntervalSet, IPAddress
from netmodel.sets.ports import SCTP, TCP, UDP

UNDERLAY = "ul"
POD_GATEWAY_V4 = "169.254.1.1"
POD_GATEWAY_V6 = "fe80::1"
MAX_LISTENER_RANGE = 64  # a node component bound to a wide range gets its first ports only
# Tunnel kinds per CNI mode, with the outer UDP port (None: IP-in-IP, IP protocol 4).
TUNNELS: dict[tuple[str, str], tuple[TunnelKind, int | None]] = {
    ("flannel", "vxlan"): ("vxlan", 8472),
    ("calico", "vxlan"): ("vxlan", 4789),
    ("calico", "ipip"): ("ipip", None),
    ("cilium", "vxlan"): ("vxlan", 8472),
    ("cilium", "geneve"): ("geneve", 6081),
    ("antrea", "geneve"): ("geneve", 6081),
    ("antrea", "vxlan"): ("vxlan", 4789),
}


@dataclass(frozen=True, slots=True)
class Outside:
    """One outside network's namespace and the addresses it speaks from."""

    network: str
    ns: str
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True, slots=True)
class LabLayout:
    """A plan plus where each model object lives in it."""

    plan: LabPlan
    node_ns: Mapping[str, str]  # node name -> lab namespace
    pod_ns: Mapping[tuple[str, str], str]  # (namespace, name) -> lab namespace (hostNetwork: the node's)
    outside: tuple[Outside, ...]
    tunnel: str  # native | vxlan | ipip | geneve
    notes: tuple[str, ...] = field(default=())

    def outside_ns(self, address: IPAddress) -> str | None:
        """The lab namespace that speaks for outside ``address``, or None."""
        return next((o.ns for o in self.outside if address in o.addresses), None)


def _host(ip: IPAddress) -> str:
    return f"{ip}/{32 if ip.version == 4 else 128}"


def _node_ip(node: Node, version: int) -> IPAddress | None:
    return next((ip for ip in node.internal_ips + node.ips if ip.version == version), None)


def tunnel_kind(topology: Topology, features: KernelFeatures | None) \
        -> tuple[TunnelKind | Literal["native"], int | None]:
    """(kind, outer UDP port) of the CNI's data path; raise when the lab cannot build it faithfully."""
    cni = topology.cluster.cni
    if routes_pod_cidrs(cni) and cni.encryption == "none":
        return "native", None
    mode = (cni.plugin, cni.mode)
    if cni.encryption != "none" or mode not in TUNNELS:
        raise FeatureUnsupported(
            f"CNI {cni.plugin} mode {cni.mode} (encryption {cni.encryption}) cannot be emulated: the lab "
            "builds native routing, VXLAN, Geneve and IP-in-IP only, and another tunnel would change what "
            "the node firewalls see")
    kind, port = TUNNELS[mode]
    if features is not None and not getattr(features, kind):
        raise FeatureUnsupported(
            f"CNI {cni.plugin} mode {cni.mode} needs {kind} tunnels, which this kernel lacks (no {kind} "
            "module); substituting VXLAN would change what the node firewalls see (protocol "
            f"{'4' if kind == 'ipip' else 'UDP ' + str(port)}), so the layout is not emulated")
    if kind == "ipip" and any(ip.version == 6 for p in topology.pods for ip in p.ips):
        raise FeatureUnsupported("IP-in-IP carries IPv4 only; IPv6 Pods in ipip mode are not emulated")
    return kind, port


def translate(topology: Topology, outside: Mapping[str, Sequence[IPAddress]],
              outside_ports: Sequence[tuple[str, int]] = (),
              features: KernelFeatures | None = None) -> LabLayout:
    """Build the lab plan for ``topology``.

    ``outside`` gives, per outside network (or ``""`` for addresses no network owns), the addresses the lab
    speaks from; ``outside_ports`` the ``(proto, port)`` listeners outside namespaces open, so a flow
    leaving the cluster can be seen to arrive.
    """
    if not topology.nodes:
        raise PlanError("the topology has no nodes to emulate")
    if calico_replayed(topology) and CiliumLines(topology).policies:
        raise FeatureUnsupported(
            "Calico policies and enforced Cilium policies together are not replayed: the lab writes either "
            "Calico's tiers or Cilium's rules into a Pod's chain, not both, so the layout is not emulated")
    kind, port = tunnel_kind(topology, features)
    b = _Builder(topology)
    b.underlay(outside)
    b.pin_underlay_neighbours()
    b.pods()
    if kind == "native":
        b.native_routes()
    else:
        b.tunnels(kind, port)
    b.rulesets()
    b.listeners(kind, port, outside_ports)
    plan = LabPlan(
        namespaces=tuple(Namespace(n) for n in b.namespaces),
        links=tuple(b.links), bridges=(Bridge(UNDERLAY, "br0", tuple(b.bridge_ports)),),
        tunnels=tuple(b.tunnels_), routes=tuple(dict.fromkeys(b.routes)),
        neighbors=tuple(b.neighbors), sysctls=tuple(b.sysctls),
        rulesets=tuple(b.rulesets_), listeners=tuple(dict.fromkeys(b.listeners_)), natives=tuple(b.natives),
        nat_networks=tuple(str(c) for c in topology.cluster.service_cidrs))
    return LabLayout(plan, b.node_ns, b.pod_ns, tuple(b.outside), kind, tuple(b.notes))


class _Builder:
    """Accumulates the plan's parts; one method per layer, called in order by `translate`."""

    def __init__(self, topology: Topology) -> None:
        self.t = topology
        self.namespaces: list[str] = [UNDERLAY]
        self.links: list[VethLink] = []
        self.bridge_ports: list[str] = []
        self.tunnels_: list[Tunnel] = []
        self.routes: list[Route] = []
        self.neighbors: list[Neighbor] = []
        self.sysctls: list[Sysctl] = []
        self.rulesets_: list[NftRuleset] = []
        self.natives: list[NativeRules] = []
        self.listeners_: list[Listener] = []
        self.notes: list[str] = []
        self.node_ns = {n.name: f"n{i}" for i, n in enumerate(topology.nodes)}
        self.pod_ns: dict[tuple[str, str], str] = {}
        self.veths: dict[str, dict[Pod, str]] = {n.name: {} for n in topology.nodes}
        self.uplinks: dict[str, list[str]] = {n.name: ["eth0"] for n in topology.nodes}
        self.outside: list[Outside] = []
        self.members: list[tuple[str, tuple[IPAddress, ...]]] = []  # underlay namespaces, their addresses

    def _plug(self, ns: str, addresses: Sequence[IPAddress]) -> None:
        port = f"u{len(self.bridge_ports)}"
        self.links.append(VethLink(ns, "eth0", tuple(_host(a) for a in addresses), UNDERLAY, port, (),
                                   mac_a=_underlay_mac(len(self.bridge_ports))))
        self.bridge_ports.append(port)
        self.members.append((ns, tuple(addresses)))

    def pin_underlay_neighbours(self) -> None:
        """Every underlay member knows every other's link-layer address from the start.

        Left to ARP, two nodes that first speak at the same instant sometimes both keep an INCOMPLETE
        entry for each other without a request ever reaching the wire, and every packet between them is
        lost until the 1 s retransmission: short probes then time out and read as a firewall drop. ARP is
        no part of what the lab checks (no Firewall or NetworkPolicy filters it), so it is taken out.
        """
        macs = {ns: _underlay_mac(i) for i, (ns, _) in enumerate(self.members)}
        for ns, _ in self.members:
            for other, addresses in self.members:
                if other != ns:
                    self.neighbors += [Neighbor(ns, str(a), macs[other], "eth0") for a in addresses]

    def underlay(self, outside: Mapping[str, Sequence[IPAddress]]) -> None:
        nodes = self.t.nodes
        for node in nodes:
            ns = self.node_ns[node.name]
            self.namespaces.append(ns)
            if not node.ips:
                raise PlanError(f"node {node.name} has no address to put on the underlay")
            self._plug(ns, node.ips)
            for key, value in (("net.ipv4.ip_forward", "1"), ("net.ipv6.conf.all.forwarding", "1"),
                               ("net.ipv4.conf.all.rp_filter", "0"),
                               ("net.ipv4.ip_local_port_range", EPHEMERAL_PORTS)):
                self.sysctls.append(Sysctl(ns, key, value))
        for index, (network, addresses) in enumerate(sorted(outside.items())):
            if not addresses:
                continue
            ns = f"x{index}"
            self.namespaces.append(ns)
            self._plug(ns, addresses)
            self.outside.append(Outside(network, ns, tuple(addresses)))
            self.sysctls.append(Sysctl(ns, "net.ipv4.ip_local_port_range", EPHEMERAL_PORTS))
        # ClusterIPs are routed like any off-node address (a real node's default route); kube-proxy's
        # output DNAT then sends them to an endpoint. Without a route the socket fails before NAT.
        for node in nodes:
            for cidr in self.t.cluster.service_cidrs:
                src = _node_ip(node, cidr.version)
                if src is not None:
                    self.routes.append(Route(self.node_ns[node.name], str(cidr), dev="eth0", src=str(src)))
        # Host routes between every pair of underlay members, each from the member's own address.
        members = [(self.node_ns[n.name], n.ips) for n in nodes]
        members += [(o.ns, o.addresses) for o in self.outside]
        for ns, own in members:
            for other_ns, others in members:
                if other_ns == ns or (ns.startswith("x") and other_ns.startswith("x")):
                    continue
                for ip in others:
                    src = next((a for a in own if a.version == ip.version), None)
                    if src is not None:
                        self.routes.append(Route(ns, _host(ip), dev="eth0", src=str(src)))

    def pods(self) -> None:
        for pod in self.t.pods:
            node = self.t.node_by_name.get(pod.node_name)
            if node is None or not pod.ips:
                self.notes.append(f"Pod {pod.qualified_name} has no node or address: not built")
                continue
            node_ns = self.node_ns[node.name]
            if pod.host_network:
                self.pod_ns[(pod.namespace, pod.name)] = node_ns
                continue
            ns = f"p{len(self.pod_ns)}"
            self.pod_ns[(pod.namespace, pod.name)] = ns
            self.namespaces.append(ns)
            veth = f"v{len(self.veths[node.name])}"
            self.veths[node.name][pod] = veth
            gateway = (f"{POD_GATEWAY_V4}/32",) + ((f"{POD_GATEWAY_V6}/64",)
                                                   if any(ip.version == 6 for ip in pod.ips) else ())
            self.links.append(VethLink(node_ns, veth, gateway, ns, "eth0",
                                       tuple(_host(ip) for ip in pod.ips)))
            self.sysctls.append(Sysctl(ns, "net.ipv4.ip_local_port_range", EPHEMERAL_PORTS))
            self.sysctls.append(Sysctl(node_ns, f"net.ipv4.conf.{veth}.rp_filter", "0"))
            for ip in pod.ips:
                if ip.version == 4:
                    self.routes.append(Route(ns, "default", via=POD_GATEWAY_V4, dev="eth0", onlink=True))
                else:
                    self.routes.append(Route(ns, "default", via=POD_GATEWAY_V6, dev="eth0"))
                src = _node_ip(node, ip.version)
                self.routes.append(Route(node_ns, _host(ip), dev=veth,
                                         src=str(src) if src is not None else None))

    def _remote_pods(self, node: Node) -> list[tuple[Pod, Node]]:
        out = []
        for pod in self.t.pods:
            there = self.t.node_by_name.get(pod.node_name)
            if there is not None and there.name != node.name and not pod.host_network and pod.ips:
                out.append((pod, there))
        return out

    def native_routes(self) -> None:
        """Pod addresses are routed on the underlay: every node and outside network routes via the Pod's node."""
        holders: list[tuple[str, Node | None]] = [(self.node_ns[n.name], n) for n in self.t.nodes]
        holders += [(o.ns, None) for o in self.outside]
        for ns, here in holders:
            for pod in self.t.pods:
                there = self.t.node_by_name.get(pod.node_name)
                if there is None or pod.host_network or (here is not None and there.name == here.name):
                    continue
                for ip in pod.ips:
                    via = _node_ip(there, ip.version)
                    if via is None:
                        continue
                    src = _node_ip(here, ip.version) if here is not None else None
                    self.routes.append(Route(ns, _host(ip), via=str(via), dev="eth0", onlink=True,
                                             src=str(src) if src is not None else None))

    def tunnels(self, kind: TunnelKind, port: int | None) -> None:
        """One point-to-point tunnel per node pair and IP family of the underlay."""
        nodes = self.t.nodes
        pair_ids: dict[tuple[str, str], int] = {}
        for i, a in enumerate(nodes):
            for j, other in enumerate(nodes):
                if i < j:
                    pair_ids[(a.name, other.name)] = pair_ids[(other.name, a.name)] = len(pair_ids) // 2 + 1
        for i, here in enumerate(nodes):
            ns = self.node_ns[here.name]
            for j, there in enumerate(nodes):
                if i == j:
                    continue
                for version, prefix in ((4, "vx"), (6, "vy")):
                    local, remote = _node_ip(here, version), _node_ip(there, version)
                    if local is None or remote is None or (kind == "ipip" and version == 6):
                        continue
                    name = f"{prefix}{j}"
                    vni = pair_ids[(here.name, there.name)] + (0 if version == 4 else 100000)
                    addrs = () if kind == "ipip" else (_vtep(i, 4) + "/32", _vtep(i, 6) + "/64")
                    self.tunnels_.append(Tunnel(ns, name, kind, str(local), str(remote),
                                                vni=None if kind == "ipip" else vni, port=port,
                                                addrs=addrs, dev="eth0",
                                                mac=None if kind == "ipip" else _vtep_mac(i)))
                    if kind != "ipip":
                        for v in (4, 6):
                            self.neighbors.append(Neighbor(ns, _vtep(j, v), _vtep_mac(j), name))
                    self.uplinks[here.name].append(name)
                    self.sysctls.append(Sysctl(ns, f"net.ipv4.conf.{name}.rp_filter", "0"))
            for pod, there in self._remote_pods(here):
                j = nodes.index(there)
                for ip in pod.ips:
                    dev = self._tunnel_for(here, there, j, ip.version)
                    if dev is None:
                        self.notes.append(f"no tunnel from {here.name} to {there.name} for IPv{ip.version}")
                        continue
                    src = _node_ip(here, ip.version)
                    via = None if kind == "ipip" else _vtep(j, ip.version)
                    self.routes.append(Route(ns, _host(ip), via=via, dev=dev, onlink=ip.version == 4 and
                                             via is not None, src=str(src) if src is not None else None))

    def _tunnel_for(self, here: Node, there: Node, j: int, version: int) -> str | None:
        """Inner IPv6 rides the IPv6 underlay when both nodes have one (as Calico's vxlan-v6 does)."""
        names = set(self.uplinks[here.name])
        if version == 6 and f"vy{j}" in names:
            return f"vy{j}"
        return f"vx{j}" if f"vx{j}" in names else None

    def rulesets(self) -> None:
        for node in self.t.nodes:
            ns = self.node_ns[node.name]
            uplinks = self.uplinks[node.name]
            firewall = firewall_ruleset(self.t, node, ["eth0"])
            if firewall is not None:
                self.rulesets_.append(NftRuleset(ns, firewall))
            native = native_load(self.t, node, "eth0")
            self.natives += [NativeRules(ns, tool, text) for tool, text in native.loads]
            if native.dispatch:
                self.rulesets_.append(NftRuleset(ns, native.dispatch))
            self.rulesets_.append(NftRuleset(ns, nat_ruleset(self.t, node, uplinks)))
            policy = policy_ruleset(self.t, node, self.veths[node.name])
            if policy is not None:
                self.rulesets_.append(NftRuleset(ns, policy))

    def listeners(self, kind: str, tunnel_port: int | None, outside_ports: Sequence[tuple[str, int]]) -> None:
        cp = self.t.cluster.control_plane
        for pod in self.t.pods:
            ns = self.pod_ns.get((pod.namespace, pod.name))
            if ns is None:
                continue
            for port in pod.ports:
                self._listen(ns, port.protocol, port.port, pod.ips)
        for node in self.t.nodes:
            ns = self.node_ns[node.name]
            self._listen(ns, TCP, cp.ports.kubelet, node.ips)
            if node.is_control_plane:
                self._listen(ns, TCP, cp.ports.apiserver, node.ips)
                if not cp.etcd_external:
                    self._listen_range(ns, TCP, cp.ports.etcd, node.ips)
                self._listen(ns, TCP, cp.ports.scheduler, node.ips)
                self._listen(ns, TCP, cp.ports.controller_manager, node.ips)
            for flow in node_flows(self.t.cluster.cni):
                if not flow.listens or flow.to != "all" or flow.protocol not in (TCP, UDP):
                    continue
                ports = flow.ports
                if flow.protocol == UDP and tunnel_port is not None and tunnel_port in ports:
                    continue  # the tunnel device owns this UDP port
                self._listen_range(ns, flow.protocol, ports, node.ips)
            if proxies_services(self.t):
                for svc in self.t.services:
                    if svc.health_check_node_port is not None:
                        self._listen(ns, TCP, svc.health_check_node_port, node.ips)
        for o in self.outside:
            for proto, number in outside_ports:
                self._listen(o.ns, {"tcp": TCP, "udp": UDP, "sctp": SCTP}[proto], number, o.addresses)

    def _listen_range(self, ns: str, protocol: int, ports: IntervalSet, ips: Sequence[IPAddress]) -> None:
        count = 0
        for lo, hi in ports:
            for number in range(lo, hi + 1):
                if count >= MAX_LISTENER_RANGE:
                    self.notes.append(f"{ns}: listens on the first {MAX_LISTENER_RANGE} ports of a range")
                    return
                self._listen(ns, protocol, number, ips)
                count += 1

    def _listen(self, ns: str, protocol: int, number: int, ips: Sequence[IPAddress]) -> None:
        proto = PROTO_NAMES.get(protocol)
        if proto is None or not 1 <= number <= 65535:
            return
        for version in sorted({ip.version for ip in ips}):
            self.listeners_.append(Listener(ns, proto, "0.0.0.0" if version == 4 else "::",
                                            number))


def _underlay_mac(index: int) -> str:
    """The fixed address of underlay member ``index``'s ``eth0`` (distinct from the VTEPs' 02:4e:4d:00:..)."""
    return f"02:4e:4d:01:{index // 256:02x}:{index % 256:02x}"


def _vtep_mac(index: int) -> str:
    return f"02:4e:4d:00:{index // 256:02x}:{index % 256:02x}"


def _vtep(index: int, version: int) -> str:
    """The link-local address a node's tunnel devices carry (the gateway remote nodes route via)."""
    if version == 4:
        return f"169.254.{100 + index // 250}.{1 + index % 250}"
    return f"fe80::100:{index + 1:x}"
