"""The documented way to audit a running cluster (README, docs/input.md "Live clusters"):

    kubectl get nodes,namespaces,pods,services,endpointslices,ingresses,ingressclasses,networkpolicies -A -o json \\
        | netmodel check -

run through the real entry point (`python -m netmodel`, the dump on standard input) on the dumps of
tests/corpus/live-dumps (Cilium, flannel) and tests/corpus/calico-dump (Calico), and the notes on what such a dump
cannot tell: the CNI and its mode (NM-INPUT-035), the outside networks (NM-INPUT-036), host firewalls
(NM-PORT-007); Pods of every phase (NM-INPUT-007, -010, -037).
"""

from __future__ import annotations

import functools
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
DUMPS = {"cilium": CORPUS / "live-dumps" / "cilium.json", "flannel": CORPUS / "live-dumps" / "flannel.json",
         "calico": CORPUS / "calico-dump" / "cluster.json"}
# The resource types of the documented command; the Calico dump also holds workloads and an IPPool, left out
# here so each dump is exactly what the command prints.
DOCUMENTED_KINDS = {"Node", "Namespace", "Pod", "Service", "EndpointSlice", "Ingress", "IngressClass", "NetworkPolicy"}


def _dump_text(cni: str) -> str:
    data = json.loads(DUMPS[cni].read_text(encoding="utf-8"))
    data["items"] = [item for item in data["items"] if item["kind"] in DOCUMENTED_KINDS]
    return json.dumps(data, indent=4)


def _netmodel(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "netmodel", *argv], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False, timeout=300)


@functools.cache
def _check(cni: str) -> tuple[int, dict[str, Any]]:
    run = _netmodel("check", "-", "--format", "json", stdin=_dump_text(cni))
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout)


def _findings(cni: str, rule: str) -> list[dict[str, Any]]:
    return [f for f in _check(cni)[1]["findings"] if f["id"] == rule]


@pytest.mark.parametrize("cni", sorted(DUMPS))
def test_a_healthy_cluster_checks_clean_from_standard_input(cni: str) -> None:
    code, report = _check(cni)
    assert not [f for f in report["findings"] if f["severity"] != "info"], report["findings"]
    assert code == 0


@pytest.mark.parametrize(("cni", "plugin", "native", "usual", "agent"), [
    ("cilium", "cilium", "native", "vxlan", "Pod/kube-system/cilium-fz2wq"),
    ("flannel", "flannel", "host-gw", "vxlan", "Pod/kube-flannel/kube-flannel-ds-b7x2d"),
    ("calico", "calico", "bgp", "ipip", "Pod/kube-system/calico-node-4fjlw")])
def test_the_cni_is_read_from_its_node_agent_and_the_note_gives_the_cluster_line(cni: str, plugin: str, native: str,
                                                                                 usual: str, agent: str) -> None:
    """The plugin is the agent's; its mode stays native routing (as for an unnamed CNI) until a Cluster states
    it, and the note offers the plugin's install default."""
    (note,) = _findings(cni, "NM-INPUT-035")
    assert note["severity"] == "info"
    assert f"the CNI is {plugin}" in note["message"]
    assert f"native routing is assumed (mode {native})" in note["message"]
    assert f"`cni: {{plugin: {plugin}, mode: {usual}}}`" in note["message"]
    assert agent in note["objects"]
    (defaults,) = _findings(cni, "NM-INPUT-002")
    assert f"CNI {plugin} in mode {native}" in defaults["message"]


@pytest.mark.parametrize("cni", sorted(DUMPS))
def test_what_a_dump_cannot_tell_is_said_with_the_line_that_tells_it(cni: str) -> None:
    (networks,) = _findings(cni, "NM-INPUT-036")
    assert "`networks: [{name: internet" in networks["message"]
    (firewalls,) = _findings(cni, "NM-PORT-007")
    assert "Add a Firewall" in firewalls["message"]


