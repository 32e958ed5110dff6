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
from netmodel.analyze.reach.compiled_cluster import Backend, CompiledCluster
from netmodel.analyze.reach.crossing import node_ip, reply_is_tracked
from netmodel.analyze.reach.replies import blocked_reply_peers
from netmodel.compile.firewalls import Verdict
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


class _Wire:
    """Whether the Pod network carries a port space between two node classes (cached per pair)."""

    def __init__(self, compiled: CompiledCluster) -> None:
        self.compiled = compiled
        groups: dict[tuple[object, ...], list[Node]] = {}
        for n in compiled.topology.nodes:
            groups.setdefault(compiled.firewalls.class_key(n), []).append(n)
        self.node_class = {n.name: i for i, nodes in enumerate(groups.values()) for n in nodes}
        self.representative = [nodes[0] for nodes in groups.values()]
        self.size = [len(nodes) for nodes in groups.values()]
        self.unfiltered = not compiled.topology.firewalls
        self._cache: dict[tuple[int, int, PortSpace, bool, bool], PortSpace] = {}

    def carries(self, a: int, b: int, space: PortSpace, replies_to_pods: bool = True,
                to_host: bool = False) -> PortSpace:
        """What node class ``a`` can send to Pods on node class ``b``; ``replies_to_pods``: the source is a Pod
        address, so with a tunnel the replies come back encapsulated and must pass too; ``to_host``: the
        destination is a hostNetwork Pod (its node's address, never encapsulated)."""
        key = (a, b, space, replies_to_pods, to_host)
        if key not in self._cache:
            self._cache[key] = self._compute(self.representative[a], self.representative[b], space,
                                             replies_to_pods, to_host)
        return self._cache[key]

    def _compute(self, a: Node, b: Node, space: PortSpace, replies_to_pods: bool, to_host: bool) -> PortSpace:
        fw, tunnel = self.compiled.firewalls, self.compiled.tunnel
        a_range = AddressSet.of_networks(a.pod_cidrs)
        b_range = AddressSet.of_networks(b.ips if to_host else b.pod_cidrs)
        pod_source = replies_to_pods and self._keeps_pod_source(b_range)
        # What b's firewalls see as the source: the Pod range, or a's address once SNATed (or hostNetwork).
        a_seen = a_range if pod_source else AddressSet.of_networks(a.ips)
        encapsulated = tunnel is not None and not to_host
        out: dict[int, IntervalSet] = {}
        if tunnel is not None and not to_host:  # encapsulated
            proto, port, _ = tunnel
            a_ip, b_ip = _underlay_ip(a, a_range), _underlay_ip(b, b_range)
            if a_ip is None or b_ip is None:
                return NOTHING
            if not (fw.decide(a, "egress", b_ip, proto, port).allowed
                    and fw.decide(b, "ingress", a_ip, proto, port).allowed):
                return NOTHING
            out = dict(space)
        else:
            for protocol, ports in space:
                protos = IntervalSet.single(protocol)
                sent = _covering(fw.allowed_space(a, "egress", Box(b_range, protos, ports), a_seen), b_range)
                taken = _covering(fw.allowed_space(b, "ingress", Box(a_seen, protos, ports), b_range), a_seen)
                out[protocol] = sent & taken
        if tunnel is not None and pod_source:  # replies to a Pod address: a new outer packet b → a
            proto, port, _ = tunnel
            a_ip, b_ip = _underlay_ip(a, a_range), _underlay_ip(b, b_range)
            if a_ip is None or b_ip is None:
                return NOTHING
            tracked = encapsulated and reply_is_tracked(tunnel)
            if not (_passes(fw.decide(b, "egress", a_ip, proto, port), tracked)
                    and _passes(fw.decide(a, "ingress", b_ip, proto, port), tracked)):
                return NOTHING
        else:  # the plain reversed packet, b_range → a_seen
            out = {protocol: ports for protocol, ports in out.items()
                   if blocked_reply_peers(self.compiled, b, "egress", a_seen, protocol, b_range).is_empty()
                   and blocked_reply_peers(self.compiled, a, "ingress", b_range, protocol, a_seen).is_empty()}
        return PortSpace.of(out)

    def _keeps_pod_source(self, destinations: AddressSet) -> bool:
        """Pod traffic to ``destinations`` keeps its Pod source (no CNI outbound NAT or ip-masq-agent rule SNATs
        it to the node; compile/masquerade.py)."""
        return destinations <= self.compiled.masquerade.kept


