"""What a change does to reachability: two check results (and connectivity matrices) compared.

* **findings** introduced and fixed — matched on ID, objects and message with file names and line numbers left
  out (OLD and NEW usually live in different files, and lines move);
* **port-matrix cells** whose state changes (ok / blocked / exposed / open / not-required, see
  :func:`netmodel.report.sections.cell_state`), each with the firewall rules that decide it now;
* **flows** opened and closed: the connectivity matrix by workload (:func:`netmodel.analyze.connectivity.
  connectivity`) of both layouts, compared as sets per ``(from, to, protocol, via)`` — workloads matched by
  namespace, kind and name, outside networks by name, entries through a NodePort by their Service and nodePort.
  A flow is *opened* on the ports NEW allows that OLD did not, and on the ports OLD allowed only some members
  (``partial``) that NEW allows to all of them; *closed* is the reverse.

The diff *fails* — so it can gate a pull request — when the change introduces a finding at or above the failing
severity, opens a new exposure (a cell that becomes ``exposed``), or opens a flow nobody accepted (``--allow-opened``,
or Expectations in NEW that assert the flow allowed and hold, see :func:`accept_by_expectations`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from netmodel.analyze.connectivity import Connection, group_name
from netmodel.analyze.gateway_entries import (
    listener_backends,
    listener_of,
    parse_via,
    route_backends,
)
from netmodel.analyze.ingress_entries import ingress_via, rule_backends, rule_of
from netmodel.analyze.ingress_entries import parse_via as parse_ingress_via
from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.analyze.reach.refs import resolve
from netmodel.analyze.suppress import fingerprint_of
from netmodel.compile.ingress import HTTP_PORTS
from netmodel.model.topology import Topology
from netmodel.sets import IntervalSet, format_ports, parse_ports, protocol_label

Payload = Mapping[str, Any]
RANK = {"error": 3, "warning": 2, "info": 1}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
# A path to an input file, with an optional :line[:column] — left out when matching findings across versions.
_INPUT_PATH = re.compile(r"[\w./\\-]+\.(?:ya?ml|json)(?::\d+)*")
CellKey = tuple[str, str, str, str, str]  # node, ports, protocol, purpose, source
FlowKey = tuple[str, str, str, str]  # from, to, protocol, via ("" unless entering through a NodePort)
FlowTable = Mapping[FlowKey, tuple[IntervalSet, bool]]  # (ports, partial)
_NODE_PORT = re.compile(r"^Service (\S+) NodePort (\d+)$")


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A firewall rule (or a chain's default action, ``rule`` = ``defaultAction``) that decides a cell."""

    firewall: str
    rule: str
    action: str
    file: str
    line: int

    def to_json(self) -> dict[str, object]:
        """The rule as JSON: firewall, rule, action and where it is written."""
        return {"firewall": self.firewall, "rule": self.rule, "action": self.action,
                "source": {"file": self.file, "line": self.line}}


@dataclass(frozen=True, slots=True)
class CellChange:
    """A port-matrix cell whose state differs between two runs, with the rules that decide it now."""

    cell: Mapping[str, Any]  # the NEW cell (or the OLD one when the cell disappeared)
    before: str | None
    after: str | None
    decided_by: tuple[RuleRef, ...]

    @property
    def new_exposure(self) -> bool:
        """Whether the cell became exposed."""
        return self.after == "exposed" and self.before != "exposed"

    def to_json(self) -> dict[str, object]:
        """The change as JSON: the cell, its state before and after, and the rules deciding it."""
        c = self.cell
        return {"node": c["node"], "role": c["role"], "ports": c["ports"], "protocol": c["protocol"],
                "purpose": c["purpose"], "source": c["source"], "before": self.before, "after": self.after,
                "decidedBy": [r.to_json() for r in self.decided_by]}


@dataclass(frozen=True, slots=True)
class Acceptance:
    """Why an opened flow does not fail the diff: ``by`` is ``flag`` (``--allow-opened``) or ``expectation``."""

    by: str
    reason: str
    source: Mapping[str, Any] | None = None  # the Expectations flow's file and line

    def to_json(self) -> dict[str, object]:
        """The acceptance as JSON: by whom, why and where."""
        out: dict[str, object] = {"by": self.by, "reason": self.reason}
        if self.source is not None:
            out["source"] = dict(self.source)
        return out