def test_the_cluster_lines_the_notes_give_are_valid_input(tmp_path: Path) -> None:
    """The snippets are meant to be pasted: a Cluster built from them reads, and the notes go away."""
    lines = []
    for rule in ("NM-INPUT-035", "NM-INPUT-036"):
        (note,) = _findings("cilium", rule)
        lines.append("  " + note["message"].rsplit("`", 2)[-2])
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text("apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: live}\nspec:\n"
                       '  podCIDRs: ["10.0.0.0/8"]\n' + "\n".join(lines) + "\n", encoding="utf-8")
    dump = tmp_path / "dump.json"
    dump.write_text(_dump_text("cilium"), encoding="utf-8")
    run = _netmodel("check", str(cluster), str(dump), "--format", "json")
    assert run.returncode in (0, 1), run.stderr
    ids = {f["id"] for f in json.loads(run.stdout)["findings"]}
    assert not ids & {"NM-INPUT-002", "NM-INPUT-035", "NM-INPUT-036"}


def test_pods_of_every_phase() -> None:
    """Running and Unknown Pods are in the model; Succeeded and Failed ones are not (NM-INPUT-010, the evicted
    Pod's address now belongs to a running one); a Pending Pod the scheduler refused keeps the scheduler's
    message (NM-INPUT-007), one still creating its sandbox has no address yet (NM-INPUT-037)."""
    (finished,) = _findings("cilium", "NM-INPUT-010")
    assert "shop/cart-cleanup-29409120-7nq4x" in finished["message"]
    assert "shop/frontend-5f6d8b7c4-9zb6m" in finished["message"]
    (refused,) = _findings("cilium", "NM-INPUT-007")
    assert refused["message"].startswith("1 Pod(s)")
    assert "the cluster's scheduler: 0/3 nodes are available" in refused["message"]
    assert "Insufficient memory" in refused["message"]
    (starting,) = _findings("cilium", "NM-INPUT-037")
    assert "shop/frontend-5f6d8b7c4-c4wzh" in starting["message"]
    assert not _findings("cilium", "NM-INPUT-004")  # no address made up for the Pod still starting


def _query(cni: str, source: str, destination: str, port: int) -> dict[str, Any]:
    run = _netmodel("query", "-", "--from", source, "--to", destination, "--port", str(port), "--format", "json",
                    stdin=_dump_text(cni))
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


# The documented command prints no workloads, so Pods are named one by one.
@pytest.mark.parametrize(("cni", "source", "destination", "port", "verdict"), [
    ("cilium", "pod:shop/frontend-5f6d8b7c4-8kq2n", "service:shop/cart", 7070, "allowed"),
    ("cilium", "pod:shop/frontend-5f6d8b7c4-8kq2n", "pod:shop/redis-0", 6379, "denied"),
    ("cilium", "pod:shop/cart-7c9b6d5f8-2tzpw", "pod:shop/redis-0", 6379, "allowed"),
    # the evicted frontend Pod's address, reused by the running one on worker-2
    ("cilium", "ip:172.18.0.21", "ip:10.0.2.140", 8080, "allowed"),
    ("cilium", "pod:shop/cart-7c9b6d5f8-f3x8d", "service:kube-system/kube-dns", 53, "allowed"),  # phase Unknown
    ("flannel", "pod:blog/wordpress-84b6f9c7d-2hk9s", "pod:blog/mysql-0", 3306, "allowed"),
    ("flannel", "pod:ingress-nginx/ingress-nginx-controller-6d9c8b5f7-zp4lk", "pod:blog/mysql-0", 3306, "denied"),
    ("flannel", "pod:ingress-nginx/ingress-nginx-controller-6d9c8b5f7-zp4lk", "service:blog/wordpress", 80, "allowed"),
])
def test_answers_on_the_dumps(cni: str, source: str, destination: str, port: int, verdict: str) -> None:
    answer = _query(cni, source, destination, port)
    assert answer["verdict"] == verdict, answer["disposition"]


