"""Gateway API entry paths: which routes attach to which listeners, where they send, and which Pods carry them.

The rules are those of the Gateway API (the doc comments of ``apis/v1`` in kubernetes-sigs/gateway-api and its
conformance tests; docs/reachability.md, "Gateway API", cites each):

* **Attachment.** A route's ``parentRef`` (kind Gateway) names a Gateway, optionally one listener
  (``sectionName``) or a port. The route attaches to a listener when the listener's ``allowedRoutes`` admits the
  route's namespace (``Same`` — the Gateway's namespace, the default; ``All``; ``Selector`` — namespaces whose
  labels match), its kind (``allowedRoutes.kinds``, else the kinds the listener's protocol carries: HTTP and
  HTTPS carry HTTPRoute and GRPCRoute, TLS carries TLSRoute and TCPRoute, TCP carries TCPRoute, UDP carries
  UDPRoute), and, for HTTP, GRPC and TLS routes on a listener with a ``hostname``, one of the route's
  ``hostnames`` intersects the listener's (``*.example.com`` matches any name below example.com). A parentRef
  that matches no listener leaves the route unattached there; it carries no traffic through that Gateway.
* **Backends.** A ``backendRef`` names a Service (the default kind, core group) and one of its ports. A
  reference into another namespace is valid only when a ReferenceGrant in the backend's namespace admits the
  route's group, kind and namespace ``from`` and the Service (by name, or every Service) ``to``.
* **Data plane.** A Gateway is served by the controller its GatewayClass names (``spec.controllerName``). The
  Pods that receive its traffic and connect to the backends are found as each implementation makes them
  (:data:`IMPLEMENTATIONS`): Pods labelled ``gateway.networking.k8s.io/gateway-name: <gateway>`` in the
  Gateway's namespace (the label GEP-1762 standardises; Istio, Contour's provisioner, NGINX Gateway CompiledCluster 2,
  kgateway), Envoy Gateway's proxies (``gateway.envoyproxy.io/owning-gateway-name`` and ``-namespace``, in any
  namespace), and shared proxies recognised by image as for Ingress (Traefik, Kong, Contour's Envoy, NGINX
  Gateway CompiledCluster 1's ``nginx`` container). Of those, the Pods a NodePort or LoadBalancer Service selects are the
  ones outside clients enter (all of them when no Service does).

Route kinds other than those five, parentRefs to a Service (the mesh profile) and backendRefs to kinds other than
Service are read but not followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from netmodel.compile.ingress import identify_pod
from netmodel.compile.pod_index import PodIndex
from netmodel.model.gateway import (
    ENVOY_GATEWAY_NAME,
    ENVOY_GATEWAY_NAMESPACE,
    GATEWAY_NAME_LABELS,
    GROUP,
    BackendRef,
    Gateway,
    GatewayClass,
    Listener,
    ParentRef,
    Route,
)
from netmodel.model.objects import Service, ServicePort
from netmodel.model.topology import Topology

GATEWAY_NAME_LABEL = GATEWAY_NAME_LABELS[0]

# The route kinds each core listener protocol carries (a listener's allowedRoutes.kinds narrows them).
PROTOCOL_KINDS: dict[str, frozenset[str]] = {
    "HTTP": frozenset({"HTTPRoute", "GRPCRoute"}),
    "HTTPS": frozenset({"HTTPRoute", "GRPCRoute"}),
    "TLS": frozenset({"TLSRoute", "TCPRoute"}),
    "TCP": frozenset({"TCPRoute"}),
    "UDP": frozenset({"UDPRoute"}),
}
HOSTNAME_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute"})

# controllerName → (implementation, the ingress-controller identity of its shared proxy Pods, or "").
IMPLEMENTATIONS: dict[str, tuple[str, str]] = {
    "istio.io/gateway-controller": ("Istio", ""),
    "gateway.envoyproxy.io/gatewayclass-controller": ("Envoy Gateway", ""),
    "projectcontour.io/gateway-controller": ("Contour", "contour"),
    "gateway.nginx.org/nginx-gateway-controller": ("NGINX Gateway CompiledCluster", "nginx-gateway-compiled"),
    "traefik.io/gateway-controller": ("Traefik", "traefik"),
    "konghq.com/kic-gateway-controller": ("Kong", "kong"),
    "kgateway.dev/kgateway": ("kgateway", ""),
}
# Recognised, but their data plane is not Pods the layout can hold.
NOT_PODS: dict[str, str] = {
    "io.cilium/gateway-controller": "Cilium's gateway is the Envoy inside the Cilium agent on every node, "
                                    "entered through a Service without selector",
    "networking.gke.io/gateway": "GKE's gateway is a Google Cloud load balancer outside the cluster",
}


def hostnames_intersect(listener: str, route: tuple[str, ...]) -> bool:
    """Whether a route with ``route`` hostnames may attach to a listener with hostname ``listener``.

    >>> hostnames_intersect("*.example.com", ("foo.example.com",)), hostnames_intersect("a.com", ("b.com",))
    (True, False)
    >>> hostnames_intersect("foo.example.com", ("*.example.com",)), hostnames_intersect("", ("x.io",))
    (True, True)
    >>> hostnames_intersect("*.example.com", ("example.com",))
    False
    """
    if not listener or not route:
        return True
    return any(_match(listener, h) or _match(h, listener) for h in route)


def _match(pattern: str, name: str) -> bool:
    if pattern.lower() == name.lower():
        return True
    if pattern.startswith("*."):
        suffix = pattern[1:].lower()  # ".example.com"
        return name.lower().endswith(suffix) and len(name) > len(suffix)
    return False


def host_matches(pattern: str, host: str) -> bool:
    """Whether a request for ``host`` matches a listener or route hostname ``pattern`` ("" matches any host).

    >>> host_matches("*.bar.com", "multiple.prefixes.bar.com"), host_matches("*.bar.com", "bar.com")
    (True, False)
    """
    return not pattern or _match(pattern, host)


def hostname_rank(pattern: str) -> tuple[int, int]:
    """How specific a listener hostname is, higher first: exact names, then wildcards by the number of dots to
    the right of the ``*``, then no hostname (``Gateway.spec.listeners`` doc, "Listeners that are distinct only
    by Hostname").

    >>> sorted(["", "*.example.com", "foo.example.com", "*.foo.example.com"], key=hostname_rank, reverse=True)
    ['foo.example.com', '*.foo.example.com', '*.example.com', '']
    """
    if not pattern:
        return (0, 0)
    if pattern.startswith("*."):
        return (1, pattern.count("."))
    return (2, pattern.count("."))


def listeners_for(gateway: Gateway, port: int, host: str = "") -> tuple[Listener, ...]:
    """The listeners of ``gateway`` a request on ``port`` for ``host`` reaches (every listener on the port when
    no host is given). Of the listeners whose hostname matches the host, only the most specific serve it
    (exact before wildcard before none: conformance tests HTTPRouteListenerHostnameMatching and
    GatewayHTTPListenerIsolation); a TCP or UDP listener has no hostname to match."""
    on_port = [li for li in gateway.listeners if li.port == port]
    if not host:
        return tuple(on_port)
    matching = [li for li in on_port if li.protocol in ("TCP", "UDP") or host_matches(li.hostname, host)]
    if not matching:
        return ()
    best = max(hostname_rank(li.hostname) for li in matching)
    return tuple(li for li in matching if hostname_rank(li.hostname) == best)


def route_serves(route: Route, listener: Listener, host: str) -> bool:
    """Whether ``route``, attached to ``listener``, may receive a request for ``host`` ("" = any host): one of
    its hostnames that intersects the listener's matches the host, or it has none (``HTTPRoute.spec.hostnames``:
    hostnames that do not match the listener's are ignored). Which of several serving routes answers a given
    path is L7 (path, header and method matches); every one of them is reachable with some request."""
    if not host or route.kind not in HOSTNAME_KINDS or listener.protocol in ("TCP", "UDP"):
        return True
    names = [h for h in route.hostnames if hostnames_intersect(listener.hostname, (h,))]
    return not route.hostnames or any(host_matches(h, host) for h in names)


@dataclass(frozen=True, slots=True)
class Attachment:
    """One parentRef of one route: the listeners it attached to, or why none: ``problem`` in words, ``causes``
    as codes (no-gateway | no-section | no-port | namespace | kind | hostname; one per refusing listener)."""

    route: Route
    parent: ParentRef
    gateway: Gateway | None
    listeners: tuple[Listener, ...]
    problem: str = ""
    causes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BackendVerdict:
    """One backendRef of one route: the Service port it resolves to, or why it does not (``problem``)."""

    route: Route
    backend: BackendRef
    service: Service | None
    port: ServicePort | None
    problem: str = ""  # missing-service | missing-port | not-granted | ""


@dataclass(frozen=True, slots=True)
class DataPlane:
    """Who carries one Gateway's traffic: its class, the implementation and the Pods (positions in
    ``topology.pods``), or why none is known (``problem``: missing-class | not-pods | unrecognised | no-pods;
    with missing-class, the Pods labelled for the Gateway are still listed)."""

    gateway: Gateway
    gateway_class: GatewayClass | None
    implementation: str
    pods: tuple[int, ...]
    problem: str = ""
    detail: str = ""


class Gateways:
    """The Gateway API objects of a topology, compiled once: attachments, backends and data planes."""

    def __init__(self, topology: Topology, index: PodIndex) -> None:
        self.topology = topology
        self.index = index
        api = topology.gateway_api
        self.api = api
        self.gateway_by_key = {(g.namespace, g.name): g for g in api.gateways}
        self.class_by_name = {c.name: c for c in api.classes}

    # -- attachment ----------------------------------------------------------------------------------------------
    @cached_property
    def attachments(self) -> tuple[Attachment, ...]:
        """Every route's attachment to each Gateway it names, with the listeners that accept it."""
        out = []
        for route in self.api.routes:
            for parent in route.parents:
                if parent.group != GROUP or parent.kind != "Gateway":
                    continue  # a Service parent (the mesh profile) or another implementation's kind
                out.append(self._attach(route, parent))
        return tuple(out)

    def _attach(self, route: Route, parent: ParentRef) -> Attachment:
        gateway = self.gateway_by_key.get((parent.namespace, parent.name))
        if gateway is None:
            known = sorted(name for ns, name in self.gateway_by_key if ns == parent.namespace)
            return Attachment(route, parent, None, (), f"there is no Gateway {parent.namespace}/{parent.name} "
                              f"(Gateways there: {', '.join(known[:8]) or 'none'})", ("no-gateway",))
        candidates = list(gateway.listeners)
        if parent.section:
            candidates = [li for li in candidates if li.name == parent.section]
            if not candidates:
                names = ", ".join(li.name for li in gateway.listeners)
                return Attachment(route, parent, gateway, (), f"Gateway {gateway.qualified_name} has no "
                                  f"listener named {parent.section!r} (listeners: {names})", ("no-section",))
        if parent.port is not None:
            candidates = [li for li in candidates if li.port == parent.port]
            if not candidates:
                return Attachment(route, parent, gateway, (), f"Gateway {gateway.qualified_name} has no "
                                  f"listener{' ' + repr(parent.section) if parent.section else ''} on port "
                                  f"{parent.port}", ("no-port",))
        accepted, reasons, causes = [], [], []
        for listener in candidates:
            cause, why = self._refusal(gateway, listener, route)
            if why:
                reasons.append(f"listener {listener.name!r} ({listener.protocol} {listener.port}) {why}")
                causes.append(cause)
            else:
                accepted.append(listener)
        if accepted:
            return Attachment(route, parent, gateway, tuple(accepted))
        return Attachment(route, parent, gateway, (), "; ".join(reasons), tuple(causes))

    def _refusal(self, gateway: Gateway, listener: Listener, route: Route) -> tuple[str, str]:
        """Why ``listener`` does not admit ``route``: (cause, words), ("", "") when it does."""
        if listener.allowed_from == "Same" and route.namespace != gateway.namespace:
            return "namespace", (f"admits routes of namespace {gateway.namespace} only "
                                 f"(allowedRoutes.namespaces.from: Same), not {route.namespace}")
        if listener.allowed_from == "Selector" and listener.selector is not None:
            ns = self.topology.namespace_by_name.get(route.namespace)
            labels = ns.labels if ns is not None else {}
            if not listener.selector.matches(labels):
                shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none"
                return "namespace", (f"admits routes of namespaces matching {listener.selector} only, and "
                                     f"namespace {route.namespace} (labels: {shown}) does not match")
        kinds = PROTOCOL_KINDS.get(listener.protocol)
        if listener.allowed_kinds:
            allowed = frozenset(k.kind for k in listener.allowed_kinds if k.group == GROUP)
            kinds = allowed & kinds if kinds is not None else allowed
        if kinds is not None and route.kind not in kinds:
            carried = ", ".join(sorted(kinds)) or "no route kind"
            return "kind", f"does not carry {route.kind} (it carries {carried})"
        if route.kind in HOSTNAME_KINDS and listener.protocol in ("HTTP", "HTTPS", "TLS") and \
                not hostnames_intersect(listener.hostname, route.hostnames):
            return "hostname", (f"has hostname {listener.hostname!r}, which none of the route's hostnames "
                                f"({', '.join(route.hostnames)}) matches")
        return "", ""

    @cached_property
    def attached(self) -> tuple[Attachment, ...]:
        """The attachments some listener accepts."""
        return tuple(a for a in self.attachments if a.listeners)

    def serving(self, gateway: Gateway, port: int, host: str = "") -> list[tuple[Attachment, Listener]]:
        """The (attachment, listener) pairs that receive a request on ``port`` for ``host`` ("" = any host):
        the listeners :func:`listeners_for` picks and the routes attached to them that serve the host."""
        chosen = {li.name for li in listeners_for(gateway, port, host)}
        return [(a, li) for a in self.attached if a.gateway is gateway for li in a.listeners
                if li.name in chosen and route_serves(a.route, li, host)]

    # -- backends ------------------------------------------------------------------------------------------------
    @cached_property
    def backends(self) -> tuple[BackendVerdict, ...]:
        """The verdict on every Service backendRef of every route."""
        return tuple(self._backend(route, b) for route in self.api.routes for b in route.backends
                     if b.group == "" and b.kind == "Service")

    def _backend(self, route: Route, ref: BackendRef) -> BackendVerdict:
        if ref.namespace != route.namespace and not self.granted(route, ref):
            return BackendVerdict(route, ref, None, None, "not-granted")
        svc = self.topology.service_by_key.get((ref.namespace, ref.name))
        if svc is None:
            return BackendVerdict(route, ref, None, None, "missing-service")
        port = next((p for p in svc.ports if p.port == ref.port), None)
        if port is None:
            return BackendVerdict(route, ref, svc, None, "missing-port")
        return BackendVerdict(route, ref, svc, port)

    def granted(self, route: Route, ref: BackendRef) -> bool:
        """A ReferenceGrant in the backend's namespace admits this route's reference."""
        for grant in self.api.grants:
            if grant.namespace != ref.namespace:
                continue
            if (GROUP, route.kind, route.namespace) not in grant.from_:
                continue
            if any(g == ref.group and k == ref.kind and (not n or n == ref.name) for g, k, n in grant.to):
                return True
        return False

    # -- data plane ----------------------------------------------------------------------------------------------
    @cached_property
    def _labelled(self) -> dict[tuple[str, str], list[int]]:
        """Pods by the (namespace, gateway) their labels tie them to, in one pass over the Pods."""
        out: dict[tuple[str, str], list[int]] = {}
        for position, pod in enumerate(self.topology.pods):
            labels = pod.labels
            name = next((labels[k] for k in GATEWAY_NAME_LABELS if labels.get(k)), "")
            if name:
                out.setdefault((pod.namespace, name), []).append(position)
            owner = labels.get(ENVOY_GATEWAY_NAME)
            if owner and labels.get(ENVOY_GATEWAY_NAMESPACE):
                out.setdefault((labels[ENVOY_GATEWAY_NAMESPACE], owner), []).append(position)
        return out

    @cached_property
    def _by_image(self) -> dict[str, list[int]]:
        """Shared proxy Pods by implementation, recognised by image as the ingress controllers are."""
        out: dict[str, list[int]] = {}
        seen: dict[int, str] = {}
        for position, pod in enumerate(self.topology.pods):
            key = id(pod.alike)  # Pods alike run the same images
            if key not in seen:
                identity = identify_pod(pod)
                seen[key] = identity.implementation if identity is not None else ""
                if not seen[key] and any("nginx-gateway-compiled" in c.image for c in pod.containers):
                    seen[key] = "nginx-gateway-compiled"
            if seen[key]:
                out.setdefault(seen[key], []).append(position)
        return out

    @cached_property
    def _entered(self) -> frozenset[int]:
        """Pods a NodePort or LoadBalancer Service selects."""
        return frozenset(i for svc in self.topology.services if svc.type in ("NodePort", "LoadBalancer")
                         for i in self.index.select(svc.namespace, svc.selector))

    def data_plane(self, gateway: Gateway) -> DataPlane:
        """The Pods that carry ``gateway``'s traffic, and why when none is found."""
        cls = self.class_by_name.get(gateway.class_name)
        pods = list(self._labelled.get((gateway.namespace, gateway.name), ()))
        if cls is None:
            # Pods labelled for the Gateway still receive its traffic (their Service is still an entry); no
            # controller configures them, which NM-EXT-014 reports.
            return DataPlane(gateway, None, "", tuple(sorted(pods)), "missing-class")
        implementation, shared = IMPLEMENTATIONS.get(cls.controller, ("", ""))
        if not pods and shared:
            pods = self._by_image.get(shared, [])
            entered = [p for p in pods if p in self._entered]
            pods = entered or pods
        if pods:
            return DataPlane(gateway, cls, implementation or cls.controller, tuple(sorted(pods)))
        if cls.controller in NOT_PODS:
            return DataPlane(gateway, cls, cls.controller, (), "not-pods", NOT_PODS[cls.controller])
        if not implementation:
            return DataPlane(gateway, cls, "", (), "unrecognised")
        return DataPlane(gateway, cls, implementation, (), "no-pods")

    @cached_property
    def data_planes(self) -> dict[tuple[str, str], DataPlane]:
        """The data plane of every Gateway, by (namespace, name)."""
        return {(g.namespace, g.name): self.data_plane(g) for g in self.api.gateways}

    def entry_services(self, gateway: Gateway) -> tuple[Service, ...]:
        """NodePort/LoadBalancer Services selecting the gateway's data-plane Pods on a listener port."""
        return self._entry_services.get((gateway.namespace, gateway.name), ())

    @cached_property
    def _entry_services(self) -> dict[tuple[str, str], tuple[Service, ...]]:
        out: dict[tuple[str, str], tuple[Service, ...]] = {}
        if not self.api.gateways:
            return out
        outside = [svc for svc in self.topology.services if svc.type in ("NodePort", "LoadBalancer")]
        for gateway in self.api.gateways:
            plane = self.data_planes[(gateway.namespace, gateway.name)]
            pods = set(plane.pods)
            ports = {li.port for li in gateway.listeners}
            out[(gateway.namespace, gateway.name)] = tuple(
                svc for svc in outside if pods and any(p.port in ports for p in svc.ports)
                and pods & self.index.select(svc.namespace, svc.selector))
        return out

    @cached_property
    def entry_refs(self) -> frozenset[str]:
        """``Service/NS/NAME`` of every Gateway's entry Services."""
        return frozenset(str(svc.ref) for services in self._entry_services.values() for svc in services)

    @cached_property
    def entry_node_ports(self) -> frozenset[int]:
        """The nodePorts outside clients use to reach a gateway: its entry Services' listener ports."""
        out: set[int] = set()
        for gateway in self.api.gateways:
            ports = {li.port for li in gateway.listeners}
            for svc in self.entry_services(gateway):
                out.update(p.node_port for p in svc.ports if p.port in ports and p.node_port)
        return frozenset(out)


__all__ = ["GATEWAY_NAME_LABEL", "IMPLEMENTATIONS", "PROTOCOL_KINDS", "Attachment", "BackendVerdict", "DataPlane",
           "Gateways", "host_matches",
           "hostname_rank", "hostnames_intersect", "listeners_for", "route_serves"]
