"""Requirement 1, loopback: ports inside one network namespace (a Pod's, or a node's for host ports).

* NM-LOOP-001 — two containers of one Pod declare the same containerPort/protocol (they share ``localhost``).
* NM-LOOP-002 — two Pods on one node claim the same host port: a ``hostPort``, or any containerPort of a
  ``hostNetwork`` Pod. Different, specific ``hostIP`` values do not clash; an empty hostIP means every address.
* NM-LOOP-003 — a host port a node component already binds on that node: kubelet on every node; on
  control-plane nodes the API server, etcd (unless external), scheduler and controller-manager; the CNI's
  own listening ports on every node. A Pod that *is* the component (kubeadm's static Pods label
  ``component: kube-apiserver`` …, CNI agents ``k8s-app: calico-node`` …) is not a clash.
* NM-LOOP-004 (warning) — a host port inside the NodePort range, which kube-proxy may hand to a Service.

Pods of one workload share a template, so findings name the workload once, with the nodes it happens on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netmodel.analyze.checks.common import unique, unique_spans
from netmodel.analyze.findings import Finding, Severity
from netmodel.compile.cni import node_flows
from netmodel.compile.context import CheckContext, describe_nodes
from netmodel.model.objects import (
    Container,
    ContainerPort,
    Pod,
    claimed_host_ports,
    host_ips_overlap,
)
from netmodel.sets import ALL_PORTS, IntervalSet, format_ports, protocol_label
from netmodel.sets.ports import TCP

REQUIREMENT = "loopback"

# Label values by which a Pod says it is a node component (kubeadm static Pods, CNI agents).
COMPONENT_LABEL_KEYS = ("component", "k8s-app", "app", "app.kubernetes.io/name", "name")
CNI_AGENT_NAMES = frozenset({"calico-node", "calico-typha", "cilium", "cilium-agent", "flannel", "kube-flannel",
                             "kube-flannel-ds", "antrea-agent", "weave-net", "weave"})


@dataclass(frozen=True, slots=True)
class HostPortClaim:
    """A Pod taking a port on its node's own addresses: a hostPort, or any port of a hostNetwork Pod."""

    pod: Pod
    port: int
    protocol: int
    host_ip: str
    declared: ContainerPort

    @property
    def claimant(self) -> str:
        """What to name: the workload that made the Pod, else the Pod."""
        return str(self.pod.owner) if self.pod.owner else str(self.pod.ref)


@dataclass(frozen=True, slots=True)
class NodeComponent:
    """A component listening on every node (or only control-plane nodes), and the labels of its own Pods."""

    name: str
    ports: IntervalSet
    protocol: int
    control_plane_only: bool
    pod_names: frozenset[str]  # label values that identify the component's own Pods


def host_port_claims(pod: Pod) -> list[HostPortClaim]:
    """Every port ``pod`` takes on its node: each container port of a hostNetwork Pod, else each hostPort."""
    return [HostPortClaim(pod, port, cp.protocol, cp.host_ip, cp) for port, cp in claimed_host_ports(pod.containers,
                                                                                          pod.host_network)]


@dataclass(frozen=True, slots=True)
class HostClaims:
    """Every host port claim of the layout, found once for NM-LOOP-002..004."""

    in_pod_order: tuple[HostPortClaim, ...]
    by_node: dict[str, list[HostPortClaim]]  # each node's claims, in Pod order


def host_claims(ctx: CheckContext) -> HostClaims:
    """The layout's host port claims (computed once per context)."""
    return ctx.derived(_host_claims)


