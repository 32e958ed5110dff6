"""What the model stage read from the documents, before any default is filled in.

:func:`netmodel.model.build.read_inventory` fills an :class:`Inventory`; :mod:`netmodel.model.references` checks
it, and :mod:`netmodel.model.materialize` and :mod:`netmodel.model.placement` turn it into a
:class:`~netmodel.model.topology.Topology`. It has its own module so those can read it without importing the
builder that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netmodel.load.document import Document
from netmodel.model.cilium import CiliumPolicy
from netmodel.model.gateway import Gateway, GatewayClass, ReferenceGrant, Route
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
    NetworkPolicy,
    Node,
    Pod,
    PodTemplate,
    Service,
    ServiceAccount,
    SkippedObject,
    Workload,
)
from netmodel.model.pod_makers import Rbac
from netmodel.sets import IPAddress

# The one node a layout without Node objects (and without Pods naming nodes) gets.
IMPLICIT_NODE = "node-1"


@dataclass
class Inventory:
    """Everything read from the documents, before defaults are filled in."""

    clusters: list[tuple[Cluster, Document]] = field(default_factory=list)
    namespaces: list[Namespace] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    pods: list[tuple[Pod, PodTemplate, Document]] = field(default_factory=list)
    workloads: list[tuple[Workload, Document]] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    endpoint_slices: list[EndpointSlice] = field(default_factory=list)
    ingresses: list[Ingress] = field(default_factory=list)
    ingress_classes: list[IngressClass] = field(default_factory=list)
    network_policies: list[NetworkPolicy] = field(default_factory=list)
    admin_policies: list[AdminNetworkPolicy] = field(default_factory=list)
    calico_policies: list[CalicoPolicy] = field(default_factory=list)
    calico_tiers: list[CalicoTier] = field(default_factory=list)
    calico_network_sets: list[CalicoNetworkSet] = field(default_factory=list)
    service_accounts: list[ServiceAccount] = field(default_factory=list)
    cilium_policies: list[CiliumPolicy] = field(default_factory=list)
    firewalls: list[tuple[Firewall, Document]] = field(default_factory=list)
    expectations: list[Expectations] = field(default_factory=list)
    ip_pools: list[IPPool] = field(default_factory=list)
    gateway_classes: list[GatewayClass] = field(default_factory=list)
    gateways: list[Gateway] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    reference_grants: list[ReferenceGrant] = field(default_factory=list)
    skipped: list[SkippedObject] = field(default_factory=list)
    rbac: Rbac = field(default_factory=Rbac)  # who may create Pods (model/pod_makers.py)
    status_ips: dict[tuple[str, str], tuple[IPAddress, ...]] = field(default_factory=dict)
