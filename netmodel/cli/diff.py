"""``netmodel diff OLD NEW``: what a change does to reachability, as a gate for pull requests."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from netmodel.analyze.diff import diff_results, flow_table
from netmodel.analyze.result import FAIL_ON
from netmodel.cli.app import app
from netmodel.errors import Problem, UsageError
from netmodel.report import RENDERERS
from netmodel.report.bundle import matrix_payload, run_check
from netmodel.report.markdown import render_markdown
from netmodel.report.progress import progress

FORMATS = tuple(f for f in RENDERERS if f != "table") + ("table",)


@app.command("diff")
def diff_command(
    old: str = typer.Argument(..., help="The layout before the change: a file or folder."),
    new: str = typer.Argument(..., help="The layout after the change: a file or folder."),
    output_format: str = typer.Option("table", "--format", "-f", help=f"{', '.join(FORMATS)}."),
    output: str = typer.Option("", "--output", "-o", help="Write to this file instead of stdout."),
    fail_on: str = typer.Option("error", "--fail-on", help="Fail on introduced findings of this severity or "
                                                           "worse: error, warning or info."),
    flows: bool = typer.Option(True, "--flows/--no-flows", help="Also compare the connectivity matrices."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Compare two layouts: findings introduced and fixed, port-matrix cells that change (with the rule that
    decides them now), and flows that appear, disappear or change ports.

    Exit codes: 0 nothing got worse, 1 the change introduces a finding at --fail-on or a new exposure,
    2 input or usage error.
    """
    if output_format not in FORMATS:
        raise UsageError([Problem(f"unknown format {output_format!r}", hint=f"use one of: {', '.join(FORMATS)}")])
    if fail_on not in FAIL_ON:
        raise UsageError([Problem(f"unknown severity {fail_on!r}", hint=f"use one of: {', '.join(FAIL_ON)}")])
    with progress("comparing", total=4 if flows else 2, quiet=quiet) as advance:
        before = run_check([old], fail_on=fail_on)
        advance(1)
        after = run_check([new], fail_on=fail_on)
        advance(1)
        old_flows = new_flows = None
        if flows:
            old_flows = flow_table(matrix_payload(before.topology)["connections"])
            advance(1)
            new_flows = flow_table(matrix_payload(after.topology)["connections"])
            advance(1)
    result = diff_results(before.payload(), after.payload(), old_paths=[old], new_paths=[new],
                          decided_by=after.decided_by(), old_flows=old_flows, new_flows=new_flows,
                          fail_on=fail_on)
    payload = result.to_json()
    if output_format == "table":  # the terminal table renderer knows checks; a diff reads well as Markdown
        text = render_markdown(payload, "diff")
    else:
        options = {"fail_on": fail_on} if output_format == "junit" else {}
        text = RENDERERS[output_format](payload, "diff", **options)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as err:
            raise UsageError([Problem(f"cannot write {output!r}: {err.strerror}",
                                      hint="choose a writable path")]) from err
    else:
        sys.stdout.write(text)
    raise typer.Exit(1 if result.failed else 0)
