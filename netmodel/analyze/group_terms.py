"""Saying a group of Pods (and outside networks) in the terms users wrote, exactly.

A :class:`Selector` is a list of terms that OR; a Pod matches a term when every field the term has matches
(fields AND):

* ``namespaces``: ``{"in": [...]}`` or ``{"notIn": [...]}`` — the Pod's namespace;
* ``labels``: requirements as in a Kubernetes ``matchExpressions`` (``In``: the key is present with one of the
  values; ``NotIn``: the key is absent or has another value; ``Exists``);
* ``workloads`` / ``pods``: the Pod's workload (``NS/NAME[Kind]``, as ``matrix --by workload`` names it) or the
  Pod itself (``NS/NAME``) is listed (either matches);
* ``network``: an outside network by name (a term with only this field matches that network, no Pod).

A term with no field matches every Pod. Pods are those with an address: Pending Pods connect to nothing and
are in no group. Each selector is built to select *exactly* its group among all those Pods; the property test
(tests/test_grouped.py) evaluates it back independently.

>>> Term(namespaces=("in", ("shop",)), labels=(("app", "In", ("api", "web")),)).text()
'ns in [shop]: app in (api, web)'
>>> Term().text()
'all Pods'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from netmodel.analyze.connectivity import group_name
from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.model.labels import Labels
from netmodel.sets import ALL_PORTS, IntervalSet, format_ports, protocol_label
from netmodel.sets.ports import SCTP, TCP, UDP

Requirement = tuple[str, str, tuple[str, ...]]  # (key, In | NotIn | Exists, values)


@dataclass(frozen=True, slots=True)
class Term:
    """One conjunct of a group's description: namespaces, labels, workloads, Pods or an outside network."""
    namespaces: tuple[str, tuple[str, ...]] | None = None  # ("in" | "notIn", names)
    labels: tuple[Requirement, ...] = ()
    workloads: tuple[str, ...] = ()
    pods: tuple[str, ...] = ()
    network: str = ""
    network_text: str = ""

    def text(self) -> str:
        """The term as a reader sees it in the map (``ns in [a, b], app in (x, y)``)."""
        if self.network:
            return self.network_text or f"network:{self.network}"
        if self.workloads or self.pods:  # names carry their namespace
            return ", ".join(self.workloads + self.pods)
        ns = ""
        if self.namespaces is not None:
            op, values = self.namespaces
            ns = ("ns in [" if op == "in" else "ns not in [") + ", ".join(values) + "]"
        labels = ", ".join(_requirement_text(r) for r in self.labels)
        if not ns and not labels:
            return "all Pods"
        if not labels:
            return ns
        return f"{ns}: {labels}" if ns else labels

    def to_json(self) -> dict[str, object]:
        """The term in the JSON map's selector schema (namespaces, labels, workloads, pods or network)."""
        out: dict[str, object] = {}
        if self.network:
            return {"network": self.network}
        if self.namespaces is not None:
            out["namespaces"] = {self.namespaces[0]: list(self.namespaces[1])}
        if self.labels:
            out["labels"] = [{"key": k, "operator": op, **({"values": list(v)} if op != "Exists" else {})}
                             for k, op, v in self.labels]
        if self.workloads:
            out["workloads"] = list(self.workloads)
        if self.pods:
            out["pods"] = list(self.pods)
        return out


def _requirement_text(r: Requirement) -> str:
    key, op, values = r
    if op == "Exists":
        return f"has({key})"
    if op == "In" and len(values) == 1:
        return f"{key}={values[0]}"
    if op == "NotIn" and len(values) == 1:
        return f"{key}!={values[0]}"
    return f"{key} {'in' if op == 'In' else 'notin'} ({', '.join(values)})"


