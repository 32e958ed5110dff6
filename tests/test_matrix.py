"""The connectivity matrix: per-class results agree with the path engine Pod by Pod; CLI formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.reach import CompiledCluster, Tracer, query
from netmodel.cli.main import main
from netmodel.model.build import load_topology
from netmodel.sets import protocol_label

HERE = Path(__file__).parent
LAYOUTS = [HERE / "reach" / "blocked.yaml", HERE / "policy_layouts" / "defects.yaml",
           HERE.parent / "topologies" / "plain-manifests", HERE.parent / "topologies" / "calico-ipip-ha.yaml",
           HERE.parent / "topologies" / "broken-cni-port-closed.yaml", HERE.parent / "topologies" / "dual-stack.yaml",
           HERE / "reach" / "stateless-native.yaml", HERE / "reach" / "stateless-vxlan.yaml",
           HERE.parent / "topologies" / "calico-bgp-forward.yaml",
           HERE.parent / "topologies" / "broken-etcd-pods-forward.yaml"]
# ip-masq-agent SNATing Pod traffic between nodes, with a policy whose verdict changes when it does
MASQUERADED = (HERE.parent / "topologies" / "broken-masquerade.yaml", HERE / "reach" / "masquerade-policies.yaml")


@pytest.mark.parametrize("layout", LAYOUTS + [MASQUERADED],
                         ids=lambda p: p.name if isinstance(p, Path) else "+".join(x.name for x in p))
def test_matrix_agrees_with_the_path_engine(layout: Path | tuple[Path, ...]) -> None:
    compiled = CompiledCluster(load_topology([str(p) for p in (layout if isinstance(layout, tuple) else (layout,))]))
    tracer = Tracer(compiled)
    allowed = {(c.source, c.destination, protocol_label(c.protocol)): c.ports
               for c in connectivity(compiled, "pod") if not c.destination.startswith("network:")}
    pods = [p for p in compiled.topology.pods if p.ips]
    checked = 0
    for src in pods:
        for dst in pods:
            for port in dst.ports:
                proto = protocol_label(port.protocol)
                got = query(compiled, f"{src.namespace}/{src.name}", f"{dst.namespace}/{dst.name}", port.port,
                            proto, tracer).allowed
                ports = allowed.get((f"{src.namespace}/{src.name}", f"{dst.namespace}/{dst.name}", proto))
                assert got == (ports is not None and port.port in ports), (src.name, dst.name, port.port)
                checked += 1
    assert checked > 0


def test_masqueraded_pods_are_seen_as_their_node_by_the_matrix() -> None:
    """Across nodes the ledger's label rule never matches (the source is w-2's or w-1's address) and its ipBlock
    for w-1 admits any Pod there; on one node the Pod address stays and the label rule admits it."""
    found = {c.describe() for c in connectivity(CompiledCluster(load_topology([str(p) for p in MASQUERADED])), "pod")}
    assert "payments/checkout-0 → payments/ledger-0 TCP 50051" in found  # both on w-2
    assert "payments/checkout-0 → payments/ledger-1 TCP 50051" not in found  # w-2 → w-3, seen as 10.0.0.22
    assert "ingress-nginx/ingress-nginx-controller-1 → payments/ledger-1 TCP 50051" in found  # from w-1


def test_stateless_replies_in_the_matrix() -> None:
    native = {c.describe() for c in connectivity(CompiledCluster(load_topology([str(LAYOUTS[6])])), "pod")}
    assert "x/a → x/b TCP 80" in native
    assert not any(c.startswith("x/b → x/a TCP") for c in native)  # the reply meets w-2's ingress deny
    assert "x/b → x/a UDP 53" in native  # pod-udp admits the reply
    vxlan = {c.describe() for c in connectivity(CompiledCluster(load_topology([str(LAYOUTS[7])])), "pod")}
    assert "x/b → x/a TCP 80" in vxlan  # the reply is a new VXLAN packet, which w-2 admits
    assert "x/agent → x/a TCP 80" not in vxlan  # the reply to w-2's address is plain
    assert "x/a → x/agent TCP 9100" not in vxlan  # to a hostNetwork Pod: not encapsulated, w-2 has no rule


def test_blocked_layout_has_exactly_these_connections() -> None:
    found = {c.describe() for c in connectivity(CompiledCluster(load_topology([str(LAYOUTS[0])])), "workload")}
    assert "web/client[Pod] → shop/api-0[Pod] TCP 8080" not in found  # VXLAN dropped and policy denies
    assert "shop/api-0[Pod] → shop/api-0[Pod] TCP 8080" in found
    assert "web/client[Pod] → network:office TCP any" in found
    assert not any(c.startswith("network:office →") for c in found)  # NodePort closed by the firewall


def test_outside_network_enters_through_a_node_port(tmp_path: Path) -> None:
    layout = tmp_path / "open.yaml"
    layout.write_text(LAYOUTS[0].read_text().replace(
        "    - {name: cluster,", "    - {name: nodeports, action: allow, protocol: TCP, ports: [\"30000-32767\"]}\n"
        "    - {name: cluster,").replace("- from: [{podSelector: {}}]", "- {}"))
    found = {c.describe() for c in connectivity(CompiledCluster(load_topology([str(layout)])), "namespace")}
    assert "network:office → shop TCP 8080 via Service shop/api NodePort 30080 (partial)" in found


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_cli_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["matrix", str(LAYOUTS[2]), "--by", "workload", "--format", fmt])
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