@dataclass(frozen=True, slots=True)
class FlowChange:
    """Ports of one connectivity entry that a change opens or closes."""

    change: str  # opened | closed
    source: str
    destination: str
    protocol: str
    via: str  # the Service and nodePort, Gateway listener or Ingress rule an outside network enters through, else ""
    ports: IntervalSet  # the ports opened (or closed)
    before: IntervalSet | None  # the entry's ports in OLD, None when it had none
    after: IntervalSet | None
    partial_before: bool = False
    partial_after: bool = False
    accepted: Acceptance | None = None
    location: Mapping[str, Any] | None = None  # where NEW defines the destination (or the Service entered)
    exposure: bool = False  # an outside entry through a nodePort whose port-matrix cell becomes exposed

    @property
    def node_port(self) -> int | None:
        """The nodePort an outside entry goes through, or None."""
        m = _NODE_PORT.match(self.via)
        return int(m.group(2)) if m else None

    def describe(self) -> str:
        """One line: source → destination protocol ports, and the Service entered."""
        via = f" via {self.via}" if self.via else ""
        return f"{self.source} → {self.destination} {self.protocol} {format_ports(self.ports)}{via}"

    def to_json(self) -> dict[str, object]:
        """The change as JSON: the entry, the ports opened or closed, before and after."""
        return {"from": self.source, "to": self.destination, "protocol": self.protocol, "via": self.via or None,
                "ports": format_ports(self.ports),
                "before": format_ports(self.before) if self.before is not None else None,
                "after": format_ports(self.after) if self.after is not None else None,
                "partialBefore": self.partial_before, "partialAfter": self.partial_after,
                "accepted": self.accepted.to_json() if self.accepted is not None else None,
                "location": dict(self.location) if self.location is not None else None,
                "exposure": self.exposure}


@dataclass(frozen=True, slots=True)
class ReachabilityDiff:
    """What changed between two runs: findings introduced and fixed, port-matrix cells, and flows."""

    old: tuple[str, ...]
    new: tuple[str, ...]
    introduced: tuple[Mapping[str, Any], ...]
    fixed: tuple[Mapping[str, Any], ...]
    cells: tuple[CellChange, ...]
    flows: tuple[FlowChange, ...] | None  # None: no connectivity matrix was compared
    fail_on: str = "error"

    @property
    def failing_findings(self) -> tuple[Mapping[str, Any], ...]:
        """The findings introduced at ``fail_on`` or worse."""
        return tuple(f for f in self.introduced if RANK.get(f["severity"], 0) >= RANK[self.fail_on])

    @property
    def new_exposures(self) -> tuple[CellChange, ...]:
        """The cells that became exposed."""
        return tuple(c for c in self.cells if c.new_exposure)

    @property
    def opened(self) -> tuple[FlowChange, ...]:
        """The flows the change opens."""
        return tuple(f for f in self.flows or () if f.change == "opened")

    @property
    def closed(self) -> tuple[FlowChange, ...]:
        """The flows the change closes."""
        return tuple(f for f in self.flows or () if f.change == "closed")

    @property
    def unaccepted(self) -> tuple[FlowChange, ...]:
        """Opened flows nobody accepted (an exposure is reported as one already)."""
        return tuple(f for f in self.opened if f.accepted is None and not f.exposure)

    @property
    def failed(self) -> bool:
        """Whether the diff fails: a failing finding, a new exposure or an unaccepted flow."""
        return bool(self.failing_findings or self.new_exposures or self.unaccepted)

    def to_json(self) -> dict[str, object]:
        """The diff as JSON (diff.schema.json)."""
        summary: dict[str, object] = {
            "status": "fail" if self.failed else "pass",
            "findingsIntroduced": len(self.introduced),
            "findingsFixed": len(self.fixed),
            "cellsChanged": len(self.cells),
            "newExposures": len(self.new_exposures),
        }
        out: dict[str, object] = {
            "schemaVersion": 2,
            "old": list(self.old),
            "new": list(self.new),
            "summary": summary,
            "findings": {"introduced": list(self.introduced), "fixed": list(self.fixed)},
            "portMatrix": [c.to_json() for c in self.cells],
        }
        if self.flows is not None:
            summary["flowsOpened"] = len(self.opened)
            summary["flowsOpenedNotAccepted"] = len(self.unaccepted)
            summary["flowsClosed"] = len(self.closed)
            out["flows"] = {"by": "workload", "opened": [f.to_json() for f in self.opened],
                            "closed": [f.to_json() for f in self.closed]}
        return out


