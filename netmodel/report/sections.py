"""What a human-readable report says, independent of its syntax: titled tables built from the JSON payload.

Markdown and HTML render the same :class:`Section` list, so the two never disagree. Every renderer works from the
JSON payload of a command (the documented contract, see ``netmodel/schemas/``), never from internal objects, so a
report can also be re-rendered from a saved JSON file.

Kinds of payload: ``check``, ``query``, ``matrix``, ``diff``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from netmodel.analyze.diff import cell_state, finding_sort_key

Payload = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Section:
    """One titled table. ``tones`` colours rows in HTML (``error``/``warning``/``info``/``ok``/``""``)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    intro: str = ""
    tones: tuple[str, ...] = ()
    empty: str = "none"


@dataclass(frozen=True, slots=True)
class Headline:
    """The first line of a report: a title, the verdict (``pass``/``fail``/other) and key figures."""

    title: str
    status: str
    figures: tuple[tuple[str, str], ...]


def location(sources: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None) -> str:
    """``file:line`` of each source, comma-separated."""
    if not sources:
        return ""
    if isinstance(sources, Mapping):
        sources = [sources]
    return ", ".join(f"{s.get('file', '')}:{s.get('line', 0)}" for s in sources if s.get("line"))


def _finding_rows(findings: Sequence[Mapping[str, Any]]) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    ordered = sorted(findings, key=finding_sort_key)
    rows = tuple((f["severity"], f["id"], f.get("requirement", ""), f["message"], ", ".join(f.get("objects", ())),
                  location(f.get("sources"))) for f in ordered)
    return rows, tuple(f["severity"] for f in ordered)


FINDING_COLUMNS = ("severity", "ID", "requirement", "message", "objects", "location")


# -- check ---------------------------------------------------------------------------------------------------------


def check_headline(payload: Payload) -> Headline:
    """The headline of a check report: status and counts (errors, warnings, infos, suppressed,
    expectations)."""
    s = payload["summary"]
    figures = [("errors", str(s["errors"])), ("warnings", str(s["warnings"])), ("infos", str(s["infos"]))]
    figures.append(("suppressed", str(s.get("suppressed", len(payload.get("suppressed", ()))))))
    if "expectations" in payload:
        failed = sum(1 for e in payload["expectations"] if not e.get("ok"))
        figures.append(("expectations failed", f"{failed}/{len(payload['expectations'])}"))
    return Headline("netmodel check", s["status"], tuple(figures))


def check_sections(payload: Payload) -> list[Section]:
    """The sections of a check report: requirements, findings, problem cells, expectations, suppressed."""
    out = [Section("Requirements", ("requirement", "status", "findings"),
                   tuple((r["id"], r["status"], str(r["findings"])) for r in payload["requirements"]),
                   tones=tuple({"fail": "error", "warn": "warning", "pass": "ok"}.get(r["status"], "")
                               for r in payload["requirements"]))]
    rows, tones = _finding_rows(payload["findings"])
    out.append(Section("Findings", FINDING_COLUMNS, rows, tones=tones))
    if "expectations" in payload:
        exp = payload["expectations"]
        out.append(Section(
            "Expectations", ("result", "from", "to", "port", "protocol", "expected", "actual", "disposition",
                             "location"),
            tuple(("ok" if e.get("ok") else "FAILED", e["from"], e["to"], str(e["port"]), e["protocol"],
                   _allowed(e.get("expected")), _allowed(e.get("actual")),
                   e.get("disposition", "") + (f" ({e['notEvaluated']['message']})" if e.get("notEvaluated")
                                               else ""),
                   location(e.get("source"))) for e in exp),
            tones=tuple("ok" if e.get("ok") else "error" for e in exp)))
    suppressed = sorted(payload.get("suppressed", ()), key=finding_sort_key)
    out.append(Section(
        "Suppressed findings", ("severity", "ID", "message", "objects", "suppressed by", "reason", "where"),
        tuple((f["severity"], f["id"], f["message"], ", ".join(f.get("objects", ())),
               f["suppression"]["by"] + (f" on {f['suppression']['object']}" if f["suppression"].get("object")
                                         else ""),
               f["suppression"]["reason"], location(f["suppression"].get("source"))) for f in suppressed),
        intro="Silenced by a netmodel.io/skip annotation or a baseline; they do not count towards the verdict.",
        tones=tuple("info" for _ in suppressed)))
    out.extend(port_matrix_sections(payload.get("portMatrix", ())))
    return out