def _passes(verdict: Verdict, tracked: bool) -> bool:
    """A reply outer packet passes: allowed by the rules, or (tracked) by a stateful firewall as established."""
    return all(d.allowed or (tracked and d.firewall.stateful) for d in verdict.decisions)


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
    engine = compiled.policies
    name: GroupOf = group or (lambda pod: group_name(pod, by))
    classes = [c for c in (engine.classes.classes if among is None else among) if c.addressed]
    pods = compiled.topology.pods
    wire = _Wire(compiled)
    # Class pairs whose every group pair gets one port space (no node firewall between them): stored once per
    # class pair and expanded to groups per source. Everything else is stored per group pair in ``extra``.
    pairs: dict[int, list[tuple[int, PortSpace]]] = {}
    extra: dict[str, list[tuple[str, PortSpace, bool, str]]] = {}

    def add(src: str, dst: str, space: PortSpace, partial: bool, via: str = "") -> None:
        extra.setdefault(src, []).append((dst, space, partial, via))

    egress = {c.id: engine.egress_spaces(c) if c.subject_to_policy else None for c in classes}
    by_id = {c.id: c for c in classes}
    host_network = [c for c in classes if not c.subject_to_policy]
    groups = {c.id: sorted({name(pods[i]) for i in c.pods}) for c in classes}
    placed = {c.id: _placement(compiled, wire, c, name) for c in classes}
    masquerade = _Masquerade(compiled)
    # Without node firewalls, a Pod destination on whose ingress no policy tier has a say (no NetworkPolicy
    # isolates it, no AdminNetworkPolicy or BaselineAdminNetworkPolicy rule applies to it, nor any other tier's:
    # PolicyEngine.silent) gets from every source whose egress is open what it listens on (``open_pairs``,
    # shared by those sources), and from a source whose egress some tier decides what that egress allows to it
    # (below the loop, from the source's egress spaces).
    open_pairs: list[tuple[int, PortSpace]] = []
    open_to_all: set[int] = set()
    for d in classes:
        ingress = engine.ingress_spaces(d) if d.subject_to_policy else None
        listens = listening(d)
        if wire.unfiltered and d.subject_to_policy and ingress is None and engine.silent(INGRESS, d.id):
            open_to_all.add(d.id)
            if listens:
                open_pairs.append((d.id, listens))
            continue
        # An isolated destination only hears from the classes its rules name (and from hostNetwork Pods,
        # which only ipBlocks can match): never loop over every source for it.
        # ...unless Pod traffic from other nodes reaches it SNATed to the node (ip-masq-agent): then any
        # class may be let in by an ipBlock holding a node address.
        snatted = ingress is not None and masquerade.reaches(d)
        sources = classes if ingress is None or snatted else \
            [by_id[i] for i in ingress if i in by_id] + host_network
        for s in sources:
            space = _policy_space(compiled, s, d, ingress, egress[s.id])
            space = space & listens
            if snatted and s.subject_to_policy:
                sends = egress[s.id]
                sent = EVERYTHING if sends is None else sends.get(d.id, NOTHING)
                for src, (src_nodes, _) in placed[s.id].items():
                    for dst, (dst_nodes, dst_classes) in placed[d.id].items():
                        got, partial = _snatted_over_wire(wire, masquerade, d, space, sent & listens, src_nodes,
                                                          dst_nodes, dst_classes)
                        if got:
                            add(src, dst, got, partial)
                continue
            if not space:
                continue
            if wire.unfiltered:
                pairs.setdefault(s.id, []).append((d.id, space))
                continue
            replies_to_pods = s.subject_to_policy  # a hostNetwork source speaks with its node's address
            for src, (src_nodes, src_classes) in placed[s.id].items():
                for dst, (dst_nodes, dst_classes) in placed[d.id].items():
                    got, partial = _over_wire(wire, space, src_nodes, src_classes, dst_nodes, dst_classes,
                                              replies_to_pods, not d.subject_to_policy)
                    if got:
                        add(src, dst, got, partial)
    for s in classes:
        for d_id, allowed in (egress[s.id] or {}).items():
            if d_id in open_to_all and (space := allowed & listening(by_id[d_id])):
                pairs.setdefault(s.id, []).append((d_id, space))

    def reached(s: PodClass) -> list[tuple[int, PortSpace]]:
        """The classes ``s`` reaches without node firewalls in between, with the ports."""
        return pairs.get(s.id, []) + (open_pairs if egress[s.id] is None else [])

    def profile(s: PodClass) -> tuple[object, ...]:
        return tuple(pairs.get(s.id, ())), egress[s.id] is None

    _outside(compiled, classes, wire, add, name)
    classes_of: dict[str, list[PodClass]] = {}
    for c in classes:
        for g in groups[c.id]:
            classes_of.setdefault(g, []).append(c)
    sizes = Counter(name(p) for p in compiled.topology.pods if p.ips)
    source_groups = sorted(classes_of.keys() | extra.keys())
    # A source group made of one class, with nothing of its own, starts from its class's rows, which are
    # those of every class reaching the same classes on the same ports (computed once, dropped after the last
    # group using them), and only its loopback changes them.
    shared = {src: profile(classes_of[src][0]) for src in source_groups
              if len(classes_of.get(src, ())) == 1 and src not in extra}
    remaining = Counter(shared.values())
    bases: dict[tuple[object, ...], list[Entry]] = {}
    for src in source_groups:
        members = classes_of.get(src, [])
        key = shared.get(src)
        if key is not None:
            base = bases.get(key)
            if base is None:
                base = bases[key] = _class_entries(reached(members[0]), groups)
            remaining[key] -= 1
            last = not remaining[key]
            if last:
                del bases[key]
            yield Block(src, base, _loopback_changes(base, members, src, sizes[src]) if loopback else (), last)
            continue
        acc: dict[tuple[str, int, str], tuple[IntervalSet, bool]] = {}
        for s in members:
            for d_id, space in reached(s):
                items = space.by_protocol
                for dst in groups[d_id]:
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
        yield Block(src, [(k[0], k[1], k[2], *acc[k]) for k in sorted(acc)], (), True)


