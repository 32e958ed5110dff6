"""``netmodel matrix``: every allowed connection, aggregated by Pod, workload or namespace."""

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
from netmodel.analyze.reach import Fabric
from netmodel.analyze.unevaluated import Unevaluated, matrix_json
from netmodel.analyze.unscheduled import unscheduled_json, unscheduled_line
from netmodel.cli.app import app
from netmodel.errors import Problem, UsageError
from netmodel.model.build import load_topology

# table, json and csv here; markdown, html, junit, sarif and dot from the renderer registry.
FORMATS = ("table", "json", "csv", "markdown", "html", "junit", "sarif", "dot")
CSV_COLUMNS = ("from", "to", "protocol", "ports", "partial", "via")


def render_json(payload: dict[str, object]) -> str:
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


def render_table(payload: dict[str, Any], console: Console) -> None:
    rows = payload["connections"]
    table = Table(title=f"allowed connections by {payload['by']} ({len(rows)})", title_justify="left")
    for column in ("from", "to", "protocol", "ports", "note"):
        table.add_column(column, overflow="fold")
    for c in rows:
        note = ", ".join(x for x in (f"via {c['via']}" if c.get("via") else "", "partial" if c["partial"] else "",
                                     "may differ: " + ", ".join(c["notEvaluated"]) if c.get("notEvaluated")
                                     else "") if x)
        table.add_row(c["from"], c["to"], c["protocol"], c["ports"], note)
    console.print(table)
    if payload.get("notEvaluated"):
        console.print(f"[yellow]{payload['notEvaluated']['message']}[/yellow] (they may also allow connections "
                      "not listed here)")
    if payload.get("unscheduled"):
        console.print(f"[yellow]note[/yellow]: {unscheduled_line(payload['unscheduled'])}")


@app.command("matrix")
def matrix_command(
    paths: list[str] = typer.Argument(..., help="Files, folders or - (stdin) describing the cluster."),
    by: str = typer.Option("workload", "--by", help="Aggregate by pod, workload or namespace."),
    output: str = typer.Option("table", "--format", "-o", help="table, json, csv, markdown, html, junit, sarif or dot."),
) -> None:
    """List every allowed connection (NetworkPolicy, listening ports, node firewalls, NodePorts), with
    outside networks as sources and destinations. "partial" marks connections only some members get.
    """
    if by not in GROUPINGS:
        raise UsageError([Problem(f"unknown grouping {by!r}", None, f"use one of: {', '.join(GROUPINGS)}")])
    if output not in FORMATS:
        raise UsageError([Problem(f"unknown format {output!r}", None, f"use one of: {', '.join(FORMATS)}")])
    topology = load_topology(paths)
    connections = connectivity(Fabric(topology), by)
    payload = matrix_json(connections, by, Unevaluated.of(topology))
    if topology.unscheduled:
        payload["unscheduled"] = unscheduled_json(topology.unscheduled)
    if output == "json":
        sys.stdout.write(render_json(payload))
    elif output == "csv":
        sys.stdout.write(render_csv(payload))
    elif output != "table":
        from netmodel.report import RENDERERS

        sys.stdout.write(RENDERERS[output](payload, "matrix"))
    else:
        render_table(payload, Console(highlight=False, width=None if sys.stdout.isatty() else 200))
