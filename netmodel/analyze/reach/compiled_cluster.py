"""Everything a path needs, compiled once per topology: addresses, firewalls, policies, Services, listeners.

What listens on a node (a packet to any other port of a node address ends as ``port-closed``):

* every node: the kubelet (TCP 10250 unless overridden);
* control-plane nodes: kube-apiserver, etcd (unless ``etcd.external``), kube-scheduler, kube-controller-manager
  — on every address, as the port matrix assumes (kubeadm binds the last two to localhost; a firewall is still
  what the checks look at);
* every node: each NodePort and healthCheckNodePort when kube-proxy runs or the CNI replaces it;
* the CNI's own node-to-node ports (:func:`netmodel.compile.cni.node_flows`);
* hostNetwork Pods' container ports and hostPorts of Pods on that node.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from netmodel.analyze.policy import PodClass, PolicyEngine
from netmodel.compile.addresses import AddressBook
from netmodel.compile.cni import node_flows, routes_pod_cidrs
from netmodel.compile.context import CheckContext
from netmodel.compile.firewalls import FirewallSet
from netmodel.compile.gateway import Gateways
from netmodel.compile.ingress import IngressControllers
from netmodel.compile.masquerade import Masquerade, masquerade_of
from netmodel.compile.pod_index import PodIndex
from netmodel.compile.services import (
    endpoint_pods,
    endpoints_key,
    proxies_services,
    selection_key,
    selects_pods,
    service_endpoints,
    target_port_on,
)
from netmodel.errors import SourceSpan
from netmodel.model.objects import NOWHERE, CniSpec, Node, Pod, Service, ServicePort
from netmodel.model.topology import Topology
from netmodel.sets import ALL_PORTS, AddressSet, IntervalSet, IPAddress
from netmodel.sets.ports import TCP


class ListenerKind(StrEnum):
    """What is bound on a node: a control-plane component, a Service's node port, the CNI, or a Pod."""

    KUBELET = "kubelet"
    APISERVER = "kube-apiserver"
    ETCD = "etcd"
    SCHEDULER = "kube-scheduler"
    CONTROLLER_MANAGER = "kube-controller-manager"
    NODEPORT = "nodeport"
    HEALTH_CHECK_NODEPORT = "health-check-nodeport"
    CNI = "cni"
    HOST_NETWORK_POD = "host-network-pod"
    HOST_PORT = "host-port"


@dataclass(frozen=True, slots=True)
class Listener:
    """Something bound to ``protocol``/``ports`` on a node's addresses."""

    kind: ListenerKind
    name: str
    protocol: int
    ports: IntervalSet
    source: SourceSpan = NOWHERE
    service: Service | None = None
    service_port: ServicePort | None = None
    pod: Pod | None = None
    target_port: int | None = None  # for a hostPort: the container port it forwards to


@dataclass(frozen=True, slots=True)
class Backend:
    """One endpoint of a Service: a Pod (selector or EndpointSlice target) or a bare address."""

    address: IPAddress
    pod: Pod | None
    node: Node | None
    port: int | None  # resolved targetPort; None when a named targetPort does not exist on this Pod
    source: SourceSpan


def tunnel(cni: CniSpec) -> tuple[int, int, str] | None:
    """The outer packet of encapsulated Pod traffic: (protocol, port, name); None for native routing.

    Encryption wraps the tunnel, so with WireGuard the wire carries WireGuard's port.
    """
    if routes_pod_cidrs(cni):
        return None
    flows = node_flows(cni)
    preferred = ("WireGuard",) if cni.encryption == "wireguard" or cni.mode == "wireguard" else ()
    for words in preferred + ("VXLAN", "Geneve", "IP-in-IP", "Weave data", "ESP"):
        for flow in flows:
            if words in flow.purpose and (flow.families == frozenset({4, 6}) or 4 in flow.families):
                port = 0 if flow.ports == ALL_PORTS else flow.ports.first()
                return flow.protocol, port, flow.purpose
    return None


