"""Requirement 4 through the Gateway API: routes, their backends and the gateway's own Pods.

How routes attach, which backendRefs are valid and which Pods carry a Gateway's traffic is
:mod:`netmodel.compile.gateway` (docs/reachability.md, "Gateway API"):

* NM-EXT-011 (error) — a route's parentRef attaches to no listener of its Gateway: no such listener or port, or
  every listener refuses the route's namespace, kind or hostnames.
* NM-INPUT-025 (warning) — a route's parentRef names a Gateway the input does not hold (it may live in another
  repository): the route is not followed.
* NM-INPUT-026 (info) — Gateway API references netmodel reads but does not follow: parentRefs to other kinds
  than Gateway (a Service: the mesh profile), backendRefs to other kinds than Service, listeners with an
  implementation's own protocol (their routes are taken as attached when namespace and hostname admit them).
* NM-EXT-012 (error) — a backendRef names a Service that does not exist, or a port the Service lacks.
* NM-EXT-013 (error) — a backendRef into another namespace that no ReferenceGrant there admits.
* NM-EXT-014 (warning) — no Pod in the layout carries a Gateway's traffic: its GatewayClass is missing, the
  class's controller is not one netmodel recognises, or none of the controller's Pods is in the input.
* NM-EXT-015 (error) — a leg of a Gateway's path is blocked: a network whose ``uses`` has ``ingress`` cannot
  reach a listener port its entry Service publishes (node firewalls on every nodePort, as NM-EXT-008 for the
  ingress controller), or the gateway's Pods cannot reach a backend of an attached route (a NetworkPolicy or a
  firewall on the gateway → backend leg). The backend leg is traced as ``query`` traces Pod → Pod
  (:mod:`netmodel.analyze.reach.paths`), once per (gateway Pod class and node, backend Pod class and node).
"""

from __future__ import annotations

from collections.abc import Iterator

from netmodel.analyze.checks.common import (
    decision_span,
    describe_decisions,
    operator_made_service,
    unique,
    unique_spans,
)
from netmodel.analyze.findings import Finding, Severity
from netmodel.analyze.reach.compiled_cluster import compiled_cluster_of
from netmodel.compile.context import CheckContext, describe_nodes
from netmodel.compile.gateway import IMPLEMENTATIONS, PROTOCOL_KINDS, Attachment
from netmodel.model.gateway import GROUP, Gateway, Listener, Route
from netmodel.model.objects import OutsideNetwork, Pod
from netmodel.sets import protocol_label

REQUIREMENT = "external-to-service"


def _route(route: Route) -> str:
    return f"{route.kind} {route.qualified_name}"


