"""The implicit node carries the kubelet's labels, and Pods that still fit no node are named in every answer
they are missing from (issue 9, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from netmodel.cli.main import main
from netmodel.model.build import load_topology

SCHEMAS = Path(__file__).parents[1] / "netmodel" / "schemas"
INGRESS_NGINX = str(Path(__file__).parent / "data" / "public" / "ingress-nginx-controller.yaml")

# Two Pods no node can take (a Windows-only Deployment and a Pod pinned by a label nothing has) next to a
# Pod that runs.
MIXED = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: win, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: win}}
  template:
    metadata: {labels: {app: win}}
    spec:
      nodeSelector: {kubernetes.io/os: windows}
      containers: [{name: c, image: x, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
"""
WHY = ("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector "
       "(nodeSelector kubernetes.io/os: windows)")


def test_the_implicit_node_carries_the_kubelet_labels() -> None:
    t = load_topology([INGRESS_NGINX])
    (node,) = t.nodes
    assert node.implicit
    assert {k: node.labels[k] for k in ("kubernetes.io/os", "kubernetes.io/arch", "kubernetes.io/hostname")} == \
        {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "node-1"}


def test_a_manifest_pinned_with_the_beta_os_label_schedules_on_the_implicit_node(tmp_path: Path) -> None:
    """The kubelet still sets the deprecated beta.kubernetes.io/os and /arch labels; sock-shop's complete-demo.yaml
    pins every Deployment with `beta.kubernetes.io/os: linux`, so on the implicit node its Pods must run (they
    stayed Pending, and every Service of the demo was called empty)."""
    path = tmp_path / "beta.yaml"
    path.write_text("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: carts, namespace: sock-shop}
spec:
  selector: {matchLabels: {name: carts}}
  template:
    metadata: {labels: {name: carts}}
    spec:
      nodeSelector: {beta.kubernetes.io/os: linux, beta.kubernetes.io/arch: amd64}
      containers: [{name: carts, image: x, ports: [{containerPort: 80}]}]
""")
    t = load_topology([str(path)])
    assert t.unscheduled == ()
    assert [(p.name, p.node_name) for p in t.pods] == [("carts-0", "node-1")]


def test_a_chart_pinned_to_linux_schedules_on_the_implicit_node(capsys: pytest.CaptureFixture[str]) -> None:
    t = load_topology([INGRESS_NGINX])
    assert t.unscheduled == ()
    assert [(p.name, p.node_name) for p in t.pods] == [("ingress-nginx-controller-0", "node-1")]
    assert main(["matrix", INGRESS_NGINX, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "unscheduled" not in data  # its one Pod reaches itself, which the one rule says
    assert [(r["from"], r["to"], r["connections"]) for r in data["rules"]] == [("all Pods", "all Pods",
                                                                                 "TCP 80,443,8443")]


def _layout(tmp_path: Path) -> str:
    path = tmp_path / "mixed.yaml"
    path.write_text(MIXED)
    return str(path)


def test_matrix_json_and_table_name_the_pending_pods_and_why(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    layout = _layout(tmp_path)
    assert main(["matrix", layout, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, json.loads((SCHEMAS / "matrix.schema.json").read_text()))
    assert data["unscheduled"] == {"count": 2, "reasons": [
        {"reason": WHY, "count": 2, "pods": ["shop/win-0", "shop/win-1"]}]}
    assert main(["matrix", layout]) == 0
    out = capsys.readouterr().out
    assert "2 Pod(s) fit no node, stay Pending and are not in this answer" in " ".join(out.split())
    assert "shop/win-0" in out and "kubernetes.io/os: windows" in out


def test_query_json_and_table_name_the_pending_pods(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout = _layout(tmp_path)
    args = ["query", layout, "--from", "shop/web", "--to", "deployment:shop/win", "--port", "80"]
    main([*args, "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, json.loads((SCHEMAS / "query.schema.json").read_text()))
    assert data["unscheduled"]["count"] == 2 and data["unscheduled"]["reasons"][0]["reason"] == WHY
    main(args)
    assert "2 Pod(s) fit no node" in capsys.readouterr().out


def test_the_reason_counts_each_node_under_the_filter_it_fails(tmp_path: Path) -> None:
    path = tmp_path / "l.yaml"
    path.write_text(MIXED + """
---
apiVersion: v1
kind: Node
metadata: {name: cp-1, labels: {node-role.kubernetes.io/control-plane: "", kubernetes.io/os: windows}}
spec: {taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]}
status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
---
apiVersion: v1
kind: Node
metadata: {name: w-1, labels: {kubernetes.io/os: linux}}
status: {addresses: [{type: InternalIP, address: 10.0.0.2}]}
""")
    t = load_topology([str(path)])
    why = ("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated "
           "taint {node-role.kubernetes.io/control-plane: } (nodeSelector kubernetes.io/os: windows)")
    assert {u.reason for u in t.unscheduled} == {why}


def test_a_query_naming_a_pending_pod_says_why_it_has_no_address(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", _layout(tmp_path), "--from", "shop/web", "--to", "shop/win-0", "--port", "80"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and "Pod shop/win-0 fits no node and stays Pending" in err and "kubernetes.io/os: windows" in err


def test_a_selector_matching_only_pending_pods_is_not_called_wrong(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A Service and a NetworkPolicy whose selectors match the Windows Deployment's Pods, which fit no node: both
    have nothing to act on, but the labels are right. The findings must name the Pending Pods and the scheduler's
    reason, not advise to fix the selector (sock-shop's 14 Services got that advice while their Pods were Pending
    for a node label the implicit node lacked)."""
    path = tmp_path / "l.yaml"
    path.write_text(MIXED + """
---
apiVersion: v1
kind: Service
metadata: {name: win, namespace: shop}
spec: {selector: {app: win}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: win, namespace: shop}
spec: {podSelector: {matchLabels: {app: win}}}
---
apiVersion: v1
kind: Service
metadata: {name: typo, namespace: shop}
spec: {selector: {app: wim}, ports: [{port: 80}]}
""")
    assert main(["check", str(path), "--format", "json"]) == 0
    found = {(f["id"], f["objects"][0]): f["message"] for f in json.loads(capsys.readouterr().out)["findings"]
             if f["objects"]}
    for key in (("NM-SVC-001", "Service/shop/win"), ("NM-POL-001", "NetworkPolicy/shop/win")):
        message = found[key]
        assert "selects no running Pod" in message and "shop/win-0" in message and WHY in message, message
        assert "match the Pod template labels" not in message and "check its labels" not in message, message
    assert "make spec.selector match the Pod template labels" in found[("NM-SVC-001", "Service/shop/typo")]


