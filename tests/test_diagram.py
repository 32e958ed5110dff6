"""Diagrams: deterministic files, Pods folded by workload, findings on the objects at fault, legible at 200 Pods."""

from __future__ import annotations

from pathlib import Path

import pytest

from netmodel.cli.main import main
from netmodel.compile.graph import build_graph
from netmodel.model.build import load_topology
from netmodel.pipeline import run_check
from netmodel.report.diagrams.layout import MAX_NODES_SHOWN, layout_topology
from netmodel.report.diagrams.matrix import MAX_ENTITIES, Connection, connectivity_grid
from netmodel.report.diagrams.ports import port_heat_map

ROOT = Path(__file__).resolve().parent.parent
BROKEN = "topologies/broken-etcd-internet.yaml"


def scale_layout(namespaces: int = 5, deployments: int = 4, replicas: int = 10, workers: int = 12) -> str:
    """3 control-plane nodes, ``workers`` workers, namespaces × deployments × replicas Pods, a Service each."""
    docs = [("apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: big}\nspec:\n"
             "  podCIDRs: [10.244.0.0/16]\n  networks: [{name: internet, cidrs: [0.0.0.0/0], uses: [ingress]}]")]
    for i in range(3 + workers):
        role = '{node-role.kubernetes.io/control-plane: ""}' if i < 3 else "{}"
        docs.append(f"apiVersion: v1\nkind: Node\nmetadata: {{name: n-{i:02d}, labels: {role}}}\n"
                    f"status: {{addresses: [{{type: InternalIP, address: 10.0.{i // 200}.{i % 200 + 10}}}]}}")
    for n in range(namespaces):
        for d in range(deployments):
            docs.append(f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{d}, namespace: ns-{n}}}\n"
                        f"spec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: app-{d}}}}}\n"
                        f"  template:\n    metadata: {{labels: {{app: app-{d}}}}}\n"
                        f"    spec: {{containers: [{{name: c, ports: [{{containerPort: 8080}}]}}]}}")
            docs.append(f"apiVersion: v1\nkind: Service\nmetadata: {{name: app-{d}, namespace: ns-{n}}}\n"
                        f"spec: {{selector: {{app: app-{d}}}, ports: [{{port: 80, targetPort: 8080}}]}}")
    return "\n---\n".join(docs) + "\n"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("view", ["topology", "ports", "matrix"])
@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_each_view_is_written_and_deterministic(tmp_path, view, suffix):
    first, second = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
    for out in (first, second):
        assert main(["diagram", BROKEN, "-o", str(out), "--view", view, "--quiet"]) == 0
    data = first.read_bytes()
    assert data == second.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == "png" else b"<svg" in data[:500]
    if suffix == "svg":
        assert b"<dc:date>" not in data and b"Matplotlib v" not in data


def test_an_unknown_image_suffix_is_a_usage_error(tmp_path, capsys):
    assert main(["diagram", BROKEN, "-o", str(tmp_path / "x.gif")]) == 2
    assert ".png or .svg" in capsys.readouterr().err


def test_topology_marks_the_finding_on_the_control_plane_nodes():
    run = run_check([BROKEN])
    layout = layout_topology(run.context.graph, run.payload())
    marked = {b.key: b.findings for b in layout.boxes if b.findings}
    assert marked == {"node:cp-1": ("NM-PORT-002",), "node:cp-2": ("NM-PORT-002",), "node:cp-3": ("NM-PORT-002",)}
    internet = layout.box("network:internet")
    assert "→ control-plane: 2379-2380 EXPOSED" in internet.lines
    assert {(e.source, e.target, e.state) for e in layout.edges if e.source == "network:internet"} >= {
        ("network:internet", "band:control-plane", "exposed")}