def _allowed(value: object) -> str:
    if value is True:
        return "allowed"
    if value is False:
        return "denied"
    return "" if value is None else str(value)


def port_matrix_sections(cells: Sequence[Mapping[str, Any]]) -> list[Section]:
    """Problem cells one by one; then every cell folded over nodes of a role (readable at 5,000 nodes)."""
    problems = [c for c in cells if c.get("status") in ("blocked", "exposed")]
    problems.sort(key=lambda c: (c["status"], c["node"], _port_key(c["ports"]), c["source"]))
    out = [Section("Port matrix: problems", ("status", "node", "role", "ports", "protocol", "purpose", "source"),
                   tuple((c["status"], c["node"], c["role"], c["ports"], c["protocol"], c["purpose"], c["source"])
                         for c in problems),
                   tones=tuple("error" for _ in problems), empty="none: every required flow is open and no "
                                                                 "sensitive port is exposed")]
    groups: dict[tuple[str, str, str, str, str], Counter[str]] = defaultdict(Counter)
    for c in cells:
        groups[(c["role"], c["ports"], c["protocol"], c["purpose"], c["source"])][cell_state(c)] += 1
    keys = sorted(groups, key=lambda k: (k[0], _port_key(k[1]), k[2], k[4]))
    rows = tuple((*k[:4], k[4], ", ".join(f"{state} ×{n}" for state, n in sorted(groups[k].items())))
                 for k in keys)
    tones = tuple("error" if {"blocked", "exposed"} & set(groups[k]) else "" for k in keys)
    out.append(Section("Port matrix by role", ("role", "ports", "protocol", "purpose", "source", "nodes"), rows,
                       intro="Cells: ok (required and open), blocked (required, closed), exposed (sensitive and "
                             "open), open (allowed, not required), not-required (closed, nobody needs it).",
                       tones=tones))
    return out


def _port_key(ports: str) -> tuple[int, str]:
    head = ports.split(",")[0].split("-")[0]
    return (int(head) if head.isdigit() else 1 << 20, ports)


# -- diff ----------------------------------------------------------------------------------------------------------


def diff_headline(payload: Payload) -> Headline:
    """The headline of a diff report: status and its summary counts."""
    s = payload["summary"]
    return Headline("netmodel diff", s["status"], tuple((k, str(v)) for k, v in s.items() if k != "status"))


def diff_sections(payload: Payload) -> list[Section]:
    """The sections of a diff report: findings introduced and fixed, cells and flows changed."""
    out = []
    for change in ("introduced", "fixed"):
        findings = payload["findings"][change]
        rows, tones = _finding_rows(findings)
        out.append(Section(f"Findings {change}", FINDING_COLUMNS, rows,
                           tones=tones if change == "introduced" else tuple("ok" for _ in rows)))
    cells = payload["portMatrix"]
    out.append(Section(
        "Port matrix changes", ("node", "role", "ports", "protocol", "purpose", "source", "before", "after",
                                "decided by"),
        tuple((c["node"], c["role"], c["ports"], c["protocol"], c["purpose"], c["source"], c["before"] or "-",
               c["after"] or "-", "; ".join(f"Firewall {r['firewall']} {r['rule']} ({location(r.get('source'))})"
                                            for r in c.get("decidedBy", ()))) for c in cells),
        tones=tuple("error" if c["after"] in ("blocked", "exposed") else "ok" for c in cells)))
    flows = payload.get("flows")
    if flows is not None:
        columns = ("from", "to", "protocol", "ports", "before", "after", "note")
        for change in ("opened", "closed"):
            entries = flows[change]
            rows = tuple((f["from"], f["to"], f["protocol"], f["ports"], f.get("before") or "-",
                          f.get("after") or "-", _flow_note(f)) for f in entries)
            tones = tuple(("ok" if f.get("accepted") or f.get("exposure") else "error") if change == "opened"
                          else "" for f in entries)
            intro = ("Flows (by workload) the new layout allows and the old one denied; not accepted ones fail "
                     "the diff." if change == "opened" else "Flows (by workload) the old layout allowed and the "
                     "new one denies.")
            if flows.get(f"{change}Note"):  # a folded table (netmodel.cli.diff.fold_flows)
                intro += " " + flows[f"{change}Note"]
            out.append(Section(f"Flows {change}", columns, rows, tones=tones, intro=intro, empty="none"))
    return out


