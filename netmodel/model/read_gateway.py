"""Gateway API kinds: document data → :mod:`netmodel.model.gateway` objects.

The fields and their defaults are those of the API types (``apis/v1/*_types.go`` of kubernetes-sigs/gateway-api,
the CRD defaults and validation rules in their kubebuilder markers). The same reader serves every version real
clusters have (``v1``, ``v1beta1``, ``v1alpha2``, ``v1alpha3``): the fields netmodel reads did not change
between them. As for the other standard kinds, unknown fields are ignored (``kubectl get -o yaml`` output) and a
wrong type or a missing required field in a field netmodel reads is an error.
"""

from __future__ import annotations

import re

from netmodel.load.document import Document
from netmodel.model.fields import Fields, Problems
from netmodel.model.gateway import (
    GROUP,
    BackendRef,
    Gateway,
    GatewayClass,
    Listener,
    ParentRef,
    ReferenceGrant,
    Route,
    RouteGroupKind,
)
from netmodel.model.names import DNS1123_LABEL, object_name_rule
from netmodel.model.read_kubernetes import Meta

FROM_NAMESPACES = ("All", "Selector", "Same")
_CORE_PROTOCOLS = ("HTTP", "HTTPS", "TLS", "TCP", "UDP")


def _empty(doc: Document, problems: Problems, what: str) -> Fields:
    return Fields(doc, (), {}, problems, what)


# GatewayController: a domain-prefixed path (apis/v1/shared_types.go), e.g. example.com/gateway-controller.
_CONTROLLER = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+")


def read_gateway_class(doc: Document, problems: Problems) -> GatewayClass:
    """A GatewayClass and its controllerName."""
    meta = Meta(doc, problems, "GatewayClass", namespaced=False)
    spec = meta.fields.mapping("spec", required=True) or _empty(doc, problems, meta.fields.what)
    controller = spec.string("controllerName", required=True)
    if controller and (len(controller) > 253 or not _CONTROLLER.fullmatch(controller)):
        spec.error("controllerName", f"{controller!r} is not a domain-prefixed path",
                   "write the controller's name as its documentation gives it, e.g. "
                   "gateway.envoyproxy.io/gatewayclass-controller")
    return GatewayClass(meta.name, controller, doc.span())


def _protocol(f: Fields) -> str:
    text = f.string("protocol", required=True)
    # Core values, or an implementation's own protocol written domain/name (ProtocolType's pattern).
    if text and text not in _CORE_PROTOCOLS and "/" not in text:
        same = [p for p in _CORE_PROTOCOLS if p.lower() == text.lower()]
        f.error("protocol", f"unknown protocol {text!r}",
                f"write {same[0]!r} (values are case-sensitive)" if same
                else f"use one of: {', '.join(_CORE_PROTOCOLS)}, or an implementation's domain/name protocol")
        return ""
    return text


def _listener(f: Fields) -> Listener | None:
    name = f.string("name", required=True)
    if name:
        f.check_name("name", name, object_name_rule("Gateway"))
    port = f.port("port", required=True)
    protocol = _protocol(f)
    hostname = f.string("hostname")
    allowed_from, selector = "Same", None
    kinds: list[RouteGroupKind] = []
    allowed = f.mapping("allowedRoutes")
    if allowed is not None:
        namespaces = allowed.mapping("namespaces")
        if namespaces is not None:
            allowed_from = namespaces.string("from", default="Same", choices=FROM_NAMESPACES) or "Same"
            selector = namespaces.selector("selector")
            if allowed_from == "Selector" and selector is None:
                namespaces.error("selector", "is required when `from` is Selector",
                                 "add `selector: {matchLabels: {...}}`, or use from: Same or All")
        for k in allowed.each_mapping("kinds"):
            kind = k.string("kind", required=True)
            if kind:
                kinds.append(RouteGroupKind(k.string("group", default=GROUP), kind))
    if not name or port is None or not protocol:
        return None
    return Listener(name, port, protocol, hostname, allowed_from, selector, tuple(kinds), f.span())