def check_route_attachment(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-011."""
    for a in ctx.gateways.attachments:
        if a.listeners:
            continue
        if a.gateway is None:
            yield Finding(
                "NM-INPUT-025", Severity.WARNING, "input",
                f"{_route(a.route)} attaches to Gateway {a.parent.namespace}/{a.parent.name}, which is not in the "
                f"input: {a.problem}. Its path through that Gateway is not analyzed. Fix: add the Gateway (and its "
                f"GatewayClass) to the input, or correct the parentRef.",
                (str(a.route.ref),), unique_spans([a.parent.source, a.route.source]))
            continue
        yield Finding(
            "NM-EXT-011", Severity.ERROR, REQUIREMENT,
            f"{_route(a.route)} does not attach to Gateway {a.parent.namespace}/{a.parent.name}: {a.problem}; "
            f"no traffic reaches its backends through it. Fix: {_fix(a)}.",
            (str(a.route.ref), str(a.gateway.ref)),
            unique_spans([a.parent.source, a.route.source] + [li.source for li in a.gateway.listeners]))


def check_unfollowed_references(ctx: CheckContext) -> Iterator[Finding]:
    """NM-INPUT-026: one info line for the whole input, counts per kind of reference."""
    api = ctx.topology.gateway_api
    found: dict[str, list] = {}
    for route in api.routes:
        for p in route.parents:
            if p.group != GROUP or p.kind != "Gateway":
                found.setdefault(f"parentRef to {p.kind} ({p.group or 'core'})", []).append(p.source)
        for b in route.backends:
            if b.group != "" or b.kind != "Service":
                found.setdefault(f"backendRef to {b.kind} ({b.group or 'core'})", []).append(b.source)
    for gateway in api.gateways:
        for li in gateway.listeners:
            if li.protocol not in PROTOCOL_KINDS:
                found.setdefault(f"listener protocol {li.protocol}", []).append(li.source)
    if found:
        summary = ", ".join(f"{what} ×{len(spans)}" for what, spans in sorted(found.items()))
        yield Finding(
            "NM-INPUT-026", Severity.INFO, "input",
            f"Gateway API references netmodel reads but does not follow: {summary}. Such parentRefs and "
            f"backendRefs carry no path and are not checked; a listener with an implementation's own protocol "
            f"is taken to carry every route kind.",
            (), unique_spans(spans[0] for _, spans in sorted(found.items())))


_FIXES = {
    "no-section": "correct the parentRef's sectionName, or add the listener",
    "no-port": "correct the parentRef's port, or add a listener on it",
    "namespace": "widen the listener's allowedRoutes.namespaces (from: All, or a Selector that matches the route's "
                 "namespace), or move the route",
    "kind": "use a route kind the listener carries, or list the kind in allowedRoutes.kinds",
    "hostname": "make a route hostname match the listener's hostname",
}


def _fix(a: Attachment) -> str:
    return "; or ".join(dict.fromkeys(_FIXES[c] for c in a.causes if c in _FIXES))


def check_route_backends(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-012 and NM-EXT-013."""
    services = ctx.topology.service_by_key
    for v in ctx.gateways.backends:
        b, route = v.backend, v.route
        target = f"Service {b.namespace}/{b.name}"
        if v.problem == "not-granted":
            yield Finding(
                "NM-EXT-013", Severity.ERROR, REQUIREMENT,
                f"{_route(route)} sends to {target} port {b.port} in another namespace, and no ReferenceGrant in "
                f"namespace {b.namespace} admits {route.kind} from namespace {route.namespace}: the reference is "
                f"refused (ResolvedRefs False, RefNotPermitted) and the gateway answers 500 for it. Fix: add a "
                f"ReferenceGrant in {b.namespace} with from {{group: gateway.networking.k8s.io, kind: "
                f"{route.kind}, namespace: {route.namespace}}} and to {{group: \"\", kind: Service}}.",
                (str(route.ref), f"Service/{b.namespace}/{b.name}"), unique_spans([b.source, route.source]))
        elif v.problem == "missing-service":
            known = sorted(name for ns, name in services if ns == b.namespace)
            maker = ctx.topology.service_maker(b.namespace, b.name)
            missing = (f"{_route(route)} sends to {target}, which does not exist (Services in {b.namespace}: "
                       f"{', '.join(known[:8]) or 'none'})")
            yield Finding(
                "NM-EXT-012", Severity.ERROR if maker is None else Severity.WARNING, REQUIREMENT,
                f"{missing}. Fix: correct the backendRef's name or namespace, or create the Service." if maker is None
                else f"{missing}{operator_made_service(maker)}", (str(route.ref), f"Service/{b.namespace}/{b.name}"),
                unique_spans([b.source, route.source]))
        elif v.problem == "missing-port":
            assert v.service is not None
            offered = ", ".join(str(p.port) for p in v.service.ports) or "no ports"
            yield Finding(
                "NM-EXT-012", Severity.ERROR, REQUIREMENT,
                f"{_route(route)} sends to {target} port {b.port}, which the Service does not have (it has "
                f"{offered}). Fix: use one of those port numbers.",
                (str(route.ref), str(v.service.ref)), unique_spans([b.source, route.source, v.service.source]))


def check_gateway_data_plane(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-014."""
    known = ", ".join(sorted({name for name, _ in IMPLEMENTATIONS.values()}))
    classes = ", ".join(sorted(ctx.gateways.class_by_name)) or "none"
    for gateway in ctx.topology.gateway_api.gateways:
        plane = ctx.gateways.data_planes[(gateway.namespace, gateway.name)]
        if not plane.problem:
            continue
        what = f"Gateway {gateway.qualified_name}"
        cls = plane.gateway_class
        if plane.problem == "missing-class":
            message = (f"{what} names GatewayClass {gateway.class_name!r}, which does not exist (known: {classes}); "
                       f"no controller serves it. Fix: correct gatewayClassName or add the GatewayClass.")
        elif plane.problem == "not-pods":
            message = (f"{what} (class {gateway.class_name}, controller {plane.implementation}): {plane.detail}; "
                       f"netmodel does not model that data plane, so the gateway's own legs are not checked.")
        elif plane.problem == "unrecognised":
            assert cls is not None
            message = (f"{what}: its GatewayClass {cls.name} names controller {cls.controller!r}, which netmodel "
                       f"does not recognise, and no Pod carries the label gateway.networking.k8s.io/gateway-name: "
                       f"{gateway.name}; the gateway's legs are not checked. Recognised: {known}. Fix: add the "
                       f"gateway's Pods (labelled so) to the layout.")
        else:
            message = (f"{what} is served by {plane.implementation}, but none of its Pods is in the layout "
                       f"(looked for: the label gateway.networking.k8s.io/gateway-name: {gateway.name} in namespace "
                       f"{gateway.namespace}, Envoy Gateway's owning-gateway labels, the controller's proxy "
                       f"image). Fix: add the gateway's Deployment and Service to the layout.")
        yield Finding("NM-EXT-014", Severity.WARNING, REQUIREMENT, message,
                      tuple(unique([str(gateway.ref)] + ([str(cls.ref)] if cls else []))),
                      unique_spans([gateway.source] + ([cls.source] if cls else [])))


def check_gateway_listeners_reachable(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-015, the outside leg: a network whose ``uses`` has ``ingress`` must reach each listener port that
    the gateway's entry Services publish, through some nodePort on some node that answers (as NM-EXT-008 asks of
    the ingress controller on 80 and 443). A listener no entry Service publishes is not judged."""
    from netmodel.analyze.checks.external import NodePortReach, answering_nodes, load_balanced_nodes

    networks = [n for n in ctx.topology.cluster.networks
                if "ingress" in n.uses and not ctx.addresses.networks[n.name].is_empty()]
    if not networks or not ctx.topology.gateway_api.gateways:
        return
    reach = NodePortReach(ctx)
    everyone = load_balanced_nodes(ctx)
    node_range = ctx.topology.cluster.node_port_range
    for gateway in ctx.topology.gateway_api.gateways:
        if ctx.gateways.data_planes[(gateway.namespace, gateway.name)].problem:
            continue  # NM-EXT-014
        services = ctx.gateways.entry_services(gateway)
        for listener in gateway.listeners:
            entries = [(svc, p, p.node_port) for svc in services for p in svc.ports
                       if p.port == listener.port and p.node_port and p.node_port in node_range]
            for network in networks if entries else ():
                failures = []
                for svc, port, node_port in entries:
                    groups = answering_nodes(ctx, svc, everyone)
                    blocked, decisions = reach.blocked(groups, network, port.protocol, node_port)
                    if len(blocked) < sum(len(nodes) for _, nodes in groups):
                        break  # reachable through this entry on some node
                    failures.append((svc, port, blocked, decisions))
                else:
                    yield _listener_finding(gateway, listener, network, failures)


def _listener_finding(gateway: Gateway, listener: Listener, network: OutsideNetwork, failures: list) -> Finding:
    svc, port, blocked, decisions = failures[0]
    firewalls = [d.firewall for d in decisions]
    return Finding(
        "NM-EXT-015", Severity.ERROR, REQUIREMENT,
        f"Gateway {gateway.qualified_name} listener {listener.name} ({listener.protocol} "
        f"{listener.port}) is unreachable from network {network.name} (uses: ingress): nodePort {port.node_port} "
        f"of Service {svc.qualified_name} is closed on node "
        f"{describe_nodes([n.name for n in blocked])} by {describe_decisions(decisions, 'ingress')}. Fix: allow "
        f"TCP {port.node_port} from network {network.name} in "
        f"{', '.join('Firewall ' + f.name for f in firewalls) or 'the node firewall'} ingress.",
        tuple(unique([str(gateway.ref), str(svc.ref), f"network:{network.name}"] + [str(f.ref) for f in firewalls])),
        unique_spans([listener.source, port.source] + [decision_span(d, "ingress") for d in decisions]
                     + [network.source]))


def check_gateway_backends_reachable(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-015, the gateway → backend leg."""
    from netmodel.analyze.reach.paths import Tracer
    from netmodel.analyze.reach.refs import endpoint_at, pod_endpoint

    gateways = ctx.gateways
    compiled = compiled_cluster_of(ctx)
    tracer = Tracer(compiled)
    by_route: dict[tuple[str, str, str], list[Gateway]] = {}
    for a in gateways.attached:
        assert a.gateway is not None
        found = by_route.setdefault((a.route.kind, a.route.namespace, a.route.name), [])
        if a.gateway not in found:
            found.append(a.gateway)
    for v in gateways.backends:
        if v.problem or v.service is None or v.port is None:
            continue  # NM-EXT-012/013 report it
        for gateway in by_route.get((v.route.kind, v.route.namespace, v.route.name), ()):
            plane = gateways.data_planes[(gateway.namespace, gateway.name)]
            if plane.problem:
                continue  # NM-EXT-014: no controller configures these Pods, so they route nothing
            senders: dict[tuple[int, str], Pod] = {}
            for i in plane.pods:
                pod = ctx.topology.pods[i]
                if pod.ips:
                    senders.setdefault((compiled.class_of(pod).id, pod.node_name), pod)
            blocked = []
            for b in compiled.backends(v.service, v.port):
                if b.port is None:
                    continue  # a named targetPort the Pod lacks: NM-SVC reports it
                dst = pod_endpoint(compiled, b.pod) if b.pod is not None else endpoint_at(compiled, b.address)
                for sender in senders.values():
                    for path in tracer.trace(pod_endpoint(compiled, sender), dst, v.port.protocol, b.port):
                        if not path.delivered:
                            blocked.append((sender, dst.label, path, b.port))
            if not blocked:
                continue
            decisions = list(dict.fromkeys(d for _, _, p, _ in blocked for d in p.blocked_by))
            sender, label, path, target_port = blocked[0]
            rules = "; ".join(f"{d.kind} {d.name} ({d.rule})" for d in decisions[:4]) or path.disposition.value
            yield Finding(
                "NM-EXT-015", Severity.ERROR, REQUIREMENT,
                f"Gateway {gateway.qualified_name} cannot reach the backend of {_route(v.route)}: "
                f"Service {v.service.qualified_name} port {v.port.port} "
                f"({len(blocked)} of its gateway Pod → endpoint paths blocked, e.g. {sender.namespace}/"
                f"{sender.name} on node {describe_nodes([sender.node_name])} → {label.removeprefix('pod:')}"
                f": {path.disposition.value}), blocked by {rules}. Fix: allow the gateway's Pods "
                f"(namespace {sender.namespace}) to reach the backend Pods on {protocol_label(v.port.protocol)} "
                f"{target_port} (NetworkPolicy ports are the Pods' ports, after the Service's DNAT).",
                tuple(unique([str(gateway.ref), str(v.route.ref), str(v.service.ref)]
                             + [f"{d.kind}/{d.name}" for d in decisions])),
                unique_spans([v.backend.source] + [d.source for d in decisions if d.source is not None]),
                {"paths": len(blocked), "disposition": path.disposition.value})


GATEWAY_CHECKS = (
    check_unfollowed_references,
    check_route_attachment,
    check_route_backends,
    check_gateway_data_plane,
    check_gateway_listeners_reachable,
    check_gateway_backends_reachable,
)