def _class_entries(pairs: Iterable[tuple[int, PortSpace]], groups: dict[int, list[str]]) -> list[Entry]:
    """A class's rows to the groups of the classes it reaches (``pairs``), sorted, none partial."""
    acc: dict[tuple[str, int, str], IntervalSet] = {}
    for d_id, space in pairs:
        items = space.by_protocol
        for dst in groups[d_id]:
            for protocol, ports in items:
                key = (dst, protocol, "")
                old = acc.get(key)
                acc[key] = ports if old is None else old | ports
    return [(k[0], k[1], k[2], acc[k], False) for k in sorted(acc)]


def _loopback(members: Iterable[PodClass], group: str, size: int,
              acc: dict[tuple[str, int, str], tuple[IntervalSet, bool]]) -> None:
    """Each Pod reaches itself on every port it listens on (loopback: no policy, no firewall).

    A group of several Pods gets it as ``partial`` unless the pairs between its members already allow it.
    """
    for c in members:
        for protocol, ports in listening(c):
            key = (group, protocol, "")
            old, was_partial = acc.get(key, (IntervalSet(), False))
            if not ports - old:
                continue
            acc[key] = (old | ports, was_partial or size > 1)


def _loopback_changes(base: list[Entry], members: Iterable[PodClass], group: str, size: int) -> tuple[Change, ...]:
    """:func:`_loopback` for a group whose rows are ``base``: the changes it makes to them."""
    found: dict[int, Change] = {}
    for c in members:
        for protocol, ports in listening(c):
            if protocol in found:
                position, replaces, (_, _, _, old, was_partial) = found[protocol]
            else:
                position = bisect.bisect_left(base, (group, protocol, ""))  # a shorter tuple sorts first
                replaces = position < len(base) and base[position][:3] == (group, protocol, "")
                old, was_partial = (base[position][3], base[position][4]) if replaces else (IntervalSet(), False)
            if not ports - old:
                continue
            found[protocol] = (position, replaces, (group, protocol, "", old | ports, was_partial or size > 1))
    return tuple(sorted(found.values(), key=lambda change: (change[0], change[1], change[2][1])))


def _policy_space(compiled: CompiledCluster, s: PodClass, d: PodClass, ingress: dict[int, PortSpace] | None,
                  egress: dict[int, PortSpace] | None) -> PortSpace:
    engine = compiled.policies
    if s.subject_to_policy:
        allowed_in = EVERYTHING if ingress is None else ingress.get(s.id, NOTHING)
    else:  # a hostNetwork source is seen with its nodes' addresses
        allowed_in = EVERYTHING if ingress is None else engine.address_space(
            INGRESS, d, _node_addresses(compiled, s))[0]
    if not s.subject_to_policy or egress is None:
        allowed_out = EVERYTHING
    elif d.subject_to_policy:
        allowed_out = egress.get(d.id, NOTHING)
    else:
        allowed_out = engine.address_space(EGRESS, s, _node_addresses(compiled, d))[0]
    return allowed_in & allowed_out