@dataclass(frozen=True, slots=True)
class Selector:
    """A group of Pods or networks as the union of its terms."""
    terms: tuple[Term, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """The terms as text, separated by ``; ``."""
        return "; ".join(t.text() for t in self.terms)

    def to_json(self) -> list[dict[str, object]]:
        """The terms in the JSON map's selector schema."""
        return [t.to_json() for t in self.terms]

    @staticmethod
    def join(parts: Iterable[Selector]) -> Selector:
        """One selector holding the terms of every part, in order."""
        return Selector(tuple(t for p in parts for t in p.terms))


@dataclass(frozen=True, slots=True)
class Universe:
    """The Pods a selector ranges over (those with an address), by class and namespace."""

    class_pods: dict[int, tuple[int, ...]]  # class id → addressed Pod positions
    class_labels: dict[int, Labels]
    class_namespace: dict[int, str]
    by_namespace: dict[str, frozenset[int]]  # namespace → class ids
    class_of_pod: list[int]
    workload: dict[int, str]  # position → NS/NAME[Kind]
    workload_pods: dict[str, frozenset[int]]
    pod_name: dict[int, str]

    @classmethod
    def of(cls, compiled: CompiledCluster) -> Universe:
        """The addressed Pods of a compiled cluster's Pod classes, indexed by namespace and label for naming groups."""
        classes = compiled.policies.classes
        pods = compiled.topology.pods
        class_pods = {c.id: tuple(p for p in c.pods if pods[p].ips) for c in classes.classes if c.addressed}
        class_pods = {k: v for k, v in class_pods.items() if v}
        by_ns: dict[str, set[int]] = {}
        for c in classes.classes:
            if c.id in class_pods:
                by_ns.setdefault(c.namespace, set()).add(c.id)
        workload: dict[int, str] = {}
        workload_pods: dict[str, set[int]] = {}
        for positions in class_pods.values():
            for p in positions:
                workload[p] = group_name(pods[p], "workload")
                workload_pods.setdefault(workload[p], set()).add(p)
        return cls(class_pods, {c.id: c.labels for c in classes.classes}, {c.id: c.namespace for c in classes.classes},
                   {ns: frozenset(v) for ns, v in by_ns.items()}, classes.class_of_pod, workload,
                   {w: frozenset(v) for w, v in workload_pods.items()},
                   {p: f"{pods[p].namespace}/{pods[p].name}" for p in workload})


def pods_selector(universe: Universe, positions: Sequence[int]) -> Selector:
    """A selector matching exactly ``positions`` among the universe's Pods."""
    chosen = set(positions)
    classes = {universe.class_of_pod[p] for p in chosen}
    if all(set(universe.class_pods[c]) <= chosen for c in classes):
        return Selector(tuple(_classes_terms(universe, frozenset(classes))))
    by_ns: dict[str, list[int]] = {}
    for p in sorted(chosen):
        by_ns.setdefault(universe.class_namespace[universe.class_of_pod[p]], []).append(p)
    return Selector(tuple(_names_term(universe, ns, set(ps)) for ns, ps in sorted(by_ns.items())))


def _classes_terms(u: Universe, group: frozenset[int]) -> list[Term]:
    everything = frozenset(c for cs in u.by_namespace.values() for c in cs)
    if group == everything:
        return [Term()]
    namespaces = sorted({u.class_namespace[c] for c in group})
    within = frozenset(c for ns in namespaces for c in u.by_namespace[ns])
    ns_term = _namespaces(u, namespaces)
    if group == within:
        return [Term(namespaces=ns_term)]
    found = _labels_for(u, group, within)
    if found is not None:
        return [Term(namespaces=ns_term, labels=found)]
    # Namespace by namespace; namespaces that need the same labels share a term.
    shared: dict[tuple[Requirement, ...], list[str]] = {}
    out: list[Term] = []
    for ns in namespaces:
        mine = frozenset(c for c in group if u.class_namespace[c] == ns)
        here = u.by_namespace[ns]
        labels = () if mine == here else _labels_for(u, mine, here)
        if labels is None:
            out.append(_names_term(u, ns, {p for c in mine for p in u.class_pods[c]}))
        else:
            shared.setdefault(labels, []).append(ns)
    terms = [Term(namespaces=("in", tuple(nss)), labels=labels) for labels, nss in shared.items()]
    return terms + out


def _namespaces(u: Universe, names: list[str]) -> tuple[str, tuple[str, ...]] | None:
    others = sorted(set(u.by_namespace) - set(names))
    if not others:
        return None
    if len(others) < len(names):
        return ("notIn", tuple(others))
    return ("in", tuple(names))


def _labels_for(u: Universe, group: frozenset[int], within: frozenset[int]) -> tuple[Requirement, ...] | None:
    """The shortest label requirements (one key, else two) selecting exactly ``group`` among ``within``."""
    rest = within - group
    keys = sorted({k for c in group for k in u.class_labels[c]})
    single: list[tuple[Requirement, frozenset[int]]] = []
    for key in keys:
        have = [c for c in group if key in u.class_labels[c]]
        values = tuple(sorted({u.class_labels[c][key] for c in have}))
        if len(have) == len(group):
            req = (key, "In", values)
            single.append((req, frozenset(c for c in within if u.class_labels[c].get(key) in values)))
            if all(key in u.class_labels[c] for c in within):
                single.append(((key, "Exists", ()), within))
            else:
                single.append(((key, "Exists", ()), frozenset(c for c in within if key in u.class_labels[c])))
        excluded = tuple(sorted({u.class_labels[c][key] for c in rest if key in u.class_labels[c]}))
        if excluded and all(key in u.class_labels[c] for c in rest):
            single.append(((key, "NotIn", excluded),
                           frozenset(c for c in within if u.class_labels[c].get(key) not in excluded)))
    exact = [req for req, matched in single if matched == group]
    if exact:
        return (min(exact, key=lambda r: len(_requirement_text(r))),)
    best: tuple[Requirement, ...] | None = None
    for (a, ma), (b, mb) in combinations(single, 2):
        if a[0] != b[0] and ma & mb == group:
            pair = (a, b)
            if best is None or _length(pair) < _length(best):
                best = pair
    return best


def _length(reqs: tuple[Requirement, ...]) -> int:
    return sum(len(_requirement_text(r)) for r in reqs)


def _names_term(u: Universe, ns: str, chosen: set[int]) -> Term:
    """Workloads whose Pods are all chosen, and the other chosen Pods by name."""
    workloads = sorted({u.workload[p] for p in chosen if u.workload_pods[u.workload[p]] <= chosen})
    covered = {p for w in workloads for p in u.workload_pods[w]}
    pods = sorted(u.pod_name[p] for p in chosen - covered)
    return Term(namespaces=("in", (ns,)), workloads=tuple(workloads), pods=tuple(pods))


def network_selector(compiled: CompiledCluster, name: str) -> Selector:
    """The selector naming an outside network, with its CIDRs when the Cluster lists them."""
    written = next((n for n in compiled.topology.cluster.networks if n.name == name), None)
    cidrs = ", ".join(str(c) for c in written.cidrs) if written is not None else ""
    return Selector((Term(network=name, network_text=f"network:{name} ({cidrs})" if cidrs else ""),))


_EVERY_PROTOCOL = (SCTP, TCP, UDP)


def describe_ports(entries: Iterable[tuple[str, int, IntervalSet, bool]]) -> str:
    """``TCP 80,443; UDP 53``, ``all ports`` for every port of TCP, UDP and SCTP, then ``via`` and ``partial``.

    >>> describe_ports([("", 6, IntervalSet.of((80, 80), (443, 443)), False), ("", 17, IntervalSet.single(53), False)])
    'TCP 80,443; UDP 53'
    """
    groups: dict[tuple[str, bool], list[tuple[int, IntervalSet]]] = {}
    for via, protocol, ports, partial in entries:
        groups.setdefault((via, partial), []).append((protocol, ports))
    out = []
    for (via, partial), items in groups.items():
        items.sort()
        if tuple(p for p, _ in items) == tuple(sorted(_EVERY_PROTOCOL)) and all(s == ALL_PORTS for _, s in items):
            text = "all ports"
        else:
            text = "; ".join(f"{protocol_label(p)} {format_ports(s)}" for p, s in items)
        out.append(text + (f" via {via}" if via else "") + (" (partial)" if partial else ""))
    return "; ".join(out)


__all__ = ["Requirement", "Selector", "Term", "Universe", "describe_ports", "network_selector", "pods_selector"]
