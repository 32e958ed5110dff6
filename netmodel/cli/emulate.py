"""``netmodel emulate``: replay the topology in Linux network namespaces and check the solver's verdicts."""

from __future__ import annotations

import io
import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from netmodel.cli.app import command
from netmodel.cli.outputs import format_option, output_option, resolve, write
from netmodel.emulate import EmulateError, Lab, cleanup_leftovers, detect_features, host
from netmodel.emulate.flows import parse_selection
from netmodel.emulate.run import Outcome, Report, emulate
from netmodel.errors import Problem, UsageError
from netmodel.model.build import load_topology


def _trace(outcome: Outcome) -> list[str]:
    lines = []
    for path in outcome.answer.paths:
        steps = " → ".join(f"{s.step.value}{'' if s.ok else ' ✗'}" for s in path.steps)
        lines.append(f"solver path {path.source} → {path.destination}: {path.disposition.value}: {steps}")
    for d in outcome.answer.blocked_by:
        where = f" ({d.source.file}:{d.source.line})" if d.source and d.source.line else ""
        lines.append(f"  blocked by {d.kind} {d.name}: {d.rule}{where}")
    for r in outcome.results:
        lines.append(f"kernel probe {r.probe.ns} → {r.probe.dst_ip}:{r.probe.dst_port}"
                     f"{' sport ' + str(r.probe.src_port) if r.probe.src_port else ''}: {r.outcome.value}"
                     f"{' (' + r.detail + ')' if r.detail else ''}")
    if outcome.detail:
        lines.append(f"kernel: {outcome.detail}")
    return lines


def report_json(report: Report) -> dict[str, object]:
    """The JSON of an emulation report: each flow with the solver's and the kernel's verdict, skips, notes
    and timings."""
    def flow(o: Outcome) -> dict[str, object]:
        return {"from": o.flow.source, "to": o.flow.destination, "port": o.flow.port,
                "protocol": o.flow.protocol, "solver": o.solver == "allowed", "kernel": o.kernel == "allowed",
                "solverVerdict": o.solver, "kernelVerdict": o.kernel,
                "disposition": o.answer.disposition.value,
                "probes": [{"namespace": r.probe.ns, "dst": r.probe.dst_ip, "port": r.probe.dst_port,
                            "outcome": r.outcome.value, "detail": r.detail} for r in o.results],
                "paths": [p.to_json() for p in o.answer.paths]}

    return {
        "flows": len(report.outcomes),
        "agree": len(report.outcomes) - len(report.disagreements),
        "disagree": [flow(o) for o in report.disagreements],
        "skipped": [{"from": f.source, "to": f.destination, "port": f.port, "protocol": f.protocol,
                     "reason": why} for f, why in report.skipped],
        "expectations": [{"from": o.flow.source, "to": o.flow.destination, "port": o.flow.port,
                          "protocol": o.flow.protocol, "expected": o.flow.expectation.allowed,
                          "kernel": o.kernel, "solver": o.solver,
                          "source": o.flow.expectation.source.to_json()}
                         for o in report.expectation_misses if o.flow.expectation is not None],
        "notes": list(report.notes),
        "timings": {k: round(v, 3) for k, v in report.timings.items()},
    }


def render_table(report: Report, console: Console) -> None:
    """Print how often the solver and the kernel agreed, by verdict pair, and the flows where they did not."""
    table = Table(title="solver vs kernel", title_justify="left")
    for column in ("verdicts (solver / kernel)", "flows", "agree"):
        table.add_column(column)
    counts: dict[tuple[str, str], int] = {}
    for o in report.outcomes:
        counts[(o.solver, o.kernel)] = counts.get((o.solver, o.kernel), 0) + 1
    for (solver, kernel), n in sorted(counts.items()):
        table.add_row(f"{solver} / {kernel}", str(n), "yes" if solver == kernel else "[red]NO[/red]")
    console.print(table)
    for o in report.disagreements:
        console.print(f"[red]DISAGREE[/red] {o.flow.source} → {o.flow.destination} {o.flow.protocol} "
                      f"{o.flow.port}: solver {o.solver}, kernel {o.kernel}")
        for line in _trace(o):
            console.print(f"    {line}", markup=False)
    for o in report.expectation_misses:
        assert o.flow.expectation is not None
        console.print(f"[yellow]expectation[/yellow] {o.flow.expectation.source}: {o.flow.source} → "
                      f"{o.flow.destination} {o.flow.protocol} {o.flow.port} expected "
                      f"{'allowed' if o.flow.expectation.allowed else 'denied'}, kernel {o.kernel}")
    reasons: dict[str, int] = {}
    for _, why in report.skipped:
        reasons[why] = reasons.get(why, 0) + 1
    for why, n in sorted(reasons.items()):
        console.print(f"skipped {n}: {why}", markup=False)
    agree = len(report.outcomes) - len(report.disagreements)
    console.print(f"{len(report.outcomes)} flows, {agree} agree, {len(report.disagreements)} disagree, "
                  f"{len(report.skipped)} skipped in {report.timings.get('total_s', 0):.1f}s")


def _hold(lab: Lab) -> None:
    names = ", ".join(lab.ns_name(ns.name) for ns in lab.plan.namespaces)
    print(f"lab kept: {names}\nexplore with `ip netns exec NAME ...`; press Enter (or Ctrl-C) to tear down",
          file=sys.stderr)
    try:
        sys.stdin.readline()
    except KeyboardInterrupt:
        pass


@command("emulate")
def emulate_command(
    paths: list[str] = typer.Argument(
        None, help="Files, folders or - (stdin) describing the cluster."),
    flows: str = typer.Option("all", "--flows", help="all, expectations, or sample:N."),
    output_format: str = format_option(),
    output: str = output_option(),
    keep: bool = typer.Option(False, "--keep", help="Keep the lab after probing until Enter is pressed."),
    cleanup: bool = typer.Option(False, "--cleanup", help="Remove namespaces left by a killed run, then exit."),
    timeout: float = typer.Option(0.5, "--timeout", help="Seconds each probe waits."),
) -> None:
    """`netmodel emulate`: its help text is COMMANDS["emulate"] in netmodel/cli/app.py (typer shows that, not this)."""
    if cleanup:
        removed = cleanup_leftovers()
        print(f"removed {len(removed)} leftover namespaces" + (f": {', '.join(removed)}" if removed else ""))
        raise typer.Exit(0)
    if not paths:
        raise UsageError([Problem("no input paths", None, "give files or folders: netmodel emulate topo.yaml")])
    output_format, output = resolve("emulate", output_format, output)
    try:
        parse_selection(flows)
    except EmulateError as err:
        raise UsageError(list(err.problems)) from None
    # The input first: a mistake in it is reported (exit 2, located) on any machine, root or not.
    topology = load_topology(paths)
    host.check_environment(need_nft=True, need_sysctl=True)
    report = emulate(topology, flows, detect_features(), probe_timeout=timeout,
                     hold=_hold if keep else None)
    if output_format == "json":
        write(json.dumps(report_json(report), indent=2) + "\n", output)
    else:
        terminal = not output and sys.stdout.isatty()
        buffer = io.StringIO()
        render_table(report, Console(file=buffer, highlight=False, force_terminal=terminal, no_color=not terminal))
        write(buffer.getvalue(), output)
    raise typer.Exit(1 if report.disagreements else 0)
