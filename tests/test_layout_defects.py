"""The realistic corpus (docs/layouts.md): each single-defect layout fails for its one defect, and the finding
names the object and the firewall rule that break it (tests/test_topologies.py pins exit codes and IDs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main

ROOT = Path(__file__).resolve().parent.parent

# layout -> every error/warning finding as (ID, substrings of its message, objects it must name)
DEFECTS: dict[str, list[tuple[str, tuple[str, ...], tuple[str, ...]]]] = {
    "broken-kubeadm-typha-closed.yaml": [
        ("NM-P2P-008", ("Calico Typha (TCP 5473)", "to node w-1, w-2", "Firewall workers ingress defaultAction deny"),
         ("Firewall/workers",))],
    "broken-k3s-vxlan-closed-to-agents.yaml": [
        ("NM-P2P-008", ("Flannel VXLAN (UDP 8472) from node agent-1, agent-2",
                        "Firewall k3s-nodes ingress defaultAction deny"), ("Firewall/k3s-nodes",))],
    "broken-rke2-kubelet-closed-to-servers.yaml": [
        ("NM-PORT-001", ("kubelet API (TCP 10250) on node agent-1, agent-2, agent-3 is blocked from the control-plane",
                         "Firewall rke2-agents ingress defaultAction deny"),
         ("Firewall/rke2-agents",))],
    "broken-cloud-healthcheck-closed.yaml": [
        ("NM-EXT-004", ("healthCheckNodePort 32101/TCP", "boutique/frontend-external",
                        "on node worker-a, worker-b, worker-c", "Firewall worker-sg ingress defaultAction deny"),
         ("Service/boutique/frontend-external", "Firewall/worker-sg"))],
    "broken-cloud-etcd-open-to-pods.yaml": [
        ("NM-PORT-002", ("etcd (TCP 2379-2380) on node cp-a, cp-b, cp-c is reachable from the Pods",
                         "Firewall control-plane-sg ingress rule 'etcd'"), ("Firewall/control-plane-sg",))],
    "broken-cloud-aws-etcd-open-to-vpc/": [
        ("NM-PORT-002", ("etcd (TCP 2379-2380) on node cp-a, cp-b, cp-c is reachable from",
                         "Firewall control-plane-sg ingress rule 'sg-0c0c0c0c0c0c0c0c1-in-1'"),
         ("Firewall/control-plane-sg",))],
    "broken-flannel-host-gw-routes-blocked.yaml": [
        ("NM-P2P-009", ("natively routed Pod traffic (flannel host-gw", "IP protocol 0 from 10.244.",
                        "Firewall workers ingress defaultAction deny"), ("Firewall/workers",))],
    "broken-kubeadm-native-etcd-open/": [
        ("NM-PORT-002", ("etcd (TCP 2379-2380) on node cp-1 is reachable from network node-lan",
                         "Firewall control-plane ingress rule 'input-l237'"), ("Firewall/control-plane",)),
        ("NM-PORT-002", ("etcd (TCP 2379-2380) on node cp-1 is reachable from the worker nodes",
                         "Firewall control-plane ingress rule 'input-l237'"), ("Firewall/control-plane",)),
        ("NM-PORT-003", ("kubelet API (TCP 10250) on node cp-1 is reachable from network node-lan",
                         "rule 'input-l237'"), ("Firewall/control-plane",))],
    "broken-cilium-native-routed-opens-node.yaml": [
        ("NM-PORT-002", ("etcd (TCP 2379-2380) on node cp-1 is reachable from the Pods",
                         "Firewall control-plane ingress rule 'routed-pod-traffic'"), ("Firewall/control-plane",)),
        ("NM-PORT-004", ("kube-scheduler (TCP 10259) on node cp-1 is reachable from the Pods",
                         "rule 'routed-pod-traffic'"), ("Firewall/control-plane",)),
        ("NM-PORT-004", ("kube-controller-manager (TCP 10257) on node cp-1 is reachable from the Pods",
                         "rule 'routed-pod-traffic'"), ("Firewall/control-plane",))],
    "broken-cilium-host-policy-kubelet-blocked.yaml": [
        ("NM-PORT-001", ("kubelet API (TCP 10250) on node w-1, w-2, w-3 is blocked from the control-plane",
                         "Firewall cilium-host:lock-down-ingress-worker-node ingress rule",
                         "'CiliumClusterwideNetworkPolicy/lock-down-ingress-worker-node puts the node in default deny"),
         ("Firewall/cilium-host:lock-down-ingress-worker-node",)),
        ("NM-P2P-008", ("Cilium health ICMP echo", "Firewall cilium-host:lock-down-ingress-worker-node"),
         ("Firewall/cilium-host:lock-down-ingress-worker-node",))],
    "broken-cilium-policy-dns-denied.yaml": [
        ("NM-SVC-008", ("isolated for egress by CiliumNetworkPolicy boutique/boutique-egress",
                        "cannot reach Service kube-system/kube-dns on UDP 53 and TCP 53"),
         ("CiliumNetworkPolicy/boutique/boutique-egress",))],
}


@pytest.mark.parametrize("layout", sorted(DEFECTS))
def test_single_defect_finding_names_object_and_rule(layout: str, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["check", f"topologies/{layout}", "--format", "json"]) == 1
    found = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["severity"] != "info"]
    assert found, layout
    for finding in found:
        matching = [(i, texts, objects) for i, texts, objects in DEFECTS[layout]
                    if finding["id"] == i and all(t in finding["message"] for t in texts)
                    and set(objects) <= set(finding["objects"])]
        assert matching, (finding["id"], finding["message"], finding["objects"])
    for check_id, texts, objects in DEFECTS[layout]:
        assert any(f["id"] == check_id and all(t in f["message"] for t in texts) for f in found), (check_id, texts)
