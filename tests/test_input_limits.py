"""What one input may list: NetworkPolicies, rules, peers and ports (issue 10, item 6; netmodel/model/limits.py).

Each limit is crossed by a generated one-line JSON file, run through the command line: exit 2, no traceback, the
error located at the list whose entry crosses the limit (and naming that entry), or at the NetworkPolicy that
does, in seconds (the counts are taken before anything is built).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.load import read_documents
from netmodel.model import limits


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netmodel", "check", str(path)], capture_output=True, text=True,
                          timeout=120, check=False)


def _policy(rule: str = "{}", rules: int = 1, direction: str = "ingress") -> str:
    return ('{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"p","namespace":"a"},'
            f'"spec":{{"podSelector":{{}},"{direction}":[' + ",".join([rule] * rules) + "]}}")


def _column_of(text: str, start: str, entry: str = "", index: int = 0) -> int:
    """1-based column of the index-th ``entry`` after ``start`` (entries all equal, comma-separated), or of what
    follows ``start``."""
    return text.index(start) + len(start) + index * (len(entry) + 1) + 1


def test_too_many_rules(tmp_path: Path) -> None:
    text = _policy(rules=limits.MAX_RULES + 1)
    path = tmp_path / "rules.json"
    path.write_text(text)
    result = _check(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    column = _column_of(text, '"ingress":')
    assert f"{path}:1:{column}: error: the input lists more than 200,000 rules (NetworkPolicy and Firewall rules " \
           "together) (entry 200000 of this list is one too many)" in result.stderr


def test_too_many_peers(tmp_path: Path) -> None:
    peer = '{"podSelector":{}}'
    text = _policy('{"from":[' + ",".join([peer] * (limits.MAX_PEERS + 1)) + "]}", direction="ingress")
    path = tmp_path / "peers.json"
    path.write_text(text)
    result = _check(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    column = _column_of(text, '"from":')
    assert f"{path}:1:{column}: error: the input lists more than 500,000 rule peers (from/to entries) (entry " \
           "500000 of this list is one too many)" in result.stderr


def test_too_many_ports_in_rules_and_services_together(tmp_path: Path) -> None:
    # Half the limit in a NetworkPolicy's egress ports, the rest and one more in a Service's ports.
    port = '{"port":80}'
    half = limits.MAX_PORTS // 2
    policy = _policy('{"ports":[' + ",".join([port] * half) + "]}", direction="egress")
    service = ('{"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"a"},"spec":{"ports":['
               + ",".join([port] * (limits.MAX_PORTS - half + 1)) + "]}}")
    text = '{"apiVersion":"v1","kind":"List","items":[' + policy + "," + service + "]}"
    path = tmp_path / "ports.json"
    path.write_text(text)
    result = _check(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    column = _column_of(text, '"spec":{"ports":')
    assert f"{path}:1:{column}: error: the input lists more than 1,000,000 port entries" in result.stderr
    assert f"(entry {limits.MAX_PORTS - half} of this list is one too many)" in result.stderr


def test_ports_in_one_firewall_text_count_each(tmp_path: Path) -> None:
    ports = ",".join(["22"] * (limits.MAX_PORTS + 1))
    text = ("apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: fw}\nspec:\n  nodes: [n1]\n"
            f"  ingress:\n    rules:\n    - {{action: allow, ports: \"{ports}\"}}\n")
    path = tmp_path / "firewall.yaml"
    path.write_text(text)
    result = _check(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{path}:8:30: error: the input lists more than 1,000,000 port entries" in result.stderr


def test_too_many_policies(tmp_path: Path) -> None:
    policy = _policy()
    text = '{"apiVersion":"v1","kind":"List","items":[' + ",".join([policy] * (limits.MAX_POLICIES + 1)) + "]}"
    path = tmp_path / "policies.json"
    path.write_text(text)
    result = _check(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    column = _column_of(text, '"items":[', policy, limits.MAX_POLICIES)
    assert f"{path}:1:{column}: error: the input lists more than 50,000 NetworkPolicies" in result.stderr


@pytest.mark.parametrize("count", [limits.MAX_RULES - 1, limits.MAX_RULES])
def test_firewall_rules_and_policy_rules_count_together_up_to_the_limit(tmp_path: Path, count: int) -> None:
    # At the limit nothing is refused; one more rule anywhere is (in the Firewall here).
    firewall = {"apiVersion": "netmodel.io/v1alpha1", "kind": "Firewall", "metadata": {"name": "fw"},
                "spec": {"nodes": ["n1"], "egress": {"rules": [{"action": "allow"}] * (count - 1000)}}}
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                "items": [json.loads(_policy(rules=1000)), firewall]}))
    problems = limits.check_input_size(read_documents([str(path)]))
    if count <= limits.MAX_RULES:
        assert problems == []
    firewall["spec"]["egress"]["rules"].append({"action": "deny"})  # type: ignore[index]
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                "items": [json.loads(_policy(rules=1000)), firewall]}))
    problems = limits.check_input_size(read_documents([str(path)]))
    assert len(problems) == (1 if count == limits.MAX_RULES else 0)
