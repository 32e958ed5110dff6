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
import yaml

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.reach import CompiledCluster
from netmodel.cli.main import main
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.sets.ports import protocol_number

ROOT = Path(__file__).parent / "conformance_cilium"
CASES = sorted(p.name for p in ROOT.iterdir() if (p / "expect.yaml").is_file() and (p / "policy.yaml").is_file())


def flows(case: str) -> list[dict[str, object]]:
    return [f for doc in yaml.safe_load_all((ROOT / case / "expect.yaml").read_text()) if doc
            for f in doc["spec"]["flows"]]


def test_the_corpus_is_there() -> None:
    assert (len(CASES), sum(len(flows(c)) for c in CASES)) == (26, 90)


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = ROOT / case
    main(["check", str(ROOT / "base.yaml"), str(folder / "policy.yaml"),
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
    ids = {f["id"] for f in report["findings"]}
    assert not ids & {"NM-INPUT-015", "NM-INPUT-045", "NM-POL-015"}, ids


def test_matrix_agrees_with_every_listable_flow() -> None:
    checked = 0
    for case in CASES:
        text = (ROOT / "base.yaml").read_text() + "\n---\n" + (ROOT / case / "policy.yaml").read_text()
        rows = connectivity(CompiledCluster(build_topology(parse_text(text, "corpus.yaml"))), by="pod")
        for flow in flows(case):
            if ":" in str(flow["from"]) or (":" in str(flow["to"]) and not str(flow["to"]).startswith("network:")):
                # Nodes, addresses and Services are not matrix rows; outside networks enter Pods in the matrix
                # through NodePort/LoadBalancer Services only, not by routed Pod addresses.
                continue
            got = any(c.source == flow["from"] and c.destination == flow["to"] and not c.partial
                      and c.protocol == protocol_number(str(flow["protocol"])) and flow["port"] in c.ports
                      for c in rows)
            assert got is flow["allowed"], (case, flow)
            checked += 1
    assert checked >= 60


def test_without_cilium_the_corpus_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With a CNI that enforces no Cilium policy, the policies are not evaluated (NM-POL-015) and the flows the
    Cilium rules decide come out otherwise."""
    base = tmp_path / "base.yaml"
    base.write_text((ROOT / "base.yaml").read_text().replace("plugin: cilium, mode: native",
                                                             "plugin: calico, mode: bgp"))
    failed = 0
    for case in CASES:
        main(["check", str(base), str(ROOT / case / "policy.yaml"), "--expect", str(ROOT / case / "expect.yaml"),
              "--format", "json"])
        report = json.loads(capsys.readouterr().out)
        assert "NM-POL-015" in {f["id"] for f in report["findings"]}
        failed += sum(not r["ok"] for r in report["expectations"])
    assert failed >= 40
