"""Every command takes the same output flags, gives each format or refuses it, and never prints an unbounded
table (issue 11, item 3). Through ``python -m netmodel`` in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.cli.outputs import FORMATS, REFUSED, TABLE_ROWS

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = "topologies/calico-ipip-ha.yaml"
BOUTIQUE = "tests/corpus/online-boutique"
COMMANDS = {
    "check": ["check", LAYOUT],
    "query": ["query", LAYOUT, "--from", "shop/web-0", "--to", "shop/api-1", "--port", "9000"],
    "matrix": ["matrix", LAYOUT],
    "diff": ["diff", LAYOUT, LAYOUT, "--quiet"],
}


def _run(*argv: str, cwd: Path = ROOT) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "netmodel", *argv], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def _args(command: str) -> list[str]:
    return [str(ROOT / a) if a.endswith(".yaml") else a for a in COMMANDS[command]]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_works_or_is_refused_with_the_reason(command, fmt, tmp_path):
    """-f FORMAT -o FILE: the file holds a non-empty report, stdout is empty; a refused pair exits 2 and says
    why and what to use instead, and writes nothing."""
    target = tmp_path / "out"
    code, out, err = _run(*_args(command), "-f", fmt, "-o", str(target), cwd=tmp_path)
    if (command, fmt) in REFUSED:
        assert code == 2 and f"{command} does not give --format {fmt}" in err and "Traceback" not in err
        assert "use --format" in err and not target.exists()
        return
    assert code in (0, 1), err
    assert out == "" and target.read_text().strip()
    if fmt == "sarif":
        assert json.loads(target.read_text())["version"] == "2.1.0"
    if fmt == "json":
        json.loads(target.read_text())


@pytest.mark.parametrize("command", ["query", "matrix"])
def test_o_with_a_format_name_is_the_deprecated_spelling_of_format(command, tmp_path):
    code, out, err = _run(*_args(command), "-o", "json", cwd=tmp_path)
    assert code in (0, 1) and json.loads(out) and "deprecated" in err and "-f json" in err
    assert not (tmp_path / "json").exists()
    code, out, _ = _run(*_args(command), "-o", "./json", cwd=tmp_path)  # a file named json, as the warning says
    assert code in (0, 1) and out == "" and (tmp_path / "json").read_text().strip()


def test_an_unknown_format_names_those_the_command_gives():
    code, _, err = _run(*_args("query"), "-f", "xml")
    assert code == 2 and "unknown format 'xml'" in err and "table, json, markdown, html, junit, dot" in err


def test_the_matrix_table_folds_and_points_to_csv_and_json():
    code, out, _ = _run("matrix", BOUTIQUE + "/kubernetes-manifests.yaml", "--by", "workload")
    _, rows, _ = _run("matrix", BOUTIQUE + "/kubernetes-manifests.yaml", "--by", "workload", "-f", "csv")
    total = len(rows.splitlines()) - 1
    assert code == 0 and total > TABLE_ROWS
    assert f"… {total - TABLE_ROWS:,} more connections not shown (the first {TABLE_ROWS} of {total:,}); " \
           "--format csv or --format json lists them all." in out
    assert sum(1 for line in out.splitlines() if "[Deployment]" in line) == TABLE_ROWS


def test_the_diff_table_folds_the_flows_and_json_keeps_them_all():
    code, out, _ = _run("diff", BOUTIQUE, BOUTIQUE + "/kubernetes-manifests.yaml", "--quiet")
    assert code == 1
    assert f"… 28 more flows opened not shown (the first {TABLE_ROWS} of 128)" in out
    assert sum(1 for line in out.splitlines() if line.startswith("| default/")) == TABLE_ROWS
    _, out, _ = _run("diff", BOUTIQUE, BOUTIQUE + "/kubernetes-manifests.yaml", "--quiet", "-f", "json")
    assert len(json.loads(out)["flows"]["opened"]) == 128


@pytest.mark.parametrize("fmt", ["markdown", "sarif", "csv"])
def test_emulate_refuses_what_it_cannot_give_before_building_anything(fmt):
    """Refused at the command line (exit 2, the reason), before the lab or even the input is touched."""
    code, out, err = _run("emulate", "does-not-exist.yaml", "-f", fmt)
    assert code == 2 and out == ""
    assert f"emulate does not give --format {fmt}" in err and "use --format table or json" in err
