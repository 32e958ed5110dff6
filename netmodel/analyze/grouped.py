"""The grouped connectivity map: the allowed connections as a few rules, exact, in the terms users wrote.

A rule says "these sources → these destinations: these protocols and ports". Together the rules expand to
exactly what :func:`netmodel.analyze.connectivity.connectivity` allows Pod by Pod (``--by pod``): every
(source, destination, protocol, port) it lists is covered by exactly one rule, with the same ``partial`` mark
and Service (``via``), and a rule covers nothing else. The one exception is a Pod reaching itself, which the
loopback line states for every Pod at once (each Pod reaches itself on every port it listens on); a rule whose
sources and destinations share a Pod says nothing about that Pod reaching itself beyond it.

How, never per Pod pair:

1. *Atoms*: Pods no connection can tell apart. Without node firewalls and without Pod traffic SNATed to the
   node, a Pod's row and column depend only on its class's NetworkPolicy behaviour: which policies isolate it
   (its ingress and egress rules), which rules name it as a peer, its declared ports (listeners, named ports),
   for a hostNetwork Pod its nodes, and the NodePort/LoadBalancer Service ports it backs. Classes with equal
   behaviour share an atom and one representative class is analyzed for all of them. With node firewalls or
   SNAT, an atom is one class on one node (what crosses the wire depends on the nodes).
2. The matrix between atoms and outside networks comes from ``connectivity`` itself over the representatives
   (one rule, one place), each cell the set of (Service, protocol, ports, partial) it allows.
3. *Grouping*: destinations with identical columns and sources with identical rows are merged; then, greedily
   and until nothing changes, rules with the same ports and the same destinations merge their sources and
   rules with the same ports and the same sources merge their destinations. Both orders are tried and the
   shorter result kept. Rules never overlap, so each pair keeps its own cell.
4. *Naming* (:mod:`netmodel.analyze.group_terms`): each group is said as namespaces, a label selector that
   selects exactly the group among the Pods in those namespaces, or workload and Pod names when no label does.

>>> from netmodel.model.build import load_topology
>>> from netmodel.analyze.reach import CompiledCluster
>>> grouped = grouped_connectivity(CompiledCluster(load_topology(["topologies/plain-manifests"])))
>>> for rule in grouped.rules:
...     print(f"{rule.source.text} → {rule.destination.text}: {rule.ports_text()}")
all Pods → app!=redis: TCP 80
app!=redis → app=redis: TCP 6379
role=follower → role=leader: TCP 6379
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from netmodel.analyze.connectivity import (
    Connection,
    _Masquerade,
    connectivity,
    listening,
    node_port_backends,
)
from netmodel.analyze.group_terms import (
    Selector,
    Universe,
    describe_ports,
    network_selector,
    pods_selector,
)
from netmodel.analyze.policy import PodClass
from netmodel.analyze.policy.bits import iter_members
from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.analyze.unevaluated import Unevaluated, kinds, to_json
from netmodel.sets import IntervalSet, format_ports, protocol_label

# One allowed entry of a cell: (Service entered through or "", protocol, ports, partial).
Entry = tuple[str, int, IntervalSet, bool]
Cell = tuple[Entry, ...]
NETWORK = "network:"


@dataclass(frozen=True, slots=True)
class GroupRule:
    """Every source Pod/network in ``source`` may open connections to every one in ``destination`` on
    ``entries`` (and nothing more between them, except each Pod to itself: see :class:`GroupedMap`)."""

    source: Selector
    destination: Selector
    entries: Cell
    namespaces: tuple[str, ...] = ()  # of the Pods on either side (what objects not evaluated could change)

    def ports_text(self) -> str:
        """The connections the rule allows, as text (``TCP 80,443; UDP 53``)."""
        return describe_ports(self.entries)

    def to_json(self) -> dict[str, object]:
        """The rule in the JSON map's schema: texts, selectors and the allowed ports per protocol."""
        return {"from": self.source.text, "to": self.destination.text, "connections": self.ports_text(),
                "fromSelector": self.source.to_json(), "toSelector": self.destination.to_json(),
                "allowed": [{"protocol": protocol_label(p), "ports": format_ports(ports), "partial": partial,
                             **({"via": via} if via else {})} for via, p, ports, partial in self.entries]}