def _node_addresses(compiled: CompiledCluster, cls: PodClass) -> AddressSet:
    nodes = {compiled.topology.pods[i].node_name for i in cls.pods}
    return AddressSet.of_networks(ip for n in nodes if n in compiled.topology.node_by_name
                                  for ip in compiled.topology.node_by_name[n].ips)


def _placement(compiled: CompiledCluster, wire: _Wire, cls: PodClass, name: GroupOf) -> dict[str, tuple[set[str], set[int]]]:
    """Per group, the nodes and node classes the class's members of that group run on."""
    out: dict[str, tuple[set[str], set[int]]] = {}
    for i in cls.pods:
        pod = compiled.topology.pods[i]
        nodes, node_classes = out.setdefault(name(pod), (set(), set()))
        nodes.add(pod.node_name)
        if pod.node_name in wire.node_class:
            node_classes.add(wire.node_class[pod.node_name])
    return out


def _over_wire(wire: _Wire, space: PortSpace, src_nodes: set[str], src_classes: set[int], dst_nodes: set[str],
               dst_classes: set[int], replies_to_pods: bool, to_host: bool) -> tuple[PortSpace, bool]:
    """What crosses the node firewalls from one group's members to another's: (every port some pair gets,
    whether some pair gets less). Members on one node cross no firewall."""
    if len(src_nodes) == 1 and src_nodes == dst_nodes:
        return space, False
    some: PortSpace | None = None
    every: PortSpace = space
    for a in src_classes:
        for b in dst_classes:
            got = wire.carries(a, b, space, replies_to_pods, to_host)
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
        return any(not self.kept.contains(ip) for i in cls.pods for ip in pods[i].ips[:1])

    def ingress_from(self, cls: PodClass, node_name: str) -> PortSpace:
        """What ``cls``'s ingress policy allows from ``node_name``'s address (the SNAT source)."""
        key = (cls.id, node_name)
        if key not in self._ingress:
            node = self.compiled.topology.node_by_name[node_name]
            seen = AddressSet.of_networks(ip for v in (4, 6) if (ip := node_ip(node, v)) is not None)
            self._ingress[key] = self.compiled.policies.address_space(INGRESS, cls, seen)[0]
        return self._ingress[key]


def _snatted_over_wire(wire: _Wire, masquerade: _Masquerade, d: PodClass, same_node: PortSpace, sent: PortSpace,
                       src_nodes: set[str], dst_nodes: set[str], dst_classes: set[int]) -> tuple[PortSpace, bool]:
    """Like :func:`_over_wire` for a destination reached SNATed from other nodes: members on one node keep
    ``same_node`` (the class-level policy), the others get ``sent`` (egress and listening) AND what ``d``'s
    ingress allows from their node's address, across the node firewalls."""
    by_key: dict[tuple[int | None, PortSpace], None] = {}
    for n in src_nodes:
        if dst_nodes == {n} or n not in wire.node_class:
            continue
        by_key[(wire.node_class[n], sent & masquerade.ingress_from(d, n))] = None
    some: PortSpace = NOTHING
    every: PortSpace | None = None
    for a, space in by_key:
        for b in dst_classes:
            got = space if wire.unfiltered or a is None else wire.carries(a, b, space, True)
            some = some | got
            every = got if every is None else every & got
    if src_nodes & dst_nodes:  # Pods meeting on one node keep their addresses
        some = some | same_node
        every = same_node if every is None else every & same_node
    return some, every is not None and some != every


def _outside(compiled: CompiledCluster, classes: Iterable[PodClass], wire: _Wire, add: _Add, name: GroupOf) -> None:
    engine = compiled.policies
    topology = compiled.topology
    pods = topology.pods
    networks = compiled.outside_networks
    classes = list(classes)
    # Pods → outside: egress policy, then the firewalls' egress on the Pods' nodes.
    for s in classes:
        for network, addresses in networks.items():
            if not addresses:
                continue
            ports, reached = (EVERYTHING, addresses) if not s.subject_to_policy else \
                engine.address_space(EGRESS, s, addresses)
            if not ports:
                continue
            ports, partial = _egress_firewalls(compiled, s, addresses, ports)
            if ports:
                for src in sorted({name(pods[i]) for i in s.pods}):
                    add(src, f"network:{network}", ports, partial or reached != addresses)
    # Outside → Pods through NodePort/LoadBalancer Services.
    if not compiled.proxies_services:
        return
    for svc in topology.services:
        if svc.type not in ("NodePort", "LoadBalancer"):
            continue
        for sp in svc.ports:
            if sp.node_port is None:
                continue
            backends = [b for b in compiled.backends(svc, sp) if b.pod is not None and b.port is not None]
            for network, addresses in networks.items():
                if not addresses:
                    continue
                entry_nodes = [n for n in topology.nodes if svc.external_traffic_policy != "Local"
                               or any(b.node is not None and b.node.name == n.name for b in backends)]
                admitted = [(n, seen) for n in entry_nodes
                            if (seen := _admits(compiled, n, addresses, sp.protocol, sp.node_port))]
                for b in backends:
                    _enter(compiled, wire, add, name, svc, sp, b, network, addresses, entry_nodes, admitted)


