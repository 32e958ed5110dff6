"""Markdown reports (GitHub-flavoured tables), for pull-request comments and the committed ``reports/``.

The content comes from :mod:`netmodel.report.sections`, shared with the HTML report. Diagrams are linked, not
embedded: pass ``figures`` as ``{caption: relative path}`` when the images sit next to the Markdown file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netmodel.report.sections import Headline, Payload, Section, headline_and_sections

STATUS_MARK = {"pass": "✅ PASS", "fail": "❌ FAIL", "allowed": "✅ allowed", "denied": "⛔ denied"}


def escape(text: str) -> str:
    """Make ``text`` safe inside a table cell: pipes escaped, line breaks as ``<br>``.

    >>> escape("a|b\\nc")
    'a\\\\|b<br>c'
    """
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def render_headline(head: Headline) -> list[str]:
    """The Markdown of a report's title, status and summary figures."""
    status = STATUS_MARK.get(head.status, head.status)
    lines = [f"# {head.title}: {status}" if status else f"# {head.title}", ""]
    if head.figures:
        lines += ["| " + " | ".join(escape(k) for k, _ in head.figures) + " |",
                  "|" + "---|" * len(head.figures),
                  "| " + " | ".join(escape(v) for _, v in head.figures) + " |", ""]
    return lines


def render_section(section: Section) -> list[str]:
    """The Markdown of one section: a table, or its empty text."""
    lines = [f"## {section.title}", ""]
    if section.intro:
        lines += [section.intro, ""]
    if not section.rows:
        return lines + [f"_{section.empty}_", ""]
    lines.append("| " + " | ".join(escape(c) for c in section.columns) + " |")
    lines.append("|" + "---|" * len(section.columns))
    lines += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in section.rows]
    return lines + [""]


def render_markdown(payload: Payload, kind: str = "check", figures: Mapping[str, str] | None = None, **_options: Any) -> str:
    """The payload as a Markdown report, with links to ``figures`` when given."""
    head, sections = headline_and_sections(payload, kind)
    lines = render_headline(head)
    if figures:
        lines += ["## Diagrams", ""]
        for caption, path in figures.items():
            lines += [f"### {caption}", "", f"![{caption}]({path})", ""]
    for section in sections:
        lines += render_section(section)
    return "\n".join(lines).rstrip("\n") + "\n"


__all__ = ["escape", "render_markdown"]
