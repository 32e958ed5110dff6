"""The connectivity matrix's entries through a proxy's Pods: outside network → the backends the proxy sends to.

A Gateway's Pods and an ingress controller's Pods are proxies (docs/reachability.md, "Gateway API" and
"Ingress"): the client's connection ends at one of the proxy's Pods, which opens a new one to a backend
endpoint. So an outside network reaches a backend Pod through the proxy when, for some proxy Pod,

1. the network enters that Pod through one of the proxy's entry Services on a port it serves (the
   NodePort/LoadBalancer entry the matrix already judges: node firewalls, the proxy Pod's ingress policy,
   :func:`netmodel.analyze.connectivity.entered`, passed in as ``first_leg``), and
2. the proxy Pod reaches the backend Pod on the endpoint's port, traced as ``query`` traces Pod → Pod
   (:class:`netmodel.analyze.reach.paths.Tracer`).

What sends where (a Gateway listener's routes, an Ingress rule) is the caller's: this module holds the one rule
that joins the two legs. The row is ``network:NAME → backend`` on the backend Pod's port (what it receives, as for
a NodePort entry), its ``via`` naming the proxy's rule. It is ``partial`` when some of the (entry, proxy Pod)
pairs the load balancing may pick do not carry it: an entry node or client the first leg admits only partly, a
proxy Pod the network does not reach, or one that does not reach the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from netmodel.analyze.policy import PortSpace
from netmodel.analyze.reach.compiled_cluster import Backend, CompiledCluster
from netmodel.analyze.reach.paths import Tracer
from netmodel.analyze.reach.refs import pod_endpoint
from netmodel.model.objects import Pod, Service, ServicePort
from netmodel.sets import IntervalSet


class OutsideEntry(Protocol):
    """An outside network entering through one Service port (``connectivity.OutsideEntry``; named by shape so
    that this module, which the matrix calls, does not import it back)."""

    @property
    def service(self) -> Service:
        """The Service entered."""

    @property
    def port(self) -> ServicePort:
        """Its port clients use (on its nodePort)."""

    @property
    def network(self) -> str:
        """The outside network's name."""


FirstLeg = Callable[[Any, Backend], "tuple[PortSpace, bool] | None"]  # connectivity.entered, bound to a query
Add = Callable[[str, str, PortSpace, bool, str], None]  # records a row: from, to, ports, partial, via
Entries = Sequence[tuple[OutsideEntry, Sequence[Backend]]]



def distinct_backends(backends: Iterable[Backend]) -> list[Backend]:
    """The endpoints a proxy sends to, one per Pod and port, in first-seen order (endpoints without a Pod or a
    resolved port are none a proxy can reach)."""
    out: dict[tuple[str, int], Backend] = {}
    for b in backends:
        if b.pod is not None and b.port is not None:
            out.setdefault((b.pod.qualified_name, b.port), b)
    return list(out.values())

@dataclass(frozen=True, slots=True)
class ProxyFront:
    """Where outside clients enter a proxy: its Pods (qualified names), the Services in front of them and the
    Service ports (numbers) clients use, on ``protocol``."""

    pods: frozenset[str]
    services: frozenset[str]
    ports: frozenset[int]
    protocol: int


class ProxyEntries:
    """Joins the two legs for every proxy of a layout; the second legs are traced once per (proxy Pod class
    and node, backend Pod class and node, protocol, port), shared by every proxy and rule."""

    def __init__(self, compiled: CompiledCluster, entries: Entries, first_leg: FirstLeg, name: Callable[[Pod], str],
                 add: Add) -> None:
        self.compiled, self.entries, self.first_leg, self.name, self.add = compiled, entries, first_leg, name, add
        self.tracer = Tracer(compiled)
        self.legs: dict[tuple[object, ...], tuple[bool, bool]] = {}

    def _second_leg(self, sender: Pod, backend: Backend, protocol: int) -> tuple[bool, bool]:
        """(some path delivers, every path delivers) from a proxy Pod to one backend endpoint."""
        assert backend.pod is not None and backend.port is not None
        compiled = self.compiled
        key = (compiled.class_of(sender).id, sender.node_name, compiled.class_of(backend.pod).id,
               backend.pod.node_name, protocol, backend.port)
        if key not in self.legs:
            paths = self.tracer.trace(pod_endpoint(compiled, sender), pod_endpoint(compiled, backend.pod), protocol,
                                      backend.port)
            self.legs[key] = (any(p.delivered for p in paths), bool(paths) and all(p.delivered for p in paths))
        return self.legs[key]

    def firsts(self, front: ProxyFront) -> dict[str, list[tuple[Pod, bool] | None]]:
        """Per outside network, the (entry, proxy Pod) pairs its clients may be balanced to: the Pod and whether
        the first leg carries only partly, or None when that pair carries nothing."""
        out: dict[str, list[tuple[Pod, bool] | None]] = {}
        for entry, backends in self.entries:
            if entry.service.qualified_name not in front.services or entry.port.port not in front.ports \
                    or entry.port.protocol != front.protocol:
                continue
            for b in backends:
                if b.pod is None or b.pod.qualified_name not in front.pods:
                    continue
                got = self.first_leg(entry, b)
                out.setdefault(entry.network, []).append((b.pod, got[1]) if got is not None else None)
        return out

    def record(self, firsts: dict[str, list[tuple[Pod, bool] | None]], targets: Collection[Backend], protocol: int,
               via: str) -> None:
        """A row from each network to each target backend some pair carries it to, through ``via``."""
        for network, pairs in firsts.items():
            for backend in targets:
                assert backend.pod is not None and backend.port is not None
                carried, partial = 0, False
                for pair in pairs:
                    if pair is None:
                        continue
                    sender, first_partial = pair
                    some, every = self._second_leg(sender, backend, protocol)
                    if some:
                        carried += 1
                        partial = partial or first_partial or not every
                if carried:
                    space = PortSpace.of({protocol: IntervalSet.single(backend.port)})
                    self.add(f"network:{network}", self.name(backend.pod), space, partial or carried < len(pairs),
                             via)


__all__ = ["Add", "Entries", "FirstLeg", "OutsideEntry", "ProxyEntries", "ProxyFront"]
