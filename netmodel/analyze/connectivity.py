"""The connectivity matrix: every allowed connection, per Pod class pair, aggregated for people.

Computed per Pod class pair (never per Pod pair) from, in order:

1. NetworkPolicy: the destination's ingress AND the source's egress (:class:`PolicyEngine`), per class;
   when ip-masq-agent SNATs Pod traffic between nodes, the ingress judges the sending node's address instead
   (per source node; Pods on the destination's node keep their own);
2. what the destination listens on: its declared containerPorts (a class declaring none may listen anywhere);
3. node firewalls on the Pod network between the nodes the two classes run on, judged per pair of *node
   classes* (nodes selected by the same firewalls): encapsulated modes need the tunnel's outer packet to pass
   in both directions, since replies to a Pod address come back as a new outer packet (a yes/no per
   node-class pair, see :mod:`netmodel.analyze.reach.crossing`), native routing needs each port to pass for
   the sender's whole pod range (its node's address when ip-masq-agent SNATs it or it is a hostNetwork Pod;
   a hostNetwork destination is its node's address, never encapsulated). Stateless firewalls must also pass
   the plain reply on the ephemeral ports (:mod:`netmodel.analyze.reach.replies`). Pods on one node cross
   no firewall.
4. a Pod reaching itself is loopback: every port it listens on, whatever the policies and firewalls say
   (with ``--by workload``/``namespace`` a group of several Pods gets it as ``partial``: each member
   reaches only itself).

Outside networks appear as sources (through NodePort/LoadBalancer Services: firewall-ingress on the nodes for
the nodePort, then the backend's ingress policy, which sees the node address under ``externalTrafficPolicy:
Cluster`` and the client under ``Local``; and, with native routing, straight to Pod addresses) and as
destinations (egress policy and the node firewalls' egress). A connection whose members or addresses are only
partly allowed is marked ``partial``.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from netmodel.analyze.policy import EGRESS, EVERYTHING, INGRESS, NOTHING, PodClass, PortSpace
from netmodel.analyze.policy.bits import bitset, iter_members
from netmodel.analyze.reach.compiled_cluster import Backend, CompiledCluster
from netmodel.analyze.reach.crossing import node_ip, reply_is_tracked
from netmodel.analyze.reach.replies import blocked_reply_peers
from netmodel.compile.firewalls import Verdict
from netmodel.load.files import paused_gc
from netmodel.model.objects import Node, Pod, Service, ServicePort
from netmodel.sets import (
    AddressSet,
    Box,
    IntervalSet,
    IPAddress,
    Space,
    format_ports,
    protocol_label,
)

GROUPINGS = ("pod", "workload", "namespace")


@dataclass(frozen=True, slots=True)
class Connection:
    """``source`` may open connections to ``destination`` on ``protocol``/``ports``."""

    source: str
    destination: str
    protocol: int
    ports: IntervalSet
    partial: bool = False  # only some members (Pods, node pairs, addresses) of the groups get it
    via: str = ""  # the Service an outside source enters through

    def describe(self) -> str:
        """One line: source → destination protocol ports, the Service entered and whether it is partial."""
        extra = (f" via {self.via}" if self.via else "") + (" (partial)" if self.partial else "")
        return f"{self.source} → {self.destination} {protocol_label(self.protocol)} {format_ports(self.ports)}{extra}"

    def to_json(self) -> dict[str, object]:
        """The connection as a matrix entry."""
        out: dict[str, object] = {"from": self.source, "to": self.destination,
                                  "protocol": protocol_label(self.protocol), "ports": format_ports(self.ports),
                                  "partial": self.partial}
        if self.via:
            out["via"] = self.via
        return out


def group_name(pod: Pod, by: str) -> str:
    """The group a Pod is counted in for ``by``: the Pod itself, its namespace, or its workload (else the
    Pod)."""
    if by == "pod":
        return pod.qualified_name
    if by == "namespace":
        return pod.namespace
    if pod.owner is not None:
        return f"{pod.namespace}/{pod.owner.name}[{pod.owner.kind}]"
    return f"{pod.qualified_name}[Pod]"


def listening(cls: PodClass) -> PortSpace:
    """The ports a Pod class listens on: its declared container ports, or every port when it declares none."""
    if not cls.ports:
        return EVERYTHING
    out: dict[int, IntervalSet] = {}
    for _, number, protocol in cls.ports:
        out[protocol] = out.get(protocol, IntervalSet()) | IntervalSet.single(number)
    return PortSpace.of(out)


def _underlay_ip(node: Node, pods: AddressSet) -> IPAddress | None:
    """The address a node's tunnel packets carry; for a Node the input gives no address, one of its Pod
    addresses, as `query` does (``crossing.cross``: the node's address, else the Pod's own); None without either.
    """
    return next(iter(node.internal_ips or node.ips), None) or pods.sample()


class _PodNetwork:
    """Whether the Pod network carries a port space between two node classes (cached per pair)."""

    def __init__(self, compiled: CompiledCluster) -> None:
        self.compiled = compiled
        groups: dict[tuple[object, ...], list[Node]] = {}
        for node in compiled.topology.nodes:
            groups.setdefault(compiled.firewalls.class_key(node), []).append(node)
        self.node_class = {node.name: index for index, nodes in enumerate(groups.values()) for node in nodes}
        self.representative = [nodes[0] for nodes in groups.values()]
        self.size = [len(nodes) for nodes in groups.values()]
        self.unfiltered = not compiled.topology.firewalls
        self._cache: dict[tuple[int, int, PortSpace, bool, bool], PortSpace] = {}

    def carries(self, sender: int, receiver: int, space: PortSpace, replies_to_pods: bool = True,
                to_host: bool = False) -> PortSpace:
        """What node class ``sender`` can send to Pods on node class ``receiver``; ``replies_to_pods``: the
        source is a Pod address, so with a tunnel the replies come back encapsulated and must pass too;
        ``to_host``: the destination is a hostNetwork Pod (its node's address, never encapsulated)."""
        key = (sender, receiver, space, replies_to_pods, to_host)
        if key not in self._cache:
            self._cache[key] = self._compute(self.representative[sender], self.representative[receiver], space,
                                             replies_to_pods, to_host)
        return self._cache[key]

    def _compute(self, sender: Node, receiver: Node, space: PortSpace, replies_to_pods: bool,
                 to_host: bool) -> PortSpace:
        firewalls, tunnel = self.compiled.firewalls, self.compiled.tunnel
        sender_range = AddressSet.of_networks(sender.pod_cidrs)
        receiver_range = AddressSet.of_networks(receiver.ips if to_host else receiver.pod_cidrs)
        pod_source = replies_to_pods and self._keeps_pod_source(receiver_range)
        # What the receiver's firewalls see as the source: the Pod range, or the sender's address once SNATed
        # (or hostNetwork).
        sender_seen = sender_range if pod_source else AddressSet.of_networks(sender.ips)
        encapsulated = tunnel is not None and not to_host
        out: dict[int, IntervalSet] = {}
        if tunnel is not None and not to_host:  # encapsulated
            proto, port, _ = tunnel
            sender_ip, receiver_ip = _underlay_ip(sender, sender_range), _underlay_ip(receiver, receiver_range)
            if sender_ip is None or receiver_ip is None:
                return NOTHING
            if not (firewalls.decide(sender, "egress", receiver_ip, proto, port).allowed
                    and firewalls.decide(receiver, "ingress", sender_ip, proto, port).allowed):
                return NOTHING
            out = dict(space)
        else:
            for protocol, ports in space:
                protos = IntervalSet.single(protocol)
                sent = _covering(firewalls.allowed_space(sender, "egress", Box(receiver_range, protos, ports),
                                                         sender_seen), receiver_range)
                taken = _covering(firewalls.allowed_space(receiver, "ingress", Box(sender_seen, protos, ports),
                                                          receiver_range), sender_seen)
                out[protocol] = sent & taken
        if tunnel is not None and pod_source:  # replies to a Pod address: a new outer packet receiver → sender
            proto, port, _ = tunnel
            sender_ip, receiver_ip = _underlay_ip(sender, sender_range), _underlay_ip(receiver, receiver_range)
            if sender_ip is None or receiver_ip is None:
                return NOTHING
            tracked = encapsulated and reply_is_tracked(tunnel)
            if not (_passes(firewalls.decide(receiver, "egress", sender_ip, proto, port), tracked)
                    and _passes(firewalls.decide(sender, "ingress", receiver_ip, proto, port), tracked)):
                return NOTHING
        else:  # the plain reversed packet, receiver_range → sender_seen
            out = {protocol: ports for protocol, ports in out.items()
                   if blocked_reply_peers(self.compiled, receiver, "egress", sender_seen, protocol,
                                          receiver_range).is_empty()
                   and blocked_reply_peers(self.compiled, sender, "ingress", receiver_range, protocol,
                                           sender_seen).is_empty()}
        return PortSpace.of(out)

    def _keeps_pod_source(self, destinations: AddressSet) -> bool:
        """Pod traffic to ``destinations`` keeps its Pod source (no CNI outbound NAT or ip-masq-agent rule SNATs
        it to the node; compile/masquerade.py)."""
        return destinations <= self.compiled.masquerade.kept


def _passes(verdict: Verdict, tracked: bool) -> bool:
    """A reply outer packet passes: allowed by the rules, or (tracked) by a stateful firewall as established."""
    return all(decision.allowed or (tracked and decision.firewall.stateful) for decision in verdict.decisions)


def _covering(space: Space, peers: AddressSet) -> IntervalSet:
    """Ports some box allows for every one of ``peers`` (partly allowed peers do not count)."""
    out = IntervalSet()
    for box in space:
        if peers <= box.peers:
            out = out | box.ports
    return out


class _Add(Protocol):
    """How the helpers of :func:`connectivity` record what they found between two groups."""

    def __call__(self, src: str, dst: str, space: PortSpace, partial: bool, via: str = "") -> None: ...


GroupOf = Callable[[Pod], str]


@dataclass(frozen=True, slots=True)
class _Query:
    """What every step of one matrix computation reads: the compiled cluster, whether the Pod network carries ports
    between node classes (``pod_network``), the group a Pod counts in (``name``) and where the connections found per
    group pair are recorded (``add``)."""

    compiled: CompiledCluster
    pod_network: _PodNetwork
    name: GroupOf
    add: _Add


Row = tuple[str, str, int, IntervalSet, bool, str]  # source, destination, protocol, ports, partial, via


def connectivity(compiled: CompiledCluster, by: str = "workload", *, group: GroupOf | None = None,
                 among: Sequence[PodClass] | None = None, loopback: bool = True) -> list[Connection]:
    """Every allowed connection between groups of Pods and outside networks, ports merged into ranges.

    ``group`` names the group a Pod counts in (default: :func:`group_name` with ``by``); ``among`` limits the
    Pod classes looked at (sources and destinations; Service backends entered from outside networks are all
    looked at); ``loopback=False`` leaves out each Pod reaching itself. The grouped map
    (:mod:`netmodel.analyze.grouped`) uses these to compute one representative class per behaviour.
    """
    return [Connection(*row) for row in connection_rows(compiled, by, group=group, among=among, loopback=loopback)]


def connection_rows(compiled: CompiledCluster, by: str = "workload", *, group: GroupOf | None = None,
                    among: Sequence[PodClass] | None = None, loopback: bool = True) -> Iterator[Row]:
    """The rows of :func:`connectivity`, in its order (source, destination, protocol, via), produced one source
    group at a time: only the class-level answer and one source's rows are held in memory, so a writer can
    stream millions of rows."""
    for block in connection_blocks(compiled, by, group=group, among=among, loopback=loopback):
        src = block.source
        for dst, protocol, via, ports, partial in block.entries():
            yield src, dst, protocol, ports, partial, via


Entry = tuple[str, int, str, IntervalSet, bool]  # destination, protocol, via, ports, partial
Change = tuple[int, bool, Entry]  # at this position of a base: replace its entry (True) or insert before it


@dataclass(frozen=True, slots=True)
class Block:
    """One source group's rows: ``base`` (sorted by destination, protocol, via; the same list for every group
    of one Pod class) with ``changes`` (ascending) made to it. ``last``: no later block has this ``base``, so a
    writer caching what it made of it can drop that."""

    source: str
    base: list[Entry]
    changes: tuple[Change, ...]
    last: bool

    def entries(self) -> list[Entry]:
        """The group's rows: the base with the changes made."""
        return apply_changes(self.base, self.changes)


T = TypeVar("T")


def apply_changes(base: list[T], changes: Iterable[tuple[int, bool, T]]) -> list[T]:
    """``base`` with each (position, replaces, item) made: the item replaces ``base[position]`` or goes before
    it. Also used on what a writer made of a base's entries, position for position."""
    out: list[T] = []
    done = 0
    for position, replaces, item in changes:
        out.extend(base[done:position])
        out.append(item)
        done = position + 1 if replaces else position
    if not done and not out:
        return base
    out.extend(base[done:])
    return out


def connection_blocks(compiled: CompiledCluster, by: str = "workload", *, group: GroupOf | None = None,
                      among: Sequence[PodClass] | None = None, loopback: bool = True) -> Iterator[Block]:
    """The rows of :func:`connection_rows`, one :class:`Block` per source group, in order (the parameters are
    :func:`connectivity`'s)."""
    classes = [cls for cls in (compiled.policies.classes.classes if among is None else among) if cls.addressed]
    found = _Found()
    query = _Query(compiled, _PodNetwork(compiled), group or (lambda pod: group_name(pod, by)), found.add)
    # The class-level answer allocates many small containers the engine keeps (its walks' states, its remembered
    # port-space operations) and frees almost none: the cyclic collector would rescan them, and the model, for
    # nothing (about half the time of a matrix with 500 AdminNetworkPolicies).
    with paused_gc():
        answer = _class_pairs(query, classes)
        _outside(query, classes)
    yield from _blocks(query, answer, found, loopback)


class _Found:
    """Connections recorded per group pair (through node firewalls, SNAT, or with outside networks): per
    source group, (destination group, ports, partial, Service entered through)."""

    def __init__(self) -> None:
        self.by_source: dict[str, list[tuple[str, PortSpace, bool, str]]] = {}

    def add(self, src: str, dst: str, space: PortSpace, partial: bool, via: str = "") -> None:
        """Record that ``src`` reaches ``dst`` on ``space`` (``partial``: only some members do)."""
        self.by_source.setdefault(src, []).append((dst, space, partial, via))


@dataclass(frozen=True, slots=True)
class _ClassPairs:
    """The matrix between Pod classes where no node firewall stands between them (the rest is recorded per
    group pair in :class:`_Found`).

    ``pairs``: per source class, the destination classes it reaches and the ports; ``open_pairs``: the
    destinations on whose ingress no policy tier has a say, each with what it listens on, reached so by every
    source in ``open_egress`` (the classes on whose egress no tier has a say either); ``groups``: per class,
    the groups its Pods count in."""

    classes: list[PodClass]
    pairs: dict[int, list[tuple[int, PortSpace]]]
    open_pairs: list[tuple[int, PortSpace]]
    open_egress: set[int]
    groups: dict[int, list[str]]

    def reached(self, source: PodClass) -> list[tuple[int, PortSpace]]:
        """The classes ``source`` reaches without node firewalls in between, with the ports."""
        return self.pairs.get(source.id, []) + (self.open_pairs if source.id in self.open_egress else [])

    def profile(self, source: PodClass) -> tuple[object, ...]:
        """What decides ``source``'s rows: equal profiles, equal rows (before loopback). The spaces by identity:
        :func:`_class_pairs` hands out one object per value (:class:`_Intersections`), and they live as long as
        this answer (hashing them by value, three times per source, was a sixth of a matrix's time)."""
        return tuple([(d, id(space)) for d, space in self.pairs.get(source.id, ())]), source.id in self.open_egress


def _class_pairs(query: _Query, classes: list[PodClass]) -> _ClassPairs:
    """Every destination class judged against the source classes that may reach it (see the module doc)."""
    compiled, pod_network = query.compiled, query.pod_network
    engine = compiled.policies
    pods = compiled.topology.pods
    pairs: dict[int, list[tuple[int, PortSpace]]] = {}
    egress = {cls.id: engine.egress_spaces(cls) if cls.subject_to_policy else None for cls in classes}
    by_id = {cls.id: cls for cls in classes}
    host_network = [cls for cls in classes if not cls.subject_to_policy]
    groups = {cls.id: sorted({query.name(pods[position]) for position in cls.pods}) for cls in classes}
    placed = {cls.id: _placement(query, cls) for cls in classes}
    masquerade = _Masquerade(compiled)
    meet = _Intersections()
    # Without node firewalls, a Pod destination on whose ingress no policy tier has a say (no NetworkPolicy
    # isolates it, no AdminNetworkPolicy or BaselineAdminNetworkPolicy rule applies to it, nor any other tier's:
    # PolicyEngine.silent) gets from every source whose egress is open what it listens on (``open_pairs``,
    # shared by those sources), and from a source whose egress some tier decides what that egress allows to it
    # (below the loop, from the source's egress spaces).
    open_pairs: list[tuple[int, PortSpace]] = []
    open_to_all: set[int] = set()
    wanted = bitset(by_id)
    open_egress = bitset(class_id for class_id, sends in egress.items() if sends is None)
    for destination in classes:
        senders = engine.ingress_groups(destination) if destination.subject_to_policy else None
        listens = listening(destination)
        if pod_network.unfiltered and destination.subject_to_policy and senders is None and \
                engine.silent(INGRESS, destination.id):
            open_to_all.add(destination.id)
            if listens:
                open_pairs.append((destination.id, listens))
            continue
        # An isolated destination only hears from the classes its rules name (and from hostNetwork Pods,
        # which only ipBlocks can match): never loop over every source for it.
        # ...unless Pod traffic from other nodes reaches it SNATed to the node (ip-masq-agent): then any
        # class may be let in by an ipBlock holding a node address.
        snatted = senders is not None and masquerade.reaches(destination)
        ingress: dict[int, PortSpace] | None
        if senders is not None and not snatted and pod_network.unfiltered:
            _add_named_sources(pairs, meet, destination, senders, listens, egress, wanted, open_egress)
            # Left: the hostNetwork sources, which the ingress judges by their nodes' addresses (_policy_space
            # reads of ``ingress`` only that it is not None).
            ingress, sources = {}, host_network
        else:
            ingress = None if senders is None else engine.ingress_spaces(destination)
            sources = classes if ingress is None or snatted else \
                [by_id[class_id] for class_id in ingress if class_id in by_id] + host_network
        for source in sources:
            space = meet(_policy_space(compiled, meet, source, destination, ingress, egress[source.id]), listens)
            if snatted and source.subject_to_policy:
                sends = egress[source.id]
                sent = (EVERYTHING if sends is None else sends.get(destination.id, NOTHING)) & listens
                _add_snatted(query, masquerade, destination, space, sent, placed[source.id], placed[destination.id])
            elif not space:
                continue
            elif pod_network.unfiltered:
                pairs.setdefault(source.id, []).append((destination.id, space))
            else:
                _add_over_pod_network(query, space, placed[source.id], placed[destination.id],
                               replies_to_pods=source.subject_to_policy,  # a hostNetwork source: its node's address
                               to_host=not destination.subject_to_policy)
    for source in classes:
        for destination_id, allowed in (egress[source.id] or {}).items():
            if destination_id in open_to_all and (space := meet(allowed, listening(by_id[destination_id]))):
                pairs.setdefault(source.id, []).append((destination_id, space))
    return _ClassPairs(classes, pairs, open_pairs, {cls.id for cls in classes if egress[cls.id] is None}, groups)


def _add_named_sources(pairs: dict[int, list[tuple[int, PortSpace]]], meet: _Intersections, destination: PodClass,
                       groups: list[tuple[int, PortSpace]], listens: PortSpace,
                       egress: dict[int, dict[int, PortSpace] | None], wanted: int, open_egress: int) -> None:
    """The pairs from the Pod sources ``destination``'s ingress names (``groups``: sources by the space it allows
    them), among the ``wanted`` classes, without node firewalls or SNAT between them: what the ingress allows a
    source, AND what the destination listens on, AND (unless the source is in ``open_egress``, whose egress no
    tier decides) what the source's egress allows to it — as :func:`_policy_space` says for a Pod source.

    The first two are met once per group, not per source: a group the destination listens on none of the ports
    of costs nothing per source, and an open-egress source costs an append."""
    target = destination.id
    for peers, allowed_in in groups:
        base = meet(allowed_in, listens)
        if base is NOTHING:
            continue
        peers &= wanted
        for source_id in iter_members(peers & open_egress):
            pairs.setdefault(source_id, []).append((target, base))
        for source_id in iter_members(peers & ~open_egress):
            sends = egress[source_id]
            assert sends is not None
            allowed_out = sends.get(target, NOTHING)
            space = base if allowed_out is EVERYTHING else meet(base, allowed_out)
            if space is not NOTHING:
                pairs.setdefault(source_id, []).append((target, space))


Placement = dict[str, tuple[set[str], set[int]]]  # group → the nodes and node classes its members run on


def _add_over_pod_network(query: _Query, space: PortSpace, sources: Placement, destinations: Placement,
                   replies_to_pods: bool, to_host: bool) -> None:
    """Record what crosses the node firewalls between each source group and destination group of two classes."""
    for src, (src_nodes, src_classes) in sources.items():
        for dst, (dst_nodes, dst_classes) in destinations.items():
            got, partial = _over_pod_network(query.pod_network, space, src_nodes, src_classes, dst_nodes, dst_classes,
                                      replies_to_pods, to_host)
            if got:
                query.add(src, dst, got, partial)


def _add_snatted(query: _Query, masquerade: _Masquerade, destination: PodClass, same_node: PortSpace,
                 sent: PortSpace, sources: Placement, destinations: Placement) -> None:
    """:func:`_add_over_pod_network` for a destination reached SNATed from other nodes (:func:`_snatted_over_pod_network`)."""
    for src, (src_nodes, _) in sources.items():
        for dst, (dst_nodes, dst_classes) in destinations.items():
            got, partial = _snatted_over_pod_network(query.pod_network, masquerade, destination, same_node, sent, src_nodes,
                                              dst_nodes, dst_classes)
            if got:
                query.add(src, dst, got, partial)


def _blocks(query: _Query, answer: _ClassPairs, found: _Found, loopback: bool) -> Iterator[Block]:
    """The class-level answer and the per-group connections as one :class:`Block` per source group, in order."""
    groups, extra = answer.groups, found.by_source
    classes_of: dict[str, list[PodClass]] = {}
    for cls in answer.classes:
        for name in groups[cls.id]:
            classes_of.setdefault(name, []).append(cls)
    sizes = Counter(query.name(pod) for pod in query.compiled.topology.pods if pod.ips)
    source_groups = sorted(classes_of.keys() | extra.keys())
    # A source group made of one class, with nothing of its own, starts from its class's rows, which are
    # those of every class reaching the same classes on the same ports (computed once, dropped after the last
    # group using them), and only its loopback changes them.
    shared = {src: answer.profile(classes_of[src][0]) for src in source_groups
              if len(classes_of.get(src, ())) == 1 and src not in extra}
    remaining = Counter(shared.values())
    bases: dict[tuple[object, ...], list[Entry]] = {}
    for src in source_groups:
        members = classes_of.get(src, [])
        profile = shared.get(src)
        if profile is not None:
            base = bases.get(profile)
            if base is None:
                base = bases[profile] = _class_entries(answer.reached(members[0]), groups)
            remaining[profile] -= 1
            last = not remaining[profile]
            if last:
                del bases[profile]
            yield Block(src, base, _loopback_changes(base, members, src, sizes[src]) if loopback else (), last)
            continue
        acc: dict[tuple[str, int, str], tuple[IntervalSet, bool]] = {}
        for cls in members:
            for destination_id, space in answer.reached(cls):
                items = space.by_protocol
                for dst in groups[destination_id]:
                    for protocol, ports in items:
                        key = (dst, protocol, "")
                        old = acc.get(key)
                        acc[key] = (ports, False) if old is None else (old[0] | ports, old[1])
        for dst, space, partial, via in extra.get(src, ()):
            for protocol, ports in space:
                key = (dst, protocol, via)
                old = acc.get(key)
                acc[key] = (ports, partial) if old is None else (old[0] | ports, old[1] or partial)
        if loopback:
            _loopback(members, src, sizes[src], acc)
        yield Block(src, [(*key, *acc[key]) for key in sorted(acc)], (), True)


def _class_entries(pairs: Iterable[tuple[int, PortSpace]], groups: dict[int, list[str]]) -> list[Entry]:
    """A class's rows to the groups of the classes it reaches (``pairs``), sorted, none partial."""
    acc: dict[tuple[str, int, str], IntervalSet] = {}
    for destination_id, space in pairs:
        items = space.by_protocol
        for dst in groups[destination_id]:
            for protocol, ports in items:
                key = (dst, protocol, "")
                old = acc.get(key)
                acc[key] = ports if old is None else old | ports
    return [(*key, acc[key], False) for key in sorted(acc)]


def _loopback(members: Iterable[PodClass], group: str, size: int,
              acc: dict[tuple[str, int, str], tuple[IntervalSet, bool]]) -> None:
    """Each Pod reaches itself on every port it listens on (loopback: no policy, no firewall).

    A group of several Pods gets it as ``partial`` unless the pairs between its members already allow it.
    """
    for cls in members:
        for protocol, ports in listening(cls):
            key = (group, protocol, "")
            old, was_partial = acc.get(key, (IntervalSet(), False))
            if not ports - old:
                continue
            acc[key] = (old | ports, was_partial or size > 1)


def _loopback_changes(base: list[Entry], members: Iterable[PodClass], group: str, size: int) -> tuple[Change, ...]:
    """:func:`_loopback` for a group whose rows are ``base``: the changes it makes to them."""
    changes: dict[int, Change] = {}
    for cls in members:
        for protocol, ports in listening(cls):
            if protocol in changes:
                position, replaces, (_, _, _, old, was_partial) = changes[protocol]
            else:
                position = bisect.bisect_left(base, (group, protocol, ""))  # a shorter tuple sorts first
                replaces = position < len(base) and base[position][:3] == (group, protocol, "")
                old, was_partial = (base[position][3], base[position][4]) if replaces else (IntervalSet(), False)
            if not ports - old:
                continue
            changes[protocol] = (position, replaces, (group, protocol, "", old | ports, was_partial or size > 1))
    return tuple(sorted(changes.values(), key=lambda change: (change[0], change[1], change[2][1])))


def _policy_space(compiled: CompiledCluster, meet: _Intersections, source: PodClass, destination: PodClass,
                  ingress: dict[int, PortSpace] | None, egress: dict[int, PortSpace] | None) -> PortSpace:
    """What the destination's ingress and the source's egress allow between two classes, through every tier."""
    engine = compiled.policies
    if source.subject_to_policy:
        allowed_in = EVERYTHING if ingress is None else ingress.get(source.id, NOTHING)
    else:  # a hostNetwork source is seen with its nodes' addresses
        allowed_in = EVERYTHING if ingress is None else engine.address_space(
            INGRESS, destination, _node_addresses(compiled, source))[0]
    if not source.subject_to_policy or egress is None:
        allowed_out = EVERYTHING
    elif destination.subject_to_policy:
        allowed_out = egress.get(destination.id, NOTHING)
    else:
        allowed_out = engine.address_space(EGRESS, source, _node_addresses(compiled, destination))[0]
    return meet(allowed_in, allowed_out)


class _Intersections:
    """``first & second`` of port spaces, remembered by the operands' identity: the per-class answers hand the
    same space objects to many class pairs. An entry holds its operands, so their ids stay theirs; at most
    ``limit`` entries are kept (then they are dropped and gathered again). Equal answers are one object (the
    empty one is ``NOTHING``), so callers may compare answers by identity."""

    def __init__(self, limit: int = 65536) -> None:
        self.limit = limit
        self._found: dict[tuple[int, int], tuple[PortSpace, PortSpace, PortSpace]] = {}
        self._canonical: dict[PortSpace, PortSpace] = {NOTHING: NOTHING}  # one object per value answered

    def __call__(self, first: PortSpace, second: PortSpace) -> PortSpace:
        key = (id(first), id(second))
        found = self._found.get(key)
        if found is None:
            if len(self._found) >= self.limit:
                self._found.clear()
            meet = first & second
            found = self._found[key] = (first, second, self._canonical.setdefault(meet, meet))
        return found[2]


def _node_addresses(compiled: CompiledCluster, cls: PodClass) -> AddressSet:
    topology = compiled.topology
    nodes = {topology.pods[position].node_name for position in cls.pods}
    return AddressSet.of_networks(ip for node in nodes if node in topology.node_by_name
                                  for ip in topology.node_by_name[node].ips)


def _placement(query: _Query, cls: PodClass) -> Placement:
    """Per group, the nodes and node classes the class's members of that group run on."""
    out: Placement = {}
    node_class = query.pod_network.node_class
    for position in cls.pods:
        pod = query.compiled.topology.pods[position]
        nodes, node_classes = out.setdefault(query.name(pod), (set(), set()))
        nodes.add(pod.node_name)
        if pod.node_name in node_class:
            node_classes.add(node_class[pod.node_name])
    return out


def _over_pod_network(pod_network: _PodNetwork, space: PortSpace, src_nodes: set[str], src_classes: set[int], dst_nodes: set[str],
               dst_classes: set[int], replies_to_pods: bool, to_host: bool) -> tuple[PortSpace, bool]:
    """What crosses the node firewalls from one group's members to another's: (every port some pair gets,
    whether some pair gets less). Members on one node cross no firewall."""
    if len(src_nodes) == 1 and src_nodes == dst_nodes:
        return space, False
    some: PortSpace | None = None
    every: PortSpace = space
    for sender in src_classes:
        for receiver in dst_classes:
            got = pod_network.carries(sender, receiver, space, replies_to_pods, to_host)
            some = got if some is None else some | got
            every = every & got
    if src_nodes & dst_nodes:  # Pods meeting on one node always connect
        some = space
    some = some or NOTHING
    return some, some != every


class _Masquerade:
    """Pod traffic between nodes SNATed to the sending node (compile/masquerade.py; between Pods only
    ip-masq-agent does it, the CNIs' outbound NAT keeps the pod network): which destinations see the node."""

    def __init__(self, compiled: CompiledCluster) -> None:
        self.compiled = compiled
        self.kept = compiled.masquerade.kept
        self._ingress: dict[tuple[int, str], PortSpace] = {}

    def reaches(self, cls: PodClass) -> bool:
        """Pod traffic from another node to (some member of) ``cls`` arrives with the node's address."""
        pods = self.compiled.topology.pods
        return any(not self.kept.contains(ip) for position in cls.pods for ip in pods[position].ips[:1])

    def ingress_from(self, cls: PodClass, node_name: str) -> PortSpace:
        """What ``cls``'s ingress policy allows from ``node_name``'s address (the SNAT source)."""
        key = (cls.id, node_name)
        if key not in self._ingress:
            node = self.compiled.topology.node_by_name[node_name]
            seen = AddressSet.of_networks(ip for version in (4, 6) if (ip := node_ip(node, version)) is not None)
            self._ingress[key] = self.compiled.policies.address_space(INGRESS, cls, seen)[0]
        return self._ingress[key]


def _snatted_over_pod_network(pod_network: _PodNetwork, masquerade: _Masquerade, destination: PodClass, same_node: PortSpace,
                       sent: PortSpace, src_nodes: set[str], dst_nodes: set[str],
                       dst_classes: set[int]) -> tuple[PortSpace, bool]:
    """Like :func:`_over_pod_network` for a destination reached SNATed from other nodes: members on one node keep
    ``same_node`` (the class-level policy), the others get ``sent`` (egress and listening) AND what
    ``destination``'s ingress allows from their node's address, across the node firewalls."""
    by_key: dict[tuple[int | None, PortSpace], None] = {}
    for node in src_nodes:
        if dst_nodes == {node} or node not in pod_network.node_class:
            continue
        by_key[(pod_network.node_class[node], sent & masquerade.ingress_from(destination, node))] = None
    some: PortSpace = NOTHING
    every: PortSpace | None = None
    for sender, space in by_key:
        for receiver in dst_classes:
            got = space if pod_network.unfiltered or sender is None else pod_network.carries(sender, receiver, space, True)
            some = some | got
            every = got if every is None else every & got
    if src_nodes & dst_nodes:  # Pods meeting on one node keep their addresses
        some = some | same_node
        every = same_node if every is None else every & same_node
    return some, every is not None and some != every


def node_port_backends(compiled: CompiledCluster) -> Iterator[tuple[Service, ServicePort, tuple[Backend, ...]]]:
    """Each NodePort/LoadBalancer Service port with a nodePort and its backends: where outside networks enter
    (nothing when no component proxies Services)."""
    if not compiled.proxies_services:
        return
    for service in compiled.topology.services:
        if service.type not in ("NodePort", "LoadBalancer"):
            continue
        for service_port in service.ports:
            if service_port.node_port is not None:
                yield service, service_port, compiled.backends(service, service_port)


@dataclass(frozen=True, slots=True)
class OutsideEntry:
    """An outside network entering through one Service's nodePort: ``entry_nodes``, the nodes it may enter on
    (every node, or with ``externalTrafficPolicy: Local`` those running a backend); ``admitted``, those whose
    firewalls let it in, each with the clients they admit."""

    service: Service
    port: ServicePort
    network: str
    addresses: AddressSet
    entry_nodes: list[Node]
    admitted: list[tuple[Node, AddressSet]]


def _outside(query: _Query, classes: Iterable[PodClass]) -> None:
    """Record the connections between the Pods and the outside networks, both ways."""
    compiled = query.compiled
    engine = compiled.policies
    topology = compiled.topology
    pods = topology.pods
    networks = compiled.outside_networks
    # Pods → outside: egress policy, then the firewalls' egress on the Pods' nodes.
    for source in classes:
        for network, addresses in networks.items():
            if not addresses:
                continue
            ports, reached = (EVERYTHING, addresses) if not source.subject_to_policy else \
                engine.address_space(EGRESS, source, addresses)
            if not ports:
                continue
            ports, partial = _egress_firewalls(compiled, source, addresses, ports)
            if ports:
                for src in sorted({query.name(pods[position]) for position in source.pods}):
                    query.add(src, f"network:{network}", ports, partial or reached != addresses)
    # Outside → Pods through NodePort/LoadBalancer Services.
    entries: list[tuple[OutsideEntry, list[Backend]]] = []
    for service, service_port, all_backends in node_port_backends(compiled):
        assert service_port.node_port is not None
        backends = [backend for backend in all_backends if backend.pod is not None and backend.port is not None]
        for network, addresses in networks.items():
            if not addresses:
                continue
            entry_nodes = [node for node in topology.nodes if service.external_traffic_policy != "Local"
                           or any(backend.node is not None and backend.node.name == node.name
                                  for backend in backends)]
            admitted = [(node, seen) for node in entry_nodes
                        if (seen := _admits(compiled, node, addresses, service_port.protocol, service_port.node_port))]
            entry = OutsideEntry(service, service_port, network, addresses, entry_nodes, admitted)
            entries.append((entry, backends))
            for backend in backends:
                got = entered(query, entry, backend)
                if got is not None:
                    assert backend.pod is not None
                    query.add(f"network:{entry.network}", query.name(backend.pod), got[0], got[1],
                              f"Service {entry.service.qualified_name} NodePort {entry.port.node_port}")
    if (topology.gateway_api.gateways or topology.ingresses) and entries:
        # Outside → a proxy's Pods (the entries above: a Gateway's, an ingress controller's) → the backends of its
        # routes or rules.
        from netmodel.analyze.gateway_entries import enter_gateways
        from netmodel.analyze.ingress_entries import enter_ingresses
        from netmodel.analyze.proxy_entries import ProxyEntries

        proxies = ProxyEntries(compiled, entries, lambda entry, backend: entered(query, entry, backend), query.name,
                               query.add)
        enter_gateways(proxies)
        enter_ingresses(proxies)


def entered(query: _Query, entry: OutsideEntry, backend: Backend) -> tuple[PortSpace, bool] | None:
    """An outside network reaching one backend through the nodes its firewalls admit it on: the port it gets
    and whether only partly (some entry nodes or clients), or None when it gets nothing."""
    assert backend.pod is not None and backend.port is not None
    compiled, pod_network = query.compiled, query.pod_network
    cls = compiled.class_of(backend.pod)
    single = PortSpace.of({entry.port.protocol: IntervalSet.single(backend.port)}) & listening(cls)
    if not single:
        return None
    local = entry.service.external_traffic_policy == "Local"
    delivered = 0
    partial = False
    for node, clients in entry.admitted:
        if not local and backend.node is not None and backend.node.name != node.name and not pod_network.unfiltered and \
                not pod_network.carries(pod_network.node_class[node.name], pod_network.node_class[backend.node.name], single, False):
            continue  # SNATed at the entry node, then dropped between nodes
        seen_as = clients if local else AddressSet.of_networks(node.ips)
        allowed, reached = compiled.policies.address_space(INGRESS, cls, seen_as) if cls.subject_to_policy \
            else (EVERYTHING, seen_as)
        if not single & allowed:
            continue
        delivered += 1
        partial = partial or reached != seen_as or clients != entry.addresses
    return (single, partial or delivered < len(entry.entry_nodes)) if delivered else None


def _admits(compiled: CompiledCluster, node: Node, addresses: AddressSet, protocol: int, port: int) -> AddressSet:
    """The clients in ``addresses`` the node's firewalls let in on the nodePort and whose replies they let out."""
    allowed = compiled.firewalls.allowed_space(node, "ingress", Box(addresses, IntervalSet.single(protocol),
                                                                  IntervalSet.single(port)))
    clients = allowed.peers()
    return clients - blocked_reply_peers(compiled, node, "egress", clients, protocol) if clients else clients


def _outbound_parts(compiled: CompiledCluster, source: PodClass, node: Node,
                    addresses: AddressSet) -> list[tuple[AddressSet, AddressSet | None]]:
    """``addresses`` split by the source the node's egress firewalls see on Pod traffic to them: the Pods' own
    addresses where ip-masq-agent's nonMasqueradeCIDRs keep them, the node's (None) where the traffic is
    masqueraded, as the path engine's masquerade step decides."""
    masq = compiled.topology.cluster.non_masquerade_cidrs
    if masq is None:
        return [(addresses, None)]
    kept = addresses & AddressSet.of_networks(masq)
    pods = compiled.topology.pods
    own = AddressSet.of_networks(ip for position in source.pods if pods[position].node_name == node.name
                                 for ip in pods[position].ips)
    return [(part, local) for part, local in ((addresses - kept, None), (kept, own)) if part]


def _egress_firewalls(compiled: CompiledCluster, source: PodClass, addresses: AddressSet,
                      ports: PortSpace) -> tuple[PortSpace, bool]:
    """What the egress firewalls of ``source``'s nodes let out to ``addresses`` of ``ports`` (with replies),
    and whether some node or address gets less."""
    if not compiled.topology.firewalls:
        return ports, False
    nodes = sorted({compiled.topology.pods[position].node_name for position in source.pods})
    out: PortSpace | None = None
    partial = False
    for name in nodes:
        node = compiled.topology.node_by_name.get(name)
        if node is None:
            continue
        got = NOTHING
        parts = _outbound_parts(compiled, source, node, addresses)
        for number, (part, local) in enumerate(parts):
            kept: dict[int, IntervalSet] = {}
            for protocol, numbers in ports:
                space = compiled.firewalls.allowed_space(node, "egress", Box(part, IntervalSet.single(protocol),
                                                                           numbers), local)
                merged = IntervalSet()
                for box in space:
                    merged = merged | box.ports
                blocked = blocked_reply_peers(compiled, node, "ingress", part, protocol, local)
                kept[protocol] = merged if blocked != part else IntervalSet()
                partial = partial or any(not part <= box.peers for box in space) or not blocked.is_empty()
            part_ports = PortSpace.of(kept)
            partial = partial or (number > 0 and part_ports != got)
            got = got | part_ports
        partial = partial or (out is not None and got != out)
        out = got if out is None else out | got
    return out or NOTHING, partial
