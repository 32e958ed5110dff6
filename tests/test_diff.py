"""`netmodel diff`: what a change does to reachability, and the exit code that gates a pull request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.analyze.diff import diff_cells, diff_findings, diff_flows
from netmodel.cli.main import main
from netmodel.report.schemas import validate

ROOT = Path(__file__).resolve().parent.parent
HEALTHY = "topologies/calico-ipip-ha.yaml"
BROKEN = "topologies/broken-etcd-internet.yaml"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _diff(capsys, *args: str) -> tuple[int, str]:
    code = main(["diff", *args, "--quiet"])
    return code, capsys.readouterr().out


def test_opening_etcd_to_the_internet_fails_and_names_port_and_rule(capsys):
    code, text = _diff(capsys, HEALTHY, BROKEN)
    assert code == 1
    assert "2379" in text and "etcd-between-control-plane" in text
    code, text = _diff(capsys, HEALTHY, BROKEN, "--format", "json")
    payload = json.loads(text)
    validate(payload, "diff")
    assert payload["summary"]["status"] == "fail" and payload["summary"]["newExposures"] == 15
    internet = [c for c in payload["portMatrix"] if c["source"] == "network:internet"]
    assert {(c["node"], c["ports"], c["before"], c["after"]) for c in internet} == {
        (n, "2379-2380", "not-required", "exposed") for n in ("cp-1", "cp-2", "cp-3")}
    rule = internet[0]["decidedBy"][0]
    assert (rule["firewall"], rule["rule"], rule["action"]) == ("control-plane", "etcd-between-control-plane", "allow")
    assert rule["source"]["file"] == BROKEN and rule["source"]["line"] > 0
    assert {f["id"] for f in payload["findings"]["introduced"]} == {"NM-PORT-002"}


def test_the_fix_passes_and_lists_findings_fixed(capsys):
    code, text = _diff(capsys, BROKEN, HEALTHY, "--format", "json")
    payload = json.loads(text)
    assert code == 0 and payload["summary"]["status"] == "pass"
    assert len(payload["findings"]["fixed"]) == 5 and not payload["findings"]["introduced"]


def test_no_change_is_an_empty_passing_diff(capsys):
    code, text = _diff(capsys, HEALTHY, HEALTHY, "--format", "json")
    payload = json.loads(text)
    assert code == 0 and payload["portMatrix"] == [] and payload["flows"] == {"added": [], "removed": [],
                                                                               "changed": []}


@pytest.mark.parametrize("fmt", ["markdown", "html", "junit", "sarif", "csv", "dot", "table"])
def test_every_format_names_the_port(capsys, fmt):
    code, text = _diff(capsys, HEALTHY, BROKEN, "--format", fmt)
    assert code == 1 and "2379" in text


def test_a_new_flow_is_reported_without_failing():
    old = {("a/x[Deployment]", "b/y[Deployment]", "TCP"): "80"}
    new = {("a/x[Deployment]", "b/y[Deployment]", "TCP"): "80,443", ("network:internet", "b/y[Deployment]", "TCP"): "443"}
    changes = {(c.change, c.source, c.before, c.after) for c in diff_flows(old, new)}
    assert changes == {("changed", "a/x[Deployment]", "80", "80,443"), ("added", "network:internet", "", "443")}


def test_findings_match_across_files_and_moved_lines():
    old = [{"id": "NM-SVC-001", "severity": "warning", "objects": ["Service/a/b"],
            "message": "selector matches nothing (old.yaml:10:3)"}]
    new = [{"id": "NM-SVC-001", "severity": "warning", "objects": ["Service/a/b"],
            "message": "selector matches nothing (new.yaml:42:3)"}]
    assert diff_findings(old, new) == ((), ())


def test_a_cell_that_gets_blocked_is_a_change():
    cell = {"node": "w-1", "role": "worker", "ports": "10250", "protocol": "TCP", "purpose": "kubelet API",
            "source": "control-plane", "required": True, "allowed": True, "status": "ok"}
    (change,) = diff_cells([cell], [{**cell, "allowed": False, "status": "blocked"}])
    assert (change.before, change.after, change.new_exposure) == ("ok", "blocked", False)