@dataclass(frozen=True, slots=True)
class GroupedMap:
    """The rules, and whether a loopback line is needed (some Pod reaches itself on a port no rule covering
    it gives)."""

    rules: tuple[GroupRule, ...]
    loopback: bool
    units: tuple[str, ...]  # the atoms and outside networks grouped (for figures)


def grouped_connectivity(compiled: CompiledCluster) -> GroupedMap:
    """The exact grouped map of everything ``connectivity(compiled, "pod")`` allows (see the module doc)."""
    atoms, members = _atoms(compiled)
    reps = _representatives(compiled, atoms)
    pods = compiled.topology.pods
    index = compiled.topology.pod_position
    atom_of = {pos: a for a, positions in members.items() for pos in positions}
    connections = connectivity(compiled, group=lambda pod: atom_of[index[(pod.namespace, pod.name)]],
                               among=reps, loopback=False)
    cells = _cells(connections)
    units = sorted(set(members) | {u for pair in cells for u in pair})
    rules = _group(cells)
    universe = Universe.of(compiled)

    def selector(group: Iterable[str]) -> Selector:
        group = sorted(group)
        positions = [p for u in group if not u.startswith(NETWORK) for p in members[u]]
        networks = [u[len(NETWORK):] for u in group if u.startswith(NETWORK)]
        parts = ([pods_selector(universe, positions)] if positions else []) + \
            [network_selector(compiled, n) for n in networks]
        return Selector.join(parts)

    def namespaces(*groups: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted({pods[p].namespace for g in groups for u in g if not u.startswith(NETWORK)
                             for p in members[u]}))

    out = [GroupRule(selector(src), selector(dst), value, namespaces(src, dst)) for src, dst, value in rules]
    out.sort(key=lambda r: (r.source.text, r.destination.text, r.ports_text()))
    return GroupedMap(tuple(out), _needs_loopback(compiled, members, cells), tuple(units))


def _atoms(compiled: CompiledCluster) -> tuple[dict[int, str], dict[str, list[int]]]:
    """Pod position → atom name, and atom → Pod positions (Pods with an address only)."""
    engine = compiled.policies
    topology = compiled.topology
    classes = [c for c in engine.classes.classes if c.addressed]
    masquerade = _Masquerade(compiled)
    per_node = bool(topology.firewalls) or any(masquerade.reaches(c) for c in classes)
    behaviour = {c.id: ("class", c.id) for c in classes} if per_node else _behaviours(compiled, classes)
    backs = _backed_ports(compiled)
    keys: dict[tuple[object, ...], str] = {}
    atoms: dict[int, str] = {}
    members: dict[str, list[int]] = {}
    for c in classes:
        for position in c.pods:
            pod = topology.pods[position]
            key = (behaviour[c.id], pod.node_name if per_node else None, backs.get(position, ()))
            name = keys.setdefault(key, f"#{len(keys)}")
            atoms[position] = name
            members.setdefault(name, []).append(position)
    return atoms, members


