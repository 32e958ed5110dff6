"""The connectivity matrix's entries through an Ingress: outside network → the backend Pods of its rules.

An ingress controller is a proxy, as a Gateway is (docs/reachability.md, "Ingress"): the client's connection
ends at one of the controller's Pods, which opens a new one to an endpoint of the backend Service. So an outside
network reaches a backend Pod through an Ingress rule when, for some Pod of a controller that serves the Ingress
(by its class: :meth:`netmodel.compile.ingress.IngressControllers.serving`, its data plane),

1. the network enters that Pod through one of the controller's NodePort/LoadBalancer Services on port 80 or 443
   (:attr:`IngressControllers.services`), and
2. that Pod reaches the backend Pod on the endpoint's port,

the two legs joined as for every proxy (:mod:`netmodel.analyze.proxy_entries`). Every rule (host, path) and the
``defaultBackend`` is a row of its own, ``via`` ``Ingress NS/NAME (host, path → service:port)``
(``defaultBackend → service:port`` for the default backend), on the backend Pod's port. An Ingress no controller
serves (NM-EXT-010) or a backend that does not resolve (NM-EXT-006/007) gives no row, as nothing carries it.
A controller entered only through a host port is not among the matrix's entries (they are Service entries).
"""

from __future__ import annotations

import re

from netmodel.analyze.proxy_entries import ProxyEntries, ProxyFront, distinct_backends
from netmodel.analyze.reach.compiled_cluster import Backend, CompiledCluster
from netmodel.compile.ingress import HTTP_PORTS, backend_service_port, controller_pods
from netmodel.model.objects import Ingress, IngressBackend
from netmodel.sets.ports import TCP

VIA = re.compile(r"^Ingress (\S+)/(\S+) \((.*) → (\S+):(\S+)\)$")


def ingress_via(ingress: Ingress, backend: IngressBackend) -> str:
    """How a matrix row entering through one rule of ``ingress`` names it
    (``Ingress shop/web (shop.example.com, /cart → cart:80)``)."""
    rule = "defaultBackend" if backend.default else f"{backend.host or '*'}, {backend.path or '/'}"
    return f"Ingress {ingress.qualified_name} ({rule} → {backend.service}:{backend.port})"


def parse_via(via: str) -> tuple[str, str] | None:
    """(``ingress:NS/NAME``, host: "" for the default backend or a rule for every host) of a row's ``via``
    through an Ingress, else None.

    >>> parse_via("Ingress shop/web (shop.example.com, /cart → cart:80)"), parse_via("Service a/b NodePort 30080")
    (('ingress:shop/web', 'shop.example.com'), None)
    """
    m = VIA.match(via)
    if m is None:
        return None
    rule = m.group(3)
    host = "" if rule == "defaultBackend" else rule.split(", ", 1)[0]
    return f"ingress:{m.group(1)}/{m.group(2)}", "" if host == "*" else host


def rule_backends(compiled: CompiledCluster, ingress: Ingress, backend: IngressBackend) -> list[Backend]:
    """The endpoints (Pods, with their port) one rule sends to: the backend Service port's endpoints, on TCP
    (an Ingress carries HTTP); none when the Service or port does not resolve."""
    found = backend_service_port(compiled.topology, ingress, backend)
    if found is None or found[1].protocol != TCP:
        return []
    return distinct_backends(compiled.backends(*found))


def rule_of(compiled: CompiledCluster, via: str) -> tuple[Ingress, IngressBackend] | None:
    """The Ingress and rule a row's ``via`` names, when the layout has them."""
    m = VIA.match(via)
    if m is None:
        return None
    for ingress in compiled.topology.ingresses:
        if (ingress.namespace, ingress.name) == (m.group(1), m.group(2)):
            for backend in ingress.backends:
                if ingress_via(ingress, backend) == via:
                    return ingress, backend
    return None


def served(compiled: CompiledCluster) -> list[tuple[Ingress, frozenset[str]]]:
    """Each Ingress some controller serves, with the qualified names of the Pods that carry its traffic."""
    found = compiled.ingress_controllers
    out = []
    for ingress in compiled.topology.ingresses:
        serving = found.serving(ingress)
        if serving.problem:
            continue  # NM-EXT-010: no controller carries it
        pods = frozenset(compiled.topology.pods[i].qualified_name for i in controller_pods(found, serving))
        if pods:
            out.append((ingress, pods))
    return out


def ingress_backed(compiled: CompiledCluster) -> dict[tuple[str, str], list[str]]:
    """Per backend Pod (namespace, name), the Ingress rules and ports it is reached on (for the grouped map:
    Pods an Ingress sends to through different rules or ports are told apart)."""
    out: dict[tuple[str, str], list[str]] = {}
    for ingress, _ in served(compiled):
        for backend in ingress.backends:
            for b in rule_backends(compiled, ingress, backend):
                assert b.pod is not None
                out.setdefault((b.pod.namespace, b.pod.name), []).append(f"{ingress_via(ingress, backend)}/{b.port}")
    return out


def enter_ingresses(proxies: ProxyEntries) -> None:
    """Record, for every served Ingress, rule and outside network, the backend Pods reached through it."""
    compiled = proxies.compiled
    services = frozenset(svc.qualified_name for svc in compiled.ingress_controllers.services)
    for ingress, pods in served(compiled):
        firsts = proxies.firsts(ProxyFront(pods, services, frozenset(HTTP_PORTS), TCP))
        if not firsts:
            continue
        for backend in ingress.backends:
            proxies.record(firsts, rule_backends(compiled, ingress, backend), TCP, ingress_via(ingress, backend))


__all__ = ["VIA", "enter_ingresses", "ingress_backed", "ingress_via", "parse_via", "rule_backends", "rule_of",
           "served"]