def cell_state(cell: Mapping[str, Any]) -> str:
    """One port-matrix cell as reports and diagrams show it: ok, blocked, exposed, open (allowed, not required
    and not sensitive) or not-required (closed and nobody needs it).

    >>> cell_state({"required": False, "allowed": False, "status": "ok"})
    'not-required'
    """
    if cell.get("status") in ("blocked", "exposed"):
        return str(cell["status"])
    if cell.get("required"):
        return "ok"
    return "open" if cell.get("allowed") else "not-required"


def finding_sort_key(f: Mapping[str, Any]) -> tuple[int, str, str, str]:
    """Errors first, then by ID, objects and message."""
    return (SEVERITY_ORDER.get(f.get("severity", ""), 3), f.get("id", ""), ",".join(f.get("objects", ())),
            f.get("message", ""))


def finding_key(f: Mapping[str, Any]) -> str:
    """A finding's identity across two versions of the input: no file names, no line numbers."""
    return fingerprint_of(f["id"], f.get("objects", ()), _INPUT_PATH.sub("<input>", f["message"]))


def cell_key(c: Mapping[str, Any]) -> CellKey:
    """What identifies a port-matrix cell across runs: node, ports, protocol, purpose and source."""
    return c["node"], c["ports"], c["protocol"], c["purpose"], c["source"]


def diff_findings(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
                  ) -> tuple[tuple[Mapping[str, Any], ...], tuple[Mapping[str, Any], ...]]:
    """(introduced, fixed): findings of ``new`` not in ``old`` and of ``old`` not in ``new``, sorted."""
    old_keys = {finding_key(f) for f in old}
    new_keys = {finding_key(f) for f in new}
    introduced = sorted((f for f in new if finding_key(f) not in old_keys), key=finding_sort_key)
    fixed = sorted((f for f in old if finding_key(f) not in new_keys), key=finding_sort_key)
    return tuple(introduced), tuple(fixed)


def diff_cells(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]],
               decided_by: Mapping[CellKey, tuple[RuleRef, ...]] | None = None) -> tuple[CellChange, ...]:
    """Cells whose state differs, in NEW's order (then cells only OLD had)."""
    decided_by = decided_by or {}
    before = {cell_key(c): c for c in old}
    seen = set()
    out = []
    for c in new:
        key = cell_key(c)
        seen.add(key)
        was = cell_state(before[key]) if key in before else None
        now = cell_state(c)
        if was != now:
            out.append(CellChange(c, was, now, decided_by.get(key, ())))
    out += [CellChange(c, cell_state(c), None, ()) for k, c in before.items() if k not in seen]
    return tuple(out)


def flow_table(connections: Iterable[Connection]) -> dict[FlowKey, tuple[IntervalSet, bool]]:
    """``{(from, to, protocol, via): (ports, partial)}`` from a connectivity matrix (by workload)."""
    out: dict[FlowKey, tuple[IntervalSet, bool]] = {}
    for c in connections:
        key = (c.source, c.destination, protocol_label(c.protocol), c.via)
        ports, partial = out.get(key, (IntervalSet(), False))
        out[key] = (ports | c.ports, partial or c.partial)
    return out


