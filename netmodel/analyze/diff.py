"""What a change does to reachability: two check results (and connectivity matrices) compared.

* **findings** introduced and fixed — matched on ID, objects and message with file names and line numbers left
  out (OLD and NEW usually live in different files, and lines move);
* **port-matrix cells** whose state changes (ok / blocked / exposed / open / not-required, see
  :func:`netmodel.report.sections.cell_state`), each with the firewall rules that decide it now;
* **flows** (connectivity matrix entries, ``from → to protocol``) that appear, disappear or change ports.

The diff *fails* — so it can gate a pull request — when the change introduces a finding at or above the failing
severity, or opens a new exposure (a cell that becomes ``exposed``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from netmodel.analyze.suppress import fingerprint_of

Payload = Mapping[str, Any]
RANK = {"error": 3, "warning": 2, "info": 1}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
# A path to an input file, with an optional :line[:column] — left out when matching findings across versions.
_INPUT_PATH = re.compile(r"[\w./\\-]+\.(?:ya?ml|json)(?::\d+)*")
CellKey = tuple[str, str, str, str, str]  # node, ports, protocol, purpose, source
FlowKey = tuple[str, str, str]  # from, to, protocol


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A firewall rule (or a chain's default action, ``rule`` = ``defaultAction``) that decides a cell."""

    firewall: str
    rule: str
    action: str
    file: str
    line: int

    def to_json(self) -> dict[str, object]:
        return {"firewall": self.firewall, "rule": self.rule, "action": self.action,
                "source": {"file": self.file, "line": self.line}}


@dataclass(frozen=True, slots=True)
class CellChange:
    cell: Mapping[str, Any]  # the NEW cell (or the OLD one when the cell disappeared)
    before: str | None
    after: str | None
    decided_by: tuple[RuleRef, ...]

    @property
    def new_exposure(self) -> bool:
        return self.after == "exposed" and self.before != "exposed"

    def to_json(self) -> dict[str, object]:
        c = self.cell
        return {"node": c["node"], "role": c["role"], "ports": c["ports"], "protocol": c["protocol"],
                "purpose": c["purpose"], "source": c["source"], "before": self.before, "after": self.after,
                "decidedBy": [r.to_json() for r in self.decided_by]}


@dataclass(frozen=True, slots=True)
class FlowChange:
    change: str  # added | removed | changed
    source: str
    destination: str
    protocol: str
    before: str  # ports, "" when absent
    after: str

    def to_json(self) -> dict[str, object]:
        return {"from": self.source, "to": self.destination, "protocol": self.protocol,
                "before": self.before or None, "after": self.after or None}


@dataclass(frozen=True, slots=True)
class ReachabilityDiff:
    old: tuple[str, ...]
    new: tuple[str, ...]
    introduced: tuple[Mapping[str, Any], ...]
    fixed: tuple[Mapping[str, Any], ...]
    cells: tuple[CellChange, ...]
    flows: tuple[FlowChange, ...] | None  # None: no connectivity matrix was compared
    fail_on: str = "error"

    @property
    def failing_findings(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(f for f in self.introduced if RANK.get(f["severity"], 0) >= RANK[self.fail_on])

    @property
    def new_exposures(self) -> tuple[CellChange, ...]:
        return tuple(c for c in self.cells if c.new_exposure)

    @property
    def failed(self) -> bool:
        return bool(self.failing_findings or self.new_exposures)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "schemaVersion": 1,
            "old": list(self.old),
            "new": list(self.new),
            "summary": {
                "status": "fail" if self.failed else "pass",
                "findingsIntroduced": len(self.introduced),
                "findingsFixed": len(self.fixed),
                "cellsChanged": len(self.cells),
                "newExposures": len(self.new_exposures),
            },
            "findings": {"introduced": list(self.introduced), "fixed": list(self.fixed)},
            "portMatrix": [c.to_json() for c in self.cells],
        }
        if self.flows is not None:
            out["summary"]["flowsAdded"] = sum(1 for f in self.flows if f.change == "added")  # type: ignore[index]
            out["summary"]["flowsRemoved"] = sum(1 for f in self.flows if f.change == "removed")  # type: ignore[index]
            out["summary"]["flowsChanged"] = sum(1 for f in self.flows if f.change == "changed")  # type: ignore[index]
            out["flows"] = {change: [f.to_json() for f in self.flows if f.change == change]
                            for change in ("added", "removed", "changed")}
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
    return c["node"], c["ports"], c["protocol"], c["purpose"], c["source"]


def diff_findings(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
                  ) -> tuple[tuple[Mapping[str, Any], ...], tuple[Mapping[str, Any], ...]]:
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


def flow_table(connections: Sequence[Mapping[str, Any]]) -> dict[FlowKey, str]:
    """``{(from, to, protocol): ports}`` from a matrix payload's connections."""
    out: dict[FlowKey, list[str]] = {}
    for c in connections:
        out.setdefault((str(c["from"]), str(c["to"]), str(c.get("protocol", ""))), []).append(str(c.get("ports", "")))
    return {k: ",".join(v) for k, v in out.items()}


def diff_flows(old: Mapping[FlowKey, str], new: Mapping[FlowKey, str]) -> tuple[FlowChange, ...]:
    out = []
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key, ""), new.get(key, "")
        if was == now:
            continue
        change = "added" if not was else "removed" if not now else "changed"
        out.append(FlowChange(change, *key, was, now))
    return tuple(out)


def diff_results(old: Payload, new: Payload, *, old_paths: Sequence[str] = (), new_paths: Sequence[str] = (),
                 decided_by: Mapping[CellKey, tuple[RuleRef, ...]] | None = None,
                 old_flows: Mapping[FlowKey, str] | None = None, new_flows: Mapping[FlowKey, str] | None = None,
                 fail_on: str = "error") -> ReachabilityDiff:
    """Compare two check payloads (and, when both are given, two flow tables)."""
    introduced, fixed = diff_findings(old["findings"], new["findings"])
    cells = diff_cells(old.get("portMatrix", ()), new.get("portMatrix", ()), decided_by)
    flows = diff_flows(old_flows, new_flows) if old_flows is not None and new_flows is not None else None
    return ReachabilityDiff(tuple(old_paths), tuple(new_paths), introduced, fixed, cells, flows, fail_on)


__all__ = ["CellChange", "FlowChange", "ReachabilityDiff", "RuleRef", "cell_key", "cell_state", "diff_cells",
           "diff_findings", "diff_flows", "diff_results", "finding_key", "finding_sort_key", "flow_table"]