HOST_PORT_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: storm}
spec:
  replicas: 3
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers: [{name: w, image: x, ports: [{containerPort: 6700, hostPort: 6700}]}]
"""
TWO_WORKERS = """
apiVersion: v1
kind: Node
metadata: {name: w-1}
status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
---
apiVersion: v1
kind: Node
metadata: {name: w-2}
status: {addresses: [{type: InternalIP, address: 10.0.0.2}]}
"""
NO_FREE_PORTS = "didn't have free ports for the requested pod ports"


def test_replicas_taking_a_host_port_land_on_distinct_nodes_or_stay_pending(tmp_path: Path,
                                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """kube-scheduler's NodePorts filter keeps two Pods that take one host port off one node: kubernetes/examples'
    storm-worker-controller.yaml (hostPorts 6700-6703, 2 replicas) got a false NM-LOOP-002 error on the implicit
    node, where a cluster runs one replica and keeps the other Pending."""
    alone = tmp_path / "alone.yaml"
    alone.write_text(HOST_PORT_DEPLOYMENT)
    t = load_topology([str(alone)])
    assert [(p.name, p.node_name) for p in t.pods] == [("worker-0", "node-1")]
    assert [u.name for u in t.unscheduled] == ["worker-1", "worker-2"]
    assert t.unscheduled[0].reason == f"0/1 nodes are available: 1 node(s) {NO_FREE_PORTS} (host ports 6700/TCP)"
    assert main(["check", str(alone), "--format", "json"]) == 0
    assert not [f for f in json.loads(capsys.readouterr().out)["findings"] if f["id"] == "NM-LOOP-002"]
    spread = tmp_path / "spread.yaml"
    spread.write_text(TWO_WORKERS + "---" + HOST_PORT_DEPLOYMENT)
    t = load_topology([str(spread)])
    assert sorted((p.name, p.node_name) for p in t.pods) == [("worker-0", "w-1"), ("worker-1", "w-2")]
    assert [u.name for u in t.unscheduled] == ["worker-2"]


def test_a_daemonset_pod_stays_pending_where_a_given_pod_holds_its_host_port(tmp_path: Path) -> None:
    """Pods on a node given by spec.nodeName hold their host ports first; the DaemonSet's Pod on that node is
    Pending (its Pods go through the scheduler too), on the other node it runs. Two Pods a nodeName puts on one
    node with one host port are still both there (NM-LOOP-002: tests/test_checks_loopback.py)."""
    path = tmp_path / "ds.yaml"
    path.write_text(TWO_WORKERS + """---
apiVersion: v1
kind: Pod
metadata: {name: exporter, namespace: mon}
spec:
  nodeName: w-1
  containers: [{name: e, image: x, ports: [{containerPort: 9100, hostPort: 9100}]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: mon}
spec:
  selector: {matchLabels: {app: ne}}
  template:
    metadata: {labels: {app: ne}}
    spec:
      hostNetwork: true
      containers: [{name: ne, image: x, ports: [{containerPort: 9100}]}]
""")
    t = load_topology([str(path)])
    assert sorted((p.name, p.node_name) for p in t.pods) == [("exporter", "w-1"), ("node-exporter-w-2", "w-2")]
    assert [(u.name, NO_FREE_PORTS in u.reason) for u in t.unscheduled] == [("node-exporter-w-1", True)]
