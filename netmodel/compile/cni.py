"""What the CNI's data path needs between nodes, for the configured plugin, mode and encryption.

The table is docs/check-semantics.md, "What each CNI needs between nodes" (each plugin's documented defaults):

=====================  ==============================================================================
calico                 BGP TCP 179 (ipip, bgp); IP protocol 4 (ipip); UDP 4789 (vxlan); TCP 5473 to the
                       Typha hosts when ``typha: true``; WireGuard UDP 51820 (IPv4) / 51821 (IPv6)
flannel                UDP 8472 (vxlan); WireGuard UDP 51820 (IPv4) / 51821 (IPv6) (wireguard)
cilium                 UDP 8472 (vxlan) or UDP 6081 (geneve); health TCP 4240 and ICMP echo (every mode);
                       WireGuard UDP 51871; IPsec ESP (IP protocol 50)
antrea                 UDP 6081 (geneve) or UDP 4789 (vxlan); WireGuard UDP 51820
weave                  TCP 6783 and UDP 6783-6784
=====================  ==============================================================================

Native-routing modes (calico bgp, flannel host-gw, cilium native, other native) carry Pod addresses on the
wire, so every node must also accept the other nodes' pod CIDRs (:func:`routes_pod_cidrs`).

>>> from netmodel.model.objects import CniSpec, NOWHERE
>>> [f"{f.purpose}" for f in node_flows(CniSpec("calico", "ipip", "none", False, False, NOWHERE))]
['Calico BGP', 'Calico IP-in-IP']
"""

from __future__ import annotations

from dataclasses import dataclass

from netmodel.model.objects import CniSpec
from netmodel.sets import ALL_PORTS, IntervalSet
from netmodel.sets.ports import ICMP, ICMPV6, IPIP, TCP, UDP, format_ports, protocol_label

ESP = 50
NATIVE_MODES = {("calico", "bgp"), ("flannel", "host-gw"), ("cilium", "native"), ("other", "native")}


@dataclass(frozen=True, slots=True)
class NodeFlow:
    """One node-to-node requirement: ``protocol``/``ports`` from every node to every node (or to ``to``).

    ``families`` limits it to IPv4 (4) or IPv6 (6) node addresses; ``to`` is ``"all"`` or ``"typha"`` (the nodes
    hosting Calico Typha). ``listens`` says whether a process binds the port on every node (a host port clash).
    """

    purpose: str
    protocol: int
    ports: IntervalSet
    families: frozenset[int] = frozenset({4, 6})
    to: str = "all"
    listens: bool = True

    def describe(self) -> str:
        """The flow's protocol and ports (``IP protocol 4``, ``UDP 8472``)."""
        if self.ports == ALL_PORTS:
            return f"IP protocol {self.protocol}" if self.protocol not in (ICMP, ICMPV6) else protocol_label(
                self.protocol)
        return f"{protocol_label(self.protocol)} {format_ports(self.ports)}"


def _port(protocol: int, low: int, high: int | None = None) -> tuple[int, IntervalSet]:
    return protocol, IntervalSet.of((low, high if high is not None else low))


def _wireguard(purpose: str, v4: int, v6: int) -> list[NodeFlow]:
    return [NodeFlow(f"{purpose} (IPv4)", *_port(UDP, v4), families=frozenset({4})),
            NodeFlow(f"{purpose} (IPv6)", *_port(UDP, v6), families=frozenset({6}))]


def node_flows(cni: CniSpec) -> tuple[NodeFlow, ...]:
    """The node-to-node flows the CNI needs, in a fixed order (messages and tests depend on it)."""
    plugin, mode, encryption = cni.plugin, cni.mode, cni.encryption
    flows: list[NodeFlow] = []
    if plugin == "calico":
        if mode in ("ipip", "bgp"):
            flows.append(NodeFlow("Calico BGP", *_port(TCP, 179)))
        if mode == "ipip":
            flows.append(NodeFlow("Calico IP-in-IP", IPIP, ALL_PORTS, frozenset({4}), listens=False))
        if mode == "vxlan":
            flows.append(NodeFlow("Calico VXLAN", *_port(UDP, 4789)))
        if cni.typha:
            flows.append(NodeFlow("Calico Typha", *_port(TCP, 5473), to="typha"))
        if encryption == "wireguard":
            flows.extend(_wireguard("Calico WireGuard", 51820, 51821))
    elif plugin == "flannel":
        if mode == "vxlan":
            flows.append(NodeFlow("Flannel VXLAN", *_port(UDP, 8472)))
        if mode == "wireguard" or encryption == "wireguard":
            flows.extend(_wireguard("Flannel WireGuard", 51820, 51821))
    elif plugin == "cilium":
        if mode == "vxlan":
            flows.append(NodeFlow("Cilium VXLAN", *_port(UDP, 8472)))
        elif mode == "geneve":
            flows.append(NodeFlow("Cilium Geneve", *_port(UDP, 6081)))
        flows.append(NodeFlow("Cilium health", *_port(TCP, 4240)))
        flows.append(NodeFlow("Cilium health ICMP echo", ICMP, ALL_PORTS, frozenset({4}), listens=False))
        flows.append(NodeFlow("Cilium health ICMPv6 echo", ICMPV6, ALL_PORTS, frozenset({6}), listens=False))
        if encryption == "wireguard":
            flows.append(NodeFlow("Cilium WireGuard", *_port(UDP, 51871)))
        elif encryption == "ipsec":
            flows.append(NodeFlow("Cilium IPsec (ESP)", ESP, ALL_PORTS, listens=False))
    elif plugin == "antrea":
        if mode == "geneve":
            flows.append(NodeFlow("Antrea Geneve", *_port(UDP, 6081)))
        elif mode == "vxlan":
            flows.append(NodeFlow("Antrea VXLAN", *_port(UDP, 4789)))
        if encryption == "wireguard":
            flows.append(NodeFlow("Antrea WireGuard", *_port(UDP, 51820)))
    elif plugin == "weave":
        flows.append(NodeFlow("Weave control", *_port(TCP, 6783)))
        flows.append(NodeFlow("Weave data", *_port(UDP, 6783, 6784)))
    return tuple(flows)


def routes_pod_cidrs(cni: CniSpec) -> bool:
    """True when Pod packets cross the underlay unencapsulated, with Pod addresses."""
    return (cni.plugin, cni.mode) in NATIVE_MODES


def encapsulation(cni: CniSpec) -> str:
    """``native`` or the tunnel's name (``vxlan``, ``ipip``, ``geneve``, ``wireguard``, ``fastdp``, ``encap``)."""
    return "native" if routes_pod_cidrs(cni) else cni.mode
