"""The upstream AdminNetworkPolicy/BaselineAdminNetworkPolicy conformance suite as netmodel cases, flow by flow.

tests/conformance_anp/<case>/ holds the policies of one upstream subtest (kubernetes-sigs/network-policy-api,
conformance/tests at commit 40eeb18, Apache-2.0; see convert.py) and its probes as expected flows. Each case is
base.yaml + policy.yaml checked through the real CLI with ``--expect expect.yaml --format json``: every flow must
hold and be echoed as written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from netmodel.cli.main import main

ROOT = Path(__file__).parent / "conformance_anp"
CASES = sorted(p.name for p in ROOT.iterdir() if (p / "expect.yaml").is_file() and (p / "policy.yaml").is_file())


def test_the_corpus_is_there() -> None:
    """Every subtest of the upstream v1alpha1 suite that probes traffic: 92 cases, 289 probes."""
    flows = sum(len(doc["spec"]["flows"]) for c in CASES
                for doc in yaml.safe_load_all((ROOT / c / "expect.yaml").read_text()) if doc)
    assert (len(CASES), flows) == (92, 289)


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = ROOT / case
    code = main(["check", str(ROOT / "base.yaml"), str(folder / "policy.yaml"),
                 "--expect", str(folder / "expect.yaml"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    written = [f for doc in yaml.safe_load_all((folder / "expect.yaml").read_text()) if doc
               for f in doc["spec"]["flows"]]
    results = report["expectations"]
    assert len(results) == len(written)
    wrong = [f"{r['from']} → {r['to']} {r['protocol']} {r['port']}: expected {r['expected']}, got {r['verdict']}"
             for r in results if not r["ok"]]
    assert wrong == []
    for flow, result in zip(written, results):
        assert (result["from"], result["to"], result["port"]) == (flow["from"], flow["to"], flow["port"])
        assert result["protocol"] == str(flow.get("protocol", "TCP")).upper()
        assert result["actual"] is flow["allowed"]
    assert not [f for f in report["findings"] if f["id"].startswith("NM-EXPECT") or f["id"] == "NM-INPUT-015"]
    assert code == 0 or any(f["severity"] == "error" for f in report["findings"])
