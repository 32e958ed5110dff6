"""``netmodel diff OLD NEW``: what a change does to reachability, as a gate for pull requests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import typer

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.diff import (
    accept_all,
    accept_by_expectations,
    allowed_flows,
    diff_results,
    flow_table,
    locate,
)
from netmodel.analyze.result import FAIL_ON
from netmodel.cli.app import command
from netmodel.cli.outputs import TABLE_ROWS, fold_note, format_option, output_option, resolve, write
from netmodel.errors import Problem, UsageError
from netmodel.pipeline import run_check
from netmodel.report import RENDERERS
from netmodel.report.markdown import render_markdown
from netmodel.report.progress import progress


def fold_flows(payload: dict[str, Any]) -> dict[str, Any]:
    """The table lists at most TABLE_ROWS flows opened and closed each; the section's intro says how many more
    (the summary keeps the full counts, JSON and Markdown list every flow)."""
    flows = payload.get("flows")
    if not flows:
        return payload
    folded = dict(flows)
    for change in ("opened", "closed"):
        if len(flows[change]) > TABLE_ROWS:
            folded[change] = flows[change][:TABLE_ROWS]
            folded[f"{change}Note"] = fold_note(TABLE_ROWS, len(flows[change]), f"flows {change}",
                                                "--format json or markdown")
    return {**payload, "flows": folded}


@command("diff")
def diff_command(
    old: str = typer.Argument(..., help="The layout before the change: a file or folder."),
    new: str = typer.Argument(..., help="The layout after the change: a file or folder."),
    output_format: str = format_option(),
    output: str = output_option(),
    fail_on: str = typer.Option("error", "--fail-on", help="Fail on introduced findings of this severity or "
                                                           "worse: error, warning or info."),
    flows: bool = typer.Option(True, "--flows/--no-flows", help="Also compare the connectivity matrices (by "
                                                                "workload): flows opened fail the diff."),
    allow_opened: bool = typer.Option(False, "--allow-opened", help="Accept every flow this change opens: they "
                                                                    "are still listed, marked accepted, and do "
                                                                    "not fail the diff. In a pull request "
                                                                    "prefer Expectations (docs/ci.md)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """`netmodel diff`: its help text is COMMANDS["diff"] in netmodel/cli/app.py (typer shows that, not this)."""
    output_format, output = resolve("diff", output_format, output)
    if fail_on not in FAIL_ON:
        raise UsageError([Problem(f"unknown severity {fail_on!r}", hint=f"use one of: {', '.join(FAIL_ON)}")])
    with progress("comparing", total=4 if flows else 2, quiet=quiet) as advance:
        before = run_check([old], fail_on=fail_on)
        advance(1)
        after = run_check([new], fail_on=fail_on)
        advance(1)
        old_flows = new_flows = None
        if flows:
            # Each side's connectivity on the compiled cluster its check already built.
            old_flows = flow_table(connectivity(before.compiled, "workload"))
            advance(1)
            new_flows = flow_table(connectivity(after.compiled, "workload"))
            advance(1)
    result = diff_results(before.payload(), after.payload(), old_paths=[old], new_paths=[new],
                          decided_by=after.decided_by(), old_flows=old_flows, new_flows=new_flows,
                          fail_on=fail_on)
    if result.flows:
        changes = locate(result.flows, after.topology, after.compiled)
        if allow_opened:
            changes = accept_all(changes, "--allow-opened")
        if after.result.expectations:
            changes = accept_by_expectations(changes, allowed_flows(after.compiled, after.result.expectations))
        result = replace(result, flows=changes)
    payload = result.to_json()
    if output_format == "table":  # the terminal table renderer knows checks; a diff reads well as Markdown
        text = render_markdown(fold_flows(payload), "diff")
    else:
        options = {"fail_on": fail_on} if output_format == "junit" else {}
        text = RENDERERS[output_format](payload, "diff", **options)
    write(text, output)
    raise typer.Exit(1 if result.failed else 0)
