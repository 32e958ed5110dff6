"""Requirement 3, Pod-to-Service: selectors, target ports, ClusterIPs, the proxy and cluster DNS.

* NM-SVC-001 — a selector that matches no Pod (answered from :class:`PodIndex`, not by scanning): an error when
  something routes to the Service (an Ingress backend, an Expectations flow that must be allowed to it), since
  that traffic is black-holed; a warning otherwise. One finding per Service, naming what routes to it.
* NM-SVC-002 — a targetPort no selected Pod exposes: by name an error (the endpoint cannot be resolved), by
  number a warning (the container may listen without declaring it). A numeric targetPort is fine when some
  selected Pod listens there by the engine's rule (:func:`~netmodel.analyze.policy.classes.listens_on`): it
  declares that port, or declares no containerPorts at all.
* NM-SVC-003 — the selected Pods declare the target port only with another protocol (and none listens on it).
* NM-SVC-004/005 — a ClusterIP outside every service CIDR, or shared by two Services.
* NM-SVC-006 — kube-proxy mode ``none`` and no CNI replacement.
* NM-SVC-007 (warning) — no kube-system/kube-dns Service in a layout with a Cluster object.

Pods of one workload declare the same ports, so each Service looks at one Pod per distinct container list.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from netmodel.analyze.checks.common import FirstClaims, unique, unique_spans
from netmodel.analyze.findings import Finding, Severity
from netmodel.analyze.policy.classes import listens_on, port_signature
from netmodel.analyze.unscheduled import pending_clause
from netmodel.compile.context import CheckContext
from netmodel.compile.services import proxies_services, selection_key
from netmodel.errors import SourceSpan, UsageError
from netmodel.model.labels import LabelSelector
from netmodel.model.objects import Pod, Service, ServicePort
from netmodel.sets import IPAddress, protocol_label

REQUIREMENT = "pod-to-service"


def _has_selector(svc: Service) -> bool:
    return bool(svc.selector) and svc.type != "ExternalName"


def _routes_to(ctx: CheckContext, services: list[Service]) -> dict[tuple[str, str], list[tuple[str, str, SourceSpan]]]:
    """What sends traffic to each of ``services`` (keyed by namespace and name): ``(object, how, where)`` per
    Ingress backend, and per Expectations flow that must be allowed to it (object ``""``; the reference is
    resolved as ``query`` resolves it, so ``service:NS/NAME`` and ``ip:`` of its ClusterIP both count)."""
    wanted = {(s.namespace, s.name) for s in services}
    out: dict[tuple[str, str], list[tuple[str, str, SourceSpan]]] = {}
    for ing in ctx.topology.ingresses:
        for backend in ing.backends:
            if (ing.namespace, backend.service) in wanted:
                out.setdefault((ing.namespace, backend.service), []).append(
                    (str(ing.ref), f"Ingress {ing.qualified_name}", backend.source))
    flows = [f for e in ctx.topology.expectations for f in e.flows if f.allowed]
    if flows:
        # Resolving needs the compiled cluster (built on first use), so it is imported and built only for flows.
        from netmodel.analyze.reach.compiled_cluster import compiled_cluster_of
        from netmodel.analyze.reach.refs import resolve
        for flow in flows:
            try:
                target = resolve(compiled_cluster_of(ctx), flow.to_ref, as_source=False)
            except UsageError:
                continue  # NM-EXPECT-002 reports the reference
            keys = {(e.service.namespace, e.service.name) for e in target.endpoints if e.service is not None}
            for key in keys & wanted:
                out.setdefault(key, []).append(
                    ("", f"the Expectations flow {flow.from_ref} → {flow.to_ref} port {flow.port}", flow.source))
    return out


def check_selectors_match(ctx: CheckContext) -> Iterator[Finding]:
    """NM-SVC-001."""
    empty = [svc for svc in ctx.topology.services
             if _has_selector(svc) and not ctx.pod_index.select(svc.namespace, svc.selector)]
    routed = _routes_to(ctx, empty) if empty else {}
    for svc in empty:
        routes = routed.get((svc.namespace, svc.name), [])
        pending = ctx.topology.pending_selected(svc.namespace, LabelSelector.of(svc.selector))
        if pending:  # the selector is right: its Pods are not placed
            what = (f"Service {svc.qualified_name} selects no running Pod: {pending_clause(pending)}; the Service "
                    "has no endpoints")
            fix = "Fix: the selector is right; let those Pods run (the reason above says what keeps them Pending)."
        else:
            what = (f"Service {svc.qualified_name} selects no Pod: no Pod in namespace {svc.namespace} has all "
                    f"labels {svc.selector}; the Service has no endpoints"
                    f"{ctx.topology.unseen_pods_hint(svc.namespace)}")
            fix = "Fix: make spec.selector match the Pod template labels."
        if not routes:
            yield Finding("NM-SVC-001", Severity.WARNING, REQUIREMENT, f"{what}. {fix}", (str(svc.ref),),
                          unique_spans([svc.source]))
            continue
        hows = list(dict.fromkeys(how for _, how, _ in routes))
        more = f" and {len(hows) - 3} more" if len(hows) > 3 else ""
        yield Finding(
            "NM-SVC-001", Severity.ERROR, REQUIREMENT,
            f"{what}, but traffic is sent to it by {', '.join(hows[:3])}{more}: it is dropped (black-holed). {fix}",
            (str(svc.ref),) + unique(obj for obj, _, _ in routes if obj),
            unique_spans([svc.source] + [span for _, _, span in routes]))


def _distinct_port_lists(pods: list[Pod]) -> list[Pod]:
    """One Pod per distinct declared port list (name, number, protocol), the first in input order.

    The key leaves source spans out: hashing them would locate every Pod in its file (seconds at 150,000 Pods).
    The Pods of one workload share one ports tuple: a tuple already seen is not keyed again.
    """
    seen: dict[tuple[tuple[str, int, int], ...], Pod] = {}
    keyed: set[int] = set()  # ids of the Pod.alike values keyed so far (the Pods hold them, so the ids stay theirs)
    for pod in pods:
        ports = pod.ports
        if id(pod.alike) not in keyed:  # Pods alike declare the same ports
            keyed.add(id(pod.alike))
            seen.setdefault(tuple((cp.name, cp.port, cp.protocol) for cp in ports), pod)
    return list(seen.values())


def _target_problem(port: ServicePort, pods: list[Pod]) -> tuple[str, Severity, str] | None:
    """``(check id, severity, message)`` for a service port none of ``pods`` can serve, else None. The message
    follows the Service port's label (:func:`_port_label`): it depends on the Pods, targetPort and protocol alone."""
    target = port.target_port
    proto = protocol_label(port.protocol)
    if isinstance(target, str):
        named = [cp for pod in pods for cp in pod.ports if cp.name == target]
        if any(cp.protocol == port.protocol for cp in named):
            return None
        if named:
            other = protocol_label(named[0].protocol)
            return ("NM-SVC-003", Severity.ERROR,
                    (f" targets port {target!r} over {proto}, but the selected Pods declare {target!r} as "
                     f"{named[0].port}/{other}. Fix: set the Service port's protocol to {other} or fix the "
                     f"container port."))
        names = sorted({cp.name for pod in pods for cp in pod.ports if cp.name})
        return ("NM-SVC-002", Severity.ERROR,
                (f" targets the named port {target!r}, which no selected Pod declares "
                 f"(they name: {', '.join(names) or 'no ports'}); the Service gets no endpoints. Fix: set "
                 f"targetPort to one of those names or a number, or name the container port {target!r}."))
    if any(listens_on(port_signature(pod), port.protocol, target) for pod in pods):
        return None  # the engine delivers there: a Pod declaring no containerPorts may listen anywhere
    numbered = [cp for pod in pods for cp in pod.ports if cp.port == target]
    if numbered:
        other = protocol_label(numbered[0].protocol)
        return ("NM-SVC-003", Severity.ERROR,
                (f" sends {proto} to targetPort {target}, but the selected Pods declare {target}/{other}. "
                 f"Fix: make the protocols agree."))
    return ("NM-SVC-002", Severity.WARNING,
            (f" targets port {target}/{proto}, which no selected Pod declares as a containerPort; "
             f"connections fail unless a container listens there anyway. Fix: declare containerPort {target} or "
             f"correct targetPort."))