def test_a_dump_without_a_cni_agent_says_so() -> None:
    """No node agent Pod of a known CNI: an unnamed CNI with native routing, and the note says which line
    names it."""
    data = json.loads(_dump_text("flannel"))
    data["items"] = [i for i in data["items"] if i["metadata"].get("namespace") != "kube-flannel"]
    run = _netmodel("check", "-", "--format", "json", stdin=json.dumps(data))
    assert run.returncode == 0, run.stderr
    (note,) = [f for f in json.loads(run.stdout)["findings"] if f["id"] == "NM-INPUT-035"]
    assert "does not name the CNI and no node agent Pod shows it" in note["message"]
    assert "`cni: {plugin: calico, mode: vxlan}`" in note["message"]


def test_calico_and_flannel_agents_together_are_canal() -> None:
    data = json.loads(_dump_text("flannel"))
    agent = next(i for i in data["items"] if i["metadata"]["name"] == "kube-flannel-ds-b7x2d")
    calico = json.loads(json.dumps(agent))
    calico["metadata"].update(name="calico-node-8x2kd", namespace="kube-system",
                              labels={"k8s-app": "calico-node"})
    data["items"].append(calico)
    run = _netmodel("check", "-", "--format", "json", stdin=json.dumps(data))
    assert run.returncode == 0, run.stderr
    (note,) = [f for f in json.loads(run.stdout)["findings"] if f["id"] == "NM-INPUT-035"]
    assert "the CNI is flannel" in note["message"] and "Canal" in note["message"]


def test_the_dumps_are_what_their_generator_writes(tmp_path: Path) -> None:
    """tests/corpus/live-dumps/*.json are regenerated by generate.py, not edited by hand."""
    generator = runpy.run_path(str(CORPUS / "live-dumps" / "generate.py"), run_name="generator")
    for name in ("cilium", "flannel"):
        generator[name]().write(tmp_path / f"{name}.json")
        assert (tmp_path / f"{name}.json").read_text(encoding="utf-8") == DUMPS[name].read_text(encoding="utf-8")


@pytest.mark.parametrize(("names", "verdict"), [(["default"], "allowed"), (["web"], "denied")])
def test_calico_service_accounts_are_read_from_the_pods_of_a_dump(names: list[str], verdict: str) -> None:
    """A dump's Pods carry spec.serviceAccountName: Calico's serviceAccountSelector (the coredns Pods run as
    coredns) and serviceAccounts (shop's Pods run as default) match them. The dump holds no ServiceAccount
    objects; selecting accounts by name needs none (NM-INPUT-043 only when a selector tests their labels)."""
    data = json.loads(_dump_text("calico"))
    data["items"].append({
        "apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": "dns-clients"},
        "spec": {"serviceAccountSelector": "projectcalico.org/name == 'coredns'", "types": ["Ingress"],
                 "ingress": [{"action": "Allow", "source": {"serviceAccounts": {"names": names},
                                                            "namespaceSelector": "projectcalico.org/name == 'shop'"}}]}})
    run = _netmodel("query", "-", "--from", "pod:shop/api-84c7f9d5b7-g7kfx", "--to",
                    "pod:kube-system/coredns-7c65d6cfc9-bs2x9", "--port", "53", "--protocol", "UDP", "--format",
                    "json", stdin=json.dumps(data))
    assert run.returncode in (0, 1), run.stderr
    assert json.loads(run.stdout)["verdict"] == verdict
    run = _netmodel("check", "-", "--format", "json", stdin=json.dumps(data))
    assert not [f for f in json.loads(run.stdout)["findings"] if f["id"] == "NM-INPUT-043"]
    by_label = json.dumps(data).replace("projectcalico.org/name == 'coredns'", "app == 'dns'")
    run = _netmodel("check", "-", "--format", "json", stdin=by_label)
    notes = [f for f in json.loads(run.stdout)["findings"] if f["id"] == "NM-INPUT-043"]
    assert len(notes) == 1 and "kube-system/coredns" in notes[0]["message"], notes
