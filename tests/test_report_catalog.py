"""The check catalog shipped in the package matches docs/checks.md, and every emitted ID is in it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from netmodel.report.catalog import catalog, parse_catalog

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_catalog_matches_the_docs():
    shipped = json.loads((ROOT / "netmodel/schemas/checks.json").read_text())
    assert shipped == parse_catalog((ROOT / "docs/checks.md").read_text()), (
        "run `python -m tools.write_check_catalog` from the repository root after editing docs/checks.md")


def test_every_finding_of_the_bundled_reports_has_a_rule():
    ids = {f["id"] for path in (ROOT / "reports").glob("*/check.json")
           for f in json.loads(path.read_text())["findings"]}
    assert ids and ids <= set(catalog())


def test_the_catalog_script_finds_the_shipped_copy_current():
    """``python -m tools.write_check_catalog --check`` (the maintainer's script) agrees, and writes nothing."""
    done = subprocess.run([sys.executable, "-m", "tools.write_check_catalog", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
