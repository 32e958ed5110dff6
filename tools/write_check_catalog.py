"""Rewrite ``netmodel/schemas/checks.json`` from the table in docs/checks.md.

Run from the repository root after editing that table, then review and commit both files::

    python -m tools.write_check_catalog            # reads docs/checks.md
    python -m tools.write_check_catalog --check    # exit 1 when the shipped copy is stale, write nothing

The rule catalog netmodel ships (ID → title, severity, requirement; read by :mod:`netmodel.report.catalog` for
SARIF rules) is a machine-readable copy of that table; ``tests/test_report_catalog.py`` fails while the two
disagree. This is a maintainer's script: it writes into the repository checkout it lives in, never into an
installed package.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from netmodel.report.catalog import parse_catalog

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "docs" / "checks.md"
TARGET = ROOT / "netmodel" / "schemas" / "checks.json"


def catalog_json(source: Path = SOURCE) -> str:
    """The text checks.json must hold for the table in ``source``."""
    return json.dumps(parse_catalog(source.read_text(encoding="utf-8")), indent=2) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.write_check_catalog", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether checks.json is stale (exit 1)")
    args = parser.parse_args(argv)
    text = catalog_json()
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    if args.check:
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run python -m tools.write_check_catalog", file=sys.stderr)
            return 1
        return 0
    if current != text:
        TARGET.write_text(text, encoding="utf-8")
        print(f"rewrote {TARGET.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