class CompiledCluster:
    """The compiled topology a reachability question is answered against. Read-only once built."""

    def __init__(self, topology: Topology, addresses: AddressBook | None = None,
                 firewalls: FirewallSet | None = None, pod_index: PodIndex | None = None) -> None:
        self.topology = topology
        self.addresses = addresses or AddressBook(topology)
        self.firewalls = firewalls or FirewallSet(topology, self.addresses)
        self.policies = PolicyEngine(topology)
        self.pod_index = pod_index or PodIndex.of(topology)
        self.tunnel = tunnel(topology.cluster.cni)
        self._listeners: dict[str, tuple[Listener, ...]] = {}
        self._backends: dict[Hashable, tuple[Backend, ...]] = {}
        self._endpoint_classes: dict[Hashable, dict[tuple[int, int], PodClass]] = {}
        self._endpoint_groups: dict[Hashable, list[tuple[PodClass, Pod]]] = {}

    def class_of(self, pod: Pod) -> PodClass:
        """The policy class of ``pod``."""
        return self.policies.classes.class_of(pod)

    def node_of(self, pod: Pod) -> Node | None:
        """The node ``pod`` runs on (None when the input lacks it)."""
        return self.topology.node_by_name.get(pod.node_name)

    @cached_property
    def proxies_services(self) -> bool:
        """Whether Service addresses and NodePorts are translated (the compile rule)."""
        return proxies_services(self.topology.cluster)

    @cached_property
    def outside_networks(self) -> dict[str, AddressSet]:
        """The addresses of each outside network, by name: the Cluster's ``networks``, then each Calico network
        set (``globalnetworkset:NAME``, ``networkset:NS/NAME``: its nets outside the cluster's addresses), so
        that queries and the matrix show what Calico rules selecting the set do to its hosts."""
        networks = dict(self.addresses.networks)
        for network_set in self.topology.calico_network_sets:
            if network_set.nets and network_set.network_name not in networks:
                networks[network_set.network_name] = AddressSet.of_networks(network_set.nets) - self.addresses.cluster
        return networks

    @cached_property
    def gateways(self) -> Gateways:
        """The Gateway API objects compiled: route attachment, backends, each Gateway's Pods."""
        return Gateways(self.topology, self.pod_index)

    @cached_property
    def ingress_controllers(self) -> IngressControllers:
        """The ingress controllers: their Pods, the Services in front of them, which of them serves an Ingress."""
        return IngressControllers(self.topology, self.pod_index)

    @cached_property
    def masquerade(self) -> Masquerade:
        """Which Pod traffic leaves its node SNATed to the node (CNI outbound NAT, ip-masq-agent)."""
        return masquerade_of(self.topology, self.addresses)

    # -- Services ----------------------------------------------------------------------------------------------
    def backends(self, service: Service, port: ServicePort) -> tuple[Backend, ...]:
        """The endpoints of one Service port, with targetPort resolved per endpoint (by number or name)."""
        # Keyed by what the endpoints depend on, not by the Service: Services sharing a selector (and targetPort)
        # share one computation and one tuple.
        key = endpoints_key(service, port)
        found = self._backends.get(key)
        if found is not None:
            return found
        # What backs a Service is one rule, shared with emulate (netmodel.compile.services).
        node_at = self.topology.node_by_name.get
        found = self._backends[key] = tuple(
            Backend(ep.addresses[0], ep.pod, node_at(ep.pod.node_name if ep.pod else ep.node_name), ep.port,
                    ep.source)
            for ep in service_endpoints(self.topology, service, port, self.pod_index, self.addresses))
        return found

    def endpoint_classes(self, service: Service, port: ServicePort) -> Mapping[tuple[int, int], PodClass]:
        """The policy classes of the Pod endpoints of one Service port that have its targetPort, keyed by (class
        id, resolved targetPort), in endpoint order: what :meth:`backends` would give, class by class. For class-level
        questions (may anyone reach this Service port?) without one :class:`Backend` per Pod."""
        key = endpoints_key(service, port)
        found = self._endpoint_classes.get(key)
        if found is not None:
            return found
        found = self._endpoint_classes[key] = {}
        if selects_pods(service):
            # A targetPort resolves alike on Pods of one class with one container-port tuple (a workload's).
            for cls, pod in self._endpoint_pod_groups(service):
                number = target_port_on(pod, port)
                if number is not None:
                    found.setdefault((cls.id, number), cls)
        else:
            for b in self.backends(service, port):
                if b.pod is not None and b.port is not None:
                    cls = self.class_of(b.pod)
                    found.setdefault((cls.id, b.port), cls)
        return found

    def _endpoint_pod_groups(self, service: Service) -> list[tuple[PodClass, Pod]]:
        """A selector Service's endpoint Pods grouped by class and container-port tuple, in endpoint order: each
        group's class and first Pod. Found once per selector, for every port of every Service with it."""
        key = selection_key(service)
        found = self._endpoint_groups.get(key)
        if found is not None:
            return found
        classes = self.policies.classes
        class_at = classes.class_at
        pods = self.topology.pods
        groups: dict[tuple[int, int], tuple[PodClass, Pod]] = {}
        for i in endpoint_pods(self.topology, service, self.pod_index):
            pod = pods[i]
            group = (class_at[i], id(pod.alike))  # Pods alike declare the same ports (ports compare spans too)
            if group not in groups:
                groups[group] = (classes.classes[group[0]], pod)
        found = self._endpoint_groups[key] = list(groups.values())
        return found

    # -- what listens on a node --------------------------------------------------------------------------------
    def listeners(self, node: Node) -> tuple[Listener, ...]:
        """Everything bound on ``node``: control-plane components, node ports, the CNI and Pods."""
        if node.name not in self._listeners:
            self._listeners[node.name] = tuple(self._compute_listeners(node))
        return self._listeners[node.name]

    def _compute_listeners(self, node: Node) -> list[Listener]:
        cp = self.topology.cluster.control_plane
        one = IntervalSet.single
        out = [Listener(ListenerKind.KUBELET, "kubelet", TCP, one(cp.ports.kubelet), cp.source)]
        if node.is_control_plane:
            out.append(Listener(ListenerKind.APISERVER, "kube-apiserver", TCP, one(cp.ports.apiserver), cp.source))
            if not cp.etcd_external:
                out.append(Listener(ListenerKind.ETCD, "etcd", TCP, cp.ports.etcd, cp.source))
            out.append(Listener(ListenerKind.SCHEDULER, "kube-scheduler", TCP, one(cp.ports.scheduler), cp.source))
            out.append(Listener(ListenerKind.CONTROLLER_MANAGER, "kube-controller-manager", TCP,
                                one(cp.ports.controller_manager), cp.source))
        if self.proxies_services:
            for svc in self.topology.services:
                if svc.type not in ("NodePort", "LoadBalancer"):
                    continue
                for sp in svc.ports:
                    if sp.node_port is not None:
                        out.append(Listener(ListenerKind.NODEPORT, svc.qualified_name, sp.protocol,
                                            one(sp.node_port), sp.source, svc, sp))
                if svc.health_check_node_port is not None:
                    out.append(Listener(ListenerKind.HEALTH_CHECK_NODEPORT, svc.qualified_name, TCP,
                                        one(svc.health_check_node_port), svc.source, svc))
        for flow in node_flows(self.topology.cluster.cni):
            if flow.listens and flow.to == "all":
                out.append(Listener(ListenerKind.CNI, flow.purpose, flow.protocol, flow.ports, self.topology.cluster.cni.source))
        for pod in self.topology.pods_by_node.get(node.name, ()):
            for cp_ in pod.ports:
                if pod.host_network:
                    out.append(Listener(ListenerKind.HOST_NETWORK_POD, pod.qualified_name, cp_.protocol,
                                        one(cp_.port), cp_.source, pod=pod))
                elif cp_.host_port is not None:
                    out.append(Listener(ListenerKind.HOST_PORT, pod.qualified_name, cp_.protocol,
                                        one(cp_.host_port), cp_.source, pod=pod, target_port=cp_.port))
        return out

    def listeners_at(self, node: Node, protocol: int, port: int) -> list[Listener]:
        """What on ``node`` listens on ``port`` of ``protocol``."""
        return [lst for lst in self.listeners(node) if lst.protocol == protocol and port in lst.ports]


__all__ = ["Backend", "CompiledCluster", "Listener", "ListenerKind", "tunnel"]


def compiled_cluster_of(ctx: CheckContext) -> CompiledCluster:
    """The CompiledCluster of a check context: built once per context, on its address book, firewalls and Pod index."""
    return ctx.derived(_build_compiled_cluster)


def _build_compiled_cluster(ctx: CheckContext) -> CompiledCluster:
    return CompiledCluster(ctx.topology, ctx.addresses, ctx.firewalls, ctx.pod_index)
