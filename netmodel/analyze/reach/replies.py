"""Replies through stateless firewalls.

A stateful Firewall passes the replies of a connection it let through (conntrack: ``established``). One with
``stateful: false`` judges every reply packet by its rules like any other packet: the reply travels from the
request's destination back to its source, so it leaves the far node (that node's ``egress`` chain, peer = the
request's source) and enters the near one (``ingress``, peer = the request's destination), with the request's
protocol and, as destination port, the client's source port. Clients pick that port from the ephemeral range
(:data:`netmodel.compile.firewalls.EPHEMERAL_PORTS`, Linux's default ``ip_local_port_range`` 32768-60999), and
any of it may be chosen, so a reply passes only when the firewall allows *every* ephemeral port for it; one
whose rules allow part of the range works for some connections and not others, and is reported as blocking,
naming the rule that drops the rest.

Which packets a reply is made of (see :mod:`.crossing`): with an encapsulating CNI, replies to a Pod address
on another node come back as a new outer packet, judged there (the tunnel's port, not an ephemeral one);
every other reply — native routing, node addresses, Pod traffic SNATed to its node, outside clients — crosses
the node firewalls as the plain reversed packet, and that is what this module checks.
"""

from __future__ import annotations

from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.analyze.reach.trace import Decision, Disposition, Step, StepRecord
from netmodel.compile.firewalls import EPHEMERAL_PORTS, CompiledRule, Local, ruling, ruling_span
from netmodel.model.objects import Node
from netmodel.sets import (
    AddressSet,
    Box,
    IntervalSet,
    IPAddress,
    Space,
    format_ports,
    protocol_label,
)


def has_stateless(compiled: CompiledCluster, node: Node) -> bool:
    """Whether a Firewall on ``node`` is stateless (replies must pass its rules on their own)."""
    return any(not f.stateful for f in compiled.firewalls.firewalls_of(node))


def stateless_rulings(compiled: CompiledCluster, node: Node, direction: str, peers: AddressSet,
                      protocol: int, local: Local = None) -> list[tuple[CompiledRule, Space]]:
    """For each stateless firewall on ``node``, which rules decide the replies from/to ``peers``; ``local``: the
    replies' node-side addresses (their source leaving, their destination entering; default the node's)."""
    if not has_stateless(compiled, node):
        return []
    query = Box(peers, IntervalSet.single(protocol), EPHEMERAL_PORTS)
    # an imported ruleset judges replies by its rules for established packets (FirewallSet's "-reply" chains)
    return [(rule, space) for rule, space in compiled.firewalls.deciding_rules(node, f"{direction}-reply", query,
                                                                               local)
            if not rule.firewall.stateful]


def blocked_reply_peers(compiled: CompiledCluster, node: Node, direction: str, peers: AddressSet,
                        protocol: int, local: Local = None) -> AddressSet:
    """The ``peers`` whose replies some stateless firewall on ``node`` drops (on some ephemeral port)."""
    out = AddressSet()
    for rule, space in stateless_rulings(compiled, node, direction, peers, protocol, local):
        if rule.action != "allow":
            out = out | space.peers()
    return out


def reply_step(compiled: CompiledCluster, node: Node, direction: str, peer: IPAddress, reply_source: IPAddress,
               reply_destination: IPAddress, protocol: int) -> StepRecord | None:
    """The stateless firewalls of ``node`` on one reply packet; None when every firewall there is stateful."""
    local = reply_source if direction == "egress" else reply_destination
    rulings = stateless_rulings(compiled, node, direction, AddressSet.of_address(peer), protocol, local)
    if not rulings:
        return None
    step = Step.FIREWALL_EGRESS if direction == "egress" else Step.FIREWALL_INGRESS
    what = (f"reply {protocol_label(protocol)} {reply_source} → {reply_destination} ports "
            f"{format_ports(EPHEMERAL_PORTS)} (the client's ephemeral port)")
    denying = [(rule, space) for rule, space in rulings if rule.action != "allow"]
    if not denying:
        names = sorted({r.firewall.name for r, _ in rulings})
        return StepRecord(step, f"{what}: allowed by stateless Firewall{'s' if len(names) > 1 else ''} "
                          f"{', '.join(names)}", True, None, tuple(
                              _decision(rule, direction, space, True) for rule, space in rulings))
    return StepRecord(step, f"{what}: denied (stateless: replies are judged by the rules, not conntrack)",
                      False, Disposition.DENIED_BY_FIREWALL, tuple(
                          _decision(rule, direction, space, False) for rule, space in denying))


def _decision(rule: CompiledRule, direction: str, space: Space, allowed: bool) -> Decision:
    firewall = rule.firewall
    ports = IntervalSet()
    for box in space:
        ports = ports | box.ports
    part = "" if ports == EPHEMERAL_PORTS else f" on ports {format_ports(ports)}"
    what = ruling(direction, rule.rule, rule.action)
    return Decision("Firewall", firewall.name, f"{what} (stateless, reply{part})", allowed,
                    ruling_span(firewall, direction, rule.rule))


__all__ = ["blocked_reply_peers", "has_stateless", "reply_step", "stateless_rulings"]
