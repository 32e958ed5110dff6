"""Which objects netmodel does not evaluate could change an answer, so the answer can say so.

A policy kind netmodel does not read yet (see :mod:`netmodel.model.kinds`) has a scope:

* ``namespace`` — it selects Pods of its own namespace only (CiliumNetworkPolicy, Calico and Antrea namespaced
  NetworkPolicy), so it can change a flow only when the flow's source or destination Pods are in that namespace:
  as the source's egress or the destination's ingress. A Service destination counts with its namespace, where its
  backends are.
* ``cluster`` — it may select any Pod or node (cluster-wide and admin policies, Istio, Calico host endpoints):
  every flow.
* ``none`` — by itself it changes no flow (Calico network sets, the Gateway API, kinds netmodel does not know).
* ``firewall`` — a rule of an imported Firewall netmodel cannot model (NM-FW-001, named by the Firewall): it can
  change a flow only where that Firewall judges a packet of it, so a ``query`` or ``--expect`` answer carries it
  when one of its paths has a decision of that Firewall (or of one of its layers, ``NAME-2``, …); a path blocked
  before it, or crossing no node it selects, is decided without it. Matrix rows carry it always (a row does not
  say which nodes its packets cross).

The rule is exact for the namespace scope and conservative for the rest (docs/reachability.md, "Objects netmodel
does not evaluate").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from netmodel.analyze.connectivity import Connection
from netmodel.analyze.reach.trace import Answer
from netmodel.model.cilium_host import enforced as host_enforced
from netmodel.model.kinds import LEFT_OUT
from netmodel.model.objects import SkippedObject
from netmodel.model.topology import Topology

# The category of an object that can only take away from what netmodel allows: it changes no denied answer.
NARROWS_ONLY = "narrows-only"


@dataclass(frozen=True, slots=True)
class Unevaluated:
    """The objects that could change answers, indexed by scope."""

    cluster: tuple[SkippedObject, ...]
    by_namespace: Mapping[str, tuple[SkippedObject, ...]]
    by_firewall: Mapping[str, tuple[SkippedObject, ...]] = field(default_factory=dict)  # by Firewall (layer) name

    @classmethod
    def of(cls, topology: Topology) -> Unevaluated:
        """The objects of ``topology`` netmodel does not evaluate, by the namespace they can affect (or
        cluster-wide)."""
        scoped: dict[str, list[SkippedObject]] = {}
        firewalls: dict[str, list[SkippedObject]] = {}
        cluster = []
        for s in list(topology.skipped) + cilium_unjudged(topology):
            if s.category not in ("not-evaluated", "partly-evaluated", LEFT_OUT, NARROWS_ONLY):
                continue
            if s.scope == "cluster":
                cluster.append(s)
            elif s.scope == "namespace":
                scoped.setdefault(s.namespace, []).append(s)
            elif s.scope == "firewall":
                layers = _layers(topology, s)
                if not layers:
                    cluster.append(s)  # no Firewall of that name judges anything: say so everywhere
                for name in layers:
                    firewalls.setdefault(name, []).append(s)
        return cls(tuple(cluster), {ns: tuple(v) for ns, v in scoped.items()},
                   {name: tuple(v) for name, v in firewalls.items()})

    def __bool__(self) -> bool:
        return bool(self.cluster or self.by_namespace or self.by_firewall)

    def _firewall_objects(self, names: Iterable[str]) -> list[SkippedObject]:
        out: dict[int, SkippedObject] = {}
        for name in sorted(set(names)):
            for s in self.by_firewall.get(name, ()):
                out.setdefault(id(s), s)
        return list(out.values())

    def affecting(self, namespaces: Iterable[str]) -> tuple[SkippedObject, ...]:
        """The objects that could change a flow whose source or destination Pods are in ``namespaces`` (and
        every imported Firewall's: a flow named by its Pods may cross any node)."""
        out = list(self.cluster)
        for ns in sorted(set(namespaces)):
            out.extend(self.by_namespace.get(ns, ()))
        out.extend(self._firewall_objects(self.by_firewall))
        return tuple(out)

    def for_answer(self, answer: Answer) -> tuple[SkippedObject, ...]:
        """The objects that could change ``answer``: those of the namespaces its paths cross, and the
        cluster-wide ones."""
        if not self:
            return ()
        namespaces: set[str] = set()
        judged: set[str] = set()  # the Firewalls that judged a packet of some path
        for path in answer.paths:
            labels = [path.source, path.destination] + [h.location for h in path.hops]
            namespaces.update(ns for ns in map(_namespace_of_label, labels) if ns)
            judged.update(d.name for step in path.steps for d in step.decisions if d.kind == "Firewall")
        for ref in (answer.source, answer.destination):
            ns = _namespace_of_ref(ref)
            if ns:
                namespaces.add(ns)
        out = list(self.cluster)
        for ns in sorted(namespaces):
            out.extend(self.by_namespace.get(ns, ()))
        out += self._firewall_objects(judged)
        if answer.denied:  # what can only take away from allowed traffic cannot change a denial
            out = [s for s in out if s.category != NARROWS_ONLY]
        return tuple(out)

    def for_groups(self, *groups: str, by: str) -> tuple[SkippedObject, ...]:
        """For a matrix row: its groups are ``NS/NAME...`` (by pod or workload), ``NS`` (by namespace) or
        ``network:NAME`` (outside)."""
        if not self:
            return ()
        namespaces = [g if by == "namespace" else g.partition("/")[0] for g in groups if ":" not in g]
        return self.affecting(namespaces)


def _layers(topology: Topology, skipped: SkippedObject) -> list[str]:
    """The Firewalls an imported rule's assumption belongs to: the one it names and its layers (``NAME-2``, …),
    those that import the file it is located in."""
    return [f.name for f in topology.firewalls
            if (f.name == skipped.name or f.name.startswith(f"{skipped.name}-"))
            and (not f.imported or f.imported == skipped.source.file)]


def cilium_unjudged(topology: Topology) -> list[SkippedObject]:
    """The parts of Cilium policies netmodel cannot judge offline (L7 rules, toFQDNs, host policies, ...), one
    entry per policy: a CiliumNetworkPolicy's can change flows of Pods in its namespace (it selects those only),
    a CiliumClusterwideNetworkPolicy's any flow (NM-INPUT-045). A policy whose every such part only narrows what
    netmodel lets its rules allow (L7 rules, authentication, ...: CiliumRule.narrows_only) is NARROWS_ONLY: it
    cannot change a denied answer."""
    out = []
    for policy in topology.cilium_policies:
        reasons: dict[str, None] = {}
        narrows_only = True
        source = None
        for spec in policy.specs:
            if spec.node_selector is not None and spec.has_egress and host_enforced(topology):
                # Cilium's host egress policy judges what the node itself sends; netmodel's node Firewall (where
                # model/cilium_host.py puts it) judges every packet leaving with the node's address, Pod traffic
                # masqueraded to it included.
                reasons.setdefault("host policy egress (it may also judge Pod traffic masqueraded to the node's "
                                   "address)", None)
                source = source or spec.source
                narrows_only = False
            for rule in spec.rules:
                for why in rule.unjudged:
                    reasons.setdefault(f"{rule.label}: {why}", None)
                    source = source or rule.source
                if rule.unjudged and not rule.narrows_only:
                    narrows_only = False
        if reasons and source is not None:
            out.append(SkippedObject("cilium.io/v2", policy.kind, policy.namespace, policy.name,
                                     "; ".join(reasons), source, NARROWS_ONLY if narrows_only else "partly-evaluated",
                                     "namespace" if policy.namespace else "cluster", "Cilium"))
    return out


def _namespace_of_label(label: str) -> str:
    """``pod:NS/NAME`` and ``service:NS/NAME`` → NS; anything else (nodes, addresses) → ""."""
    kind, sep, body = label.partition(":")
    if sep and kind in ("pod", "service") and "/" in body:
        return body.partition("/")[0]
    return ""


def _namespace_of_ref(ref: str) -> str:
    """The namespace a query reference names, if it names a namespaced object (``NS/NAME``, ``pod:``,
    ``deployment:``, ``service:`` ...)."""
    kind, sep, body = ref.partition(":")
    if not sep:
        body = ref
    elif kind.lower() in ("node", "network", "ip"):
        return ""
    return body.partition("/")[0] if "/" in body else ""


def kinds(objects: Iterable[SkippedObject]) -> list[str]:
    """The kinds, each once, in order: ``CiliumNetworkPolicy``, ``NetworkPolicy (projectcalico.org)``."""
    out: dict[str, None] = {}
    for s in objects:
        group = s.api_version.rpartition("/")[0]
        out.setdefault(f"{s.kind} ({group})" if group else s.kind, None)
    return list(out)


def message(objects: Iterable[SkippedObject]) -> str:
    """``not evaluated: <kinds>, answers may differ`` ("" when there is nothing)."""
    found = kinds(objects)
    return f"not evaluated: {', '.join(found)}, answers may differ" if found else ""


def to_json(objects: tuple[SkippedObject, ...]) -> dict[str, object]:
    """The JSON for objects netmodel did not evaluate that could change an answer: message, kinds,
    references, sources."""
    return {"message": message(objects), "kinds": kinds(objects), "objects": [s.ref for s in objects],
            "sources": [s.source.to_json() for s in objects]}


def matrix_json(connections: Iterable[Connection], by: str, skipped: Unevaluated | None = None) -> dict[str, object]:
    """The JSON answer. With objects netmodel does not evaluate, each connection they could change lists their
    kinds under ``notEvaluated``, and the top-level ``notEvaluated`` names them all: they may also allow
    connections the matrix does not list (docs/reachability.md)."""
    rows = []
    for c in connections:
        row = c.to_json()
        if skipped:
            found = skipped.for_groups(c.source, c.destination, by=by)
            if found:
                row["notEvaluated"] = kinds(found)
        rows.append(row)
    out: dict[str, object] = {"by": by, "connections": rows}
    if skipped:
        out["notEvaluated"] = to_json(skipped.affecting(skipped.by_namespace))
    return out


__all__ = ["NARROWS_ONLY", "Unevaluated", "kinds", "matrix_json", "message", "to_json"]