def diff_flows(old: FlowTable, new: FlowTable) -> tuple[FlowChange, ...]:
    """Ports opened and closed per entry, compared as sets.

    Opened: ports NEW allows that OLD did not allow to any member; and, when OLD allowed its ports only to
    some members (``partial``) and NEW allows all of them to every member, those ports (some member pair gains
    them). Closed is the same with OLD and NEW swapped. A partial entry that stays partial on the same ports is
    no change at this grouping (``matrix --by pod`` tells the members apart).
    """
    out = []
    for key in sorted(set(old) | set(new)):
        was, was_partial = old.get(key, (IntervalSet(), False))
        now, now_partial = new.get(key, (IntervalSet(), False))
        before = was if key in old else None
        after = now if key in new else None
        for change, gained, a, b, pa, pb in (("opened", now - was, was, now, was_partial, now_partial),
                                             ("closed", was - now, now, was, now_partial, was_partial)):
            # a → b: gained ports are new in b; a partial a whose ports b all allows fully also gains.
            widened = a if a and pa and not pb and a <= b else IntervalSet()
            ports = gained | widened
            if ports:
                out.append(FlowChange(change, *key, ports, before, after, was_partial, now_partial))
    return tuple(out)


def mark_exposures(flows: Sequence[FlowChange], cells: Sequence[CellChange]) -> tuple[FlowChange, ...]:
    """Opened entries from an outside network through a nodePort that a new exposure of the port matrix already
    reports (a cell from that network, on that protocol, whose ports hold the nodePort, becomes ``exposed``):
    they stay listed, as the workloads the exposure reaches, but are not counted (nor failed) a second time."""
    exposed: dict[tuple[str, str], IntervalSet] = {}
    for c in cells:
        if c.new_exposure:
            key = (str(c.cell["source"]), str(c.cell["protocol"]))
            exposed[key] = exposed.get(key, IntervalSet()) | parse_ports(str(c.cell["ports"]))
    if not exposed:
        return tuple(flows)
    return tuple(replace(f, exposure=True) if f.change == "opened" and f.node_port is not None
                 and f.node_port in exposed.get((f.source, f.protocol), IntervalSet()) else f for f in flows)


def locate(flows: Sequence[FlowChange], topology: Topology,
           compiled: CompiledCluster | None = None) -> tuple[FlowChange, ...]:
    """Each opened flow located where NEW defines what it enters: the Service of a NodePort entry, the route
    that sends to the destination through a Gateway listener or the Ingress rule's backend (with ``compiled``),
    else the destination
    workload (or bare Pod); an outside destination has no location."""
    where: dict[str, Mapping[str, Any]] = {}
    workloads = {w.ref: w for w in topology.workloads}
    for pod in topology.pods:
        owner = workloads.get(pod.owner) if pod.owner is not None else None
        where.setdefault(group_name(pod, "workload"), (owner.source if owner is not None else pod.source).to_json())
    services = {s.qualified_name: s.source.to_json() for s in topology.services}
    out = []
    for f in flows:
        m = _NODE_PORT.match(f.via)
        spot = services.get(m.group(1)) if m else where.get(f.destination)
        if f.change == "opened" and compiled is not None and parse_via(f.via) is not None:
            spot = _route_location(compiled, f) or spot
        elif f.change == "opened" and compiled is not None and (rule := rule_of(compiled, f.via)) is not None:
            spot = rule[1].source.to_json()  # the Ingress rule (its backend) that sends there
        out.append(replace(f, location=spot) if f.change == "opened" and spot else f)
    return tuple(out)


def _route_location(compiled: CompiledCluster, f: FlowChange) -> Mapping[str, Any] | None:
    """Where NEW writes the first route that sends ``f``'s destination traffic through its Gateway listener."""
    found = listener_of(compiled, f.via)
    if found is None:
        return None
    for route, backends in route_backends(compiled, *found):
        if any(b.pod is not None and group_name(b.pod, "workload") == f.destination for b in backends):
            return route.source.to_json()
    return None


def accept_all(flows: Sequence[FlowChange], reason: str) -> tuple[FlowChange, ...]:
    """Every opened flow accepted (``--allow-opened``): still listed, no longer failing."""
    return tuple(replace(f, accepted=Acceptance("flag", reason)) if f.change == "opened" else f for f in flows)


@dataclass(frozen=True, slots=True)
class AllowedFlow:
    """An Expectations flow that asserts ``allowed: true`` and holds in NEW, as the groups it covers."""

    sources: frozenset[str]  # workload groups (``ns/name[Kind]``) of its Pods, or ``network:NAME``
    destinations: frozenset[str]  # the same; for a node, ``node:NAME``
    protocol: str
    port: int
    name: str  # where the Expectations flow is written, file:line
    source: Mapping[str, Any]