def _host_claims(ctx: CheckContext) -> HostClaims:
    # Pods alike (Pod.alike: a workload's, the input's read alike) claim the same ports: found once per value, not
    # per Pod (150,000 Pods, a few thousand templates, almost none claiming a host port).
    templates: dict[int, tuple[tuple[Container, ...], list[tuple[int, ContainerPort]]]] = {}
    claims: list[HostPortClaim] = []
    by_node: dict[str, list[HostPortClaim]] = {}
    before: Pod | None = None
    template: tuple[tuple[Container, ...], list[tuple[int, ContainerPort]]] = ((), [])
    for pod in ctx.topology.pods:
        # A workload's Pods come in a run: the template of the Pod before is theirs too.
        if before is None or pod.alike is not before.alike:
            found = templates.get(id(pod.alike))
            if found is None:  # the Pods keep their alike value, so its id cannot be reused meanwhile
                found = templates[id(pod.alike)] = (pod.containers,
                                                    claimed_host_ports(pod.containers, pod.host_network))
            template, before = found, pod
        if template[1]:
            # The claims are located at this Pod's own container ports (those of Pods alike are elsewhere).
            ports = template[1] if pod.containers is template[0] else claimed_host_ports(pod.containers,
                                                                                         pod.host_network)
            mine = [HostPortClaim(pod, port, cp.protocol, cp.host_ip, cp) for port, cp in ports]
            claims += mine
            by_node.setdefault(pod.node_name, []).extend(mine)
    return HostClaims(tuple(claims), by_node)


def _pod_label(pod: Pod, limit_owner: bool = True) -> str:
    return str(pod.owner) if pod.owner and limit_owner else str(pod.ref)


def check_container_port_clashes(ctx: CheckContext) -> Iterator[Finding]:
    """NM-LOOP-001: one Pod's containers declare one port twice."""
    if not any(_declares_twice(c) for c in {id(p.alike): p.containers for p in ctx.topology.pods}.values()):
        return  # no Pod template declares a port twice (Pods of a workload share one: thousands, not 150,000)
    seen: dict[str, list[Pod]] = {}
    for pod in ctx.topology.pods:
        seen.setdefault(_pod_label(pod), []).append(pod)
    for name, pods in seen.items():
        pod = pods[0]
        by_port: dict[tuple[int, int], list[tuple[str, ContainerPort]]] = {}
        for container in pod.containers:
            for cp in container.ports:
                by_port.setdefault((cp.port, cp.protocol), []).append((container.name, cp))
        for (port, protocol), users in sorted(by_port.items()):
            if len(users) < 2:
                continue
            containers = unique(c for c, _ in users)
            who = (f"containers {' and '.join(containers)} both declare" if len(containers) > 1
                   else f"container {containers[0]} declares twice")
            pods_text = f"Pod {pod.qualified_name}" + (
                f" (and {len(pods) - 1} more Pod(s) of {pod.owner})" if len(pods) > 1 and pod.owner else "")
            yield Finding(
                "NM-LOOP-001", Severity.ERROR, REQUIREMENT,
                f"{pods_text}: {who} containerPort {port}/{protocol_label(protocol)}; containers of a Pod share "
                f"one network namespace, so only one of them can bind it. Fix: give one container another port.",
                (name,) if name == str(pod.ref) else (name, str(pod.ref)),
                unique_spans([pod.source] + [cp.source for _, cp in users]))


def _declares_twice(containers: tuple[Container, ...]) -> bool:
    ports = [(cp.port, cp.protocol) for c in containers for cp in c.ports]
    return len(set(ports)) < len(ports)


def check_host_port_clashes(ctx: CheckContext) -> Iterator[Finding]:
    """NM-LOOP-002: two Pods on one node claim one host port."""
    groups: dict[tuple[int, int, tuple[str, ...]], tuple[list[str], list[HostPortClaim]]] = {}
    claimed = host_claims(ctx).by_node
    for node in ctx.topology.nodes:
        by_port: dict[tuple[int, int], list[HostPortClaim]] = {}
        for claim in claimed.get(node.name, ()):
            by_port.setdefault((claim.port, claim.protocol), []).append(claim)
        for (port, protocol), claims in by_port.items():
            clashing = [c for c in claims if any(o.pod is not c.pod and host_ips_overlap(o.host_ip, c.host_ip)
                                                 for o in claims)]
            if len({id(c.pod) for c in clashing}) < 2:
                continue
            key = (port, protocol, tuple(sorted({c.claimant for c in clashing})))
            groups.setdefault(key, ([], clashing))[0].append(node.name)
    for (port, protocol, claimants), (nodes, claims) in sorted(groups.items()):
        pods = unique(c.pod.qualified_name for c in claims)
        yield Finding(
            "NM-LOOP-002", Severity.ERROR, REQUIREMENT,
            f"host port {port}/{protocol_label(protocol)} is claimed by {len(pods)} Pods on node "
            f"{describe_nodes(nodes)} ({', '.join(pods)}); a node has one network namespace for host ports, so "
            f"only one can bind it. Fix: change one hostPort, or keep the Pods apart (anti-affinity).",
            claimants + tuple(f"Node/{n}" for n in nodes[:3]),
            unique_spans(c.declared.source for c in claims))


