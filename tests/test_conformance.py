"""Every NetworkPolicy conformance case (tests/conformance/<case>/) through the real CLI, flow by flow.

Each case is base.yaml + policy.yaml, checked with ``--expect expect.yaml --format json``; every expectation
must hold and be echoed exactly as written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from netmodel.cli.main import main

ROOT = Path(__file__).parent / "conformance"
CASES = sorted(p.name for p in ROOT.iterdir() if (p / "expect.yaml").is_file() and (p / "policy.yaml").is_file())


def test_the_corpus_is_there() -> None:
    assert len(CASES) >= 20


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
    assert not [f for f in report["findings"] if f["id"].startswith("NM-EXPECT")]
    assert code == 0 or any(f["severity"] == "error" for f in report["findings"])