def _behaviours(compiled: CompiledCluster, classes: list[PodClass]) -> dict[int, tuple[object, ...]]:
    """Per class, everything its row and column depend on when no firewall or SNAT makes nodes matter: per
    policy tier and direction, the rules that apply to it and whether the tier ends in deny for it (every tier:
    NetworkPolicy, the admin tiers, Cilium's), and which rules name it as a peer.

    Rules are compared by identity (the engine keeps each compiled rule, so ids stay theirs while it lives), and
    "which rules name a class" as which distinct (direction, peer classes) sets hold it: a rule names the class
    exactly when its set does, so both split the classes alike, and many rules share a set (every
    AdminNetworkPolicy of a team names the same namespaces), which keeps this to one pass per set."""
    engine = compiled.policies
    peer_sets: dict[tuple[str, int], int] = {}  # (direction, peer classes) → its number
    signature: dict[int, tuple[object, ...]] = {}
    seen: set[tuple[int, ...]] = set()  # the rule lists already looked at (many classes share one)
    for c in classes:
        parts: list[object] = []
        for tier in engine.tiers:
            for direction in ("ingress", "egress"):
                rules = tier.rules(direction, c.id)
                ids = tuple(map(id, rules))
                if ids not in seen:
                    seen.add(ids)
                    for rule in rules:
                        peer_sets.setdefault((direction, rule.peer_classes), len(peer_sets))
                parts.append((ids, tier.ends_in_deny(direction, c.id)))
        signature[c.id] = tuple(parts)
    named: dict[tuple[str, int], list[int]] = {}  # (direction, class) → the peer sets holding the class
    for (direction, peers), number in peer_sets.items():
        for member in iter_members(peers):
            named.setdefault((direction, member), []).append(number)
    pods = compiled.topology.pods
    out: dict[int, tuple[object, ...]] = {}
    for c in classes:
        nodes = frozenset(pods[i].node_name for i in c.pods) if c.host_network else None
        out[c.id] = (c.host_network, nodes, c.ports, signature[c.id], tuple(named.get(("ingress", c.id), ())),
                     tuple(named.get(("egress", c.id), ())))
    return out


def _backed_ports(compiled: CompiledCluster) -> dict[int, tuple[str, ...]]:
    """Pod position → the NodePort/LoadBalancer Service ports it backs and the Gateway listeners and Ingress rules
    that send to it (outside networks enter through them)."""
    topology = compiled.topology
    out: dict[int, list[str]] = {}
    if not compiled.outside_networks:
        return {}
    for service, service_port, backends in node_port_backends(compiled):
        for backend in backends:
            if backend.pod is not None:
                position = topology.pod_position[(backend.pod.namespace, backend.pod.name)]
                out.setdefault(position, []).append(
                    f"{service.namespace}/{service.name}/{service_port.node_port}/{backend.port}")
    if topology.gateway_api.gateways:
        from netmodel.analyze.gateway_entries import gateway_backed

        for key, listeners in gateway_backed(compiled).items():
            out.setdefault(topology.pod_position[key], []).extend(listeners)
    if topology.ingresses:
        from netmodel.analyze.ingress_entries import ingress_backed

        for key, rules in ingress_backed(compiled).items():
            out.setdefault(topology.pod_position[key], []).extend(rules)
    return {position: tuple(sorted(ports)) for position, ports in out.items()}


def _representatives(compiled: CompiledCluster, atoms: dict[int, str]) -> list[PodClass]:
    """One class per set of atoms: the classes whose Pods fall in atoms no earlier class covers."""
    engine = compiled.policies
    seen: set[frozenset[str]] = set()
    out = []
    for c in engine.classes.classes:
        if not c.addressed:
            continue
        key = frozenset(atoms[p] for p in c.pods)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _cells(connections: Iterable[Connection]) -> dict[tuple[str, str], Cell]:
    entries: dict[tuple[str, str], list[Entry]] = {}
    for c in connections:
        entries.setdefault((c.source, c.destination), []).append((c.via, c.protocol, c.ports, c.partial))
    return {pair: tuple(sorted(v, key=lambda e: (e[0], e[1], tuple(e[2]), e[3]))) for pair, v in entries.items()}


Rule = tuple[frozenset[str], frozenset[str], Cell]


def _group(cells: dict[tuple[str, str], Cell]) -> list[Rule]:
    """Non-overlapping rules covering exactly the cells; the shorter of the two merge orders."""
    rows: dict[str, dict[str, Cell]] = {}
    for (s, d), v in cells.items():
        rows.setdefault(s, {})[d] = v
    columns: dict[str, dict[str, Cell]] = {}
    for (s, d), v in cells.items():
        columns.setdefault(d, {})[s] = v
    one = _merge(_blocks(rows, columns))
    other = [(s, d, v) for d, s, v in _merge(_blocks(columns, rows))]
    return one if len(one) <= len(other) else other


