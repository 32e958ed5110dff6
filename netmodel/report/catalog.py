"""The check catalog at run time: ID → title, severity, requirement, for SARIF rules and reports.

The source of truth is ``docs/checks.md``; ``netmodel/schemas/checks.json`` is its machine-readable copy shipped
in the package. ``python -m tools.write_check_catalog`` (run from the repository root) rewrites the copy from
the docs, and ``tests/test_report_catalog.py`` fails when the two disagree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a finding ID means: a one-line title and a longer help text (SARIF rules carry both)."""

    title: str
    help: str
    severity: str
    requirement: str

_ROW = re.compile(r"^\|\s*(NM-[A-Z0-9]+-\d{3})\s*\|\s*(\w+)\s*\|\s*([^|]+?)\s*\|\s*(.+?)\s*\|\s*$")


def parse_catalog(markdown: str) -> dict[str, dict[str, str]]:
    """The table rows of docs/checks.md, by ID."""
    out = {}
    for line in markdown.splitlines():
        m = _ROW.match(line)
        if m:
            fid, severity, requirement, title = m.groups()
            out[fid] = {"severity": severity, "requirement": requirement.strip("()"), "title": title}
    return dict(sorted(out.items()))


@cache
def catalog() -> dict[str, RuleInfo]:
    """The rule catalog shipped with the package (schemas/checks.json): title, help, severity and
    requirement by ID."""
    text = resources.files("netmodel").joinpath("schemas/checks.json").read_text(encoding="utf-8")
    return {fid: RuleInfo(e["title"], _help(fid, e), e["severity"], e["requirement"])
            for fid, e in json.loads(text).items()}


def _help(fid: str, entry: dict[str, str]) -> str:
    return (f"{fid} ({entry['severity']}, requirement {entry['requirement']}): {entry['title']}. The finding's "
            f"message names the objects, ports and rules at fault and how to fix them; silence an accepted one "
            f'with the annotation netmodel.io/skip: "{fid}=<reason>".')
