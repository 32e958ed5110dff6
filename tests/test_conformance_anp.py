"""The upstream AdminNetworkPolicy/BaselineAdminNetworkPolicy conformance suite as netmodel cases, flow by flow.

tests/conformance_anp/<case>/ holds the policies of one upstream subtest (kubernetes-sigs/network-policy-api,
conformance/tests at commit 40eeb18, Apache-2.0; see convert.py) and its probes as expected flows. Each case is
base.yaml + policy.yaml checked through the real CLI with ``--expect expect.yaml --format json``: every flow must
hold and be echoed as written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformancekit import cases, check_case, flow_count

ROOT = Path(__file__).parent / "conformance_anp"
CASES = cases(ROOT)


def test_the_corpus_is_there() -> None:
    """Every subtest of the upstream v1alpha1 suite that probes traffic: 92 cases, 289 probes."""
    assert flow_count(ROOT) == (92, 289)


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    checked = check_case(ROOT, case, capsys, forbidden=("NM-INPUT-015",))
    assert checked.code == 0 or any(f["severity"] == "error" for f in checked.report["findings"])
