"""Gateway API objects (``gateway.networking.k8s.io``): the fields netmodel reads, as the API types define them.

Defaults are filled in by the reader as the API server's CRD defaults do (apis/v1 of
kubernetes-sigs/gateway-api): a listener's ``allowedRoutes.namespaces.from`` is ``Same``; a parentRef's group
is ``gateway.networking.k8s.io``, its kind ``Gateway`` and its namespace the route's; a backendRef's group is
the core group, its kind ``Service`` and its namespace the route's. How they combine is
:mod:`netmodel.compile.gateway`.
"""

from __future__ import annotations

from dataclasses import dataclass

from netmodel.errors import SourceSpan
from netmodel.model.labels import LabelSelector
from netmodel.model.objects import Namespaced, ObjectRef

GROUP = "gateway.networking.k8s.io"
# Labels that tie a Pod to one Gateway: the one GEP-1762 standardises for in-cluster deployments (Istio's
# automated deployment also sets its older istio.io/gateway-name), and Envoy Gateway's owner labels.
GATEWAY_NAME_LABELS = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name")
ENVOY_GATEWAY_NAME = "gateway.envoyproxy.io/owning-gateway-name"
ENVOY_GATEWAY_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")


@dataclass(frozen=True, slots=True)
class GatewayClass:
    """A GatewayClass: the controller that implements its Gateways."""

    name: str
    controller: str  # spec.controllerName
    source: SourceSpan

    @property
    def ref(self) -> ObjectRef:
        """``GatewayClass/NAME``."""
        return ObjectRef("GatewayClass", "", self.name)


@dataclass(frozen=True, slots=True)
class RouteGroupKind:
    """A route kind a listener allows, with its API group."""

    group: str
    kind: str


@dataclass(frozen=True, slots=True)
class Listener:
    """One listener: ``allowed_from`` is Same | All | Selector; ``allowed_kinds`` empty = the protocol's kinds."""

    name: str
    port: int
    protocol: str  # HTTP | HTTPS | TLS | TCP | UDP | a domain-prefixed implementation protocol
    hostname: str  # "" = any
    allowed_from: str
    selector: LabelSelector | None
    allowed_kinds: tuple[RouteGroupKind, ...]
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class Gateway(Namespaced):
    """A Gateway: its class, listeners and requested addresses."""

    namespace: str
    name: str
    class_name: str
    listeners: tuple[Listener, ...]
    addresses: tuple[str, ...]  # spec.addresses values (IP addresses or hostnames), as written
    source: SourceSpan

    @property
    def ref(self) -> ObjectRef:
        """``Gateway/NAMESPACE/NAME``."""
        return ObjectRef("Gateway", self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class ParentRef:
    """A route's parentRef: the Gateway (and listener section or port) it attaches to."""

    group: str
    kind: str
    namespace: str
    name: str
    section: str  # sectionName: a listener name, "" = every listener
    port: int | None
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class BackendRef:
    """A route's backendRef: the object (a Service) and port it sends to, with its weight."""

    group: str
    kind: str
    namespace: str
    name: str
    port: int | None
    weight: int
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class Route(Namespaced):
    """An HTTPRoute, GRPCRoute, TLSRoute, TCPRoute or UDPRoute: where it attaches and where it sends."""

    kind: str
    api_version: str
    namespace: str
    name: str
    parents: tuple[ParentRef, ...]
    hostnames: tuple[str, ...]  # HTTP, GRPC and TLS routes; empty = any
    backends: tuple[BackendRef, ...]
    source: SourceSpan

    @property
    def ref(self) -> ObjectRef:
        """``KIND/NAMESPACE/NAME``."""
        return ObjectRef(self.kind, self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class ReferenceGrant(Namespaced):
    """Lets objects of the ``from_`` (group, kind, namespace) entries refer to the ``to`` (group, kind, name)
    entries in the grant's own namespace (name "" = every object of that kind)."""

    namespace: str
    name: str
    from_: tuple[tuple[str, str, str], ...]
    to: tuple[tuple[str, str, str], ...]
    source: SourceSpan

    @property
    def ref(self) -> ObjectRef:
        """``ReferenceGrant/NAMESPACE/NAME``."""
        return ObjectRef("ReferenceGrant", self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class GatewayAPI:
    """Every Gateway API object of a topology."""

    classes: tuple[GatewayClass, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    routes: tuple[Route, ...] = ()
    grants: tuple[ReferenceGrant, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.classes or self.gateways or self.routes or self.grants)


__all__ = ["ENVOY_GATEWAY_NAME", "ENVOY_GATEWAY_NAMESPACE", "GATEWAY_NAME_LABELS", "GROUP", "ROUTE_KINDS", "BackendRef", "Gateway", "GatewayAPI", "GatewayClass", "Listener", "ParentRef",
           "ReferenceGrant", "Route", "RouteGroupKind"]
