"""The check catalog shipped in the package matches docs/checks.md, and every emitted ID is in it."""

from __future__ import annotations

import json
from pathlib import Path

from netmodel.report.catalog import catalog, parse_catalog

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_catalog_matches_the_docs():
    shipped = json.loads((ROOT / "netmodel/schemas/checks.json").read_text())
    assert shipped == parse_catalog((ROOT / "docs/checks.md").read_text()), (
        "run `python -m netmodel.report.catalog docs/checks.md` after editing docs/checks.md")


def test_every_finding_of_the_bundled_reports_has_a_rule():
    ids = {f["id"] for path in (ROOT / "reports").glob("*/check.json")
           for f in json.loads(path.read_text())["findings"]}
    assert ids and ids <= set(catalog())
