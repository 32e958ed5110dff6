"""Code, docs and tests cite only files inside the repository (issue 12, item 8).

The design notes the project started from are not part of the repository, so a reader of a clone cannot follow a
citation of them; every rule the code relies on is written in docs/ instead.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Spelled as patterns so this file does not cite what it forbids.
OUTSIDE = re.compile(r"\bDESIGN\.md\b|\bSTYLE\.md\b|\.\./shared\b")
DOCS_CITATION = re.compile(r"(?<![\w/.-])docs/([\w.-]+\.(?:md|yml))\b")


def _texts():
    files = [ROOT / "README.md"]
    for folder in ("netmodel", "docs", "tests"):
        files.extend(p for p in sorted((ROOT / folder).rglob("*")) if p.is_file())
    for path in files:
        if "__pycache__" in path.parts:
            continue
        data = path.read_bytes()
        if b"\0" in data:  # binary (images, compiled files)
            continue
        yield path, data.decode("utf-8", errors="replace")


def test_the_pattern_catches_outside_citations():
    for text in ("see DESIGN" + ".md §3", "STYLE" + ".md says", "in ../" + "shared/notes"):
        assert OUTSIDE.search(text), text
    assert not OUTSIDE.search("docs/check-semantics.md, KIND_STYLE, DESIGN_NOTES")


def test_nothing_cites_files_outside_the_repository():
    offenders = [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
                 for path, text in _texts() for m in OUTSIDE.finditer(text)]
    assert offenders == [], "cite the docs/ page that carries the rule instead:\n" + "\n".join(offenders)


def test_docs_pages_the_code_cites_exist():
    missing = sorted({f"{path.relative_to(ROOT)}: docs/{m.group(1)}"
                      for path, text in _texts() if path.suffix == ".py" and "netmodel" in path.parts
                      for m in DOCS_CITATION.finditer(text) if not (ROOT / "docs" / m.group(1)).is_file()})
    assert missing == [], "\n".join(missing)
