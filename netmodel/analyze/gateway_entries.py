"""The connectivity matrix's entries through a Gateway (Gateway API): outside network → a route's backend Pods.

A Gateway is a proxy (docs/reachability.md, "Gateway API"): the client's connection ends at one of the
gateway's Pods, which opens a new one to a backend endpoint. So an outside network reaches a backend Pod
through a listener when, for some gateway Pod (the legs joined as for every proxy,
:mod:`netmodel.analyze.proxy_entries`),

1. the network enters that Pod through one of the Gateway's entry Services on the listener's port (the
   NodePort/LoadBalancer entry the matrix already judges: node firewalls, the gateway Pod's ingress policy,
   :func:`netmodel.analyze.connectivity.entered`, passed in), and
2. the gateway Pod reaches the backend Pod on the endpoint's port, traced as ``query`` traces Pod → Pod
   (:class:`netmodel.analyze.reach.paths.Tracer`; the same leg NM-EXT-015 checks), and
3. a route attached to the listener sends there (:meth:`netmodel.compile.gateway.Gateways.serving`, any host;
   a backendRef that does not resolve or has weight 0 carries nothing).

The row is ``network:NAME → backend`` on the backend Pod's port (what it receives, as for a NodePort entry), its
``via`` naming the Gateway and listener: ``Gateway NS/NAME listener L (HTTP 80)``. It is ``partial`` when some
of the (entry, gateway Pod) pairs the load balancing may pick do not carry it: an entry node or client the
first leg admits only partly, a gateway Pod the network does not reach, or one that does not reach the backend.
A Gateway whose data plane is not known (NM-EXT-014) gives no row, as ``query`` answers no path for it.
"""

from __future__ import annotations

import re

from netmodel.analyze.proxy_entries import ProxyEntries, ProxyFront, distinct_backends
from netmodel.analyze.reach.compiled_cluster import Backend, CompiledCluster
from netmodel.model.gateway import Gateway, Listener, Route
from netmodel.sets import protocol_number

VIA = re.compile(r"^Gateway (\S+)/(\S+) listener (\S+) \((\S+) (\d+)\)$")


def gateway_via(gateway: Gateway, listener: Listener) -> str:
    """How a matrix row entering through ``listener`` names it (``Gateway infra/web listener http (HTTP 80)``)."""
    return f"Gateway {gateway.qualified_name} listener {listener.name} ({listener.protocol} {listener.port})"


def parse_via(via: str) -> tuple[str, int] | None:
    """(``gateway:NS/NAME``, listener port) of a row's ``via`` through a Gateway, else None.

    >>> parse_via("Gateway infra/web listener http (HTTP 80)"), parse_via("Service a/b NodePort 30080")
    (('gateway:infra/web', 80), None)
    """
    m = VIA.match(via)
    return (f"gateway:{m.group(1)}/{m.group(2)}", int(m.group(5))) if m else None


def transport(listener: Listener) -> int:
    """The IP protocol a listener receives on: UDP for a UDP listener, TCP for every other protocol."""
    return protocol_number("UDP" if listener.protocol == "UDP" else "TCP")


def route_backends(compiled: CompiledCluster, gateway: Gateway, listener: Listener,
                   host: str = "") -> list[tuple[Route, list[Backend]]]:
    """Each route attached to ``listener`` that serves ``host`` ("" = any), with the backend endpoints (Pods,
    with their port) it sends to: backendRefs that resolve (not NM-EXT-012/013, a Service), with a weight above
    0 (weight 0: "no traffic should be forwarded", ``BackendRef.weight``), on the listener's transport
    protocol."""
    gateways = compiled.gateways
    protocol = transport(listener)
    verdicts = {(v.route.kind, v.route.namespace, v.route.name, v.backend.source): v for v in gateways.backends}
    out: list[tuple[Route, list[Backend]]] = []
    for attachment, li in gateways.serving(gateway, listener.port, host):
        if li is not listener:
            continue
        route = attachment.route
        sent: list[Backend] = []
        for ref in route.backends:
            v = verdicts.get((route.kind, route.namespace, route.name, ref.source))
            if v is None or v.problem or v.service is None or v.port is None or ref.weight == 0 \
                    or v.port.protocol != protocol:
                continue
            sent.extend(b for b in compiled.backends(v.service, v.port) if b.pod is not None and b.port is not None)
        out.append((route, sent))
    return out


def listener_backends(compiled: CompiledCluster, gateway: Gateway, listener: Listener,
                      host: str = "") -> list[Backend]:
    """The backend endpoints of :func:`route_backends`, one per Pod and port."""
    return distinct_backends(b for _, backends in route_backends(compiled, gateway, listener, host) for b in backends)


def listener_of(compiled: CompiledCluster, via: str) -> tuple[Gateway, Listener] | None:
    """The Gateway and listener a row's ``via`` names, when the layout has them."""
    m = VIA.match(via)
    if m is None:
        return None
    gateway = compiled.gateways.gateway_by_key.get((m.group(1), m.group(2)))
    listener = next((li for li in gateway.listeners if li.name == m.group(3)), None) if gateway else None
    return (gateway, listener) if gateway is not None and listener is not None else None


def gateway_backed(compiled: CompiledCluster) -> dict[tuple[str, str], list[str]]:
    """Per backend Pod (namespace, name), the Gateway listeners and ports it is reached on (for the grouped map:
    Pods a Gateway sends to on different listeners or ports are told apart)."""
    out: dict[tuple[str, str], list[str]] = {}
    for gateway in compiled.gateways.api.gateways:
        for listener in gateway.listeners:
            for b in listener_backends(compiled, gateway, listener):
                assert b.pod is not None
                out.setdefault((b.pod.namespace, b.pod.name), []).append(
                    f"{gateway_via(gateway, listener)}/{b.port}")
    return out


def enter_gateways(proxies: ProxyEntries) -> None:
    """Record, for every Gateway, listener and outside network, the backend Pods reached through it (the two
    legs joined by :class:`netmodel.analyze.proxy_entries.ProxyEntries`)."""
    compiled = proxies.compiled
    gateways = compiled.gateways
    for gateway in gateways.api.gateways:
        plane = gateways.data_planes[(gateway.namespace, gateway.name)]
        if plane.problem:
            continue  # NM-EXT-014: no controller configures these Pods
        pods = frozenset(compiled.topology.pods[i].qualified_name for i in plane.pods)
        services = frozenset(svc.qualified_name for svc in gateways.entry_services(gateway))
        for listener in gateway.listeners:
            protocol = transport(listener)
            firsts = proxies.firsts(ProxyFront(pods, services, frozenset({listener.port}), protocol))
            if firsts:
                proxies.record(firsts, listener_backends(compiled, gateway, listener), protocol,
                               gateway_via(gateway, listener))


__all__ = ["VIA", "enter_gateways", "gateway_backed", "gateway_via", "listener_backends", "listener_of", "parse_via",
           "route_backends", "transport"]
