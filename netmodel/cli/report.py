"""``netmodel report``: the whole bundle of one layout in a folder (Markdown, HTML, JSON, SARIF, JUnit, PNGs)."""

from __future__ import annotations

import sys

import typer

from netmodel.cli.app import command
from netmodel.errors import Problem, UsageError
from netmodel.report.bundle import write_bundle
from netmodel.report.progress import progress


@command("report")
def report_command(
    paths: list[str] = typer.Argument(..., help="Files, folders or - (stdin) describing the cluster."),
    output: str = typer.Option(..., "--output", "-o", help="Folder to write the bundle into (created)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display or file list."),
) -> None:
    """`netmodel report`: its help text is COMMANDS["report"] in netmodel/cli/app.py (typer shows that, not this)."""
    try:
        with progress("writing the report bundle", quiet=quiet):
            written = write_bundle(paths, output)
    except OSError as err:
        raise UsageError([Problem(f"cannot write into {output!r}: {err.strerror}",
                                  hint="choose a writable folder")]) from err
    if not quiet:
        for path in written:
            print(path, file=sys.stderr)