def test_200_pods_fold_into_one_box_per_workload_and_nodes_fold_by_role(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(scale_layout())
    topology = load_topology([str(path)])
    assert len(topology.pods) == 200
    layout = layout_topology(build_graph(topology))
    kinds = [b.kind for b in layout.boxes]
    assert kinds.count("workload") == 20 and kinds.count("service") == 20
    assert kinds.count("worker") == 1 and len(topology.worker_nodes) > MAX_NODES_SHOWN
    workers = next(b for b in layout.boxes if b.kind == "worker")
    assert workers.title == "12 worker nodes"
    hosted = [int(line.split()[0]) for b in layout.boxes if b.kind in ("worker", "control-plane")
              for line in b.lines if line.endswith(("Pods", "Pod"))]
    assert sum(hosted) == 200
    box = layout.box("workload:Deployment/ns-3/app-2")
    assert box.lines[0] == "Deployment · 10 Pods"
    # Boxes never overlap: a legible picture, not a hairball.
    solid = [b for b in layout.boxes if b.kind in ("workload", "service", "ingress", "worker", "control-plane",
                                                     "network")]
    for i, a in enumerate(solid):
        for b in solid[i + 1:]:
            assert (a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y), (a.key, b.key)


def test_focus_keeps_one_namespace():
    run = run_check([BROKEN])
    layout = layout_topology(run.context.graph, run.payload(), focus="namespace:shop")
    assert {b.key for b in layout.boxes if b.kind == "namespace"} == {"namespace:shop"}


def test_port_heat_map_folds_nodes_and_keeps_the_worst_state():
    heat = port_heat_map(run_check([BROKEN]).payload()["portMatrix"])
    row = next(i for i, r in enumerate(heat.rows) if r.startswith("control-plane  TCP 2379-2380"))
    column = heat.columns.index("network:internet")
    cell = next(c for c in heat.cells if (c.row, c.column) == (row, column))
    assert (cell.state, cell.text) == ("exposed", "EXPOSED")
    assert heat.columns[:4] == ("self", "control-plane", "workers", "pods")


def test_connectivity_grid_folds_to_namespaces_past_the_limit():
    connections = [Connection(f"ns-{i % 7}/w-{i}[Deployment]", f"ns-{(i + 1) % 7}/w-{i + 1}[Deployment]", "TCP 80")
                   for i in range(MAX_ENTITIES + 10)]
    grid = connectivity_grid(connections)
    assert grid.folded and grid.entities == tuple(f"ns-{i}" for i in range(7))
    assert grid.cells[(0, 1)] == "TCP 80"


FLANNEL = "topologies/flannel-vxlan.yaml"


@pytest.mark.parametrize("view", ["topology", "matrix"])
@pytest.mark.parametrize("ref", ["namespace:blogg", "deployment:blog/wordpres", "node:w-9", "network:intranet"])
def test_an_unknown_focus_is_rejected_as_query_rejects_it(tmp_path, capsys, view, ref):
    """One rule for references: what query refuses, diagram --focus refuses, with the same words (exit 2)."""
    out = tmp_path / "x.png"
    assert main(["query", FLANNEL, "--from", ref, "--to", "node:w-1", "--port", "10250"]) == 2
    query_err = capsys.readouterr().err
    assert main(["diagram", FLANNEL, "-o", str(out), "--view", view, "--focus", ref, "--quiet"]) == 2
    diagram_err = capsys.readouterr().err
    assert not out.exists()
    reason = query_err.split("unknown ", 1)[1].splitlines()[0]
    assert f"--focus: unknown {reason}" in diagram_err


def test_a_known_focus_draws_and_the_ports_view_takes_nodes_only(tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["diagram", FLANNEL, "-o", str(out), "--focus", "namespace:blog", "--quiet"]) == 0
    assert main(["diagram", FLANNEL, "-o", str(out), "--view", "ports", "--focus", "node:w-1", "--quiet"]) == 0
    assert main(["diagram", FLANNEL, "-o", str(out), "--view", "ports", "--focus", "namespace:blog"]) == 2
    assert "use --focus node:NAME" in capsys.readouterr().err
    # namespace: is a reference for query too (every Pod of the namespace).
    assert main(["query", FLANNEL, "--from", "namespace:blog", "--to", "node:w-1", "--port", "10250"]) == 1