def allowed_flows(compiled: CompiledCluster, results: Iterable[Any]) -> list[AllowedFlow]:
    """The Expectations flows of a layout that assert ``allowed: true`` on a numbered port and hold, each with
    the groups it covers: a workload (``ns/name[Kind]`` as the matrix by workload names it) when all its Pods are
    among the reference's, an outside network, a node. A Service as destination covers its endpoint Pods on
    the targetPort each resolves the Service port to (the port the matrix lists)."""
    pods_of_group: dict[str, set[tuple[str, str]]] = {}
    for pod in compiled.topology.pods:
        pods_of_group.setdefault(group_name(pod, "workload"), set()).add((pod.namespace, pod.name))

    def covered(pods: set[tuple[str, str]], labels: set[str]) -> frozenset[str]:
        return frozenset(labels | {g for g, members in pods_of_group.items() if members and members <= pods})

    out = []
    for r in results:
        flow = r.flow
        if not (flow.allowed and r.ok and isinstance(flow.port, int)):
            continue
        ends: list[dict[int, tuple[set[tuple[str, str]], set[str]]]] = []  # per end: port → (pods, labels)
        for ref, as_source in ((flow.from_ref, True), (flow.to_ref, False)):
            by_port: dict[int, tuple[set[tuple[str, str]], set[str]]] = {}
            if not as_source and ref.partition(":")[0].strip().lower() == "gateway":
                # Through a Gateway on a listener port: the listener port, naming the Gateway and the backend
                # Pods the routes serving the host send to (what the matrix's entries through it reach).
                by_port[flow.port] = _through_gateway(compiled, ref, flow.port, flow.host)
                ends.append(by_port)
                continue
            if not as_source and ref.partition(":")[0].strip().lower() == "ingress":
                # Through an Ingress on 80/443: naming the Ingress, the rules serving the host and their backend
                # Pods (what the matrix's entries through it reach).
                by_port[flow.port] = _through_ingress(compiled, ref, flow.host)
                ends.append(by_port)
                continue
            for e in resolve(compiled, ref, as_source).endpoints:
                if e.service is not None and not as_source:  # the ClusterIP: DNAT to targetPorts
                    for sp in e.service.ports:
                        if sp.port != flow.port or protocol_label(sp.protocol) != flow.protocol:
                            continue
                        for b in compiled.backends(e.service, sp):
                            if b.pod is not None and b.port is not None:
                                by_port.setdefault(b.port, (set(), set()))[0].add((b.pod.namespace, b.pod.name))
                    continue
                pods, labels = by_port.setdefault(flow.port, (set(), set()))
                if e.pod is not None:
                    pods.add((e.pod.namespace, e.pod.name))
                elif e.node is not None:
                    labels.add(f"node:{e.node.name}")
                elif e.network:
                    labels.add(f"network:{e.network}")
            ends.append(by_port)
        sources = [covered(*v) for v in ends[0].values()]
        source = flow.source.to_json()
        for port, (pods, labels) in ends[1].items():
            for s in sources:
                out.append(AllowedFlow(s, covered(pods, labels), flow.protocol, port,
                                       f"{source.get('file', '')}:{source.get('line', '')}", source))
    return out


def _through_gateway(compiled: CompiledCluster, ref: str, port: int, host: str) -> tuple[set[tuple[str, str]], set[str]]:
    """(backend Pods, {``gateway:NS/NAME``}) of an expectation through a Gateway's listeners on ``port``."""
    from netmodel.analyze.reach.gateway import find_gateway

    gateway = find_gateway(compiled.gateways, ref)
    pods = {(b.pod.namespace, b.pod.name) for li in gateway.listeners if li.port == port
            for b in listener_backends(compiled, gateway, li, host) if b.pod is not None}
    return pods, {f"gateway:{gateway.qualified_name}"}


