"""``netmodel check``: the JSON contract, --fail-on, --output, the table, and exit code 2 for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from netmodel.analyze.findings import REQUIREMENTS, Finding, Severity
from netmodel.analyze.result import CheckResult, exit_code
from netmodel.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "netmodel/schemas/check.schema.json").read_text())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_follows_the_contract(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "topologies/broken-kubelet-blocked.yaml", "--format", "json")
    payload = json.loads(out)
    jsonschema.validate(payload, SCHEMA)
    assert code == 1
    assert list(payload)[:5] == ["schemaVersion", "summary", "requirements", "findings", "portMatrix"]
    assert payload["schemaVersion"] == 1
    assert payload["summary"] == {"status": "fail", "errors": 1, "warnings": 0,
                                  "infos": payload["summary"]["infos"]}
    assert [r["id"] for r in payload["requirements"]] == list(REQUIREMENTS)
    [error] = [f for f in payload["findings"] if f["severity"] == "error"]
    assert set(error) == {"id", "severity", "requirement", "message", "objects", "sources"}
    assert error["sources"][0]["file"] == "topologies/broken-kubelet-blocked.yaml"
    blocked = [c for c in payload["portMatrix"] if c["status"] == "blocked"]
    assert {(c["node"], c["source"], c["ports"], c["required"], c["allowed"]) for c in blocked} == {
        (n, "control-plane", "10250", True, False) for n in ("w-1", "w-2", "w-3")}


def test_fail_on_moves_the_threshold(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    layout = "topologies/broken-service-selects-nothing.yaml"
    assert run(capsys, layout)[0] == 0
    assert run(capsys, layout, "--fail-on", "warning")[0] == 1
    assert run(capsys, "topologies/flannel-vxlan.yaml", "--fail-on", "warning")[0] == 0
    assert run(capsys, "topologies/flannel-vxlan.yaml", "--fail-on", "info")[0] == 1  # NM-INPUT-004
    code, _, err = run(capsys, layout, "--fail-on", "critical")
    assert code == 2 and "--fail-on" in err


def test_exit_code_counts_failed_expectations() -> None:
    class Failed:
        ok = False

        def to_json(self) -> dict[str, object]:
            return {}

    info = Finding("NM-INPUT-002", Severity.INFO, "input", "defaults")
    assert exit_code(CheckResult.of([info]), "error") == 0
    assert exit_code(CheckResult.of([info], expectations=[Failed()]), "error") == 1


def test_table_is_plain_text_with_locations(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "topologies/broken-named-targetport.yaml")
    assert code == 1
    assert "\x1b[" not in out  # no colour when stdout is not a terminal
    assert "NM-SVC-002" in out and "broken-named-targetport.yaml:" in out
    assert "pod-to-service" in out and "fail" in out


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    target = tmp_path / "report.json"
    code, out, _ = run(capsys, "topologies/flannel-vxlan.yaml", "--format", "json", "--output", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["summary"]["status"] == "pass"


def test_bad_input_and_usage_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 99999}]}\n")
    code, out, err = run(capsys, str(bad))
    assert code == 2 and out == "" and "bad.yaml:4" in err and "Traceback" not in err
    code, _, err = run(capsys, str(bad), "--format", "xml")
    assert code == 2 and "table, json" in err


def test_table_port_matrix_shows_only_problem_lines_unless_verbose(capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _, out, _ = run(capsys, "topologies/broken-etcd-internet.yaml")
    _, cells, _ = run(capsys, "topologies/broken-etcd-internet.yaml", "--format", "json")
    matrix = json.loads(cells)["portMatrix"]
    lines = {(c["purpose"], c["source"]) for c in matrix}
    bad = {(c["purpose"], c["source"]) for c in matrix if c["status"] != "ok"}
    assert bad and bad < lines
    shown = [line for line in out.splitlines() if line.startswith(("│ control-plane", "│ worker"))]
    assert len(shown) == len(bad) and all("etcd" in line for line in shown)
    assert "other line(s) ok" in out and "--verbose" in out
    _, verbose, _ = run(capsys, "topologies/broken-etcd-internet.yaml", "--verbose")
    listed = [line for line in verbose.splitlines() if line.startswith(("│ control-plane", "│ worker"))]
    roles = {(c["role"], c["purpose"], c["source"]) for c in matrix}
    assert len(listed) == len(roles) and "other line(s) ok" not in verbose
    _, healthy, _ = run(capsys, "topologies/flannel-vxlan.yaml")
    assert "Port matrix: all " in healthy and "│ worker" not in healthy


def test_junit_honours_fail_on(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _, default, _ = run(capsys, "topologies/broken-kubelet-blocked.yaml", "--format", "junit")
    _, strict, _ = run(capsys, "topologies/broken-kubelet-blocked.yaml", "--format", "junit", "--fail-on", "info")
    # The info findings (defaults applied) become failures only when --fail-on info asks for it.
    assert default.count("<failure") < strict.count("<failure")
    _, payload, _ = run(capsys, "topologies/broken-kubelet-blocked.yaml", "--format", "json", "--fail-on", "info")
    findings = json.loads(payload)["findings"]
    assert strict.count("<failure") >= len(findings)


def test_renderers_get_the_options_they_declare() -> None:
    from netmodel.report import accepted_options

    def plain(payload: object, kind: str) -> str:
        return ""

    def table(payload: object, kind: str, color: bool = False, verbose: bool = False) -> str:
        return ""

    def loose(payload: object, kind: str, **options: object) -> str:
        return ""

    options = {"color": True, "fail_on": "info", "verbose": True}
    assert accepted_options(plain, options) == {}
    assert accepted_options(table, options) == {"color": True, "verbose": True}
    assert accepted_options(loose, options) == options


def test_table_lists_the_first_findings_of_each_id_and_counts_the_rest() -> None:
    from netmodel.report.table import PER_ID, render_table

    many = [{"id": "NM-SVC-001", "severity": "warning", "requirement": "pod-to-service",
             "message": f"Service ns/s{i} selects nothing", "objects": [f"Service/ns/s{i}"], "sources": []}
            for i in range(PER_ID + 5)]
    one = [{"id": "NM-PORT-001", "severity": "error", "requirement": "ports", "message": "kubelet blocked",
            "objects": [], "sources": []}]
    payload = {"summary": {"status": "fail", "errors": 1, "warnings": len(many), "infos": 0},
               "requirements": [], "findings": one + many}
    text = render_table(payload, width=200)
    assert f"s{PER_ID - 1} selects" in text and f"s{PER_ID} selects" not in text
    assert "5 more NM-SVC-001" in text and "kubelet blocked" in text and "NM-PORT-001" not in text.split("Not")[1]
    verbose = render_table(payload, width=200, verbose=True)
    assert f"s{PER_ID + 4} selects" in verbose and "more NM-SVC-001" not in verbose
