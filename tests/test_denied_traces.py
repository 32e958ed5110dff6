"""A denied trace never ends in "deliver ✓ delivered" after the step that blocked it (issue 8.5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("layout, source, target, port", [
    ("flannel-vxlan.yaml", "monitoring/grafana-0", "blog/mysql-0", "3306"),  # NetworkPolicy default deny
    ("broken-nodeport-closed.yaml", "network:office", "node:w-1", "31000"),  # host firewall
])
def test_no_step_after_a_denial_says_delivered(capsys: pytest.CaptureFixture[str], layout: str, source: str,
                                               target: str, port: str) -> None:
    code = main(["query", str(ROOT / "topologies" / layout), "--from", source, "--to", target, "--port", port,
                 "--format", "json"])
    answer = json.loads(capsys.readouterr().out)
    assert code == 1 and answer["allowed"] is False
    for path in answer["paths"]:
        steps = [s for hop in path["hops"] for s in hop["steps"]]
        first = next(i for i, s in enumerate(steps) if not s["ok"])
        assert not any(s["step"] == "deliver" and s["ok"] for s in steps[first:]), steps
        assert "delivered" not in steps[-1]["detail"] or not steps[-1]["ok"]
