"""The output flags every command shares: ``-f/--format FORMAT`` and ``-o/--output FILE``.

Which formats each command gives is :data:`REFUSED`'s complement: a format a command cannot give is refused
with the reason and what to use instead (exit 2), never printed empty. ``query``, ``matrix`` and ``emulate`` once took
the format as ``-o``; ``-o`` with a format name and no ``--format`` still works there, with a warning on stderr
(write ``-o ./json`` for a file really named ``json``). docs/ci.md, section 2, is the user's copy of this.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from netmodel.errors import Problem, UsageError
from netmodel.report import RENDERERS

FORMATS = tuple(RENDERERS)  # table, json, markdown, html, junit, sarif, csv, dot
TABLE_ROWS = 100  # a table lists at most this many rows of one list, then says how many more and where they are

# (command, format) → why it is refused and what to use.
REFUSED = {
    ("query", "sarif"): "SARIF carries findings located in the input; a query answer has none: use --format json "
                        "or markdown (check and diff give SARIF)",
    ("matrix", "sarif"): "SARIF carries findings located in the input; the connectivity matrix has none: use "
                         "--format csv or json (check and diff give SARIF)",
    ("query", "csv"): "a query answers one flow, a path of hops rather than rows: use --format json, markdown "
                      "or table (matrix gives CSV)",
}
REFUSED.update({("emulate", f): "emulate reports probes against verdicts, as a table or JSON: use --format "
                                "table or json" for f in ("markdown", "html", "junit", "sarif", "csv", "dot")})
_DEPRECATED_O = ("query", "matrix", "emulate")


def format_option() -> str:
    """The ``--format/-f`` option every command shares."""
    return typer.Option("table", "--format", "-f", help=f"Output format: {', '.join(FORMATS)} (docs/ci.md "
                                                        "says which each command gives).")


def output_option() -> str:
    """The ``--output/-o FILE`` option every command shares."""
    return typer.Option("", "--output", "-o", help="Write to FILE instead of stdout.")


def resolve(command: str, fmt: str, output: str) -> tuple[str, str]:
    """The format and output file a command was asked for; refuse what it cannot give (exit 2)."""
    if command in _DEPRECATED_O and output in FORMATS and fmt == "table":
        sys.stderr.write(f"netmodel {command}: '-o {output}' as the format is deprecated: write '-f {output}' "
                         f"(-o names the output file, as for every command; '-o ./{output}' for a file named "
                         f"{output})\n")
        fmt, output = output, ""
    if fmt not in FORMATS:
        raise UsageError([Problem(f"unknown format {fmt!r}", None, f"use one of: {', '.join(supported(command))}")])
    if (command, fmt) in REFUSED:
        raise UsageError([Problem(f"{command} does not give --format {fmt}", None, REFUSED[(command, fmt)])])
    return fmt, output


def supported(command: str) -> tuple[str, ...]:
    """The formats ``command`` can give (every format but those it refuses)."""
    return tuple(f for f in FORMATS if (command, f) not in REFUSED)


def write(text: str, output: str) -> None:
    """``text`` to the ``--output`` file, else stdout."""
    if not output:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError([Problem(f"cannot write {output!r}: {err.strerror}", None,
                                  "choose a writable path for --output")]) from None


def fold_note(shown: int, total: int, what: str, formats: str = "--format csv or --format json") -> str:
    """The line under a folded table: how many rows are left out and which formats list them all."""
    return f"… {total - shown:,} more {what} not shown (the first {shown:,} of {total:,}); {formats} lists them all."


__all__ = ["FORMATS", "REFUSED", "TABLE_ROWS", "fold_note", "format_option", "output_option", "resolve",
           "supported", "write"]
