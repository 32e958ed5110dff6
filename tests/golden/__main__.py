"""Regenerate the golden check outputs: ``python -m tests.golden --update`` from the repository root.

Without ``--update`` it only lists the layouts whose output differs from the stored file. Review the diff
(``git diff tests/golden``) before committing: a changed golden file is a changed contract.
"""

from __future__ import annotations

import sys

from tests.golden.layouts import GOLDEN_DIR, LAYOUTS, golden_path, render


def main(argv: list[str]) -> int:
    update = "--update" in argv
    changed = []
    for layout in LAYOUTS:
        text = render(layout)
        path = golden_path(layout)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed.append(layout)
            if update:
                path.write_text(text, encoding="utf-8")
    verb = "updated" if update else "differ (run with --update)"
    print(f"{len(changed)} golden file(s) {verb} in {GOLDEN_DIR}: {', '.join(changed) or 'none'}")
    return 0 if update or not changed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