def _enter(compiled: CompiledCluster, wire: _Wire, add: _Add, name: GroupOf, svc: Service, sp: ServicePort, b: Backend,
           network: str, addresses: AddressSet, entry_nodes: list[Node], admitted: list[tuple[Node, AddressSet]]) -> None:
    """An outside network reaching one backend through the nodes its firewalls admit it on."""
    assert b.pod is not None and b.port is not None
    engine = compiled.policies
    cls = compiled.class_of(b.pod)
    single = PortSpace.of({sp.protocol: IntervalSet.single(b.port)}) & listening(cls)
    if not single:
        return
    local = svc.external_traffic_policy == "Local"
    delivered = 0
    partial = False
    for node, clients in admitted:
        if not local and b.node is not None and b.node.name != node.name and not wire.unfiltered and \
                not wire.carries(wire.node_class[node.name], wire.node_class[b.node.name], single, False):
            continue  # SNATed at the entry node, then dropped between nodes
        seen_as = clients if local else AddressSet.of_networks(node.ips)
        allowed, reached = engine.address_space(INGRESS, cls, seen_as) if cls.subject_to_policy \
            else (EVERYTHING, seen_as)
        if not single & allowed:
            continue
        delivered += 1
        partial = partial or reached != seen_as or clients != addresses
    if delivered:
        add(f"network:{network}", name(b.pod), single, partial or delivered < len(entry_nodes),
            f"Service {svc.qualified_name} NodePort {sp.node_port}")


def _admits(compiled: CompiledCluster, node: Node, addresses: AddressSet, protocol: int, port: int) -> AddressSet:
    """The clients in ``addresses`` the node's firewalls let in on the nodePort and whose replies they let out."""
    allowed = compiled.firewalls.allowed_space(node, "ingress", Box(addresses, IntervalSet.single(protocol),
                                                                  IntervalSet.single(port)))
    clients = allowed.peers()
    return clients - blocked_reply_peers(compiled, node, "egress", clients, protocol) if clients else clients


def _outbound_parts(compiled: CompiledCluster, s: PodClass, node: Node,
                    addresses: AddressSet) -> list[tuple[AddressSet, AddressSet | None]]:
    """``addresses`` split by the source the node's egress firewalls see on Pod traffic to them: the Pods' own
    addresses where ip-masq-agent's nonMasqueradeCIDRs keep them, the node's (None) where the traffic is
    masqueraded, as the path engine's masquerade step decides."""
    masq = compiled.topology.cluster.non_masquerade_cidrs
    if masq is None:
        return [(addresses, None)]
    kept = addresses & AddressSet.of_networks(masq)
    pods = compiled.topology.pods
    own = AddressSet.of_networks(ip for i in s.pods if pods[i].node_name == node.name for ip in pods[i].ips)
    return [(part, local) for part, local in ((addresses - kept, None), (kept, own)) if part]


def _egress_firewalls(compiled: CompiledCluster, s: PodClass, addresses: AddressSet, ports: PortSpace) -> tuple[PortSpace, bool]:
    if not compiled.topology.firewalls:
        return ports, False
    nodes = sorted({compiled.topology.pods[i].node_name for i in s.pods})
    out: PortSpace | None = None
    partial = False
    for name in nodes:
        node = compiled.topology.node_by_name.get(name)
        if node is None:
            continue
        got = NOTHING
        parts = _outbound_parts(compiled, s, node, addresses)
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
                partial = partial or any(not part <= b.peers for b in space) or not blocked.is_empty()
            part_ports = PortSpace.of(kept)
            partial = partial or (number > 0 and part_ports != got)
            got = got | part_ports
        partial = partial or (out is not None and got != out)
        out = got if out is None else out | got
    return out or NOTHING, partial
