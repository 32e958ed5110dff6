"""``query --to gateway:NS/NAME``: from a client through a Gateway's listener and routes to the backends.

A gateway is a proxy: the client's connection ends at one of the gateway's Pods, which opens a new one to a
backend endpoint (docs/reachability.md, "Gateway API"). So each path is two traced legs joined by a ``proxy``
step that names the Gateway, the listener, the route and the backend Service port, each with its line:

1. client → the Gateway's entry Service on the listener port (from outside: its load-balancer addresses and
   nodePorts, as ``query --to service:`` asks; from inside: its ClusterIP), ending at a gateway Pod;
2. that gateway Pod → each endpoint of each backendRef of each route attached to the listener, on the
   endpoint's port.

A path blocked on the first leg ends there. The answer is allowed when every (entry, route, backend endpoint)
path is delivered, partial when some are.
"""

from __future__ import annotations

from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.analyze.reach.paths import Tracer
from netmodel.analyze.reach.proxy import SecondLegs, first_legs, second_legs, stop
from netmodel.analyze.reach.refs import Endpoint
from netmodel.analyze.reach.trace import Decision, Disposition, Hop, Path, Step, StepRecord
from netmodel.compile.gateway import Gateways
from netmodel.errors import Problem, UsageError
from netmodel.model.gateway import Gateway
from netmodel.model.objects import Pod


def find_gateway(gateways: Gateways, ref: str) -> Gateway:
    """The Gateway a ``gateway:NAMESPACE/NAME`` reference names; a usage error listing known ones
    otherwise."""
    body = ref.partition(":")[2].strip()
    namespace, _, name = body.rpartition("/")
    found = gateways.gateway_by_key.get((namespace or "default", name))
    if found is None:
        known = ", ".join(f"{ns}/{n}" for ns, n in sorted(gateways.gateway_by_key)[:8]) or "none"
        raise UsageError([Problem(f"unknown Gateway {body!r}", None,
                                  f"write gateway:NAMESPACE/NAME of a Gateway in the input (known: {known})")])
    return found


def gateway_paths(compiled: CompiledCluster, sources: list[Endpoint], ref: str, protocol: int, port: int,
                  tracer: Tracer, host: str = "") -> list[Path]:
    """Every path from ``sources`` through Gateway ``ref`` on listener ``port``: to the routes that serve
    ``host`` on the listeners that receive it (:meth:`Gateways.serving`), every route when no host is given."""
    gateways = compiled.gateways
    gateway = find_gateway(gateways, ref)
    label = f"gateway:{gateway.qualified_name}"
    listeners = [li for li in gateway.listeners if li.port == port]
    if not listeners:
        ports = ", ".join(f"{li.name} {li.port}" for li in gateway.listeners)
        return [stop(sources, label, f"Gateway {gateway.qualified_name} has no listener on port {port} "
                      f"(listeners: {ports})", Disposition.NO_LISTENER, Decision("Gateway", label[8:], "listeners",
                                                                                 False, gateway.source))]
    plane = gateways.data_planes[(gateway.namespace, gateway.name)]
    services = gateways.entry_services(gateway)
    if plane.problem or not services:
        why = ("no Pod in the input carries its traffic (NM-EXT-014)" if plane.problem or not plane.pods
               else f"no NodePort/LoadBalancer Service selects its Pods on port {port}")
        return [stop(sources, label, f"Gateway {gateway.qualified_name}: {why}", Disposition.NO_ENDPOINTS,
                      Decision("Gateway", label[8:], why, False, gateway.source))]
    routes = gateways.serving(gateway, port, host)
    out: list[Path] = []
    second: SecondLegs = {}
    for first, pod in first_legs(compiled, sources, services, protocol, port, tracer):
        if pod is None:
            out.append(Path(first.source, f"{label} ({first.destination})", first.hops))
            continue
        out.extend(_through(compiled, gateways, tracer, first, pod, label, routes, second, host))
    return out


def _through(compiled: CompiledCluster, gateways: Gateways, tracer: Tracer, first: Path, pod: Pod, label: str,
             routes: list, second: SecondLegs, host: str = "") -> list[Path]:
    if not routes:
        why = (f"no listener on this port serves host {host}, or no route attached to it does" if host
               else "no route is attached to the listener on this port")
        hop = Hop(label, (StepRecord(Step.PROXY, f"{why}: the gateway answers 404 (HTTP) or refuses the "
                                     f"connection", False, Disposition.NO_ENDPOINTS),))
        return [Path(first.source, label, first.hops + (hop,))]
    out = []
    verdicts = {(v.route.kind, v.route.namespace, v.route.name, v.backend.source): v for v in gateways.backends}
    for attachment, listener in routes:
        route = attachment.route
        for ref in route.backends:
            if ref.weight == 0:
                continue  # "no traffic should be forwarded for this entry" (BackendRef.weight): no path
            what = (f"listener {listener.name} ({listener.protocol} {listener.port}) → {route.kind} "
                    f"{route.qualified_name} → {ref.kind} {ref.namespace}/{ref.name} port {ref.port}")
            decisions = (Decision("Gateway", label[8:], f"listener {listener.name}", True, listener.source),
                         Decision(route.kind, route.qualified_name, "parentRef", True,
                                  attachment.parent.source))
            v = verdicts.get((route.kind, route.namespace, route.name, ref.source))
            if v is None or v.problem:
                why = {"not-granted": "no ReferenceGrant admits the cross-namespace reference (NM-EXT-013)",
                       "missing-service": "the Service does not exist (NM-EXT-012)",
                       "missing-port": "the Service has no such port (NM-EXT-012)"}.get(
                    v.problem if v else "", f"a {ref.kind} backend is not followed (NM-INPUT-026)")
                hop = Hop(label, (StepRecord(Step.PROXY, f"{what}: {why}", False, Disposition.NO_ENDPOINTS,
                                             decisions + (Decision(route.kind, route.qualified_name,
                                                                   "backendRef", False, ref.source),)),))
                out.append(Path(first.source, f"{label} → service:{ref.namespace}/{ref.name}", first.hops + (hop,)))
                continue
            assert v.service is not None and v.port is not None
            backends = [(b, b.port) for b in compiled.backends(v.service, v.port) if b.port is not None]
            if not backends:
                hop = Hop(label, (StepRecord(Step.PROXY, f"{what}: the Service has no endpoints", False,
                                             Disposition.NO_ENDPOINTS, decisions),))
                out.append(Path(first.source, f"{label} → service:{ref.namespace}/{ref.name}", first.hops + (hop,)))
                continue
            proxy = Hop(label, (StepRecord(Step.PROXY, f"{what}: the gateway Pod {pod.qualified_name} "
                                           f"opens a new connection to each endpoint", True, None,
                                           decisions + (Decision(route.kind, route.qualified_name,
                                                                 "backendRef", True, ref.source),)),))
            out.extend(second_legs(compiled, tracer, first, pod, label, proxy, (b for b, _ in backends),
                                   v.port.protocol, second))
    return out


__all__ = ["find_gateway", "gateway_paths"]
