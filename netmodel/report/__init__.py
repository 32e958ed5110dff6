"""Stage 5: renderers. Each turns a command's JSON payload into text: ``render(payload, kind) -> str``.

:data:`RENDERERS` maps a ``--format`` name to its renderer; add a format by adding an entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from netmodel.report.json_report import render_json
from netmodel.report.table import render_table

Renderer = Callable[..., str]

RENDERERS: dict[str, Renderer] = {
    "table": render_table,
    "json": render_json,
}


def render(fmt: str, payload: Mapping[str, Any], kind: str = "check", **options: Any) -> str:
    return RENDERERS[fmt](payload, kind, **options)


__all__ = ["RENDERERS", "Renderer", "render"]
