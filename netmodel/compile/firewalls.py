"""Node firewalls compiled to traffic spaces, and evaluated.

Semantics (the contract users write against, see docs/input.md):

* A ``Firewall`` filters packets crossing the underlay interface of each node it selects: ``ingress`` what
  enters the node from the network, ``egress`` what leaves it. Traffic that stays inside a node (Pod to Pod on
  one node, a Pod to its own node) never crosses it. Encapsulated Pod traffic is seen as its outer packet
  (node address to node address, the tunnel's protocol and port); natively routed Pod traffic with Pod
  addresses.
* Within one direction, rules are evaluated in order and the first rule that matches decides; if none matches,
  ``defaultAction`` decides. A rule matches a packet when its peer is in one of the rule's peers (any peer
  when ``from``/``to`` is omitted) AND its protocol is the rule's protocol AND (for TCP/UDP/SCTP) its
  destination port is in the rule's ports (every port when omitted).
* A packet must pass every Firewall that selects the node (AND); a node no Firewall selects filters nothing.
* Firewalls are stateful by default: replies to allowed traffic pass. With ``stateful: false`` the reply must
  pass the opposite chain on its own (destination port in the ephemeral range 32768-60999).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from netmodel.compile.addresses import AddressBook
from netmodel.model.objects import Firewall, FirewallChain, FirewallPeer, FirewallRule, Node
from netmodel.model.topology import Topology
from netmodel.sets import ALL_ADDRESSES, AddressSet, Box, IntervalSet, IPAddress, Space

EPHEMERAL_PORTS = IntervalSet.of((32768, 60999))


@dataclass(frozen=True, slots=True)
class CompiledRule:
    firewall: Firewall
    rule: FirewallRule | None  # None: the chain's default action
    box: Box
    action: str


@dataclass(frozen=True, slots=True)
class Decision:
    """Which rule of one firewall decided a packet (``rule`` None means the default action)."""

    firewall: Firewall
    rule: FirewallRule | None
    action: str

    @property
    def allowed(self) -> bool:
        return self.action == "allow"

    def describe(self) -> str:
        what = f"rule {self.rule.name}" if self.rule else "default action"
        return f"Firewall {self.firewall.name} {what} ({self.action})"


@dataclass(frozen=True, slots=True)
class Verdict:
    """All firewalls of one node in one direction: allowed only if every one allows."""

    decisions: tuple[Decision, ...]

    @property
    def allowed(self) -> bool:
        return all(d.allowed for d in self.decisions)

    @property
    def denials(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if not d.allowed)


class FirewallSet:
    """The firewalls of a topology, compiled per node and direction."""

    def __init__(self, topology: Topology, addresses: AddressBook | None = None) -> None:
        self.topology = topology
        self.addresses = addresses or AddressBook(topology)
        self._chains: dict[tuple[str, str], tuple[tuple[CompiledRule, ...], ...]] = {}

    @cached_property
    def by_node(self) -> dict[str, tuple[Firewall, ...]]:
        return {n.name: tuple(f for f in self.topology.firewalls if f.selects(n)) for n in self.topology.nodes}

    def firewalls_of(self, node: Node) -> tuple[Firewall, ...]:
        return self.by_node.get(node.name, ())

    def peer_addresses(self, peer: FirewallPeer) -> AddressSet:
        if peer.cidrs:
            return AddressSet.of_networks(peer.cidrs)
        if peer.network:
            network = self.topology.cluster.network(peer.network)
            return self.addresses.network_as_written(network) if network else AddressSet()
        nodes = [n for n in self.topology.nodes if n.name in peer.nodes] if peer.nodes else [
            n for n in self.topology.nodes if peer.node_selector is not None and peer.node_selector.matches(n.labels)]
        return AddressSet.of_networks(ip for n in nodes for ip in n.ips)

    def _compile_chain(self, firewall: Firewall, chain: FirewallChain) -> tuple[CompiledRule, ...]:
        out = []
        for rule in chain.rules:
            peers = ALL_ADDRESSES if rule.peers is None else AddressSet()
            for peer in rule.peers or ():
                peers = peers | self.peer_addresses(peer)
            out.append(CompiledRule(firewall, rule, Box(peers, rule.protocols, rule.ports), rule.action))
        out.append(CompiledRule(firewall, None, Box.everything(), chain.default_action))
        return tuple(out)

    def chains(self, node: Node, direction: str) -> tuple[tuple[CompiledRule, ...], ...]:
        """One compiled rule list per firewall on the node, for ``ingress`` or ``egress``."""
        key = (node.name, direction)
        if key not in self._chains:
            self._chains[key] = tuple(
                self._compile_chain(fw, fw.ingress if direction == "ingress" else fw.egress)
                for fw in self.firewalls_of(node))
        return self._chains[key]

    def decide(self, node: Node, direction: str, peer: IPAddress, protocol: int, port: int) -> Verdict:
        """The verdict of every firewall on ``node`` for one packet; ``peer`` is the far end's address."""
        decisions = []
        for chain in self.chains(node, direction):
            for compiled in chain:
                box = compiled.box
                # protocol and port first: integer look-ups that rule out most of a long chain cheaply
                if protocol in box.protocols and port in box.ports and box.peers.contains(peer):
                    decisions.append(Decision(compiled.firewall, compiled.rule, compiled.action))
                    break
        return Verdict(tuple(decisions))

    def allowed_space(self, node: Node, direction: str, query: Box) -> Space:
        """The part of ``query`` that every firewall on the node allows (first match, AND across firewalls)."""
        allowed = Space.of(query)
        for chain in self.chains(node, direction):
            remaining = Space.of(query)
            passed = Space()
            for compiled in chain:
                if _disjoint(compiled.box, query):
                    continue  # matches nothing of the query (chains of thousands of rules are mostly these)
                matched = remaining & compiled.box
                if compiled.action == "allow":
                    passed = passed | matched
                remaining = remaining - compiled.box
                if remaining.is_empty():
                    break
            allowed = allowed & passed
        return allowed

    def deciding_rules(self, node: Node, direction: str, query: Box) -> list[tuple[CompiledRule, Space]]:
        """For each firewall, which rules decide which part of ``query`` (for explaining a blocked cell)."""
        out: list[tuple[CompiledRule, Space]] = []
        for chain in self.chains(node, direction):
            remaining = Space.of(query)
            for compiled in chain:
                if _disjoint(compiled.box, query):
                    continue
                matched = remaining & compiled.box
                if not matched.is_empty():
                    out.append((compiled, matched))
                remaining = remaining - compiled.box
                if remaining.is_empty():
                    break
        return out


def _disjoint(box: Box, query: Box) -> bool:
    """No packet is in both (cheapest dimension first)."""
    return (box.protocols.isdisjoint(query.protocols) or box.ports.isdisjoint(query.ports)
            or box.peers.isdisjoint(query.peers))
