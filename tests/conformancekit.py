"""What the conformance corpora share: a corpus is a folder of cases, each ``policy.yaml`` + ``expect.yaml`` over the
corpus's ``base.yaml``, checked through the real CLI with ``--expect expect.yaml --format json``.

Every corpus test asks the same of a case: every written flow is echoed exactly as written (from, to, port,
protocol) and holds, and the report carries no NM-EXPECT finding (a flow that named nothing) nor any of the
finding IDs the corpus says must not appear. What differs between corpora (the exit code asked for, extra
per-flow fields) stays in each test file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from netmodel.analyze.connectivity import Connection, connectivity
from netmodel.analyze.reach import CompiledCluster
from netmodel.cli.main import main
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.sets.ports import protocol_number


def cases(root: Path) -> list[str]:
    """The corpus's cases: the folders holding both policy.yaml and expect.yaml, in name order."""
    return sorted(p.name for p in root.iterdir() if (p / "expect.yaml").is_file() and (p / "policy.yaml").is_file())


def flows(root: Path, case: str) -> list[dict[str, Any]]:
    """The flows the case's expect.yaml writes, in file order."""
    return [f for doc in yaml.safe_load_all((root / case / "expect.yaml").read_text()) if doc
            for f in doc["spec"]["flows"]]


def flow_count(root: Path) -> tuple[int, int]:
    """(cases, flows) of the corpus: the size each corpus test pins, so a case lost from the folder fails."""
    names = cases(root)
    return len(names), sum(len(flows(root, c)) for c in names)


@dataclass(frozen=True)
class Checked:
    """One case through ``netmodel check``: its exit code, the JSON report and its expectation results."""

    code: int
    report: dict[str, Any]
    results: list[dict[str, Any]]

    @property
    def finding_ids(self) -> set[str]:
        return {f["id"] for f in self.report["findings"]}


def check_case(root: Path, case: str, capsys: pytest.CaptureFixture[str], *,
               forbidden: tuple[str, ...] = ()) -> Checked:
    """Run the case through the CLI and assert what every corpus asks of it (see the module docstring)."""
    folder = root / case
    code = main(["check", str(root / "base.yaml"), str(folder / "policy.yaml"),
                 "--expect", str(folder / "expect.yaml"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    written = flows(root, case)
    results = report["expectations"]
    assert len(results) == len(written)
    wrong = [f"{r['from']} → {r['to']} {r['protocol']} {r['port']}: expected {r['expected']}, got {r['verdict']}"
             for r in results if not r["ok"]]
    assert wrong == []
    for flow, result in zip(written, results):
        assert (result["from"], result["to"], result["port"]) == (flow["from"], flow["to"], flow["port"])
        assert result["protocol"] == str(flow.get("protocol", "TCP")).upper()
        assert result["actual"] is flow["allowed"]
    checked = Checked(code, report, results)
    unwanted = {i for i in checked.finding_ids if i.startswith("NM-EXPECT") or i in forbidden}
    assert not unwanted, unwanted
    return checked


def pod_matrix(root: Path, case: str) -> list[Connection]:
    """The case's Pod-by-Pod connectivity matrix, computed without the CLI (the second way to ask every flow)."""
    text = (root / "base.yaml").read_text() + "\n---\n" + (root / case / "policy.yaml").read_text()
    return list(connectivity(CompiledCluster(build_topology(parse_text(text, f"{case}.yaml"))), by="pod"))


def matrix_allows(rows: list[Connection], flow: dict[str, Any]) -> bool:
    """Whether the matrix lists the written flow as wholly allowed."""
    proto = protocol_number(str(flow.get("protocol", "TCP")))
    return any(c.source == flow["from"] and c.destination == flow["to"] and c.protocol == proto
               and flow["port"] in c.ports and not c.partial for c in rows)
