"""Exposure findings quote an address that plainly belongs to the network and say what part of it the rule admits;
a network nested in another (office inside internet 0.0.0.0/0) is judged by its own `uses` (issue 8.5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main
from tests import checkkit

ROOT = Path(__file__).resolve().parent.parent


def _check(capsys: pytest.CaptureFixture[str], path: str) -> dict[str, object]:
    main(["check", path, "--format", "json"])
    return json.loads(capsys.readouterr().out)


def test_a_rule_admitting_the_node_subnet_is_shown_as_that_part_of_the_internet(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """flannel-vxlan whose etcd rule admits the node subnet 10.0.0.0/24 instead of the control-plane nodes."""
    text = (ROOT / "topologies" / "flannel-vxlan.yaml").read_text()
    old = ('      - nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}\n'
           '    - name: kubelet-from-control-plane')
    assert text.count(old) == 1
    layout = tmp_path / "etcd-node-subnet.yaml"
    layout.write_text(text.replace(old, "      - cidr: 10.0.0.0/24\n    - name: kubelet-from-control-plane"))
    payload = _check(capsys, str(layout))
    [internet] = [f for f in payload["findings"] if f["id"] == "NM-PORT-002"  # type: ignore[index, union-attr]
                  and "network internet" in f["message"]]
    assert "reachable from network internet (0.0.0.0/0), of which the rule admits 10.0.0.0/24 (e.g. 10.0.0.1 " \
           "to port 2379)" in internet["message"]


def test_internet_examples_are_public_and_outside_the_nested_office(capsys: pytest.CaptureFixture[str]) -> None:
    payload = _check(capsys, str(ROOT / "topologies" / "broken-etcd-internet.yaml"))
    examples = {c["source"]: c["example"] for c in payload["portMatrix"]  # type: ignore[union-attr]
                if c["status"] == "exposed" and c["source"].startswith("network:") and c["purpose"] == "etcd"}
    assert examples["network:internet"] == "1.0.0.1 -> 2379"  # not 0.0.0.1, not an office address
    assert examples["network:office"] == "198.51.100.1 -> 2379"


NODEPORTS_FROM_INTERNET = ('    - {name: nodeports-world, action: allow, protocol: TCP, ports: ["30000-32767"], '
                           'from: [{network: internet}]}\n')


def test_a_nested_network_keeps_its_own_uses() -> None:
    """office (198.51.100.0/24, uses nodeports) lies inside internet (0.0.0.0/0, uses ingress only). A rule naming
    `network: internet` admits both, as written; only the internet's own addresses are an exposure."""
    firewalls = checkkit.firewall("control-plane", "control-plane", checkkit.CP_RULES + checkkit.COMMON_RULES) + \
        "---" + checkkit.firewall("workers", "worker", checkkit.COMMON_RULES + NODEPORTS_FROM_INTERNET)
    findings = [f for f in checkkit.findings(checkkit.base(firewalls=firewalls)) if f.severity.value != "info"]
    assert [(f.id, f.objects) for f in findings] == [
        ("NM-PORT-006", ("Node/w-1", "Node/w-2", "Firewall/workers"))]
    message = findings[0].message
    assert "from network internet (e.g. 1.0.0.1 to port 30000)" in message
    assert "198.51.100." not in message
