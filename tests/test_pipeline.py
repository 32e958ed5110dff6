"""One check pipeline (netmodel/pipeline.py): every command judges a layout the same way, compiling it once.

A layout with NetworkPolicies and Expectations needs the path compiled twice (the NetworkPolicy checks and the
Expectations) and a report or a diff a third time (the connectivity matrix); each command must build one
``CompiledCluster`` and one ``PolicyEngine`` per layout it reads.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import json
from pathlib import Path

import pytest
from checkkit import base, findings

import netmodel
from netmodel.analyze.policy.engine import PolicyEngine
from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.cli.main import main
from netmodel.model.build import load_topology

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "tests/conformance/allow-all-ingress"
LAYOUT = [str(ROOT / "tests/conformance/base.yaml"), str(CASE / "policy.yaml")]
EXPECT = str(CASE / "expect.yaml")
OTHER = str(ROOT / "topologies/kubeadm-calico-vxlan.yaml")
STRAY_POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: stray, namespace: default}
spec: {podSelector: {matchLabels: {app: none}}, policyTypes: [Ingress]}
"""


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many CompiledCluster and PolicyEngine objects are constructed while the test runs."""
    counts = {"CompiledCluster": 0, "PolicyEngine": 0}
    for cls in (CompiledCluster, PolicyEngine):
        original = cls.__init__

        def counting(self: object, *args: object, _original=original, _name=cls.__name__, **kwargs: object) -> None:
            counts[_name] += 1
            _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counting)
    return counts


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_check_builds_one_compiled_cluster(built: dict[str, int]) -> None:
    code, text = run("check", *LAYOUT, "--expect", EXPECT, "--format", "json")
    payload = json.loads(text)
    assert code == 0 and payload["expectations"], text[-2000:]
    assert built == {"CompiledCluster": 1, "PolicyEngine": 1}


def test_report_builds_one_compiled_cluster(built: dict[str, int], tmp_path: Path) -> None:
    code, _ = run("report", *LAYOUT, EXPECT, "-o", str(tmp_path / "bundle"))
    assert code == 0
    assert json.loads((tmp_path / "bundle/check.json").read_text())["expectations"]
    assert built == {"CompiledCluster": 1, "PolicyEngine": 1}


def test_diff_builds_one_compiled_cluster_per_side(built: dict[str, int], tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    for path in (*LAYOUT, EXPECT):
        (old / Path(path).name).write_text(Path(path).read_text())
    run("diff", str(old), OTHER, "--format", "json", "--quiet")
    assert built == {"CompiledCluster": 2, "PolicyEngine": 2}


def test_the_library_judges_as_the_cli_does(tmp_path: Path) -> None:
    """``netmodel.check_topology`` gives the JSON ``netmodel check`` prints: the NetworkPolicy checks and the
    Expectations among the inputs included (it used to leave both out)."""
    extra = tmp_path / "stray-policy.yaml"
    extra.write_text(STRAY_POLICY.replace("default", "x"))
    paths = [*LAYOUT, str(extra), EXPECT]
    _, text = run("check", *paths, "--format", "json")
    cli = json.loads(text)
    assert "NM-POL-001" in {f["id"] for f in cli["findings"]} and cli["expectations"]
    assert netmodel.check_topology(load_topology(paths)).to_json("error") == cli


def test_check_tests_see_the_networkpolicy_checks() -> None:
    """tests/checkkit.py runs the same pipeline: a policy that selects no Pod is reported (NM-POL-001)."""
    assert [f.id for f in findings(base(STRAY_POLICY), "NM-POL-")] == ["NM-POL-001"]


def test_the_module_example_runs() -> None:
    import netmodel.pipeline

    result = doctest.testmod(netmodel.pipeline)
    assert result.attempted and not result.failed
