"""The terminal report of ``netmodel check``: requirement verdicts, findings with their location, and a port
matrix summary, as rich tables. Colour only when asked for (the CLI asks when stdout is a terminal). Unless
``verbose`` (``netmodel check --verbose``), the port matrix shows only its lines with a blocked or exposed node
plus a one-line count of the rest, and the findings table the first 25 findings of each ID plus a count of the
rest; the JSON always holds everything.

Works from the JSON payload (:meth:`CheckResult.to_json`), like every renderer.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

Payload = Mapping[str, Any]
STYLE = {"fail": "bold red", "warn": "yellow", "pass": "green", "error": "red", "warning": "yellow",
         "info": "cyan", "blocked": "red", "exposed": "red", "ok": "green"}
MAX_SOURCES = 2
PER_ID = 25  # findings of one ID listed in the table unless --verbose


def _location(sources: Sequence[Mapping[str, Any]]) -> str:
    shown = [f"{s['file']}:{s['line']}" for s in sources[:MAX_SOURCES]]
    return "\n".join(shown) + (f"\n(+{len(sources) - MAX_SOURCES} more)" if len(sources) > MAX_SOURCES else "")


def _styled(value: str) -> str:
    style = STYLE.get(value)
    return f"[{style}]{value}[/{style}]" if style else value


def requirements_table(payload: Payload) -> Table:
    """The requirements of a check result as a rich table."""
    table = Table(title="Kubernetes network model", title_justify="left")
    table.add_column("requirement")
    table.add_column("status")
    table.add_column("findings", justify="right")
    for r in payload["requirements"]:
        table.add_row(r["id"], _styled(r["status"]), str(r["findings"]))
    return table


def _shown_findings(findings: Sequence[Mapping[str, Any]],
                    verbose: bool) -> tuple[list[Mapping[str, Any]], dict[str, int]]:
    """The findings a terminal table lists: all with ``verbose``, else the first :data:`PER_ID` of each ID (a
    Service selecting nothing in 7,000 namespaces is one lesson, and rich needs seconds per thousand rows), and
    how many of each ID were left out."""
    if verbose:
        return list(findings), {}
    seen: Counter[str] = Counter()
    shown = []
    for f in findings:
        seen[f["id"]] += 1
        if seen[f["id"]] <= PER_ID:
            shown.append(f)
    return shown, {i: n - PER_ID for i, n in seen.items() if n > PER_ID}


def findings_table(findings: Sequence[Mapping[str, Any]], title: str) -> Table:
    """Findings as a rich table: severity, ID, requirement, message and location."""
    table = Table(title=title, title_justify="left", show_lines=True)
    for name, options in (("severity", {}), ("id", {"no_wrap": True}), ("requirement", {}),
                          ("message", {"ratio": 1, "overflow": "fold"}), ("location", {"overflow": "fold"})):
        table.add_column(name, **options)
    for f in findings:
        table.add_row(_styled(f["severity"]), f["id"], f["requirement"], f["message"], _location(f["sources"]))
    return table


PortKey = tuple[str, str, str, str, str]


def _port_rows(cells: Sequence[Mapping[str, Any]]) -> dict[PortKey, Counter[str]]:
    """Cells counted per (role, purpose, port, source, required), in first-seen order."""
    counts: dict[PortKey, Counter[str]] = {}
    for c in cells:
        key = (c["role"], c["purpose"], f"{c['protocol']} {c['ports']}", c["source"],
               "required" if c["required"] else "")
        counts.setdefault(key, Counter())[c["status"]] += 1
    return counts


def port_matrix_table(cells: Sequence[Mapping[str, Any]], verbose: bool = False) -> Table | None:
    """One line per (role, purpose, source): how many nodes are ok, blocked or exposed.

    Unless ``verbose``, only the lines with a blocked or exposed node are shown (None when there is none);
    :func:`port_matrix_summary` says how many all-ok lines were left out.
    """
    rows = [(key, counter) for key, counter in _port_rows(cells).items()
            if verbose or counter["blocked"] or counter["exposed"]]
    if not rows:
        return None
    title = "Port matrix (nodes per cell status)" if verbose else "Port matrix: blocked or exposed (nodes per status)"
    table = Table(title=title, title_justify="left")
    for name in ("role", "purpose", "port", "source", "required", "ok", "blocked", "exposed"):
        table.add_column(name, justify="right" if name in ("ok", "blocked", "exposed") else "left")
    for (role, purpose, port, source, required), counter in rows:
        bad = {s: (f"[red]{counter[s]}[/red]" if counter[s] else "") for s in ("blocked", "exposed")}
        table.add_row(role, purpose, port, source, required, str(counter["ok"] or ""), bad["blocked"],
                      bad["exposed"])
    return table


def port_matrix_summary(cells: Sequence[Mapping[str, Any]], verbose: bool = False) -> str:
    """The one line about the all-ok port-matrix lines a non-verbose table leaves out ("" when verbose)."""
    if verbose:
        return ""
    rows = _port_rows(cells)
    ok = [counter for counter in rows.values() if not counter["blocked"] and not counter["exposed"]]
    if not ok:
        return ""
    shown = len(rows) - len(ok)
    ok_cells = sum(c["ok"] for c in ok)
    what = f"all {len(ok)} lines ok" if not shown else f"{len(ok)} other line(s) ok"
    return (f"Port matrix: {what} ({ok_cells} cells: required flows allowed, nothing exposed); --verbose lists "
            f"{'them' if not shown else 'them too'}, --format json every cell.")


def render_table(payload: Payload, kind: str = "check", color: bool = False, width: int = 140,
                 verbose: bool = False) -> str:
    """A check result as terminal text: summary, requirements, findings and (``verbose``) the port matrix."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=color, no_color=not color, width=width, highlight=False)
    summary = payload["summary"]
    console.print(f"[bold]netmodel check[/bold]: {_styled(summary['status'])} — {summary['errors']} error(s), "
                  f"{summary['warnings']} warning(s), {summary['infos']} info(s)"
                  + (f", {summary['suppressed']} suppressed" if summary.get("suppressed") else ""))
    console.print(requirements_table(payload))
    if payload["findings"]:
        shown, left_out = _shown_findings(payload["findings"], verbose)
        console.print(findings_table(shown, "Findings"))
        if left_out:
            console.print("Not listed here: " + ", ".join(f"{n} more {i}" for i, n in left_out.items())
                          + " (the first " + str(PER_ID) + " of each ID are listed); --verbose lists every "
                          "finding, --format json holds them all.")
    if payload.get("portMatrix"):
        table = port_matrix_table(payload["portMatrix"], verbose)
        if table is not None:
            console.print(table)
        summary_line = port_matrix_summary(payload["portMatrix"], verbose)
        if summary_line:
            console.print(summary_line)
    failed = [e for e in payload.get("expectations", ()) if not e.get("ok")]
    if failed:
        console.print(f"[red]{len(failed)} expectation(s) do not hold[/red] (see the findings above)")
    uncertain = [e for e in payload.get("expectations", ()) if e.get("notEvaluated")]
    for e in uncertain[:PER_ID]:
        console.print(f"[yellow]expectation {e['from']} → {e['to']} {e['protocol']} {e['port']} "
                      f"({_location([e['source']])})[/yellow]: {e['notEvaluated']['message']}")
    if len(uncertain) > PER_ID:
        console.print(f"[yellow]{len(uncertain) - PER_ID} more expectation(s)[/yellow] may differ (--format json "
                      "lists them)")
    if payload.get("suppressed"):
        # Listed, never dropped: a silenced finding shows who silenced it and why.
        table = Table(title=f"Suppressed findings ({len(payload['suppressed'])})", title_justify="left")
        for column in ("ID", "objects", "suppressed by", "reason"):
            table.add_column(column, overflow="fold")
        for f in payload["suppressed"]:
            s = f["suppression"]
            table.add_row(f["id"], ", ".join(f.get("objects", ())),
                          s["by"] + (f" on {s['object']}" if s.get("object") else ""), s["reason"])
        console.print(table)
    return out.getvalue()
