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
* A rule may also restrict the node's own end of the packet (``to`` on ingress, ``from`` on egress): the node's
  own addresses (``node``), Pod addresses (``pods``: the cluster's Pod ranges) or CIDRs, matched against the
  destination (ingress) or source (egress) address as the packet crosses the interface — before the node
  DNATs it, after it SNATs it. Without it the rule judges every packet, as before. The local address of a
  packet is passed as ``local``; when omitted it is the node's own address of the packet's IP family
  (:meth:`FirewallSet.node_address`), which is right for everything but natively routed Pod traffic.
* A packet must pass every Firewall that selects the node (AND); a node no Firewall selects filters nothing.
* Firewalls are stateful by default: replies to allowed traffic pass. With ``stateful: false`` the reply must
  pass the opposite chain on its own (destination port in the ephemeral range 32768-60999); an imported
  ruleset's reply chains (``Firewall.replies``: its chains walked for an established packet) stand in for
  that chain, as directions ``ingress-reply`` and ``egress-reply``.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

from netmodel.compile.addresses import AddressBook
from netmodel.errors import SourceSpan
from netmodel.model.objects import (
    Firewall,
    FirewallChain,
    FirewallLocal,
    FirewallPeer,
    FirewallRule,
    Node,
)
from netmodel.model.topology import Topology
from netmodel.sets import ALL_ADDRESSES, AddressSet, Box, IntervalSet, IPAddress, Space

EPHEMERAL_PORTS = IntervalSet.of((32768, 60999))

# The node's end of a packet: one address, a set of addresses (a class of Pods, say), or None for the node's own
# address of the packet's IP family.
Local = IPAddress | AddressSet | None
Chains = tuple[tuple["CompiledRule", ...], ...]


def ruling(direction: str, rule: FirewallRule | None, action: str, quote: bool = False) -> str:
    """What decided in one firewall chain: ``ingress rule NAME``, or ``ingress defaultAction deny``
    when no rule matched. Findings quote the rule name (``quote``); trace steps do not.

    >>> ruling("egress", None, "deny")
    'egress defaultAction deny'
    """
    if rule is None:
        return f"{direction} defaultAction {action}"
    return f"{direction} rule {rule.name!r}" if quote else f"{direction} rule {rule.name}"


def ruling_span(firewall: Firewall, direction: str, rule: FirewallRule | None) -> SourceSpan:
    """The line that decided: the rule, or the chain whose ``defaultAction`` applied."""
    if rule is not None:
        return rule.source
    return (firewall.ingress if direction == "ingress" else firewall.egress).source


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One firewall rule (or a chain's default action) compiled to the packet space it matches on one node."""

    firewall: Firewall
    rule: FirewallRule | None  # None: the chain's default action
    box: Box
    action: str
    local: AddressSet | None = None  # the node-side addresses the rule is limited to, resolved on this node

    def applies_to(self, local: IPAddress | None) -> bool:
        """Whether the rule judges packets whose node-side address is ``local`` (None: no such address)."""
        return self.local is None or (local is not None and self.local.contains(local))


@dataclass(frozen=True, slots=True)
class Decision:
    """Which rule of one firewall decided a packet (``rule`` None means the default action)."""

    firewall: Firewall
    rule: FirewallRule | None
    action: str

    @property
    def allowed(self) -> bool:
        """Whether the deciding rule (or default action) allows."""
        return self.action == "allow"


@dataclass(frozen=True, slots=True)
class Verdict:
    """All firewalls of one node in one direction: allowed only if every one allows."""

    decisions: tuple[Decision, ...]

    @property
    def allowed(self) -> bool:
        """Whether every firewall allows."""
        return all(d.allowed for d in self.decisions)

    @property
    def denials(self) -> tuple[Decision, ...]:
        """The decisions that deny."""
        return tuple(d for d in self.decisions if not d.allowed)


class _ChainIndex:
    """One compiled chain's rules by protocol and destination port, for judging single packets.

    The chain's port-range ends cut the port axis into segments inside which every rule matches all ports or
    none, so the rules that can match a (protocol, port) are the same for a whole segment: they are listed once
    per segment asked about, in chain order, and a packet then walks only those (a chain of thousands of
    one-port rules judged for a thousand NodePorts walked every rule each time).
    """

    __slots__ = ("candidates", "chain", "cuts")

    def __init__(self, chain: tuple[CompiledRule, ...]) -> None:
        self.chain = chain  # kept alive: the index is cached under the chain's id
        self.cuts = sorted({end for c in chain for lo, hi in c.box.ports for end in (lo, hi + 1)})
        self.candidates: dict[tuple[int, int], tuple[CompiledRule, ...]] = {}

    def first(self, peer: IPAddress, protocol: int, port: int) -> CompiledRule | None:
        """The first rule of the chain matching the packet (None: none does)."""
        key = (protocol, bisect_right(self.cuts, port))
        rules = self.candidates.get(key)
        if rules is None:
            rules = tuple(c for c in self.chain if protocol in c.box.protocols and port in c.box.ports)
            self.candidates[key] = rules
        for compiled in rules:
            if compiled.box.peers.contains(peer):
                return compiled
        return None


class FirewallSet:
    """The firewalls of a topology, compiled per node and direction."""

    def __init__(self, topology: Topology, addresses: AddressBook | None = None) -> None:
        self.topology = topology
        self.addresses = addresses or AddressBook(topology)
        self._chains: dict[tuple[str, str], Chains] = {}
        self._restricted: dict[tuple[str, str], tuple[CompiledRule, ...]] = {}
        self._filtered: dict[tuple[str, str, tuple[bool, ...]], Chains] = {}
        self._indexes: dict[int, _ChainIndex] = {}

    @cached_property
    def by_node(self) -> dict[str, tuple[Firewall, ...]]:
        """The Firewalls that select each node, by node name."""
        return {n.name: tuple(f for f in self.topology.firewalls if f.selects(n)) for n in self.topology.nodes}

    def firewalls_of(self, node: Node) -> tuple[Firewall, ...]:
        """The Firewalls that select ``node``."""
        return self.by_node.get(node.name, ())

    def peer_addresses(self, peer: FirewallPeer) -> AddressSet:
        """The addresses a rule peer stands for: its CIDRs, its outside network, the nodes it names or selects, or
        the cluster's addresses (``entity`` cluster) or those outside it (``entity`` world, within its CIDRs)."""
        if peer.entity == "cluster":
            return self.addresses.cluster
        if peer.entity == "world":
            return AddressSet.of_networks(peer.cidrs) - self.addresses.cluster
        if peer.cidrs:
            return AddressSet.of_networks(peer.cidrs)
        if peer.network:
            network = self.topology.cluster.network(peer.network)
            return self.addresses.network_as_written(network) if network else AddressSet()
        nodes = [n for n in self.topology.nodes if n.name in peer.nodes] if peer.nodes else [
            n for n in self.topology.nodes if peer.node_selector is not None and peer.node_selector.matches(n.labels)]
        return AddressSet.of_networks(ip for n in nodes for ip in n.ips)

    def local_addresses(self, node: Node, local: tuple[FirewallLocal, ...]) -> AddressSet:
        """What a rule's ``to`` (ingress) / ``from`` (egress) entries match on ``node``."""
        out = AddressSet()
        for entry in local:
            if entry.node:
                own = AddressSet.of_networks(node.ips)
                out = out | (own if entry.within is None else own & AddressSet.of_networks(entry.within))
            elif entry.pods:
                out = out | self.addresses.pod_ranges
            else:
                out = out | AddressSet.of_networks(entry.cidrs)
        return out

    @staticmethod
    def node_address(node: Node, version: int) -> IPAddress | None:
        """The node's own address of one IP family (InternalIP first), the default node-side address."""
        for ip in node.internal_ips + node.ips:
            if ip.version == version:
                return ip
        return None

    def _compile_chain(self, node: Node, firewall: Firewall, chain: FirewallChain) -> tuple[CompiledRule, ...]:
        out = []
        for rule in chain.rules:
            peers = ALL_ADDRESSES if rule.peers is None else AddressSet()
            for peer in rule.peers or ():
                peers = peers | self.peer_addresses(peer)
            local = None if rule.local is None else self.local_addresses(node, rule.local)
            out.append(CompiledRule(firewall, rule, Box(peers, rule.protocols, rule.ports), rule.action, local))
        out.append(CompiledRule(firewall, None, Box.everything(), chain.default_action))
        return tuple(out)

    def chains(self, node: Node, direction: str) -> Chains:
        """One compiled rule list per firewall on the node, for ``ingress`` or ``egress`` (every rule, whatever
        its node-side restriction; :meth:`chains_for` keeps those that judge one node-side address)."""
        key = (node.name, direction)
        if key not in self._chains:
            self._chains[key] = tuple(
                self._compile_chain(node, fw, chain_of(fw, direction)) for fw in self.firewalls_of(node))
            self._restricted[key] = tuple(c for chain in self._chains[key] for c in chain if c.local is not None)
        return self._chains[key]

    def restricted(self, node: Node, direction: str) -> tuple[CompiledRule, ...]:
        """The node's rules in one direction that judge only some node-side addresses."""
        self.chains(node, direction)
        return self._restricted[(node.name, direction)]

    def chains_for(self, node: Node, direction: str, local: IPAddress | None) -> Chains:
        """The chains without the rules that do not judge packets whose node-side address is ``local``."""
        chains = self.chains(node, direction)
        restricted = self._restricted[(node.name, direction)]
        if not restricted:
            return chains
        key = (node.name, direction, tuple(c.applies_to(local) for c in restricted))
        if key not in self._filtered:
            self._filtered[key] = tuple(tuple(c for c in chain if c.applies_to(local)) for chain in chains)
        return self._filtered[key]

    def class_key(self, node: Node) -> tuple[object, ...]:
        """Nodes with equal keys are judged alike by their firewalls: the same firewalls select them, and each
        rule limited to CIDRs on the node side covers the same part of their addresses and Pod ranges."""
        firewalls = self.firewalls_of(node)
        names = tuple(f.name for f in firewalls)
        cuts = [cut for f in firewalls for cut in self._cidr_cuts[f.name]]
        if not cuts:
            return names
        own = [AddressSet.of_address(ip) for ip in node.ips] + [AddressSet.of_networks([c]) for c in node.pod_cidrs]
        return names, tuple(tuple((part <= cut, part.isdisjoint(cut)) for part in own) for cut in cuts)

    @cached_property
    def _cidr_cuts(self) -> dict[str, tuple[AddressSet, ...]]:
        """Per Firewall, the CIDR entries of its rules' node-side ends (once, not per node: 5,000 nodes share
        a few firewalls of thousands of rules)."""
        return {f.name: tuple(AddressSet.of_networks(c for e in rule.local for c in e.cidrs)
                              for chain in (f.ingress, f.egress, *(f.replies or ())) for rule in chain.rules
                              if rule.local and any(e.cidrs for e in rule.local))
                for f in self.topology.firewalls}

    def _locals(self, node: Node, direction: str, version: int, local: Local) -> list[IPAddress | None]:
        """Node-side addresses of one IP family that stand for ``local``: one per region the node's restricted
        rules treat alike (None: the node has no such address, only unrestricted rules apply)."""
        if local is None:
            return [self.node_address(node, version)]
        if not isinstance(local, AddressSet):
            return [local if local.version == version else None]
        family = local & (_V4 if version == 4 else _V6)
        if not family:
            return [None]
        atoms = [family]
        for compiled in self.restricted(node, direction):
            assert compiled.local is not None
            atoms = [part for atom in atoms for part in (atom & compiled.local, atom - compiled.local) if part]
        return [atom.sample() for atom in atoms]

    def _parts(self, node: Node, direction: str, query: Box, local: Local) -> list[tuple[Box, Chains]]:
        """``query`` split by IP family and node-side region, each with the chains that judge it."""
        chains = self.chains(node, direction)
        if not self._restricted[(node.name, direction)]:
            return [(query, chains)]
        out = []
        for version, family in ((4, _V4), (6, _V6)):
            peers = query.peers & family
            if peers:
                part = Box(peers, query.protocols, query.ports)
                out += [(part, self.chains_for(node, direction, ip))
                        for ip in self._locals(node, direction, version, local)]
        return out

    def decide(self, node: Node, direction: str, peer: IPAddress, protocol: int, port: int,
               local: Local = None) -> Verdict:
        """The verdict of every firewall on ``node`` for one packet; ``peer`` is the far end's address, ``local``
        the node-side one (the node's own address of the peer's family when omitted). For a set of node-side
        addresses the rules split, the verdict on one they deny, if any (it explains a blocked class)."""
        if isinstance(local, AddressSet) and self.restricted(node, direction):
            verdicts = [self._decide(node, direction, peer, protocol, port, ip)
                        for ip in self._locals(node, direction, peer.version, local)]
            return next((v for v in verdicts if not v.allowed), verdicts[0])
        if isinstance(local, AddressSet):
            local = None  # no rule looks at the node-side address
        return self._decide(node, direction, peer, protocol, port,
                            self.node_address(node, peer.version) if local is None else local)

    def _decide(self, node: Node, direction: str, peer: IPAddress, protocol: int, port: int,
                local: IPAddress | None) -> Verdict:
        decisions = []
        for chain in self.chains_for(node, direction, local):
            index = self._indexes.get(id(chain))
            if index is None:
                index = self._indexes[id(chain)] = _ChainIndex(chain)
            compiled = index.first(peer, protocol, port)
            if compiled is not None:
                decisions.append(Decision(compiled.firewall, compiled.rule, compiled.action))
        return Verdict(tuple(decisions))

    def allowed_space(self, node: Node, direction: str, query: Box, local: Local = None,
                      some: bool = False) -> Space:
        """The part of ``query`` that every firewall on the node allows (first match, AND across firewalls).

        ``local`` is the node-side end (see :data:`Local`). When it is a set the node's rules split, a packet
        is allowed if it is allowed for every such address, or for some of them with ``some``.
        """
        parts = self._parts(node, direction, query, local)
        if len(parts) == 1:
            return self._allowed(parts[0][1], parts[0][0])
        out: dict[Box, Space] = {}
        for part, chains in parts:
            allowed = self._allowed(chains, part)
            if part not in out:
                out[part] = allowed
            else:
                out[part] = out[part] | allowed if some else out[part] & allowed
        result = Space()
        for space in out.values():
            result = result | space
        return result

    @staticmethod
    def _allowed(chains: Chains, query: Box) -> Space:
        allowed = Space.of(query)
        for chain in chains:
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

    def deciding_rules(self, node: Node, direction: str, query: Box,
                       local: Local = None) -> list[tuple[CompiledRule, Space]]:
        """For each firewall, which rules decide which part of ``query`` (for explaining a blocked cell)."""
        out: list[tuple[CompiledRule, Space]] = []
        for part, chains in self._parts(node, direction, query, local):
            out += self._deciding(chains, part)
        return out

    @staticmethod
    def _deciding(chains: Chains, query: Box) -> list[tuple[CompiledRule, Space]]:
        out: list[tuple[CompiledRule, Space]] = []
        for chain in chains:
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


def chain_of(firewall: Firewall, direction: str) -> FirewallChain:
    """The chain judging ``direction``: ``ingress``, ``egress``, or ``ingress-reply``/``egress-reply`` (a
    reply crossing a stateless firewall: its reply chains when it has them, else ingress or egress)."""
    reply = direction.endswith("-reply")
    index = 0 if direction.startswith("ingress") else 1
    if reply and firewall.replies is not None:
        return firewall.replies[index]
    return firewall.ingress if index == 0 else firewall.egress


_V4 = AddressSet.parse("0.0.0.0/0")
_V6 = AddressSet.parse("::/0")


def _disjoint(box: Box, query: Box) -> bool:
    """No packet is in both (cheapest dimension first)."""
    return (box.protocols.isdisjoint(query.protocols) or box.ports.isdisjoint(query.ports)
            or box.peers.isdisjoint(query.peers))
