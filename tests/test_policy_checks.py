"""The NetworkPolicy checks fire on layouts with the defects and stay quiet on the healthy bundled layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from netmodel.analyze.policy.checks import POLICY_CHECKS
from netmodel.compile.context import CheckContext
from netmodel.load import parse_text
from netmodel.model.build import build_topology, load_topology

HERE = Path(__file__).parent
TOPOLOGIES = HERE.parent / "topologies"
HEALTHY = ["calico-ipip-ha.yaml", "flannel-vxlan.yaml", "cilium-kpr.yaml", "dual-stack.yaml", "plain-manifests"]


def run(topology) -> set[tuple[str, tuple[str, ...]]]:  # type: ignore[no-untyped-def]
    ctx = CheckContext(topology)
    return {(f.id, f.objects) for check in POLICY_CHECKS for f in check(ctx)}


@pytest.mark.parametrize("layout", HEALTHY)
def test_quiet_on_healthy_layouts(layout: str) -> None:
    assert run(load_topology([str(TOPOLOGIES / layout)])) == set()


def test_each_defect_is_reported_once_with_its_objects() -> None:
    found = run(load_topology([str(HERE / "policy_layouts" / "defects.yaml")]))
    assert found == {
        ("NM-SVC-008", ("NetworkPolicy/shop/default-deny-egress",)),
        ("NM-SVC-009", ("Service/shop/vault", "NetworkPolicy/shop/vault-locked")),
        # web admits only shop's Pods, and shop's default-deny egress keeps them from sending.
        ("NM-SVC-009", ("Service/shop/web", "NetworkPolicy/shop/web-from-shop")),
        ("NM-EXT-009", ("Ingress/shop/shop", "Service/shop/web", "NetworkPolicy/shop/web-from-shop")),
        ("NM-POL-001", ("NetworkPolicy/shop/typo",)),
        ("NM-POL-002", ("NetworkPolicy/shop/vault-locked",)),
        ("NM-POL-003", ("NetworkPolicy/shop/vault-locked",)),
        ("NM-POL-004", ("NetworkPolicy/shop/web-from-shop", "NetworkPolicy/shop/web-from-shop")),
    }


DNS_ALLOWED = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-but-dns, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
          podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: shop}
spec: {containers: [{name: c}]}
"""


def test_dns_check_without_a_dns_service_uses_the_kubeadm_convention() -> None:
    assert run(build_topology(parse_text(DNS_ALLOWED, "t.yaml"))) == set()
    udp_only = DNS_ALLOWED.replace(", {port: 53, protocol: TCP}", "")
    found = run(build_topology(parse_text(udp_only, "t.yaml")))
    assert found == {("NM-SVC-008", ("NetworkPolicy/shop/deny-but-dns",))}