def _port_label(svc: Service, port: ServicePort) -> str:
    return f"Service {svc.qualified_name} port {port.name or port.port} ({port.port}/{protocol_label(port.protocol)})"


def check_target_ports(ctx: CheckContext) -> Iterator[Finding]:
    """NM-SVC-002 and NM-SVC-003."""
    # Services with one selector in one namespace select alike, and what their ports' targetPorts lack depends
    # on the selected Pods, the targetPort and the protocol: each is worked out once.
    by_selection: dict[Hashable, list[Pod]] = {}
    problems: dict[tuple[Hashable, int | str, int], tuple[str, Severity, str] | None] = {}
    for svc in ctx.topology.services:
        if not _has_selector(svc):
            continue
        key = selection_key(svc)
        pods = by_selection.get(key)
        if pods is None:
            pods = by_selection[key] = _distinct_port_lists(ctx.selected(svc))
        if not pods:
            continue  # NM-SVC-001 already says it
        for port in svc.ports:
            asked = (key, port.target_port, port.protocol)
            if asked in problems:
                problem = problems[asked]
            else:
                problem = problems[asked] = _target_problem(port, pods)
            if problem is not None:
                check_id, severity, message = problem
                yield Finding(check_id, severity, REQUIREMENT, _port_label(svc, port) + message, (str(svc.ref),),
                              unique_spans([port.source, svc.source]))


