"""The JSON of a few layouts, byte for byte: ``netmodel check`` prints the committed ``reports/NAME/check.json``.
Regenerate with ``python -m tests.golden --update`` (those layouts) or ``sh reports/make.sh`` (every layout)."""

from __future__ import annotations

import pytest
from golden.layouts import LAYOUTS, golden_path, render


@pytest.mark.parametrize("layout", LAYOUTS)
def test_golden_output(layout: str) -> None:
    expected = golden_path(layout).read_text(encoding="utf-8")
    assert render(layout) == expected, "output changed: review, then run `python -m tests.golden --update`"
