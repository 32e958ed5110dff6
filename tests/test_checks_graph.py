"""The compile graph: vertices and edges documented in netmodel/compile/graph.py, built from a bundled layout."""

from __future__ import annotations

from pathlib import Path

from netmodel.compile.graph import build_graph
from netmodel.model.build import load_topology

ROOT = Path(__file__).resolve().parent.parent


def edges(g, kind: str) -> set[tuple[str, str]]:
    return {(u, v) for u, v, k in g.edges(keys=True) if k == kind}


def test_flannel_graph() -> None:
    topology = load_topology([str(ROOT / "topologies/flannel-vxlan.yaml")])
    g = build_graph(topology)
    assert g.nodes["node:cp-1"]["role"] == "control-plane"
    assert g.nodes["node:w-1"]["firewalls"] == ("workers",)
    assert g.nodes["underlay"]["encapsulation"] == "vxlan"
    assert g.edges["node:w-1", "underlay", "encapsulation"]["flows"] == ("UDP 8472 (Flannel VXLAN)",)
    assert ("node:cp-1", "pod:kube-system/fluent-bit-cp-1") in edges(g, "hosts")
    assert {v for u, v in edges(g, "endpoint") if u == "service:kube-system/kube-dns"} == {
        "pod:kube-system/coredns-0", "pod:kube-system/coredns-1"}
    assert g.nodes["service:ingress-nginx/ingress-nginx-controller"]["ingress_controller"] is True
    assert ("ingress-controller", "service:ingress-nginx/ingress-nginx-controller") in edges(g, "fronted-by")
    assert {u for u, v in edges(g, "entry") if v == "ingress-controller"} == {"network:internet", "network:office"}
    # cp-1 carries kubeadm's control-plane taint: load balancers skip it, so the office uses only its API there.
    assert g.edges["network:office", "node:cp-1", "entry"]["uses"] == ("api",)
    assert g.edges["network:office", "node:w-1", "entry"]["uses"] == ("nodeports",)
    assert not any(v.startswith("node:") for u, v in edges(g, "entry") if u == "network:internet")
    backends = {v for u, v in edges(g, "backend")}
    assert backends and all(g.nodes[v]["kind"] == "service" for v in backends)