def check_cluster_ips(ctx: CheckContext) -> Iterator[Finding]:
    """NM-SVC-004 and NM-SVC-005."""
    cidrs = ctx.topology.cluster.service_cidrs
    claims: FirstClaims[IPAddress, Service] = FirstClaims()
    for svc in ctx.topology.services:
        for ip in svc.cluster_ips:
            if not any(ip.version == c.version and ip in c for c in cidrs):
                yield Finding(
                    "NM-SVC-004", Severity.ERROR, REQUIREMENT,
                    f"Service {svc.qualified_name} has ClusterIP {ip}, outside every service CIDR "
                    f"({', '.join(map(str, cidrs))}); the API server rejects it and kube-proxy does not program it. "
                    f"Fix: pick an address inside the service CIDR or leave clusterIP empty.",
                    (str(svc.ref),), unique_spans([svc.source]))
            other = claims.earlier(ip, svc)
            if other is not None:
                yield Finding(
                    "NM-SVC-005", Severity.ERROR, REQUIREMENT,
                    f"Services {other.qualified_name} and {svc.qualified_name} share ClusterIP {ip}; "
                    f"only one can own it. Fix: give one of them another clusterIP.",
                    (str(other.ref), str(svc.ref)), unique_spans([other.source, svc.source]))


def check_service_proxy(ctx: CheckContext) -> Iterator[Finding]:
    """NM-SVC-006."""
    cluster = ctx.topology.cluster
    if not proxies_services(cluster):
        yield Finding(
            "NM-SVC-006", Severity.ERROR, REQUIREMENT,
            f"kubeProxy.mode is none and the CNI ({cluster.cni.plugin}) does not replace kube-proxy, so no "
            f"component translates ClusterIPs to Pods. Fix: set kubeProxy.mode (iptables, ipvs, nftables), or use "
            f"cilium with cni.kubeProxyReplacement: true.",
            (f"Cluster/{cluster.name}",), unique_spans([cluster.source]))


def check_cluster_dns(ctx: CheckContext) -> Iterator[Finding]:
    """NM-SVC-007."""
    if not ctx.has_cluster or ("kube-system", "kube-dns") in ctx.topology.service_by_key:
        return
    cluster = ctx.topology.cluster
    yield Finding(
        "NM-SVC-007", Severity.WARNING, REQUIREMENT,
        "no cluster DNS Service kube-system/kube-dns: Pods cannot resolve Service names. Fix: add the kube-dns "
        "Service (and CoreDNS) to the layout.",
        (f"Cluster/{cluster.name}",), unique_spans([cluster.source]))