def node_components(ctx: CheckContext) -> list[NodeComponent]:
    """The node components whose ports a hostPort or hostNetwork Pod must not take (kubelet, control plane,
    CNI)."""
    cp = ctx.topology.cluster.control_plane
    ports = cp.ports
    out = [
        NodeComponent("kubelet", IntervalSet.single(ports.kubelet), TCP, False, frozenset({"kubelet"})),
        NodeComponent("kube-apiserver", IntervalSet.single(ports.apiserver), TCP, True,
                      frozenset({"kube-apiserver"})),
        NodeComponent("kube-scheduler", IntervalSet.single(ports.scheduler), TCP, True,
                      frozenset({"kube-scheduler"})),
        NodeComponent("kube-controller-manager", IntervalSet.single(ports.controller_manager), TCP, True,
                      frozenset({"kube-controller-manager"})),
    ]
    if not cp.etcd_external:
        out.append(NodeComponent("etcd", ports.etcd, TCP, True, frozenset({"etcd"})))
    for flow in node_flows(ctx.topology.cluster.cni):
        if flow.listens and flow.to == "all" and flow.ports != ALL_PORTS:
            out.append(NodeComponent(flow.purpose, flow.ports, flow.protocol, False, CNI_AGENT_NAMES))
    return out


def _is_component(pod: Pod, component: NodeComponent) -> bool:
    return any(pod.labels.get(k) in component.pod_names for k in COMPONENT_LABEL_KEYS)


def check_node_component_clashes(ctx: CheckContext) -> Iterator[Finding]:
    """NM-LOOP-003: a host port that a node component binds on that node."""
    components = node_components(ctx)
    groups: dict[tuple[str, int, int, str], tuple[list[str], HostPortClaim]] = {}
    claimed = host_claims(ctx).by_node
    for node in ctx.topology.nodes:
        for claim in claimed.get(node.name, ()):
            for comp in components:
                if comp.control_plane_only and not node.is_control_plane:
                    continue
                if claim.protocol != comp.protocol or claim.port not in comp.ports or _is_component(claim.pod, comp):
                    continue
                key = (comp.name, claim.port, claim.protocol, claim.claimant)
                groups.setdefault(key, ([], claim))[0].append(node.name)
    for (comp_name, port, protocol, claimant), (nodes, claim) in sorted(groups.items()):
        comp = next(c for c in components if c.name == comp_name)
        yield Finding(
            "NM-LOOP-003", Severity.ERROR, REQUIREMENT,
            f"{claimant} binds host port {port}/{protocol_label(protocol)} on node {describe_nodes(nodes)}, "
            f"which {comp_name} already uses ({protocol_label(comp.protocol)} {format_ports(comp.ports)}); one of "
            f"them fails to start. Fix: change the hostPort/containerPort, or keep the Pod off those nodes.",
            (claimant,) + tuple(f"Node/{n}" for n in nodes[:3]),
            unique_spans([claim.declared.source, claim.pod.source]))


def check_host_ports_in_node_port_range(ctx: CheckContext) -> Iterator[Finding]:
    """NM-LOOP-004: a host port inside the NodePort range."""
    node_ports = ctx.topology.cluster.node_port_range
    groups: dict[tuple[str, int, int], tuple[list[str], HostPortClaim]] = {}
    for claim in host_claims(ctx).in_pod_order:
        if claim.port in node_ports:
            key = (claim.claimant, claim.port, claim.protocol)
            groups.setdefault(key, ([], claim))[0].append(claim.pod.node_name)
    for (claimant, port, protocol), (nodes, claim) in sorted(groups.items()):
        yield Finding(
            "NM-LOOP-004", Severity.WARNING, REQUIREMENT,
            f"{claimant} binds host port {port}/{protocol_label(protocol)} (node {describe_nodes(unique(nodes))}), "
            f"inside the NodePort range {format_ports(node_ports)}; a Service given nodePort {port} would clash "
            f"with it. Fix: use a host port outside the range.",
            (claimant,), unique_spans([claim.declared.source, claim.pod.source]))