def _blocks(rows: dict[str, dict[str, Cell]], columns: dict[str, dict[str, Cell]]) -> list[Rule]:
    """Columns with equal contents merged, then rows equal over the merged columns, then per row group the
    column groups with one value."""
    col_groups: dict[frozenset[tuple[str, Cell]], list[str]] = {}
    for d, column in columns.items():
        col_groups.setdefault(frozenset(column.items()), []).append(d)
    col_of = {d: i for i, ds in enumerate(col_groups.values()) for d in ds}
    groups = list(col_groups.values())
    row_groups: dict[frozenset[tuple[int, Cell]], list[str]] = {}
    for s, row in rows.items():
        row_groups.setdefault(frozenset((col_of[d], v) for d, v in row.items()), []).append(s)
    out: list[Rule] = []
    for signature, sources in row_groups.items():
        by_value: dict[Cell, set[str]] = {}
        for i, v in signature:
            by_value.setdefault(v, set()).update(groups[i])
        out.extend((frozenset(sources), frozenset(ds), v) for v, ds in by_value.items())
    return out


def _merge(rules: list[Rule]) -> list[Rule]:
    """Rules with equal ports and equal destinations merge sources, and the converse, until stable."""
    while True:
        by_dst: dict[tuple[frozenset[str], Cell], set[str]] = {}
        for s, d, v in rules:
            by_dst.setdefault((d, v), set()).update(s)
        merged = [(frozenset(s), d, v) for (d, v), s in by_dst.items()]
        by_src: dict[tuple[frozenset[str], Cell], set[str]] = {}
        for s, d, v in merged:
            by_src.setdefault((s, v), set()).update(d)
        merged = [(s, frozenset(d), v) for (s, v), d in by_src.items()]
        if len(merged) == len(rules):
            return sorted(merged, key=lambda r: (sorted(r[0]), sorted(r[1])))
        rules = merged


def _needs_loopback(compiled: CompiledCluster, members: dict[str, list[int]], cells: dict[tuple[str, str], Cell]) -> bool:
    """Whether some Pod listens on a port the cell between its atom and itself does not give."""
    engine = compiled.policies
    for atom, positions in members.items():
        cls = engine.classes.classes[engine.classes.class_of_pod[positions[0]]]
        given = {p: ports for via, p, ports, partial in cells.get((atom, atom), ()) if not via and not partial}
        for protocol, ports in listening(cls):
            if not ports <= given.get(protocol, IntervalSet()):
                return True
    return False


LOOPBACK = {"from": "each Pod", "to": "itself",
            "connections": "every port it listens on (its containerPorts; all ports when it declares none)"}


def grouped_json(compiled: CompiledCluster, skipped: Unevaluated | None = None) -> dict[str, object]:
    """The JSON answer of ``netmodel matrix`` (schema: netmodel/schemas/matrix.schema.json, ``by: group``).

    ``loopback`` true: each Pod also reaches itself on every port it listens on (containerPorts, or every port
    when it declares none), which the rules alone do not give. With objects netmodel does not evaluate, each
    rule they could change lists their kinds under ``notEvaluated``.
    """
    grouped = grouped_connectivity(compiled)
    rules = []
    for rule in grouped.rules:
        row = rule.to_json()
        found = skipped.affecting(rule.namespaces) if skipped else ()
        if found:
            row["notEvaluated"] = kinds(found)
        rules.append(row)
    out: dict[str, object] = {"by": "group", "rules": rules, "loopback": grouped.loopback}
    if skipped:
        out["notEvaluated"] = to_json(skipped.affecting(skipped.by_namespace))
    return out


__all__ = ["LOOPBACK", "GroupRule", "GroupedMap", "grouped_connectivity", "grouped_json"]
