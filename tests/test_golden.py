"""The JSON of a few layouts, byte for byte. Regenerate with ``python -m tests.golden --update``."""

from __future__ import annotations

import pytest
from golden.layouts import LAYOUTS, golden_path, render


@pytest.mark.parametrize("layout", LAYOUTS)
def test_golden_output(layout: str) -> None:
    expected = golden_path(layout).read_text(encoding="utf-8")
    assert render(layout) == expected, "output changed: review, then run `python -m tests.golden --update`"
