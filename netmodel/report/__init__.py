"""Stage 5: renderers. Each turns a command's JSON payload into text: ``render(payload, kind) -> str``.

:data:`RENDERERS` maps a ``--format`` name to its renderer; add a format by adding an entry here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from netmodel.report.csv import render_csv
from netmodel.report.dot import render_dot
from netmodel.report.html import render_html
from netmodel.report.json_report import render_json
from netmodel.report.junit import render_junit
from netmodel.report.markdown import render_markdown
from netmodel.report.sarif import render_sarif
from netmodel.report.table import render_table

Renderer = Callable[..., str]

RENDERERS: dict[str, Renderer] = {
    "table": render_table,
    "json": render_json,
    "markdown": render_markdown,
    "html": render_html,
    "junit": render_junit,
    "sarif": render_sarif,
    "csv": render_csv,
    "dot": render_dot,
}


def render(fmt: str, payload: Mapping[str, Any], kind: str = "check", **options: Any) -> str:
    """Render with every option the renderer takes (e.g. ``fail_on`` for junit, ``color``/``verbose`` for
    table); commands pass all their options and each renderer gets the ones it declares."""
    renderer = RENDERERS[fmt]
    return renderer(payload, kind, **accepted_options(renderer, options))


def accepted_options(renderer: Renderer, options: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of ``options`` that ``renderer`` takes (all of them when it takes ``**kwargs``)."""
    parameters = inspect.signature(renderer).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(options)
    return {k: v for k, v in options.items() if k in parameters}


__all__ = ["RENDERERS", "Renderer", "accepted_options", "render"]
