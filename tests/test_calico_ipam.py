"""Pod IPs from Calico IPAM (issue 9, item 3): a healthy Calico cluster's dump checks clean, IPPools are read as
the pod ranges, and a Pod IP outside every pool is still an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main
from netmodel.model.build import load_topology

DATA = Path(__file__).parent / "data"
# `kubectl get nodes,pods,services,ippools -A -o json` of a kubeadm cluster (--pod-network-cidr 10.244.0.0/16,
# so the nodes' spec.podCIDR) running Calico with its default pool 192.168.0.0/16: Pod IPs come from Calico's
# /26 blocks, one of them borrowed from another node's block.
DUMP = DATA / "calico-dump.json"
CLUSTER = """apiVersion: netmodel.io/v1alpha1
kind: Cluster
metadata: {name: prod}
spec:
  podCIDRs: [%s]
  serviceCIDRs: [10.96.0.0/12]
  cni: {plugin: %s, mode: %s}
"""


def _check(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, list[dict[str, object]]]:
    code = main(["check", *map(str, paths), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)["findings"]


def test_the_dump_of_a_healthy_calico_cluster_checks_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, findings = _check(capsys, DUMP)
    assert [(f["id"], f["severity"]) for f in findings if f["severity"] != "info"] == [] and code == 0
    t = load_topology([str(DUMP)])
    assert [str(c) for c in t.cluster.pod_cidrs] == ["192.168.0.0/16"]  # the pool, not 10.244.0.0/16
    assert [p.name for p in t.ip_pools] == ["default-ipv4-ippool"]


def test_the_public_ippool_sample_is_read_in_its_v3_form() -> None:
    t = load_topology([str(DATA / "public" / "calico-ippool.yaml")])
    assert [(p.name, str(p.cidr), p.disabled) for p in t.ip_pools] == [("my.ippool-1", "10.1.0.0/16", False)]
    assert [str(c) for c in t.cluster.pod_cidrs] == ["10.1.0.0/16"]
    assert not t.skipped


def test_a_pool_outside_the_cluster_pod_cidrs_joins_them_with_a_note(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(CLUSTER % ("10.244.0.0/16", "calico", "ipip"))
    code, findings = _check(capsys, DUMP, cluster)
    assert [f["id"] for f in findings if f["severity"] != "info"] == [] and code == 0
    (note,) = [f for f in findings if f["id"] == "NM-INPUT-012"]
    assert "default-ipv4-ippool (192.168.0.0/16)" in note["message"]


def test_calico_without_pools_in_the_input_binds_no_node_range(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    dump = json.loads(DUMP.read_text())
    dump["items"] = [i for i in dump["items"] if i["kind"] != "IPPool"]
    (tmp_path / "dump.json").write_text(json.dumps(dump))
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(CLUSTER % ("192.168.0.0/16", "calico", "ipip"))
    code, findings = _check(capsys, tmp_path / "dump.json", cluster)
    assert [f["id"] for f in findings if f["severity"] != "info"] == [] and code == 0


def test_with_node_local_ipam_the_same_addresses_are_errors(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Flannel hands out addresses from spec.podCIDR: the Calico dump's Pods would be misrouted there."""
    dump = json.loads(DUMP.read_text())
    dump["items"] = [i for i in dump["items"] if i["kind"] != "IPPool"]
    (tmp_path / "dump.json").write_text(json.dumps(dump))
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(CLUSTER % ("10.244.0.0/16", "flannel", "vxlan"))
    code, findings = _check(capsys, tmp_path / "dump.json", cluster)
    assert code == 1
    assert sorted(f["objects"][0] for f in findings if f["id"] == "NM-P2P-005") == [
        "Pod/kube-system/calico-kube-controllers-5b9b456c66-x8xk2", "Pod/kube-system/coredns-76f75df574-4xkz7",
        "Pod/shop/client", "Pod/shop/web-6c4f8-2b7xq",
        "Pod/shop/web-6c4f8-9kq4m"]


def test_a_pod_ip_outside_every_pool_is_still_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dump = json.loads(DUMP.read_text())
    stray = next(i for i in dump["items"] if i["metadata"]["name"] == "client")
    stray["status"]["podIP"] = "10.99.0.5"
    stray["status"]["podIPs"] = [{"ip": "10.99.0.5"}]
    (tmp_path / "dump.json").write_text(json.dumps(dump))
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(CLUSTER % ("192.168.0.0/16", "calico", "ipip"))
    code, findings = _check(capsys, tmp_path / "dump.json", cluster)
    errors = [f for f in findings if f["severity"] == "error"]
    assert code == 1 and [(f["id"], f["objects"][0]) for f in errors] == [("NM-P2P-005", "Pod/shop/client")]
    assert "outside every cluster pod range (192.168.0.0/16)" in errors[0]["message"]