def _through_ingress(compiled: CompiledCluster, ref: str, host: str) -> tuple[set[tuple[str, str]], set[str]]:
    """(backend Pods, {``ingress:NS/NAME``, ``via:`` each serving rule's ``via``}) of an expectation through an
    Ingress for ``host`` ("" = any)."""
    from netmodel.analyze.reach.ingress import find_ingress, serving_rules

    ingress = find_ingress(compiled.topology, ref)
    rules = serving_rules(ingress, host)
    pods = {(b.pod.namespace, b.pod.name) for rule in rules for b in rule_backends(compiled, ingress, rule)
            if b.pod is not None}
    return pods, {f"ingress:{ingress.qualified_name}"} | {f"via:{ingress_via(ingress, rule)}" for rule in rules}


def accept_by_expectations(flows: Sequence[FlowChange], allowed: Sequence[AllowedFlow]) -> tuple[FlowChange, ...]:
    """Opened flows every port of which some holding ``allowed: true`` Expectations flow covers.

    A flow is covered on a port when an expectation with that protocol and port names every member of the
    source (a workload whose Pods are all in its ``from``, or the same outside network) and of the destination.
    An entry through a NodePort (``via``) is covered by an expectation from the same network to a node on that
    nodePort; an entry through a Gateway listener by one from the same network to ``gateway:NS/NAME`` on the
    listener's port whose routes (for its ``host``, when given) send to the destination; an entry through an
    Ingress rule by one from the same network to ``ingress:NS/NAME`` on 80 or 443 for which that rule serves
    (its ``host``, when given) and sends to the destination. Every port must be covered: an opened range ("any") needs one expectation per port, so it is
    accepted only with ``--allow-opened``.
    """
    out = []
    for f in flows:
        if f.change != "opened" or f.accepted is not None:
            out.append(f)
            continue
        node_port = f.node_port
        gateway = parse_via(f.via)
        ingress = parse_ingress_via(f.via)
        covering = [a for a in allowed if a.protocol == f.protocol and f.source in a.sources
                    and ((node_port is not None and a.port == node_port and any(d.startswith("node:")
                                                                                  for d in a.destinations))
                         or (gateway is not None and a.port == gateway[1] and gateway[0] in a.destinations
                             and f.destination in a.destinations)
                         or (ingress is not None and a.port in HTTP_PORTS and ingress[0] in a.destinations
                             and f"via:{f.via}" in a.destinations and f.destination in a.destinations)
                         or (node_port is None and gateway is None and ingress is None
                             and f.destination in a.destinations))]
        # An Ingress entry is one whichever of 80/443 the expectation asks: one holding expectation covers it.
        wanted = IntervalSet.single(node_port) if node_port is not None else \
            IntervalSet.single(gateway[1]) if gateway is not None else \
            IntervalSet.single(covering[0].port) if ingress is not None and covering else f.ports
        covered = IntervalSet()
        for a in covering:
            covered = covered | IntervalSet.single(a.port)
        if covering and wanted <= covered:
            names = sorted({f"Expectations flow at {a.name}" for a in covering})
            out.append(replace(f, accepted=Acceptance("expectation", ", ".join(names), covering[0].source)))
        else:
            out.append(f)
    return tuple(out)


def diff_results(old: Payload, new: Payload, *, old_paths: Sequence[str] = (), new_paths: Sequence[str] = (),
                 decided_by: Mapping[CellKey, tuple[RuleRef, ...]] | None = None,
                 old_flows: FlowTable | None = None, new_flows: FlowTable | None = None,
                 fail_on: str = "error") -> ReachabilityDiff:
    """Compare two check payloads (and, when both are given, two flow tables)."""
    introduced, fixed = diff_findings(old["findings"], new["findings"])
    cells = diff_cells(old.get("portMatrix", ()), new.get("portMatrix", ()), decided_by)
    flows = diff_flows(old_flows, new_flows) if old_flows is not None and new_flows is not None else None
    if flows:
        flows = mark_exposures(flows, cells)
    return ReachabilityDiff(tuple(old_paths), tuple(new_paths), introduced, fixed, cells, flows, fail_on)


__all__ = [
    "Acceptance",
    "AllowedFlow",
    "CellChange",
    "FlowChange",
    "ReachabilityDiff",
    "RuleRef",
    "accept_all",
    "accept_by_expectations",
    "allowed_flows",
    "cell_key",
    "cell_state",
    "diff_cells",
    "diff_findings",
    "diff_flows",
    "diff_results",
    "finding_key",
    "finding_sort_key",
    "flow_table",
    "locate",
]
