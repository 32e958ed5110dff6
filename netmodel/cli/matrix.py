"""``netmodel matrix``: every allowed connection, as grouped rules (default) or pairwise by Pod, workload or
namespace."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from netmodel.analyze.connectivity import GROUPINGS, connectivity
from netmodel.analyze.grouped import LOOPBACK, grouped_json
from netmodel.analyze.reach import CompiledCluster
from netmodel.analyze.unevaluated import Unevaluated, matrix_json
from netmodel.analyze.unscheduled import unscheduled_json, unscheduled_line
from netmodel.cli.app import app
from netmodel.cli.outputs import TABLE_ROWS, fold_note, format_option, output_option, resolve, write
from netmodel.errors import Problem, UsageError
from netmodel.model.build import load_topology

# table, json and csv here; markdown, html, junit and dot from the renderer registry (sarif is refused:
# netmodel.cli.outputs).
CSV_COLUMNS = ("from", "to", "protocol", "ports", "partial", "via")
GROUPED_COLUMNS = ("from", "to", "connections")
VIEWS = ("group",) + GROUPINGS


def render_json(payload: dict[str, object]) -> str:
    """The matrix payload as indented JSON, ending in a newline."""
    return json.dumps(payload, indent=2) + "\n"


def render_csv(payload: dict[str, Any]) -> str:
    """One row per connection; with objects netmodel does not evaluate, a last column ``notEvaluated`` names the
    kinds that could change each row."""
    marked = "notEvaluated" in payload
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + (("notEvaluated",) if marked else ()))
    for c in payload["connections"]:
        row = [c["from"], c["to"], c["protocol"], c["ports"], "true" if c["partial"] else "false", c.get("via", "")]
        writer.writerow(row + (["; ".join(c.get("notEvaluated", ()))] if marked else []))
    return out.getvalue()


def grouped_rows(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The grouped map as flat rows (from, to, connections[, notEvaluated]), the loopback line last."""
    rows = [{"from": r["from"], "to": r["to"], "connections": r["connections"],
             **({"notEvaluated": ", ".join(r["notEvaluated"])} if r.get("notEvaluated") else {})}
            for r in payload["rules"]]
    return rows + ([dict(LOOPBACK)] if payload["loopback"] else [])


def render_grouped_csv(payload: dict[str, Any]) -> str:
    """The grouped map as CSV: one row per rule (from, to, connections), marked when some input is not evaluated."""
    marked = "notEvaluated" in payload
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GROUPED_COLUMNS + (("notEvaluated",) if marked else ()))
    for row in grouped_rows(payload):
        writer.writerow([row[c] for c in GROUPED_COLUMNS] + ([row.get("notEvaluated", "")] if marked else []))
    return out.getvalue()


def render_grouped_table(payload: dict[str, Any], console: Console, limit: int = TABLE_ROWS) -> None:
    """At most ``limit`` rules, then how many more and which formats list them all."""
    rows = grouped_rows(payload)
    table = Table(title=f"allowed connections, grouped ({len(payload['rules']):,} rules; exact: --by pod lists "
                        "every pair)", title_justify="left")
    for column in ("from", "to", "connections", "note"):
        table.add_column(column, overflow="fold")
    for r in rows[:limit]:
        table.add_row(r["from"], r["to"], r["connections"],
                      f"may differ: {r['notEvaluated']}" if r.get("notEvaluated") else "")
    console.print(table)
    if len(rows) > limit:
        console.print(fold_note(limit, len(rows), "rules"))
    _notes(payload, console)


def _notes(payload: dict[str, Any], console: Console) -> None:
    if payload.get("notEvaluated"):
        console.print(f"[yellow]{payload['notEvaluated']['message']}[/yellow] (they may also allow connections "
                      "not listed here)")
    if payload.get("unscheduled"):
        console.print(f"[yellow]note[/yellow]: {unscheduled_line(payload['unscheduled'])}")


def render_table(payload: dict[str, Any], console: Console, limit: int = TABLE_ROWS) -> None:
    """At most ``limit`` rows, then how many more and which formats list them all."""
    rows = payload["connections"]
    table = Table(title=f"allowed connections by {payload['by']} ({len(rows):,})", title_justify="left")
    for column in ("from", "to", "protocol", "ports", "note"):
        table.add_column(column, overflow="fold")
    for c in rows[:limit]:
        note = ", ".join(x for x in (f"via {c['via']}" if c.get("via") else "", "partial" if c["partial"] else "",
                                     "may differ: " + ", ".join(c["notEvaluated"]) if c.get("notEvaluated")
                                     else "") if x)
        table.add_row(c["from"], c["to"], c["protocol"], c["ports"], note)
    console.print(table)
    if len(rows) > limit:
        console.print(fold_note(limit, len(rows), "connections"))
    _notes(payload, console)


@app.command("matrix")
def matrix_command(
    paths: list[str] = typer.Argument(..., help="Files, folders or - (stdin) describing the cluster."),
    by: str = typer.Option("group", "--by", help="group (default): the grouped map, rules that expand exactly to "
                                                 "the allowed connections; pod, workload or namespace: pairwise."),
    output_format: str = format_option(),
    output: str = output_option(),
) -> None:
    """List every allowed connection (NetworkPolicy, listening ports, node firewalls, NodePorts), with
    outside networks as sources and destinations: by default as a few grouped rules that expand exactly to
    them, with --by pod|workload|namespace pair by pair. "partial" marks connections only some members get.
    """
    if by not in VIEWS:
        raise UsageError([Problem(f"unknown grouping {by!r}", None, f"use one of: {', '.join(VIEWS)}")])
    output_format, output = resolve("matrix", output_format, output)
    topology = load_topology(paths)
    grouped = by == "group"
    if grouped:
        payload = grouped_json(CompiledCluster(topology), Unevaluated.of(topology))
    else:
        payload = matrix_json(connectivity(CompiledCluster(topology), by), by, Unevaluated.of(topology))
    if topology.unscheduled:
        payload["unscheduled"] = unscheduled_json(topology.unscheduled)
    if output_format == "json":
        text = render_json(payload)
    elif output_format == "csv":
        text = render_grouped_csv(payload) if grouped else render_csv(payload)
    elif output_format != "table":
        from netmodel.report import RENDERERS

        # The other renderers read records: the grouped map as its flat rows.
        view = {"by": "group", "rules": grouped_rows(payload),
                **{k: v for k, v in payload.items() if k in ("notEvaluated", "unscheduled")}} if grouped else payload
        text = RENDERERS[output_format](view, "matrix")
    else:
        terminal = not output and sys.stdout.isatty()
        buffer = io.StringIO()
        console = Console(file=buffer, highlight=False, force_terminal=terminal, no_color=not terminal,
                          width=None if terminal else 200)
        (render_grouped_table if grouped else render_table)(payload, console)
        text = buffer.getvalue()
    write(text, output)
