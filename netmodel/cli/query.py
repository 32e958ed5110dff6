"""``netmodel query``: can FROM reach TO on a port, and if not, what blocks it."""

from __future__ import annotations

import io
import sys

import typer
from rich.console import Console
from rich.table import Table

from netmodel.analyze import unevaluated
from netmodel.analyze.reach import Answer, CompiledCluster, query
from netmodel.analyze.reach.query import check_port_name, parse_port
from netmodel.analyze.unevaluated import Unevaluated
from netmodel.analyze.unscheduled import unscheduled_json, unscheduled_line
from netmodel.cli.app import command
from netmodel.cli.outputs import format_option, output_option, resolve, write
from netmodel.model.build import load_topology
from netmodel.report.json_text import dumps_indented

# table and json here; markdown, html, junit and dot from the renderer registry (csv and sarif are refused:
# netmodel.cli.outputs).
_MARK = {True: "[green]✓[/green]", False: "[red]✗[/red]"}


def render_table(answer: Answer, console: Console, not_evaluated: str = "") -> None:
    """Print a query answer: the verdict, then each path as a table of hops and steps."""
    colour = {"allowed": "green", "denied": "red", "partial": "yellow"}[answer.verdict]
    console.print(f"[bold]{answer.source} → {answer.destination} {answer.protocol} {answer.port}[/bold]: "
                  f"[{colour}]{answer.verdict.upper()}[/{colour}] ({answer.disposition.value})")
    for number, path in enumerate(answer.paths, 1):
        table = Table(title=f"path {number}: {path.source} → {path.destination} — {path.disposition.value}",
                      title_justify="left", show_lines=False)
        for column in ("hop", "step", "", "detail", "decided by"):
            table.add_column(column, overflow="fold")
        for hop in path.hops:
            first = True
            for step in hop.steps:
                decided = "\n".join(
                    f"{d.kind} {d.name}: {d.rule}" + (f" ({d.source.file}:{d.source.line})"
                                                       if d.source and d.source.line else "")
                    for d in step.decisions)
                table.add_row(hop.location if first else "", step.step.value, _MARK[step.ok], step.detail, decided)
                first = False
        console.print(table)
    if answer.blocked_by:
        console.print("[bold]blocked by[/bold]:")
        for d in answer.blocked_by:
            where = f" — {d.source.file}:{d.source.line}" if d.source and d.source.line else ""
            console.print(f"  • {d.kind} {d.name}: {d.rule}{where}")
    if not_evaluated:
        console.print(f"[yellow]{not_evaluated}[/yellow]", markup=True)


@command("query")
def query_command(
    paths: list[str] = typer.Argument(..., help="Files, folders or - (stdin) describing the cluster."),
    source: str = typer.Option(..., "--from", help="Source reference: NS/NAME, pod:, deployment:, service:, "
                               "node:, network: or ip:."),
    destination: str = typer.Option(..., "--to", help="Destination reference (same forms as --from, "
                                "or gateway:NS/NAME, ingress:NS/NAME)."),
    port: str = typer.Option(..., "--port", "-p", help="Destination port: a number or a named port."),
    protocol: str = typer.Option("TCP", "--protocol", help="TCP, UDP or SCTP."),
    host: str = typer.Option("", "--host", help="With --to gateway:NS/NAME or ingress:NS/NAME: the host name the "
                             "client asks for (HTTP Host, TLS SNI); picks the listener and routes, or the Ingress "
                             "rules, that serve it."),
    output_format: str = format_option(),
    output: str = output_option(),
) -> None:
    """`netmodel query`: its help text is COMMANDS["query"] in netmodel/cli/app.py (typer shows that, not this)."""
    output_format, output = resolve("query", output_format, output)
    number_or_name = parse_port(port)  # a malformed port is refused before the input is read
    topology = load_topology(paths)
    check_port_name(topology, number_or_name)
    answer = query(CompiledCluster(topology), source, destination, number_or_name, protocol, host=host)
    # Policies netmodel does not read that could change this answer: the answer says so (docs/reachability.md).
    skipped = Unevaluated.of(topology).for_answer(answer)
    payload = answer.to_json()
    if skipped:
        payload["notEvaluated"] = unevaluated.to_json(skipped)
    unscheduled = unscheduled_json(topology.unscheduled) if topology.unscheduled else None
    if unscheduled is not None:
        payload["unscheduled"] = unscheduled
    if output_format == "json":
        text = dumps_indented(payload) + "\n"
    elif output_format != "table":
        from netmodel.report import RENDERERS

        text = RENDERERS[output_format](payload, "query")
    else:
        terminal = not output and sys.stdout.isatty()
        buffer = io.StringIO()
        console = Console(file=buffer, highlight=False, force_terminal=terminal, no_color=not terminal,
                          width=None if terminal else 200)
        render_table(answer, console, unevaluated.message(skipped))
        if unscheduled is not None:
            console.print(f"[yellow]note[/yellow]: {unscheduled_line(unscheduled)}")
        text = buffer.getvalue()
    write(text, output)
    raise typer.Exit(0 if answer.allowed else 1)
