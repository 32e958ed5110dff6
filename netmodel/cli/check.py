"""``netmodel check``: the network-model verdict and the port matrix for a cluster layout."""

from __future__ import annotations

import gc
import sys

import typer

from netmodel.analyze.result import FAIL_ON, exit_code
from netmodel.analyze.suppress import read_baseline
from netmodel.analyze.suppress import write_baseline as write_baseline_file
from netmodel.cli.app import command
from netmodel.cli.outputs import format_option, output_option, resolve, write
from netmodel.errors import Problem, UsageError
from netmodel.load.files import paused_gc
from netmodel.pipeline import run_check
from netmodel.report import render

# Tracked objects a command must have made before moving them is worth it (scanning fewer costs under 0.1 s).
PROMOTE_FROM = 500_000

_promoted = False  # a check moved its objects to the oldest generation and no full collection has run since


def _promote_to_oldest_generation() -> None:
    """Move every object the collector tracks to its oldest generation, without scanning any, when the command
    made :data:`PROMOTE_FROM` or more.

    Everything made while the collector was paused sits in its youngest generation, so the first young
    collection after the pause would traverse all of it (0.1-0.4 s on the envelope input) to find next to
    nothing. Freezing and at once unfreezing moves the lot to the oldest generation unscanned. Those objects do
    not count towards the next full collection, though, so cyclic garbage among them could wait indefinitely
    when :func:`netmodel.cli.main.main` runs many commands in one process: the next check collects it first
    (:func:`_collect_promoted`), so at most one check's worth waits. Skipped when someone else froze objects
    (unfreezing would thaw theirs too).
    """
    global _promoted
    if gc.get_count()[0] >= PROMOTE_FROM and gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
        _promoted = True


def _collect_promoted() -> None:
    """The full collection the objects an earlier check promoted did not trigger (a one-shot CLI never gets
    here)."""
    global _promoted
    if _promoted:
        _promoted = False
        gc.collect()


@command("check")
def check_command(
    paths: list[str] = typer.Argument(..., help="Files, folders (read recursively) or - (stdin)."),
    output_format: str = format_option(),
    fail_on: str = typer.Option("error", "--fail-on",
                                help="Exit 1 when a finding is at least this severe: error, warning or info."),
    output: str = output_option(),
    expect: list[str] = typer.Option([], "--expect", "-e", help="Expectations file(s) to evaluate (Expectations "
                                     "among the inputs count too); a flow that does not hold fails the run."),
    baseline: str = typer.Option("", "--baseline", help="Ignore the findings recorded in this baseline file "
                                 "(they are still listed as suppressed)."),
    write_baseline: str = typer.Option("", "--write-baseline", help="Record the current findings in this file "
                                       "for a later --baseline run."),
    verbose: bool = typer.Option(False, "--verbose", help="Table: list every port-matrix line, not only "
                                 "the blocked or exposed ones (JSON always holds every cell)."),
) -> None:
    """`netmodel check`: its help text is COMMANDS["check"] in netmodel/cli/app.py (typer shows that, not this)."""
    output_format, output = resolve("check", output_format, output)
    if fail_on not in FAIL_ON:
        raise UsageError([Problem(f"unknown --fail-on {fail_on!r}", None, f"use one of: {', '.join(FAIL_ON)}")])
    # The model, the results and the report are millions of small objects made at once and kept until the
    # command ends (paused_gc: see netmodel.load.files), so the collector stays paused for the whole command.
    _collect_promoted()
    with paused_gc():
        # The one check pipeline (netmodel/pipeline.py); suppressions (netmodel.io/skip annotations, --baseline)
        # move findings to the report's suppressed list.
        run = run_check(list(paths) + list(expect), read_baseline(baseline) if baseline else None, fail_on)
        result = run.result
        if write_baseline:
            write_baseline_file(write_baseline, result.findings)
        payload = run.payload()
        # Every renderer gets the options it declares (junit: fail_on; table: color, verbose), through the registry.
        text = render(output_format, payload, "check", color=not output and sys.stdout.isatty(), fail_on=fail_on,
                      verbose=verbose)
        _promote_to_oldest_generation()
    write(text, output)
    raise typer.Exit(exit_code(result, fail_on))
