"""One exception tree for everything netmodel reports to a user.

Every user-facing error names what is wrong, where (file:line:column) and how to fix it. A stage collects all of
its problems and raises them together, so one run shows every mistake in the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceSpan:
    """Where something came from: a file (or ``<stdin>``), a 1-based line and a 1-based column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to_json(self) -> dict[str, object]:
        """The span as JSON: file, line and column."""
        return {"file": self.file, "line": self.line, "column": self.column}


@dataclass(frozen=True, slots=True)
class Problem:
    """One located mistake in the input: what is wrong, where, and how to fix it."""

    message: str
    span: SourceSpan | None = None
    hint: str = ""
    snippet: str = ""

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        text = f"{where}error: {self.message}"
        if self.snippet:
            text += f"\n    | {self.snippet}"
        if self.hint:
            text += f"\n    = fix: {self.hint}"
        return text


class NetmodelError(Exception):
    """Root of every error netmodel raises on purpose. Carries one or more located problems."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class LoadError(NetmodelError):
    """A file could not be read or parsed (missing, not UTF-8, malformed YAML/JSON, too deep, alias bomb)."""


class ValidationError(NetmodelError):
    """The documents parsed but do not describe a valid topology (wrong types, bad CIDRs, bad references)."""


class UsageError(NetmodelError):
    """The command line is wrong (an unknown reference, a bad port, an unknown format)."""
