"""The model's notes (defaults it chose, kinds it skipped) as findings under requirement ``input``."""

from __future__ import annotations

from collections.abc import Iterator

from netmodel.analyze.checks.common import unique_spans
from netmodel.analyze.findings import INPUT, Finding, Severity
from netmodel.compile.context import CheckContext


def check_input_notes(ctx: CheckContext) -> Iterator[Finding]:
    """NM-INPUT-*: one finding per note (info unless the note says warning), worded by the model."""
    for note in ctx.topology.notes:
        yield Finding(note.id, Severity(note.severity), INPUT, note.message, note.objects, unique_spans(note.sources))
