"""``netmodel diagram``: draw the topology, the port matrix or the connectivity matrix to a PNG or SVG file."""

from __future__ import annotations

from pathlib import Path

import typer

from netmodel.analyze.reach import CompiledCluster
from netmodel.analyze.reach.refs import resolve
from netmodel.cli.app import command
from netmodel.errors import Problem, UsageError
from netmodel.pipeline import connectivity_payload, run_check
from netmodel.report.progress import progress


@command("diagram")
def diagram_command(
    paths: list[str] = typer.Argument(..., help="Files, folders or - (stdin) describing the cluster."),
    output: str = typer.Option(..., "--output", "-o", help="Image file to write: FILE.png or FILE.svg."),
    view: str = typer.Option("topology", "--view", help="topology, ports or matrix."),
    focus: str = typer.Option("", "--focus", help="Narrow the picture to a reference, as query takes them: "
                              "namespace:NS, deployment:NS/NAME (any workload kind), service:NS/NAME, "
                              "NS/NAME (a Pod), node:NAME, network:NAME, gateway:NS/NAME. A Gateway, or a Service a "
                              "Gateway route or Ingress sends to, draws its entry path across namespaces. The "
                              "ports view takes node:NAME only."),
    by: str = typer.Option("workload", "--by", help="matrix view: aggregate by workload or namespace."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """`netmodel diagram`: its help text is COMMANDS["diagram"] in netmodel/cli/app.py (typer shows that, not this)."""
    # Imported here so that commands which never draw do not pay for importing matplotlib.
    from netmodel.report.diagrams import (
        FORMATS,
        VIEWS,
        draw_matrix,
        draw_ports,
        draw_topology,
        save,
    )
    from netmodel.report.figures import connections_of

    fmt = Path(output).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise UsageError([Problem(f"cannot tell the image format of {output!r}",
                                  hint="end the file name in .png or .svg")])
    if view not in VIEWS:
        raise UsageError([Problem(f"unknown view {view!r}", hint=f"use one of: {', '.join(VIEWS)}")])
    if focus and view == "ports" and not focus.startswith("node:"):
        raise UsageError([Problem(f"--focus {focus!r}: the ports view shows nodes", hint="use --focus node:NAME")])
    with progress(f"drawing the {view} view", quiet=quiet):
        if view == "matrix":
            from netmodel.model.build import load_topology

            compiled = CompiledCluster(load_topology(paths))
            if focus:
                _check_focus(compiled, focus)
            matrix = connectivity_payload(compiled, by)
            figure = draw_matrix(connections_of(matrix), f"Connectivity by {by}", focus)
        else:
            run = run_check(paths)
            if focus:
                _check_focus(run.compiled, focus)
            payload = run.payload()
            figure = (draw_topology(run.context.graph, payload, focus) if view == "topology"
                      else draw_ports(payload["portMatrix"], focus=focus))
        image = save(figure, fmt)
    try:
        Path(output).write_bytes(image)
    except OSError as err:
        raise UsageError([Problem(f"cannot write {output!r}: {err.strerror}", hint="choose a writable path")]) from err


def _check_focus(compiled: CompiledCluster, focus: str) -> None:
    """An unknown ``--focus`` is a usage error, decided by the resolver ``query`` uses (one rule)."""
    try:
        if focus.partition(":")[0].strip().lower() == "gateway":
            from netmodel.analyze.reach.gateway import find_gateway

            find_gateway(compiled.gateways, focus)  # the same rule query --to gateway: uses
        else:
            resolve(compiled, focus, as_source=False)
    except UsageError as err:
        raise UsageError([Problem(f"--focus: {p.message}", p.span, p.hint, p.snippet) for p in err.problems]) from None
