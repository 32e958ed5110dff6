"""The connectivity matrix: per-class results agree with the path engine Pod by Pod; CLI formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from netmodel.analyze.connectivity import Connection, connectivity
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


def test_masqueraded_pods_are_seen_as_their_node_by_the_matrix(tmp_path: Path) -> None:
    """Across nodes the ledger's label rule never matches (the source is w-2's or w-1's address) and its ipBlock
    for w-1 admits any Pod there — under Kubernetes' reading of ipBlock; under Cilium (the layout's CNI) the
    ipBlock is a CIDR rule, which matches no node address. On one node the Pod address stays and the label rule
    admits it."""
    found = {c.describe() for c in connectivity(CompiledCluster(load_topology([str(p) for p in MASQUERADED])), "pod")}
    assert "payments/checkout-0 → payments/ledger-0 TCP 50051" in found  # both on w-2
    assert "payments/checkout-0 → payments/ledger-1 TCP 50051" not in found  # w-2 → w-3, seen as 10.0.0.22
    assert "ingress-nginx/ingress-nginx-controller-1 → payments/ledger-1 TCP 50051" not in found  # Cilium CIDR rule
    flannel = tmp_path / "flannel.yaml"
    flannel.write_text(MASQUERADED[0].read_text().replace(
        "cni: {plugin: cilium, mode: vxlan, encryption: none, kubeProxyReplacement: true}\n"
        "  kubeProxy: {mode: none, masqueradeAll: false}",
        "cni: {plugin: flannel, mode: vxlan}\n  kubeProxy: {mode: iptables, masqueradeAll: false}"))
    found = {c.describe() for c in connectivity(CompiledCluster(load_topology([str(flannel), str(MASQUERADED[1])])),
                                                "pod")}
    assert "payments/checkout-0 → payments/ledger-0 TCP 50051" in found
    assert "payments/checkout-0 → payments/ledger-1 TCP 50051" not in found
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


STREAMED = [*LAYOUTS[:4], HERE / "kinds" / "antrea-deny.yaml"]  # the last: rows marked notEvaluated


@pytest.mark.parametrize("by", ["pod", "workload", "namespace"])
@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("layout", STREAMED, ids=lambda p: p.name)
def test_streamed_outputs_equal_the_rendered_answer(layout: Path, fmt: str, by: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """csv and json are written row by row as the rows are computed (cli/matrix.py); byte for byte they are the
    payload renderers' text of the whole answer, which the other formats use."""
    from netmodel.analyze.unevaluated import Unevaluated, matrix_json
    from netmodel.analyze.unscheduled import unscheduled_json
    from netmodel.cli.matrix import render_csv, render_json

    topology = load_topology([str(layout)])
    payload = matrix_json(connectivity(CompiledCluster(topology), by), by, Unevaluated.of(topology))
    if topology.unscheduled:
        payload["unscheduled"] = unscheduled_json(topology.unscheduled)
    expected = render_csv(payload) if fmt == "csv" else render_json(payload)
    assert main(["matrix", str(layout), "--by", by, "--format", fmt]) == 0
    assert capsys.readouterr().out == expected
    out = tmp_path / f"m.{fmt}"
    assert main(["matrix", str(layout), "--by", by, "--format", fmt, "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == expected
    if layout.name == "antrea-deny.yaml" and by == "pod":
        assert "notEvaluated" in expected and "false" in expected


def test_streamed_json_of_no_connection_and_of_pending_pods(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_unscheduled import MIXED

    empty = tmp_path / "empty.yaml"
    empty.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    assert main(["matrix", str(empty), "--by", "workload", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"by": "workload", "connections": []}
    assert main(["matrix", str(empty), "--by", "workload", "--format", "csv"]) == 0
    assert capsys.readouterr().out == "from,to,protocol,ports,partial,via\n"
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(MIXED)
    assert main(["matrix", str(mixed), "--by", "workload", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["connections"] and data["unscheduled"]["count"] == 2
    assert list(data) == ["by", "connections", "unscheduled"]


def test_rows_are_produced_lazily_one_source_at_a_time() -> None:
    """The matrix writers can stream because the rows come from a generator, in the sorted order."""
    from netmodel.analyze.connectivity import connection_rows

    compiled = CompiledCluster(load_topology([str(LAYOUTS[2])]))
    rows = connection_rows(compiled, "pod")
    first = next(rows)
    rest = list(rows)
    assert [first, *rest] == sorted([first, *rest], key=lambda r: (r[0], r[1], r[2], r[5]))
    assert [Connection(*r) for r in [first, *rest]] == connectivity(compiled, "pod")
