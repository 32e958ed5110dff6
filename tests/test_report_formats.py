"""Every output format, produced for a failing layout, is valid for the program that consumes it."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from netmodel.cli.main import main
from netmodel.pipeline import run_check
from netmodel.report import RENDERERS, render
from netmodel.report.schemas import validate

ROOT = Path(__file__).resolve().parent.parent
FAILING = "topologies/broken-etcd-internet.yaml"
SARIF_SCHEMA = json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text())
# In the layout's firewall, the rule that opens etcd to everyone (the finding must point here).
RULE_LINE = next(i for i, line in enumerate((ROOT / FAILING).read_text().splitlines(), 1)
                 if "name: etcd-between-control-plane" in line)


@pytest.fixture(scope="module")
def payload():
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)  # paths inside the report stay relative, as a user's would
        return run_check([FAILING]).payload()


@pytest.fixture(scope="module")
def suppressed_payload(tmp_path_factory):
    text = (ROOT / FAILING).read_text().replace(
        "kind: Firewall\nmetadata: {name: control-plane}\n",
        "kind: Firewall\nmetadata:\n  name: control-plane\n  annotations:\n"
        "    netmodel.io/skip: \"NM-PORT-002=lab cluster, etcd is firewalled upstream\"\n")
    assert "netmodel.io/skip" in text, "the layout's Firewall header changed; update this test"
    path = tmp_path_factory.mktemp("sup") / "layout.yaml"
    path.write_text(text)
    return run_check([str(path)]).payload()


def test_json_is_valid_against_the_shipped_schema(payload, suppressed_payload):
    validate(payload, "check")
    validate(suppressed_payload, "check")
    with pytest.raises(jsonschema.ValidationError):
        validate({**payload, "summary": {**payload["summary"], "status": "maybe"}}, "check")


def test_sarif_is_valid_and_locates_results_at_the_rule(payload):
    log = json.loads(render("sarif", payload, "check"))
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["NM-PORT-002"]["defaultConfiguration"]["level"] == "error"
    assert "etcd" in rules["NM-PORT-002"]["shortDescription"]["text"]
    errors = [r for r in run["results"] if r["ruleId"] == "NM-PORT-002"]
    # workers, internet, office, api-lb; the Pods reach etcd through their node's address: NM-PORT-008 (info)
    assert len(errors) == 4 and all(r["level"] == "error" for r in errors)
    regions = {(loc["physicalLocation"]["artifactLocation"]["uri"], loc["physicalLocation"]["region"]["startLine"])
               for r in errors for loc in r["locations"] if "physicalLocation" in loc}
    assert (FAILING, RULE_LINE) in regions


def test_sarif_marks_suppressed_results(suppressed_payload):
    log = json.loads(render("sarif", suppressed_payload, "check"))
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(log)
    silenced = [r for r in log["runs"][0]["results"] if r.get("suppressions")]
    assert {r["ruleId"] for r in silenced} == {"NM-PORT-002"}
    assert silenced[0]["suppressions"][0] == {"kind": "inSource", "status": "accepted",
                                              "justification": "lab cluster, etcd is firewalled upstream"}


def test_junit_fails_one_case_per_error_and_counts_match(payload):
    root = ET.fromstring(render("junit", payload, "check"))
    failures = root.findall(".//testcase/failure")
    errors = [f for f in payload["findings"] if f["severity"] == "error"]
    failing_requirements = [r for r in payload["requirements"] if r["status"] == "fail"]
    assert len(failures) == len(errors) + len(failing_requirements) == int(root.get("failures"))
    assert int(root.get("tests")) == len(root.findall(".//testcase"))
    for suite in root.findall("testsuite"):
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
    assert any("NM-PORT-002" in case.get("name") for case in root.iter("testcase") if case.find("failure") is not None)


def test_junit_of_a_clean_layout_has_no_failure():
    root = ET.fromstring(render("junit", run_check(["topologies/calico-ipip-ha.yaml"]).payload(), "check"))
    assert root.get("failures") == "0" and int(root.get("tests")) >= 5


def test_suppressed_findings_are_listed_in_every_format(suppressed_payload):
    assert suppressed_payload["summary"]["errors"] == 0 and suppressed_payload["summary"]["suppressed"] == 4
    for fmt in ("markdown", "html", "junit", "sarif", "json", "table"):
        assert "etcd is firewalled upstream" in render(fmt, suppressed_payload, "check"), fmt


def test_html_is_one_self_contained_well_formed_file(payload):
    text = render("html", payload, "check")
    root = ET.fromstring(text.split("\n", 1)[1])  # strict XML parse after the doctype
    images = root.findall(".//img")
    assert images and all(img.get("src").startswith("data:image/png;base64,") for img in images)
    assert not re.search(r'(src|href)="(?!data:)', text), "external asset referenced"
    assert root.find(".//table[@class='sortable']") is not None and "NM-PORT-002" in text


@pytest.mark.skipif(shutil.which("chromium") is None and not Path("/usr/bin/chromium").exists(),
                    reason="headless Chromium is not installed (/usr/bin/chromium); the strict XML parse above "
                           "still checks the HTML")
def test_html_opens_in_headless_chromium_without_errors(payload, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render("html", payload, "check"))
    # No background networking: the page must render from the file alone (it has no external assets).
    done = subprocess.run(["chromium", "--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr",
                           "--no-first-run", "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", "--disable-quic", f"--user-data-dir={tmp_path / 'profile'}",
                           "--dump-dom", page.as_uri()], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "NM-PORT-002" in done.stdout
    assert "Uncaught" not in done.stderr


def test_markdown_lists_findings_and_problem_cells(payload):
    text = render("markdown", payload, "check")
    assert text.startswith("# netmodel check: ❌ FAIL")
    assert text.count("| error | NM-PORT-002 |") == 4
    assert "| exposed | cp-1 | control-plane | 2379-2380 | TCP | etcd | network:internet |" in text


def test_csv_has_one_row_per_port_matrix_cell(payload):
    rows = list(csv.DictReader(io.StringIO(render("csv", payload, "check"))))
    assert len(rows) == len(payload["portMatrix"])
    assert {"node": "cp-1", "source": "network:internet", "status": "exposed"}.items() <= next(
        r for r in rows if r["node"] == "cp-1" and r["source"] == "network:internet"
        and r["ports"] == "2379-2380").items()


def test_dot_draws_the_exposure_in_red(payload):
    text = render("dot", payload, "check")
    assert text.startswith("digraph") and text.rstrip().endswith("}")
    assert re.search(r'"network:internet" -> "control-plane" \[label="TCP 2379-2380 etcd EXPOSED", '
                     r'color="#b71c1c"', text)


@pytest.mark.parametrize("fmt", sorted(set(RENDERERS) - {"table"}))
def test_check_cli_writes_every_format(tmp_path, fmt, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / f"report.{fmt}"
    assert main(["check", FAILING, "--format", fmt, "--output", str(out)]) == 1
    assert out.read_text().strip()


def test_matrix_payload_renders_as_csv_dot_and_html():
    from netmodel.model.build import load_topology
    from netmodel.report.bundle import matrix_payload

    matrix = matrix_payload(load_topology(["topologies/calico-ipip-ha.yaml"]))
    validate(matrix, "matrix")
    rows = list(csv.DictReader(io.StringIO(render("csv", matrix, "matrix"))))
    assert len(rows) == len(matrix["connections"]) and {"from", "to", "protocol", "ports"} <= set(rows[0])
    assert '"shop/api[Deployment]" -> "shop/db[StatefulSet]" [label="TCP 5432"]' in render("dot", matrix, "matrix")
    html = render("html", matrix, "matrix")
    ET.fromstring(html.split("\n", 1)[1])
    assert "Connectivity by workload" in html


def test_query_answer_in_every_format(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = ["query", "topologies/broken-kubelet-blocked.yaml", "--from", "node:cp-1", "--to", "node:w-1",
            "--port", "10250"]
    assert main([*args, "--format", "json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    validate(answer, "query")
    assert main([*args, "--format", "markdown"]) == 1
    text = capsys.readouterr().out
    assert "| Firewall | workers | ingress defaultAction deny | topologies/broken-kubelet-blocked.yaml:" in text
    for fmt in ("html", "junit", "dot"):
        assert main([*args, "--format", fmt]) == 1
        assert capsys.readouterr().out.strip(), fmt
    assert main([*args, "--format", "sarif"]) == 2  # a query answer has no findings: refused, not empty
    assert "query does not give --format sarif" in capsys.readouterr().err
