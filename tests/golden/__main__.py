"""Compare (and with ``--update`` regenerate) the golden check outputs: ``python -m tests.golden [--update]``
from the repository root.

The golden files are the committed reports (``reports/NAME/check.json``). Without ``--update`` this lists the
layouts whose ``netmodel check --format json`` output differs from them; ``--update`` rewrites those layouts'
whole report bundles (``sh reports/make.sh`` rewrites every bundle). Review the diff (``git diff reports``)
before committing: a changed golden file is a changed contract.
"""

from __future__ import annotations

import os
import sys

from netmodel.report.bundle import bundled_layouts, write_bundle
from tests.golden.layouts import LAYOUTS, ROOT, golden_path, render, report_dir


def main(argv: list[str]) -> int:
    update = "--update" in argv
    sources = {target: source for source, target in bundled_layouts(ROOT)}
    changed = []
    for layout in LAYOUTS:
        path = golden_path(layout)
        if not path.exists() or path.read_text(encoding="utf-8") != render(layout):
            changed.append(layout)
            if update:
                target = str(report_dir(layout).relative_to(ROOT))
                cwd = os.getcwd()
                os.chdir(ROOT)  # paths inside a bundle are relative to the repository root
                try:
                    write_bundle([sources[target]], target)
                finally:
                    os.chdir(cwd)
    verb = "updated" if update else "differ (run with --update)"
    print(f"{len(changed)} golden report(s) {verb} under reports/: {', '.join(changed) or 'none'}")
    return 0 if update or not changed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
