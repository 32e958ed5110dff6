"""The path engine explains denied flows through a Service, a NodePort and a firewall, naming every blocker."""

from __future__ import annotations

from pathlib import Path

import pytest

from netmodel.analyze.reach import CompiledCluster, Disposition, query
from netmodel.errors import UsageError
from netmodel.model.build import load_topology

LAYOUT = str(Path(__file__).parent / "reach" / "blocked.yaml")


@pytest.fixture(scope="module")
def compiled() -> CompiledCluster:
    return CompiledCluster(load_topology([LAYOUT]))


def blockers(answer) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(d.kind, d.name, d.rule) for d in answer.blocked_by}


def test_through_a_service_every_blocker_is_named_with_its_line(compiled: CompiledCluster) -> None:
    answer = query(compiled, "web/client", "service:shop/api", 80)
    assert not answer.allowed and answer.disposition is Disposition.DENIED_BY_FIREWALL
    assert blockers(answer) == {
        ("Firewall", "workers", "ingress rule deny-vxlan"),
        ("NetworkPolicy", "shop/api-from-shop", "selects pod:shop/api-0 for ingress; no ingress rule matches"),
    }
    lines = {d.kind: d.source.line for d in answer.blocked_by if d.source is not None}
    text = Path(LAYOUT).read_text().splitlines()
    assert lines == {"Firewall": next(i for i, t in enumerate(text, 1) if "name: deny-vxlan" in t),
                     "NetworkPolicy": next(i for i, t in enumerate(text, 1) if "kind: NetworkPolicy" in t) - 1}
    steps = [s.step.value for s in answer.paths[0].steps]
    # The request's outer packet w-1 → w-2, then the replies' (a new outer packet w-2 → w-1, allowed); the packet
    # is dropped, so the trace does not end with a "deliver" step.
    assert steps == ["originate", "dnat", "policy-egress", "route", "encap", "firewall-egress",
                     "firewall-ingress", "encap", "firewall-egress", "firewall-ingress", "policy-ingress"]
    dnat = answer.paths[0].steps[1]
    assert "10.244.2.5:8080" in dnat.detail  # targetPort "http" resolved on the endpoint Pod


def test_through_a_node_port_from_outside(compiled: CompiledCluster) -> None:
    # Enters w-1 (no NodePort rule), is SNATed to w-1, crosses to the endpoint on w-2 (VXLAN from w-1 is
    # dropped) and meets the policy, which sees w-1's address.
    answer = query(compiled, "network:office", "node:w-1", 30080)
    assert not answer.allowed
    assert blockers(answer) == {
        ("Firewall", "workers", "ingress defaultAction deny"),
        ("Firewall", "workers", "ingress rule deny-vxlan"),
        ("NetworkPolicy", "shop/api-from-shop", "selects pod:shop/api-0 for ingress; no ingress rule matches"),
    }
    steps = [s.step.value for s in answer.paths[0].steps]
    # Cluster: kube-proxy DNATs in PREROUTING and masquerades to the node in POSTROUTING.
    assert steps[:4] == ["originate", "firewall-ingress", "dnat", "snat"]
    assert "10.0.0.21" in answer.paths[0].steps[3].detail


def test_node_listeners_and_closed_ports(compiled: CompiledCluster) -> None:
    assert query(compiled, "node:cp-1", "node:w-1", 10250).allowed  # kubelet, from the cluster network
    closed = query(compiled, "node:cp-1", "node:w-1", 9999)
    assert closed.disposition is Disposition.PORT_CLOSED
    assert query(compiled, "node:w-1", "node:cp-1", 2379).allowed  # etcd on control-plane nodes, no firewall


def test_service_without_the_port_and_pod_without_the_port(compiled: CompiledCluster) -> None:
    assert query(compiled, "shop/api-0", "service:shop/api", 81).disposition is Disposition.NO_LISTENER
    assert query(compiled, "web/client", "shop/api-0", 9090).disposition is Disposition.DENIED_BY_FIREWALL
    assert query(compiled, "node:w-2", "shop/api-0", 9090).disposition is Disposition.PORT_CLOSED


def test_from_the_pods_own_node_policy_does_not_apply(compiled: CompiledCluster) -> None:
    answer = query(compiled, "node:w-2", "shop/api-0", 8080)
    assert answer.allowed


def test_named_port_in_a_query(compiled: CompiledCluster) -> None:
    assert query(compiled, "shop/api-0", "service:shop/api", "web").allowed


def test_unknown_reference_suggests_close_names(compiled: CompiledCluster) -> None:
    with pytest.raises(UsageError) as err:
        query(compiled, "shop/api-1", "node:w-1", 80)
    assert "shop/api-0" in err.value.problems[0].hint
    with pytest.raises(UsageError):
        query(compiled, "node:w-9", "node:w-1", 80)


def test_a_node_port_of_another_node_is_judged_by_the_pods_egress_as_the_node_address() -> None:
    """kube-proxy translates a NodePort only where the node address is local (``--dst-type LOCAL``): a Pod's
    packet to another node's NodePort leaves its node addressed to that node, so the Pod's egress policy judges
    the node address; to its own node's NodePort the backend is judged. A CNI replacing kube-proxy translates at
    the socket on the sending node (tests/emulate/test_emulate.py has the kernel's word on the first two)."""
    from netmodel.analyze.reach import CompiledCluster, query
    from netmodel.load import parse_text
    from netmodel.model.build import build_topology
    from tests.emulate.test_emulate import NODE_PORT_ELSEWHERE

    def verdict(text: str, to: str) -> bool:
        return query(CompiledCluster(build_topology(parse_text(text, "np.yaml"))), "default/a", to, 30080,
                     "TCP").allowed

    assert not verdict(NODE_PORT_ELSEWHERE, "node:n2")
    assert verdict(NODE_PORT_ELSEWHERE, "node:n1")
    replaced = NODE_PORT_ELSEWHERE.replace("cni: {plugin: calico, mode: vxlan}",
                                           "cni: {plugin: cilium, mode: vxlan, kubeProxyReplacement: true}\n"
                                           "  kubeProxy: {mode: none}")
    assert build_topology(parse_text(replaced, "np.yaml")).cluster.cni.kube_proxy_replacement
    assert verdict(replaced, "node:n2")