def _flow_note(f: Payload) -> str:
    notes = []
    if f.get("via"):
        notes.append(f"via {f['via']}")
    if f.get("partialBefore") and not f.get("partialAfter"):
        notes.append("was allowed to some members only")
    elif f.get("partialAfter") and not f.get("partialBefore"):
        notes.append("now allowed to some members only")
    elif f.get("partialAfter"):
        notes.append("partial")
    if f.get("exposure"):
        notes.append("reached through a new exposure (port matrix)")
    accepted = f.get("accepted")
    if accepted:
        notes.append(f"accepted by {accepted['reason']}")
    return "; ".join(notes)


# -- anything else (query, matrix): every list of records becomes a table ------------------------------------------


def generic_headline(payload: Payload, kind: str) -> Headline:
    """The headline of any other payload: its status and its scalar fields."""
    status = payload.get("status") or payload.get("summary", {}).get("status") or (
        ("allowed" if payload["allowed"] else "denied") if "allowed" in payload else "")
    figures = tuple((k, _scalar(v)) for k, v in payload.items()
                    if not isinstance(v, (list, dict)) and k not in ("schemaVersion", "status"))
    return Headline(f"netmodel {kind}", str(status), figures)


def generic_sections(payload: Payload) -> list[Section]:
    """A section per list of records in the payload."""
    out = []
    for key, value in payload.items():
        if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
            columns: list[str] = []
            for record in value:
                columns.extend(k for k in record if k not in columns)
            rows = tuple(tuple(_scalar(record.get(c)) for c in columns) for record in value)
            out.append(Section(key, tuple(columns), rows))
        elif isinstance(value, Mapping):
            out.extend(generic_sections({f"{key}.{k}": v for k, v in value.items()}))
    return out


def _scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        if "file" in value and "line" in value:
            return location(value)
        return ", ".join(f"{k}={_scalar(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_scalar(v) for v in value)
    return str(value)


def query_sections(payload: Payload) -> list[Section]:
    """One table per path: every step of every hop, and the rules that decided it; then what blocks it."""
    out = []
    for n, path in enumerate(payload.get("paths", ()), 1):
        rows, tones = [], []
        for hop in path.get("hops", ()):
            for step in hop.get("steps", ()):
                decided = "; ".join(f"{d['kind']} {d['name']}: {d['rule']}"
                                    + (f" ({location(d.get('source'))})" if location(d.get("source")) else "")
                                    for d in step.get("decisions", ()))
                rows.append((hop.get("location", ""), step.get("step", ""), "ok" if step.get("ok") else "✗",
                             step.get("detail", ""), decided))
                tones.append("" if step.get("ok") else "error")
        out.append(Section(f"Path {n}: {path.get('source', '')} → {path.get('destination', '')} "
                           f"({path.get('disposition', '')})", ("hop", "step", "", "detail", "decided by"),
                           tuple(rows), tones=tuple(tones)))
    blocked = payload.get("blockedBy", ())
    out.append(Section("Blocked by", ("kind", "name", "rule", "location"),
                       tuple((d["kind"], d["name"], d["rule"], location(d.get("source"))) for d in blocked),
                       tones=tuple("error" for _ in blocked), empty="nothing: the flow is allowed"))
    skipped = payload.get("notEvaluated")
    if skipped:
        out.append(Section("Not evaluated", ("object", "location"),
                           tuple((o, location(src)) for o, src in zip(skipped["objects"], skipped["sources"])),
                           intro=skipped["message"], tones=tuple("warning" for _ in skipped["objects"])))
    return out


def headline_and_sections(payload: Payload, kind: str) -> tuple[Headline, list[Section]]:
    """The headline and sections every document renderer (HTML, Markdown) shows for ``kind``."""
    if kind == "check":
        return check_headline(payload), check_sections(payload)
    if kind == "diff":
        return diff_headline(payload), diff_sections(payload)
    if kind == "query":
        return generic_headline(payload, kind), query_sections(payload)
    return generic_headline(payload, kind), generic_sections(payload)


__all__ = ["Headline", "Payload", "Section", "cell_state", "headline_and_sections", "location"]