def read_gateway(doc: Document, problems: Problems) -> Gateway:
    """A Gateway: class, listeners (with the routes they allow) and addresses."""
    meta = Meta(doc, problems, "Gateway", namespaced=True)
    spec = meta.fields.mapping("spec", required=True) or _empty(doc, problems, meta.fields.what)
    class_name = spec.string("gatewayClassName", required=True)
    listeners: list[Listener] = []
    seen: dict[str, str | int] = {}  # listener name → its index (a path element)
    for f in spec.each_mapping("listeners", required=True):
        listener = _listener(f)
        if listener is None:
            continue
        if listener.name in seen:
            f.error("name", f"listener name {listener.name!r} is used twice (first at listeners[{seen[listener.name]}])",
                    "give each listener its own name")
            continue
        seen[listener.name] = f.path[-1]
        listeners.append(listener)
    if spec.is_list_present("listeners") and not spec.items("listeners"):
        spec.error("listeners", "must hold at least one listener", "add a listener (name, port, protocol)")
    addresses = tuple(a.string("value") for a in spec.each_mapping("addresses") if a.string("value"))
    return Gateway(meta.namespace, meta.name, class_name, tuple(listeners), addresses, doc.span())


def _parent(f: Fields, namespace: str) -> ParentRef | None:
    name = f.string("name", required=True)
    port = f.port("port")
    section = f.string("sectionName")
    ns = f.string("namespace") or namespace
    if not name:
        return None
    return ParentRef(f.string("group", default=GROUP), f.string("kind", default="Gateway"), ns, name, section,
                     port, f.span())


def _backend(f: Fields, namespace: str) -> BackendRef | None:
    name = f.string("name", required=True)
    group = f.string("group", default="")
    kind = f.string("kind", default="Service")
    port = f.port("port")
    weight = f.integer("weight", default=1, low=0, high=1_000_000)
    if group == "" and kind == "Service" and port is None and not f.has("port"):
        # The CRD's rule: "Must have port for Service reference".
        f.error("port", "is required for a Service backend", "add `port:` (the Service port number)")
    if not name:
        return None
    return BackendRef(group, kind, f.string("namespace") or namespace, name, port,
                      1 if weight is None else weight, f.span())


def read_route(doc: Document, problems: Problems, kind: str) -> Route:
    """A route of ``kind`` (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute): parents, hostnames,
    backends."""
    meta = Meta(doc, problems, kind, namespaced=True)
    spec = meta.fields.mapping("spec", required=True) or _empty(doc, problems, meta.fields.what)
    parents = spec.list_of("parentRefs", lambda f: _parent(f, meta.namespace))
    hostnames = tuple(h for _, h in spec.strings("hostnames"))
    backends: list[BackendRef] = []
    for rule in spec.each_mapping("rules", required=kind in ("TLSRoute", "TCPRoute", "UDPRoute")):
        backends.extend(rule.list_of("backendRefs", lambda f: _backend(f, meta.namespace)))
    api = str(doc.data.get("apiVersion", ""))
    return Route(kind, api, meta.namespace, meta.name, parents, hostnames, tuple(backends), doc.span())


def _grant_entry(f: Fields, with_namespace: bool) -> tuple[str, str, str] | None:
    group = f.string("group", required=True)  # "" names the core group (Service)
    kind = f.string("kind", required=True)
    third = f.string("namespace", required=True) if with_namespace else f.string("name")
    if with_namespace and third:
        f.check_name("namespace", third, DNS1123_LABEL)
    if not kind or (with_namespace and not third):
        return None
    return (group, kind, third)


def read_reference_grant(doc: Document, problems: Problems) -> ReferenceGrant:
    """A ReferenceGrant: which objects may refer to which, across namespaces."""
    meta = Meta(doc, problems, "ReferenceGrant", namespaced=True)
    spec = meta.fields.mapping("spec", required=True) or _empty(doc, problems, meta.fields.what)
    from_ = spec.list_of("from", lambda f: _grant_entry(f, True), required=True)
    to = spec.list_of("to", lambda f: _grant_entry(f, False), required=True)
    return ReferenceGrant(meta.namespace, meta.name, from_, to, doc.span())


__all__ = ["read_gateway", "read_gateway_class", "read_reference_grant", "read_route"]
