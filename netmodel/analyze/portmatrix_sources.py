"""The source classes of the port matrix, and who sends on their behalf.

A source class inside the cluster (``control-plane``, ``workers``, ``pods``) is sent by nodes, and each of its
packets leaves the sending node through that node's egress firewalls before the receiving node's ingress
firewalls see it. Nodes selected by the same firewalls share one egress verdict (:class:`NodeClass`), so a
source class is split into one :class:`Sender` per firewall class: 5,000 workers in three classes are three
egress evaluations per cell, never one per node pair.

What the receiver sees as the source address (the engine's rules, docs/reachability.md):

* nodes send with their underlay addresses (InternalIPs, else every address);
* Pods leave their node with their Pod address, unless it is masqueraded (:mod:`netmodel.compile.masquerade`,
  the engine's rule): the CNI's outbound NAT (``cni.natOutgoing``: on by default for Calico, Flannel, Antrea
  and Weave, which SNAT Pod traffic to the other nodes' addresses; Cilium leaves node addresses alone) or
  ip-masq-agent (a node address outside ``nonMasqueradeCIDRs``) SNATs it to the sending node's address, and
  such Pods then have exactly their node's firewall rights. Pod addresses of the cluster pod CIDR that no
  node's range holds have no known sender node: they meet only the receiver's ingress;
* outside networks have no netmodel firewall on their side: their traffic meets only the receiver's ingress.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from netmodel.model.objects import Node, OutsideNetwork
from netmodel.sets import AddressSet, IPAddress, IPNetwork

if TYPE_CHECKING:
    from netmodel.compile.context import CheckContext, NodeClass

SELF = "self"


class SenderKind(StrEnum):
    """Which of a node's addresses its packets carry for a source class."""

    NODE = "node"  # the node's own address
    POD = "pod"  # a Pod address: Pod traffic not SNATed on its way
    MASQUERADED_POD = "masqueraded-pod"  # Pod traffic SNATed to the node's address


@dataclass(frozen=True, slots=True)
class Sender:
    """The nodes of one firewall class that send for a source class, and the source addresses they use."""

    node_class: NodeClass
    nodes: tuple[Node, ...]
    kind: SenderKind
    addresses: AddressSet  # every source address the receivers see from these nodes


@dataclass(frozen=True, slots=True)
class SourceClass:
    """A source a port-matrix row is judged from: the node itself, the control plane, the workers, Pods, or
    a network."""

    name: str  # self | control-plane | workers | pods | network:NAME
    addresses: AddressSet
    network: OutsideNetwork | None = None
    senders: tuple[Sender, ...] = ()  # empty: nothing on the sending side filters (outside networks, self)

    def describe(self) -> str:
        """The source in words, as findings name it."""
        return {"self": "the node itself", "control-plane": "the control-plane nodes", "workers": "the worker nodes",
                "pods": "the Pods (pod CIDRs)"}.get(self.name, f"network {self.name.removeprefix('network:')}")


def sent_from(ctx: CheckContext, kind: SenderKind, node: Node) -> tuple[IPNetwork | IPAddress, ...]:
    """The source addresses ``node`` puts on packets it sends for a source class of ``kind``."""
    if kind == SenderKind.POD:
        return ctx.pod_networks_on(node)
    return node.internal_ips or node.ips


def pods_masqueraded_to(ctx: CheckContext, node: Node) -> bool:
    """Whether Pod traffic to ``node`` is SNATed to the sending node: the CNI's outbound NAT or ip-masq-agent
    rewrites it for some address of ``node`` (the engine's rule, :mod:`netmodel.compile.masquerade`)."""
    return not ctx.underlay_addresses(node) <= ctx.masquerade.kept


def _senders(ctx: CheckContext, nodes: list[Node], kind: SenderKind) -> tuple[Sender, ...]:
    wanted = {n.name for n in nodes}
    out = []
    for node_class in ctx.node_classes:
        members = tuple(n for n in node_class.nodes if n.name in wanted)
        addresses = AddressSet.of_networks(ip for n in members for ip in sent_from(ctx, kind, n))
        if members and addresses:
            out.append(Sender(node_class, members, kind, addresses))
    return tuple(out)


def source_classes(ctx: CheckContext, masqueraded: bool) -> list[SourceClass]:
    """Every source class, for receivers to which Pod traffic is (``masqueraded``) or is not SNATed."""
    topo = ctx.topology
    out = [SourceClass(SELF, AddressSet())]
    for name, nodes in (("control-plane", topo.control_plane_nodes), ("workers", topo.worker_nodes)):
        senders = _senders(ctx, list(nodes), SenderKind.NODE)
        out.append(SourceClass(name, AddressSet.union_all(s.addresses for s in senders), None, senders))
    if masqueraded:
        senders = _senders(ctx, list(topo.nodes), SenderKind.MASQUERADED_POD)
        out.append(SourceClass("pods", AddressSet.union_all(s.addresses for s in senders), None, senders))
    else:
        senders = _senders(ctx, list(topo.nodes), SenderKind.POD)
        out.append(SourceClass("pods", ctx.addresses.pod_ranges, None, senders))
    for network in topo.cluster.networks:
        out.append(SourceClass(f"network:{network.name}", ctx.addresses.networks[network.name], network))
    return out
