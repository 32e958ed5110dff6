"""Every NetworkPolicy conformance case (tests/conformance/<case>/) through the real CLI, flow by flow.

Each case is base.yaml + policy.yaml, checked with ``--expect expect.yaml --format json``; every expectation
must hold and be echoed exactly as written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformancekit import cases, check_case

ROOT = Path(__file__).parent / "conformance"
CASES = cases(ROOT)


def test_the_corpus_is_there() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    checked = check_case(ROOT, case, capsys)
    assert checked.code == 0 or any(f["severity"] == "error" for f in checked.report["findings"])
