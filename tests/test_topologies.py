"""Every bundled layout gets exactly its intended verdict (tests/expected/topologies.yaml), through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from netmodel.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = yaml.safe_load((ROOT / "tests/expected/topologies.yaml").read_text())


def test_every_bundled_layout_has_an_expectation():
    layouts = {p.name for p in (ROOT / "topologies").glob("*.yaml")} | {
        p.name + "/" for p in (ROOT / "topologies").iterdir() if p.is_dir()}
    assert layouts == set(EXPECTED)


@pytest.mark.parametrize("layout", sorted(EXPECTED))
def test_layout_verdict(layout: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code = main(["check", f"topologies/{layout}", "--format", "json"])
    payload = json.loads(capsys.readouterr().out)
    expected = EXPECTED[layout]
    statuses = {r["id"]: r["status"] for r in payload["requirements"]}
    assert code == expected["exit"]
    assert sorted(r for r, s in statuses.items() if s == "fail") == sorted(expected["failing"])
    assert sorted(r for r, s in statuses.items() if s == "warn") == sorted(expected["warning"])
    assert {f["id"] for f in payload["findings"] if f["severity"] != "info"} == set(expected["findings"])
