"""The whole validated model of one cluster: the source of truth every later stage reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from netmodel.errors import SourceSpan
from netmodel.model.cilium import CiliumPolicy
from netmodel.model.gateway import GatewayAPI
from netmodel.model.labels import NO_LABELS, Labels, LabelSelector
from netmodel.model.objects import (
    AdminNetworkPolicy,
    CalicoNetworkSet,
    CalicoPolicy,
    CalicoTier,
    Cluster,
    EndpointSlice,
    Expectations,
    Firewall,
    Ingress,
    IngressClass,
    IPPool,
    Namespace,
    Namespaced,
    NetworkPolicy,
    Node,
    ObjectRef,
    Pod,
    Service,
    ServiceAccount,
    SkippedObject,
    Workload,
)
from netmodel.model.pod_makers import PodMaker, makers_in


@dataclass(frozen=True, slots=True)
class Note:
    """Something the model decided on the user's behalf (a default, a skipped kind); a finding later.

    ``severity`` is ``info`` for defaults and ``warning`` for input that is accepted but probably not what the
    author meant (an ipBlock CIDR with host bits set) or that netmodel does not evaluate.
    """

    id: str
    message: str
    objects: tuple[str, ...]
    sources: tuple[SourceSpan, ...]
    severity: str = "info"


@dataclass(frozen=True, slots=True)
class Unscheduled(Namespaced):
    """A Pod that fits no node: it stays Pending without an address and is in no answer (query, matrix, checks)."""

    namespace: str
    name: str
    reason: str  # worded as kube-scheduler's FailedScheduling event: "0/3 nodes are available: ..."
    # Its labels: a selector matching only Pending Pods is told so, not called wrong (NM-SVC-001, NM-POL-001).
    labels: Labels = NO_LABELS


@dataclass(frozen=True)
class Topology:
    """The validated model of one cluster: every object read, defaults filled in, Pods placed and
    addressed."""

    cluster: Cluster
    namespaces: tuple[Namespace, ...]
    nodes: tuple[Node, ...]
    workloads: tuple[Workload, ...]
    pods: tuple[Pod, ...]
    services: tuple[Service, ...]
    endpoint_slices: tuple[EndpointSlice, ...]
    ingresses: tuple[Ingress, ...]
    ingress_classes: tuple[IngressClass, ...]
    network_policies: tuple[NetworkPolicy, ...]
    firewalls: tuple[Firewall, ...]
    expectations: tuple[Expectations, ...]
    skipped: tuple[SkippedObject, ...]
    notes: tuple[Note, ...]
    unscheduled: tuple[Unscheduled, ...] = ()
    finished: frozenset[tuple[str, str]] = frozenset()  # (namespace, name) of Pods left out as Succeeded/Failed
    ip_pools: tuple[IPPool, ...] = ()  # Calico IPPools: Calico IPAM draws Pod addresses from them
    gateway_api: GatewayAPI = field(default_factory=GatewayAPI)  # GatewayClasses, Gateways, routes and ReferenceGrants
    # AdminNetworkPolicies and the BaselineAdminNetworkPolicy, in input order (the engine orders them).
    admin_policies: tuple[AdminNetworkPolicy, ...] = ()
    # Calico NetworkPolicies and GlobalNetworkPolicies netmodel evaluates, and the Tiers the input defines, in
    # input order (the engine orders them; analyze/policy/calico.py).
    calico_policies: tuple[CalicoPolicy, ...] = ()
    calico_tiers: tuple[CalicoTier, ...] = ()
    # Calico NetworkSets and GlobalNetworkSets (outside networks rule selectors match), in input order.
    calico_network_sets: tuple[CalicoNetworkSet, ...] = ()
    # ServiceAccounts the input holds (Calico's service-account selectors match their labels).
    service_accounts: tuple[ServiceAccount, ...] = ()
    # CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies, in input order.
    cilium_policies: tuple[CiliumPolicy, ...] = ()
    # Workloads whose service account RBAC lets create Pods, which the input then does not show (pod_makers.py).
    pod_makers: tuple[PodMaker, ...] = ()

    # Indexes, built on first use. The tuples above are the truth; these only speed up look-ups, and are
    # read-only views so that no caller can make them disagree with the tuples.
    @cached_property
    def node_by_name(self) -> Mapping[str, Node]:
        """Each Node by name."""
        return MappingProxyType({n.name: n for n in self.nodes})

    @cached_property
    def namespace_by_name(self) -> Mapping[str, Namespace]:
        """Each Namespace by name."""
        return MappingProxyType({n.name: n for n in self.namespaces})

    @cached_property
    def pod_by_key(self) -> Mapping[tuple[str, str], Pod]:
        """Each Pod by (namespace, name)."""
        return MappingProxyType({(p.namespace, p.name): p for p in self.pods})

    @cached_property
    def pod_position(self) -> Mapping[tuple[str, str], int]:
        """Position of each Pod in :attr:`pods` by (namespace, name); Pod sets elsewhere are bitsets over these
        positions (not to be confused with :class:`netmodel.compile.pod_index.PodIndex`, a label index)."""
        return MappingProxyType({(p.namespace, p.name): i for i, p in enumerate(self.pods)})

    @cached_property
    def service_account_by_key(self) -> Mapping[tuple[str, str], ServiceAccount]:
        """Each ServiceAccount of the input by (namespace, name)."""
        return MappingProxyType({(a.namespace, a.name): a for a in self.service_accounts})

    @cached_property
    def service_by_key(self) -> Mapping[tuple[str, str], Service]:
        """Each Service by (namespace, name)."""
        return MappingProxyType({(s.namespace, s.name): s for s in self.services})

    @cached_property
    def workload_by_key(self) -> Mapping[tuple[str, str, str], Workload]:
        """Each workload by (kind in lower case, namespace, name)."""
        return MappingProxyType({(w.kind.lower(), w.namespace, w.name): w for w in self.workloads})

    @cached_property
    def pods_by_owner(self) -> Mapping[ObjectRef, tuple[Pod, ...]]:
        """The Pods of each workload, by :attr:`Pod.owner` — the one ownership rule, decided once when the
        model is built (:func:`netmodel.model.placement.owner_of`)."""
        out: dict[ObjectRef, list[Pod]] = {}
        for p in self.pods:
            if p.owner is not None:
                out.setdefault(p.owner, []).append(p)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    def workload_pods(self, kind: str, namespace: str, name: str) -> tuple[Pod, ...]:
        """Every Pod the workload ``kind namespace/name`` owns (no Pod of another workload, whatever its name)."""
        return self.pods_by_owner.get(ObjectRef(kind, namespace, name), ())

    @cached_property
    def pods_by_node(self) -> Mapping[str, tuple[Pod, ...]]:
        """The Pods on each node, by node name."""
        out: dict[str, list[Pod]] = {}
        for p in self.pods:
            out.setdefault(p.node_name, []).append(p)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    @cached_property
    def unseen_pod_owners(self) -> Mapping[str, tuple[SkippedObject, ...]]:
        """Custom resources whose operators create Pods the input lacks (NM-INPUT-016), by namespace."""
        out: dict[str, list[SkippedObject]] = {}
        for s in self.skipped:
            if s.category == "creates-pods":
                out.setdefault(s.namespace, []).append(s)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    def pending_selected(self, namespace: str, selector: LabelSelector) -> tuple[Unscheduled, ...]:
        """The Pods of ``namespace`` whose labels ``selector`` matches but that fit no node (Pending, in no answer):
        for a finding about a selector that matches no Pod, which then must not blame the selector."""
        return tuple(u for u in self.unscheduled if u.namespace == namespace and selector.matches(u.labels))

    def service_maker(self, namespace: str, name: str) -> SkippedObject | None:
        """The custom resource of ``namespace`` whose operator makes Pods (NM-INPUT-016) and is likely to make the
        Service ``name`` in front of them too, which the input then lacks: operators name those Services after
        the resource (``NAME`` or ``NAME-…``: ECK's ``kibana-kb-http``, KubeRay's ``rayllm-head-svc``, Strimzi's
        ``my-cluster-kafka-bootstrap``, CloudNativePG's ``cluster-example-rw``). None when no such resource."""
        for owner in self.unseen_pod_owners.get(namespace, ()):
            if name == owner.name or name.startswith(owner.name + "-"):
                return owner
        return None

    def unseen_pods_hint(self, namespace: str) -> str:
        """For a finding about selectors that match no Pod in ``namespace``: the custom resources there whose Pods
        are not in the layout, the likely reason (empty when there are none)."""
        owners = self.unseen_pod_owners.get(namespace, ())
        if owners:
            named = ", ".join(s.label for s in owners[:3]) + (f" and {len(owners) - 3} more" if len(owners) > 3
                                                               else "")
            return f" (namespace {namespace} has {named}, whose Pods are not in the layout: see NM-INPUT-016)"
        makers = makers_in(self.pod_makers, namespace)
        if not makers:
            return ""
        workloads = list(dict.fromkeys(m.workload for m in makers))
        named = ", ".join(workloads[:3]) + (f" and {len(workloads) - 3} more" if len(workloads) > 3 else "")
        roles = ", ".join(dict.fromkeys(m.role for m in makers))
        return (f" (its Pods may be made at run time: {named} may create Pods in namespace {namespace} ({roles}), "
                "and the layout does not show those)")

    @cached_property
    def control_plane_nodes(self) -> tuple[Node, ...]:
        """The control-plane nodes, in input order."""
        return tuple(n for n in self.nodes if n.is_control_plane)

    @cached_property
    def worker_nodes(self) -> tuple[Node, ...]:
        """The nodes that are not control-plane nodes, in input order."""
        return tuple(n for n in self.nodes if not n.is_control_plane)
