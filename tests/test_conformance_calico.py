"""Calico policies against truth tables derived from the Calico documentation's examples, flow by flow.

tests/conformance_calico/<case>/policy.yaml holds the example (each file names its page at docs.tigera.io and any
change made to it), expect.yaml the flows the page's semantics imply. Each case is base.yaml + policy.yaml
checked through the real CLI with ``--expect expect.yaml --format json``: every flow must hold and be echoed as
written; the port matrix must agree on every flow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.reach import CompiledCluster
from netmodel.cli.main import main
from netmodel.model.build import load_topology
from netmodel.sets.ports import protocol_number

ROOT = Path(__file__).parent / "conformance_calico"
CASES = sorted(p.name for p in ROOT.iterdir() if (p / "expect.yaml").is_file() and (p / "policy.yaml").is_file())


def flows(case: str) -> list[dict]:
    return [f for doc in yaml.safe_load_all((ROOT / case / "expect.yaml").read_text()) if doc
            for f in doc["spec"]["flows"]]


def test_the_corpus_is_there() -> None:
    assert (len(CASES), sum(len(flows(c)) for c in CASES)) == (5, 29)


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = ROOT / case
    code = main(["check", str(ROOT / "base.yaml"), str(folder / "policy.yaml"),
                 "--expect", str(folder / "expect.yaml"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    written = flows(case)
    results = report["expectations"]
    assert len(results) == len(written)
    wrong = [f"{r['from']} → {r['to']} {r['protocol']} {r['port']}: expected {r['expected']}, got {r['verdict']}"
             for r in results if not r["ok"]]
    assert wrong == []
    for flow, result in zip(written, results):
        assert (result["from"], result["to"], result["port"]) == (flow["from"], flow["to"], flow["port"])
        assert result["actual"] is flow["allowed"]
        assert "notEvaluated" not in result
    assert not [f for f in report["findings"] if f["id"].startswith("NM-EXPECT") or f["id"] in ("NM-INPUT-015",
                                                                                                   "NM-INPUT-040")]
    assert code == 0


@pytest.mark.parametrize("case", CASES)
def test_matrix_agrees(case: str) -> None:
    fabric = CompiledCluster(load_topology([str(ROOT / "base.yaml"), str(ROOT / case / "policy.yaml")]))
    rows = connectivity(fabric, by="pod")
    for flow in flows(case):
        proto = protocol_number(flow["protocol"])
        got = any(c.source == flow["from"] and c.destination == flow["to"] and c.protocol == proto
                  and flow["port"] in c.ports and not c.partial for c in rows)
        assert got is flow["allowed"], flow
