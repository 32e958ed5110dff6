"""The connectivity matrix: per-class results agree with the path engine Pod by Pod; CLI formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.reach import Fabric, Tracer, query
from netmodel.cli.main import main
from netmodel.model.build import load_topology
from netmodel.sets import protocol_label

HERE = Path(__file__).parent
LAYOUTS = [HERE / "reach" / "blocked.yaml", HERE / "policy_layouts" / "defects.yaml",
           HERE.parent / "topologies" / "plain-manifests", HERE.parent / "topologies" / "calico-ipip-ha.yaml",
           HERE.parent / "topologies" / "broken-cni-port-closed.yaml", HERE.parent / "topologies" / "dual-stack.yaml"]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda p: p.name)
def test_matrix_agrees_with_the_path_engine(layout: Path) -> None:
    fabric = Fabric(load_topology([str(layout)]))
    tracer = Tracer(fabric)
    allowed = {(c.source, c.destination, protocol_label(c.protocol)): c.ports
               for c in connectivity(fabric, "pod") if not c.destination.startswith("network:")}
    pods = [p for p in fabric.topology.pods if p.ips]
    checked = 0
    for src in pods:
        for dst in pods:
            for port in dst.ports:
                proto = protocol_label(port.protocol)
                got = query(fabric, f"{src.namespace}/{src.name}", f"{dst.namespace}/{dst.name}", port.port,
                            proto, tracer).allowed
                ports = allowed.get((f"{src.namespace}/{src.name}", f"{dst.namespace}/{dst.name}", proto))
                assert got == (ports is not None and port.port in ports), (src.name, dst.name, port.port)
                checked += 1
    assert checked > 0


def test_blocked_layout_has_exactly_these_connections() -> None:
    found = {c.describe() for c in connectivity(Fabric(load_topology([str(LAYOUTS[0])])), "workload")}
    assert "web/client[Pod] → shop/api-0[Pod] TCP 8080" not in found  # VXLAN dropped and policy denies
    assert "shop/api-0[Pod] → shop/api-0[Pod] TCP 8080" in found
    assert "web/client[Pod] → network:office TCP any" in found
    assert not any(c.startswith("network:office →") for c in found)  # NodePort closed by the firewall


def test_outside_network_enters_through_a_node_port(tmp_path: Path) -> None:
    layout = tmp_path / "open.yaml"
    layout.write_text(LAYOUTS[0].read_text().replace(
        "    - {name: cluster,", "    - {name: nodeports, action: allow, protocol: TCP, ports: [\"30000-32767\"]}\n"
        "    - {name: cluster,").replace("- from: [{podSelector: {}}]", "- {}"))
    found = {c.describe() for c in connectivity(Fabric(load_topology([str(layout)])), "namespace")}
    assert "network:office → shop TCP 8080 via Service shop/api NodePort 30080 (partial)" in found


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_cli_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["matrix", str(LAYOUTS[2]), "--format", fmt])
    out = capsys.readouterr().out
    assert code == 0
    if fmt == "json":
        data = json.loads(out)
        assert data["by"] == "workload"
        assert {"from": "guestbook/frontend[Deployment]", "to": "guestbook/redis-leader[Deployment]",
                "protocol": "TCP", "ports": "6379", "partial": False} in data["connections"]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert rows and set(rows[0]) == {"from", "to", "protocol", "ports", "partial", "via"}
    else:
        assert "guestbook/frontend[Deployment]" in out


def test_cli_rejects_unknown_grouping(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", str(LAYOUTS[2]), "--by", "node"]) == 2
    assert "unknown grouping" in capsys.readouterr().err
