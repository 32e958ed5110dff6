"""Calico policies against truth tables derived from the Calico documentation's examples, flow by flow.

tests/conformance_calico/<case>/policy.yaml holds the example (each file names its page at docs.tigera.io and any
change made to it), expect.yaml the flows the page's semantics imply. Each case is base.yaml + policy.yaml
checked through the real CLI with ``--expect expect.yaml --format json``: every flow must hold and be echoed as
written; the port matrix must agree on every flow.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from netmodel.cli.main import main
from tests.conformancekit import cases, check_case, flow_count, flows, matrix_allows, pod_matrix

ROOT = Path(__file__).parent / "conformance_calico"
CASES = cases(ROOT)


def test_the_corpus_is_there() -> None:
    assert flow_count(ROOT) == (12, 78)


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    checked = check_case(ROOT, case, capsys, forbidden=("NM-INPUT-015", "NM-INPUT-040"))
    assert not [r for r in checked.results if "notEvaluated" in r]
    assert checked.code == 0


@pytest.mark.parametrize("case", CASES)
def test_matrix_agrees(case: str) -> None:
    rows = pod_matrix(ROOT, case)
    for flow in flows(ROOT, case):
        if ":" in str(flow["from"]) or (":" in str(flow["to"]) and not str(flow["to"]).startswith("network:")):
            continue  # addresses are not matrix rows; network sets are, as outside networks (network:...)
        assert matrix_allows(rows, flow) is flow["allowed"], flow


ACCOUNT_CASES = [c for c in CASES if "service-account" in c]
SET_CASES = [c for c in CASES if "network-set" in c]


def test_without_service_accounts_or_network_sets_the_cases_fail(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The service-account cases with every Pod on its namespace's default account, and the network-set cases
    with the sets' labels taken away, come out otherwise: the corpus tests what those fields decide."""
    base = tmp_path / "base.yaml"
    base.write_text(re.sub(r"serviceAccount(Name)?: [a-z-]+, ", "", (ROOT / "base.yaml").read_text()))
    failed = {}
    for case in ACCOUNT_CASES:
        main(["check", str(base), str(ROOT / case / "policy.yaml"), "--expect", str(ROOT / case / "expect.yaml"),
              "--format", "json"])
        failed[case] = sum(not r["ok"] for r in json.loads(capsys.readouterr().out)["expectations"])
    for case in SET_CASES:
        policy = tmp_path / f"{case}.yaml"
        policy.write_text((ROOT / case / "policy.yaml").read_text().replace("  labels:\n", "  labels:\n    x: y\n")
                          .replace("    role: external-database\n", "").replace("    role: db\n", "")
                          .replace("    ip-deny-list: 'true'\n", ""))
        main(["check", str(ROOT / "base.yaml"), str(policy), "--expect", str(ROOT / case / "expect.yaml"),
              "--format", "json"])
        failed[case] = sum(not r["ok"] for r in json.loads(capsys.readouterr().out)["expectations"])
    assert len(ACCOUNT_CASES) == 4 and len(SET_CASES) == 3
    assert all(failed.values()), failed
