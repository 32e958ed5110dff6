"""The Cilium policy corpus: the examples of Cilium's policy documentation with the truth its text states.

tests/conformance_cilium/<case>/ holds one documented example written for the corpus's cluster (base.yaml) and
its truth table as expected flows (each file names the documentation page and example it follows). Every case is
checked through the real CLI with ``--expect expect.yaml --format json``; the matrix must agree on every flow it
can list; and the same cases with a CNI that does not enforce Cilium policies must fail, so the corpus tests the
Cilium semantics and not what holds anyway.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main
from tests.conformancekit import cases, check_case, flow_count, flows, matrix_allows, pod_matrix

ROOT = Path(__file__).parent / "conformance_cilium"
CASES = cases(ROOT)


def test_the_corpus_is_there() -> None:
    assert flow_count(ROOT) == (37, 144)


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    check_case(ROOT, case, capsys, forbidden=("NM-INPUT-015", "NM-INPUT-041", "NM-INPUT-045", "NM-POL-015"))


def test_matrix_agrees_with_every_listable_flow() -> None:
    checked = 0
    for case in CASES:
        rows = pod_matrix(ROOT, case)
        for flow in flows(ROOT, case):
            if ":" in str(flow["from"]) or (":" in str(flow["to"]) and not str(flow["to"]).startswith("network:")):
                # Nodes, addresses and Services are not matrix rows; outside networks enter Pods in the matrix
                # through NodePort/LoadBalancer Services only, not by routed Pod addresses.
                continue
            assert matrix_allows(rows, flow) is flow["allowed"], (case, flow)
            checked += 1
    assert checked >= 60


def test_without_cilium_the_corpus_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With a CNI that enforces no Cilium policy, the policies are not evaluated (NM-POL-015) and the flows the
    Cilium rules decide come out otherwise."""
    base = tmp_path / "base.yaml"
    base.write_text((ROOT / "base.yaml").read_text().replace("plugin: cilium, mode: native, hostFirewall: true",
                                                             "plugin: calico, mode: bgp"))
    failed = 0
    for case in CASES:
        main(["check", str(base), str(ROOT / case / "policy.yaml"), "--expect", str(ROOT / case / "expect.yaml"),
              "--format", "json"])
        report = json.loads(capsys.readouterr().out)
        if "apiVersion: cilium.io/" in (ROOT / case / "policy.yaml").read_text():
            assert "NM-POL-015" in {f["id"] for f in report["findings"]}
        failed += sum(not r["ok"] for r in report["expectations"])
    assert failed >= 40
