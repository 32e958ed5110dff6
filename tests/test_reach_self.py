"""A Pod reaching itself: directly (loopback, never policed) and through its own Service (hairpin).

Reproducers from `netmodel emulate topologies/flannel-vxlan.yaml`: the kernel delivers blog/wordpress-0 →
itself on TCP 80 (over lo) although default-deny-ingress isolates it, and through the blog/wordpress Service
it reaches itself (kube-proxy SNATs the hairpin to the node) but not wordpress-1 (policy): partial.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.reach import CompiledCluster, Disposition, query, resolve
from netmodel.model.build import load_topology

ROOT = Path(__file__).resolve().parent.parent
FLANNEL = ROOT / "topologies" / "flannel-vxlan.yaml"
CONFORMANCE = ROOT / "tests" / "conformance"


@pytest.fixture(scope="module")
def flannel() -> CompiledCluster:
    return CompiledCluster(load_topology([str(FLANNEL)]))


@pytest.fixture(scope="module")
def deny_all() -> CompiledCluster:
    return CompiledCluster(load_topology([str(CONFORMANCE / "base.yaml"),
                                 str(CONFORMANCE / "deny-all-ingress-and-egress" / "policy.yaml")]))


def test_a_pod_reaching_its_own_address_is_loopback(deny_all: CompiledCluster) -> None:
    answer = query(deny_all, "x/a", "x/a", 80)
    assert answer.allowed and answer.disposition is Disposition.DELIVERED
    steps = answer.paths[0].steps
    assert [s.step.value for s in steps] == ["originate", "deliver"]
    assert "loopback" in steps[-1].detail and "NetworkPolicy does not apply" in steps[-1].detail
    assert not query(deny_all, "x/a", "x/b", 80).allowed  # another Pod is still policed


def test_loopback_to_a_port_nothing_listens_on_is_closed(deny_all: CompiledCluster) -> None:
    answer = query(deny_all, "x/a", "x/a", 82)
    assert answer.disposition is Disposition.PORT_CLOSED
    assert "loopback" in answer.paths[0].steps[-1].detail
    assert query(deny_all, "x/a", "x/a", "serve-81-udp", "UDP").allowed  # a named port resolves on the Pod


def test_the_matrix_lists_every_pod_reaching_itself(deny_all: CompiledCluster) -> None:
    by_pod = {c.describe() for c in connectivity(deny_all, "pod")}
    assert "x/a → x/a TCP 80-81" in by_pod
    assert not any(c.startswith("x/a → x/b") for c in by_pod)
    # A namespace of several Pods: each reaches only itself, so the connection is partial.
    assert "x → x TCP 80-81 (partial)" in {c.describe() for c in connectivity(deny_all, "namespace")}


def test_hairpin_through_the_pods_own_service_is_snatted_to_its_node(flannel: CompiledCluster) -> None:
    answer = query(flannel, "blog/wordpress-0", "service:blog/wordpress", 80)
    assert answer.verdict == "partial"  # itself yes (hairpin), wordpress-1 no (default-deny-ingress)
    itself = next(p for p in answer.paths if p.delivered)
    other = next(p for p in answer.paths if not p.delivered)
    assert itself.destination == other.destination  # both through the Service
    steps = [(s.step.value, s.detail) for s in itself.steps]
    snat = next(d for step, d in steps if step == "snat")
    assert "hairpin" in snat and "10.0.0.21" in snat  # w-1, where wordpress-0 runs
    ingress = next(d for step, d in steps if step == "policy-ingress")
    assert "own node" in ingress
    assert other.disposition is Disposition.DENIED_BY_POLICY


def test_hairpin_with_ciliums_kube_proxy_replacement_is_not_policed(tmp_path: Path) -> None:
    text = FLANNEL.read_text()
    assert "cni: {plugin: flannel, mode: vxlan, encryption: none}" in text
    cilium = tmp_path / "cilium.yaml"
    cilium.write_text(text.replace("cni: {plugin: flannel, mode: vxlan, encryption: none}",
                                   "cni: {plugin: cilium, mode: vxlan, encryption: none, kubeProxyReplacement: true}"))
    answer = query(CompiledCluster(load_topology([str(cilium)])), "blog/wordpress-0", "service:blog/wordpress", 80)
    itself = next(p for p in answer.paths if p.delivered)
    assert [s.step.value for s in itself.steps] == ["originate", "dnat", "deliver"]
    assert "Cilium" in itself.steps[-1].detail


def test_outside_samples_are_addresses_a_packet_can_come_from(flannel: CompiledCluster) -> None:
    internet = resolve(flannel, "network:internet", as_source=True).endpoints
    office = resolve(flannel, "network:office", as_source=True).endpoints
    addresses = [e.address for e in internet + office]
    assert addresses and all(a is not None for a in addresses)
    for a in addresses:
        assert not (a.is_unspecified or a.is_loopback or a.is_multicast or a.is_reserved), a
        assert str(a).split(".")[-1] not in ("0", "255"), a
    assert "198.51.100.1" in {str(a) for a in addresses}


def test_a_dual_stack_network_has_a_sample_per_family_and_uses_the_destinations() -> None:
    compiled = CompiledCluster(load_topology([str(ROOT / "topologies" / "dual-stack.yaml")]))
    office = {str(e.address) for e in resolve(compiled, "network:office", as_source=True).endpoints}
    assert office == {"198.51.100.1", "2001:db8:100::1"}
    node = compiled.topology.node_by_name["w-1"]
    v6 = next(ip for ip in node.ips if ip.version == 6)
    answer = query(compiled, "network:office", f"ip:{v6}", 10250)
    assert [p.source for p in answer.paths] == ["network:office (2001:db8:100::1)"]
