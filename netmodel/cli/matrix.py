"""``netmodel matrix``: every allowed connection, aggregated by Pod, workload or namespace."""

from __future__ import annotations

import csv
import io
import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from netmodel.analyze.connectivity import GROUPINGS, Connection, connectivity
from netmodel.analyze.reach import Fabric
from netmodel.cli.app import app
from netmodel.errors import Problem, UsageError
from netmodel.model.build import load_topology
from netmodel.sets import format_ports, protocol_label

# table, json and csv here; markdown, html, junit, sarif and dot from the renderer registry.
FORMATS = ("table", "json", "csv", "markdown", "html", "junit", "sarif", "dot")
CSV_COLUMNS = ("from", "to", "protocol", "ports", "partial", "via")


def render_json(connections: list[Connection], by: str) -> str:
    return json.dumps({"by": by, "connections": [c.to_json() for c in connections]}, indent=2) + "\n"


def render_csv(connections: list[Connection], by: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in connections:
        writer.writerow((c.source, c.destination, protocol_label(c.protocol), format_ports(c.ports),
                         "true" if c.partial else "false", c.via))
    return out.getvalue()


def render_table(connections: list[Connection], by: str, console: Console) -> None:
    table = Table(title=f"allowed connections by {by} ({len(connections)})", title_justify="left")
    for column in ("from", "to", "protocol", "ports", "note"):
        table.add_column(column, overflow="fold")
    for c in connections:
        note = ", ".join(x for x in (f"via {c.via}" if c.via else "", "partial" if c.partial else "") if x)
        table.add_row(c.source, c.destination, protocol_label(c.protocol), format_ports(c.ports), note)
    console.print(table)


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
    connections = connectivity(Fabric(load_topology(paths)), by)
    if output == "json":
        sys.stdout.write(render_json(connections, by))
    elif output == "csv":
        sys.stdout.write(render_csv(connections, by))
    elif output != "table":
        from netmodel.report import RENDERERS

        sys.stdout.write(RENDERERS[output]({"by": by, "connections": [c.to_json() for c in connections]}, "matrix"))
    else:
        render_table(connections, by, Console(highlight=False, width=None if sys.stdout.isatty() else 200))
