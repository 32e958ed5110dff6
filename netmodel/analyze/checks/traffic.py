"""Traffic between nodes judged by class, not by pair.

Nodes selected by the same firewalls behave the same (:class:`NodeClass`), so a requirement "every node may
send X to every node" is one ``allowed_space`` evaluation per (sender class, receiver class) and direction:
the receiver's ingress firewalls with the senders' addresses as peers, and the sender's egress firewalls with
the receivers' addresses as peers. 5,000 nodes in three classes cost 18 evaluations, not 25 million.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from netmodel.compile.context import CheckContext, NodeClass
from netmodel.compile.firewalls import Decision
from netmodel.model.objects import Node
from netmodel.sets import AddressSet, Box, IntervalSet, IPAddress, Space

AddressOf = Callable[[Node], AddressSet]


@dataclass(frozen=True, slots=True)
class NodePairBlock:
    """Traffic from ``senders`` to ``receivers`` blocked by the firewalls of ``at`` in ``direction``."""

    direction: str  # ingress (at the receiver) | egress (at the sender)
    at: NodeClass
    senders: tuple[Node, ...]
    receivers: tuple[Node, ...]
    peer: IPAddress  # an example far-end address that is blocked
    protocol: int
    port: int
    decisions: tuple[Decision, ...]  # the firewalls that deny the example packet


def _example(blocked: Space, peers: AddressSet) -> tuple[IPAddress, int, int] | None:
    for box in blocked:
        common = box.peers & peers
        if common:
            address = common.sample(host=True)
            assert address is not None
            return address, box.protocols.first(), box.ports.first()
    return None


def _nodes_in(nodes: tuple[Node, ...], addresses: AddressSet, address_of: AddressOf) -> list[Node]:
    return [n for n in nodes if not address_of(n).isdisjoint(addresses)]


def blocked_between(ctx: CheckContext, senders: list[Node], receivers: list[Node], protocols: IntervalSet,
                    ports: IntervalSet, address_of: AddressOf) -> Iterator[NodePairBlock]:
    """Every (sender class, receiver class, direction) where some sender→receiver traffic is blocked.

    A node's traffic to itself never crosses its firewall, so a class pair counts only when a blocked sender and
    a receiver are different nodes.
    """
    sender_set = {n.name for n in senders}
    receiver_set = {n.name for n in receivers}
    send_classes = [(c, tuple(n for n in c.nodes if n.name in sender_set)) for c in ctx.node_classes]
    recv_classes = [(c, tuple(n for n in c.nodes if n.name in receiver_set)) for c in ctx.node_classes]
    send_classes = [(c, ns) for c, ns in send_classes if ns]
    recv_classes = [(c, ns) for c, ns in recv_classes if ns]
    sender_addresses = {c.nodes[0].name: AddressSet.union_all(map(address_of, ns))
                        for c, ns in send_classes}
    receiver_addresses = {c.nodes[0].name: AddressSet.union_all(map(address_of, ns))
                          for c, ns in recv_classes}
    for send_class, send_nodes in send_classes:
        for recv_class, recv_nodes in recv_classes:
            if recv_class.filtered:
                peers = sender_addresses[send_class.nodes[0].name]
                block = _judge(ctx, recv_class, "ingress", peers, protocols, ports, send_nodes, recv_nodes,
                               address_of, blocked_side="senders")
                if block is not None:
                    yield block
            if send_class.filtered:
                peers = receiver_addresses[recv_class.nodes[0].name]
                block = _judge(ctx, send_class, "egress", peers, protocols, ports, send_nodes, recv_nodes,
                               address_of, blocked_side="receivers")
                if block is not None:
                    yield block


def _judge(ctx: CheckContext, at: NodeClass, direction: str, peers: AddressSet, protocols: IntervalSet,
           ports: IntervalSet, send_nodes: tuple[Node, ...], recv_nodes: tuple[Node, ...], address_of: AddressOf,
           blocked_side: str) -> NodePairBlock | None:
    if peers.is_empty():
        return None
    query = Box(peers, protocols, ports)
    local = address_of(at.representative)  # the node-side end: the judged node's own (or its Pods') addresses
    blocked = Space.of(query) - ctx.firewalls.allowed_space(at.representative, direction, query, local)
    if blocked.is_empty():
        return None
    blocked_peers = blocked.peers()
    if blocked_side == "senders":
        senders = _nodes_in(send_nodes, blocked_peers, address_of)
        receivers = list(recv_nodes)
    else:
        senders = list(send_nodes)
        receivers = _nodes_in(recv_nodes, blocked_peers, address_of)
    if not any(s.name != r.name for s in senders[:2] for r in receivers[:2]):
        return None  # only a node talking to itself, which no firewall sees
    far = senders if blocked_side == "senders" else receivers
    near = receivers if blocked_side == "senders" else senders
    # Prefer an example pair of two different nodes.
    far_node = next((f for f in far if f.name != near[0].name), far[0])
    example = _example(blocked, address_of(far_node))
    assert example is not None
    address, protocol, port = example
    verdict = ctx.firewalls.decide(at.representative, direction, address, protocol, port, local)
    ordered_far = [far_node] + [f for f in far if f is not far_node]
    ordered_near = [n for n in near if n.name != far_node.name] + [n for n in near if n.name == far_node.name]
    senders_out = ordered_far if blocked_side == "senders" else ordered_near
    receivers_out = ordered_near if blocked_side == "senders" else ordered_far
    return NodePairBlock(direction, at, tuple(senders_out), tuple(receivers_out), address, protocol, port,
                         verdict.denials)
