"""Calico policies against truth tables derived from the Calico documentation's examples, flow by flow.

tests/conformance_calico/<case>/policy.yaml holds the example (each file names its page at docs.tigera.io and any
change made to it), expect.yaml the flows the page's semantics imply. Each case is base.yaml + policy.yaml
checked through the real CLI with ``--expect expect.yaml --format json``: every flow must hold and be echoed as
written; the port matrix must agree on every flow.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformancekit import cases, check_case, flow_count, flows, matrix_allows, pod_matrix

ROOT = Path(__file__).parent / "conformance_calico"
CASES = cases(ROOT)


def test_the_corpus_is_there() -> None:
    assert flow_count(ROOT) == (5, 29)


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    checked = check_case(ROOT, case, capsys, forbidden=("NM-INPUT-015", "NM-INPUT-040"))
    assert not [r for r in checked.results if "notEvaluated" in r]
    assert checked.code == 0


@pytest.mark.parametrize("case", CASES)
def test_matrix_agrees(case: str) -> None:
    rows = pod_matrix(ROOT, case)
    for flow in flows(ROOT, case):
        assert matrix_allows(rows, flow) is flow["allowed"], flow
