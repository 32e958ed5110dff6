"""The compiled state of one layout: the topology and what was compiled from it, computed once and shared.

Every check, the port matrix and the path compiled read a :class:`CheckContext`; it never changes the topology,
its cached helpers only index it. What the later stages build from it (the port matrix in
:mod:`netmodel.analyze.portmatrix`, the path compiled in :mod:`netmodel.analyze.reach.compiled_cluster`) they keep with
:meth:`CheckContext.derived`, so this module imports nothing from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar, cast

from netmodel.compile.addresses import AddressBook
from netmodel.compile.firewalls import FirewallSet
from netmodel.compile.gateway import Gateways
from netmodel.compile.ingress import IngressControllers, IngressEntry
from netmodel.compile.masquerade import Masquerade, masquerade_of
from netmodel.compile.pod_index import PodIndex
from netmodel.model.objects import Firewall, Node, Pod, Service
from netmodel.model.topology import Topology
from netmodel.sets import AddressSet, IPAddress, IPNetwork

if TYPE_CHECKING:  # networkx is imported when a graph is built (the diagrams), not by every check
    import networkx as nx

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NodeClass:
    """Nodes selected by exactly the same firewalls: one firewall evaluation answers for all of them."""

    firewalls: tuple[Firewall, ...]
    nodes: tuple[Node, ...]

    @property
    def representative(self) -> Node:
        """The class's first node: every node of the class is judged as it is."""
        return self.nodes[0]

    @property
    def filtered(self) -> bool:
        """Whether any Firewall selects the class's nodes."""
        return bool(self.firewalls)

    def describe(self) -> str:
        """The class's nodes, as findings name them."""
        return describe_node_list(self.nodes)


def describe_nodes(names: Sequence[str], limit: int = 3) -> str:
    """``w-1, w-2, w-3`` or ``w-1, w-2, w-3 and 4997 more``."""
    return _shown(names[:limit], len(names), limit)


def describe_node_list(nodes: Sequence[Node], limit: int = 3) -> str:
    """:func:`describe_nodes` of the nodes' names, reading only the names it shows (a finding's nodes are often
    thousands, and a check can word a thousand findings)."""
    return _shown([n.name for n in nodes[:limit]], len(nodes), limit)


def _shown(first: Sequence[str], total: int, limit: int) -> str:
    return ", ".join(first) + (f" and {total - limit} more" if total > limit else "")


class CheckContext:
    """The topology plus its compiled forms (address book, firewalls, Pod index, graph), built on first use."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.addresses = AddressBook(topology)
        self.firewalls = FirewallSet(topology, self.addresses)
        self._derived: dict[Callable[[CheckContext], object], object] = {}

    def derived(self, compute: Callable[[CheckContext], T]) -> T:
        """``compute(self)``, computed on first use and kept for the life of this context.

        How a later stage caches what it builds from the compiled state without this stage importing it:
        ``port_matrix(ctx)`` and ``compiled_cluster_of(ctx)`` are free functions that compute once per context.
        """
        if compute not in self._derived:
            self._derived[compute] = compute(self)
        return cast(T, self._derived[compute])

    @cached_property
    def pod_index(self) -> PodIndex:
        """The label index of the topology's Pods."""
        return PodIndex.of(self.topology)

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The compiled graph of the topology (what the diagrams draw)."""
        from netmodel.compile.graph import build_graph

        return build_graph(self.topology, self.pod_index)

    @cached_property
    def node_classes(self) -> tuple[NodeClass, ...]:
        """Nodes grouped by the exact set of firewalls selecting them, in node order."""
        groups: dict[tuple[object, ...], list[Node]] = {}
        firewalls: dict[tuple[object, ...], tuple[Firewall, ...]] = {}
        for node in self.topology.nodes:
            selecting = self.firewalls.firewalls_of(node)
            key = self.firewalls.class_key(node)
            groups.setdefault(key, []).append(node)
            firewalls[key] = selecting
        return tuple(NodeClass(firewalls[k], tuple(v)) for k, v in groups.items())

    @cached_property
    def node_class_of(self) -> dict[str, NodeClass]:
        """The firewall class of each node, by node name."""
        return {n.name: c for c in self.node_classes for n in c.nodes}

    def underlay_addresses(self, node: Node) -> AddressSet:
        """The addresses a node uses towards other nodes: its InternalIPs, else every address it has."""
        return self._underlay[node.name]

    @cached_property
    def _underlay(self) -> dict[str, AddressSet]:
        return {n.name: AddressSet.of_networks(n.internal_ips or n.ips) for n in self.topology.nodes}

    def pod_networks_on(self, node: Node) -> tuple[IPNetwork | IPAddress, ...]:
        """Where a node's Pods take their addresses: its pod CIDRs, else the addresses of the Pods it runs."""
        return node.pod_cidrs or self._pod_ips_by_node.get(node.name, ())

    @cached_property
    def _pod_ips_by_node(self) -> dict[str, tuple[IPAddress, ...]]:
        """Pod addresses of the nodes that have no pod CIDR (Pods are read once, only when such a node exists)."""
        without = {n.name for n in self.topology.nodes if not n.pod_cidrs}
        out: dict[str, list[IPAddress]] = {}
        if without:
            for pod in self.topology.pods:
                if pod.node_name in without and not pod.host_network:
                    out.setdefault(pod.node_name, []).extend(pod.ips)
        return {name: tuple(ips) for name, ips in out.items()}

    def local_addresses(self, node: Node) -> AddressSet:
        """Traffic from these never crosses the node's firewall: its own addresses and its Pods' range."""
        return self._local_addresses[node.name]

    @cached_property
    def _local_addresses(self) -> dict[str, AddressSet]:
        return {n.name: AddressSet.of_networks(n.ips) | AddressSet.of_networks(n.pod_cidrs)
                for n in self.topology.nodes}

    def selected(self, service: Service) -> list[Pod]:
        """The Pods a Service selects, in input order."""
        return [self.topology.pods[i] for i in sorted(self.pod_index.select(service.namespace, service.selector))]

    @cached_property
    def ingress_controllers(self) -> IngressControllers:
        """The ingress controllers found in the topology and the Ingresses they serve."""
        return IngressControllers(self.topology, self.pod_index)

    @cached_property
    def gateways(self) -> Gateways:
        """Gateway API routes, their attachment, backends and each Gateway's Pods (netmodel/compile/gateway.py)."""
        return Gateways(self.topology, self.pod_index)

    @property
    def ingress_entries(self) -> tuple[IngressEntry, ...]:
        """Where outside traffic enters the ingress controllers."""
        return self.ingress_controllers.entries

    @cached_property
    def masquerade(self) -> Masquerade:
        """Which Pod traffic leaves its node SNATed to the node (netmodel/compile/masquerade.py)."""
        return masquerade_of(self.topology, self.addresses)

    @property
    def has_cluster(self) -> bool:
        """Whether the input holds a Cluster object (not only defaults)."""
        return not self.topology.cluster.implicit
