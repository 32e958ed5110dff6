"""``query`` through a proxy (a Gateway's Pods, an ingress controller's Pods): the two traced legs and their join.

A proxy ends the client's connection at one of its Pods, which opens a new one to a backend endpoint
(docs/reachability.md, "Gateway API" and "Ingress"). So each path through it is

1. the client → one of the proxy's entry Services on the port asked (from outside: its load-balancer addresses
   and nodePorts, as ``query --to service:`` asks; from inside: its ClusterIP), ending at a proxy Pod, then
2. a ``proxy`` step naming what sent the request on (a route, an Ingress rule), then that Pod → each backend
   endpoint on the endpoint's port.

What the proxy sends where is the caller's (:mod:`netmodel.analyze.reach.gateway`,
:mod:`netmodel.analyze.reach.ingress`); this module holds the legs and the join, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from netmodel.analyze.reach.compiled_cluster import Backend, CompiledCluster
from netmodel.analyze.reach.paths import Tracer
from netmodel.analyze.reach.refs import Endpoint, endpoint_at, pod_endpoint
from netmodel.analyze.reach.trace import Decision, Disposition, Hop, Path, Step, StepRecord
from netmodel.model.objects import Pod, Service

SecondLegs = dict[tuple[object, ...], list[Path]]  # traced proxy Pod → endpoint legs, shared by a query's paths


def proxy_pod(compiled: CompiledCluster, path: Path) -> Pod | None:
    """The proxy Pod a delivered first-leg path ended at."""
    if not path.delivered or not path.hops:
        return None
    location = path.hops[-1].location
    if not location.startswith("pod:"):
        return None
    namespace, _, name = location[4:].partition("/")
    return compiled.topology.pod_by_key.get((namespace, name))


def first_legs(compiled: CompiledCluster, sources: list[Endpoint], services: Iterable[Service], protocol: int,
               port: int, tracer: Tracer) -> Iterator[tuple[Path, Pod | None]]:
    """Every first-leg path from ``sources`` into the proxy's entry ``services`` on ``port``, with the proxy Pod
    it was delivered to (None: the leg did not deliver)."""
    from netmodel.analyze.reach.entries import family_fits, service_targets
    from netmodel.analyze.reach.refs import resolve

    for svc in services:
        target = resolve(compiled, f"service:{svc.qualified_name}", as_source=False).endpoints[0]
        for d, to_port in service_targets(compiled, sources, target, protocol, port):
            for s in [s for s in sources if family_fits(s, d)] or sources:
                for first in tracer.trace(s, d, protocol, to_port):
                    yield first, proxy_pod(compiled, first)


def second_legs(compiled: CompiledCluster, tracer: Tracer, first: Path, pod: Pod, label: str, proxy: Hop,
                backends: Iterable[Backend], protocol: int, traced: SecondLegs) -> list[Path]:
    """The paths ``first`` continues on: after the ``proxy`` hop, ``pod`` → each backend endpoint on its port."""
    out = []
    for b in backends:
        if b.port is None:
            continue
        key = (compiled.class_of(pod).id, pod.node_name, b.address, b.port, protocol)
        if key not in traced:
            dst = pod_endpoint(compiled, b.pod) if b.pod is not None else endpoint_at(compiled, b.address)
            traced[key] = tracer.trace(pod_endpoint(compiled, pod), dst, protocol, b.port)
        for leg in traced[key]:
            out.append(Path(first.source, f"{label} → {leg.destination}", first.hops + (proxy,) + leg.hops))
    return out


def stop(sources: list[Endpoint], label: str, detail: str, disposition: Disposition, decision: Decision) -> Path:
    """A path that ends at the proxy before any leg: no listener, no serving controller, no entry."""
    source = sources[0].label if sources else ""
    return Path(source, label, (Hop(label, (StepRecord(Step.PROXY, detail, False, disposition, (decision,)),)),))


__all__ = ["SecondLegs", "first_legs", "proxy_pod", "second_legs", "stop"]
