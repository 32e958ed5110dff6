"""``query --to ingress:NS/NAME``: from a client through the ingress controller to the Ingress's backends.

An ingress controller is a proxy (docs/reachability.md, "Ingress"), so each path is the two legs of
:mod:`netmodel.analyze.reach.proxy` joined by a ``proxy`` step that names the Ingress rule and the backend
Service port, with their lines: the client → a controller Service on port 80 or 443, ending at a Pod of a
controller that serves the Ingress (by its class), then that Pod → each endpoint of the backend Service of each
rule that serves the host asked (every rule when none is asked).
"""

from __future__ import annotations

from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.analyze.reach.paths import Tracer
from netmodel.analyze.reach.proxy import SecondLegs, first_legs, second_legs, stop
from netmodel.analyze.reach.refs import Endpoint
from netmodel.analyze.reach.trace import Decision, Disposition, Hop, Path, Step, StepRecord
from netmodel.compile.ingress import HTTP_PORTS, backend_service_port, controller_pods
from netmodel.errors import Problem, UsageError
from netmodel.model.objects import Ingress, IngressBackend, Pod
from netmodel.model.topology import Topology
from netmodel.sets.ports import TCP

WHY_UNSERVED = {
    "missing-class": "its IngressClass does not exist (NM-EXT-010)",
    "no-class": "it names no IngressClass and none is the default (NM-EXT-010)",
    "unclaimed-annotation": "no controller claims its kubernetes.io/ingress.class (NM-EXT-010)",
    "no-controller": "no ingress controller is known (NM-EXT-010)",
    "no-pods": "no Pod in the input runs the controller its class names (NM-EXT-010)",
}


def find_ingress(topology: Topology, ref: str) -> Ingress:
    """The Ingress an ``ingress:NAMESPACE/NAME`` reference names; a usage error listing known ones otherwise."""
    body = ref.partition(":")[2].strip()
    namespace, _, name = body.rpartition("/")
    found = next((i for i in topology.ingresses if (i.namespace, i.name) == (namespace or "default", name)), None)
    if found is None:
        known = ", ".join(i.qualified_name for i in topology.ingresses[:8]) or "none"
        raise UsageError([Problem(f"unknown Ingress {body!r}", None,
                                  f"write ingress:NAMESPACE/NAME of an Ingress in the input (known: {known})")])
    return found


def host_matches(rule_host: str, host: str) -> bool:
    """Whether a rule's ``host`` takes requests for ``host``: no host (``*``) takes every one; ``*.foo.com`` one
    label below foo.com only ("Hostname wildcards", Kubernetes Ingress docs); else the same name.

    >>> host_matches("*.foo.com", "bar.foo.com"), host_matches("*.foo.com", "baz.bar.foo.com"), host_matches("*", "x")
    (True, False, True)
    """
    rule_host = rule_host.lower().rstrip(".")
    if rule_host in ("", "*"):
        return True
    if rule_host.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == rule_host[2:]
    return rule_host == host


def serving_rules(ingress: Ingress, host: str = "") -> list[IngressBackend]:
    """The rules (and default backend) that may take a request for ``host`` ("" = any host: all of them).

    For a host: the rules whose host matches it and the ``defaultBackend``, which takes what no rule matches
    ("DefaultBackend") — unless a matching rule has path ``/``, taken to match every path (Prefix, and the
    ImplementationSpecific of the common controllers); which path of several a request takes is not judged."""
    if not host:
        return list(ingress.backends)
    rules = [b for b in ingress.backends if not b.default and host_matches(b.host, host)]
    covered = any(b.path in ("", "/") for b in rules)
    return rules + ([] if covered else [b for b in ingress.backends if b.default])


def ingress_paths(compiled: CompiledCluster, sources: list[Endpoint], ref: str, protocol: int, port: int,
                  tracer: Tracer, host: str = "") -> list[Path]:
    """Every path from ``sources`` through Ingress ``ref`` on ``port`` (80 or 443) to the backends of the rules
    that serve ``host`` (:func:`serving_rules`)."""
    ingress = find_ingress(compiled.topology, ref)
    label = f"ingress:{ingress.qualified_name}"
    what = Decision("Ingress", ingress.qualified_name, "ingressClassName", False, ingress.source)
    if port not in HTTP_PORTS or protocol != TCP:
        return [stop(sources, label, f"an ingress controller takes HTTP on TCP 80 and 443, not {port}",
                     Disposition.NO_LISTENER, what)]
    found = compiled.ingress_controllers
    serving = found.serving(ingress)
    pods = set(controller_pods(found, serving)) if not serving.problem else set()
    if not pods:
        why = WHY_UNSERVED.get(serving.problem, "no Pod carries its controller's traffic")
        return [stop(sources, label, f"Ingress {ingress.qualified_name}: {why}", Disposition.NO_ENDPOINTS, what)]
    services = [svc for svc in found.services if any(p.port == port and p.node_port for p in svc.ports)
                and pods & set(compiled.pod_index.select(svc.namespace, svc.selector))]
    if not services:
        why = f"no NodePort/LoadBalancer Service selects its controller's Pods on port {port}"
        return [stop(sources, label, f"Ingress {ingress.qualified_name}: {why}", Disposition.NO_ENDPOINTS, what)]
    rules = serving_rules(ingress, host)
    names = {compiled.topology.pods[i].qualified_name for i in pods}
    out: list[Path] = []
    second: SecondLegs = {}
    for first, pod in first_legs(compiled, sources, services, protocol, port, tracer):
        if pod is None or pod.qualified_name not in names:
            out.append(Path(first.source, f"{label} ({first.destination})", first.hops))
            continue
        if not rules:
            hop = Hop(label, (StepRecord(Step.PROXY, f"no rule serves host {host} and there is no defaultBackend: "
                                         "the controller answers with its own default (404)", False,
                                         Disposition.NO_ENDPOINTS, (what,)),))
            out.append(Path(first.source, label, first.hops + (hop,)))
        for rule in rules:
            ended = _unresolved(compiled, ingress, rule, first, label)
            out.extend([ended] if ended is not None else
                       _through(compiled, tracer, ingress, rule, first, pod, label, second))
    return out


def _rule_text(rule: IngressBackend) -> str:
    where = "defaultBackend" if rule.default else f"host {rule.host or '*'} path {rule.path or '/'}"
    return f"{where} → Service {rule.service} port {rule.port}"


def _unresolved(compiled: CompiledCluster, ingress: Ingress, rule: IngressBackend, first: Path,
                label: str) -> Path | None:
    """The path a rule whose Service or port does not exist ends on (NM-EXT-006/007), else None."""
    if backend_service_port(compiled.topology, ingress, rule) is not None:
        return None
    decision = Decision("Ingress", ingress.qualified_name, "backend", False, rule.source)
    hop = Hop(label, (StepRecord(Step.PROXY, f"{_rule_text(rule)}: the Service or its port does not exist "
                                 "(NM-EXT-006/007)", False, Disposition.NO_ENDPOINTS, (decision,)),))
    return Path(first.source, f"{label} → service:{ingress.namespace}/{rule.service}", first.hops + (hop,))


def _through(compiled: CompiledCluster, tracer: Tracer, ingress: Ingress, rule: IngressBackend, first: Path,
             pod: Pod, label: str, second: SecondLegs) -> list[Path]:
    resolved = backend_service_port(compiled.topology, ingress, rule)
    assert resolved is not None
    svc, service_port = resolved
    decision = Decision("Ingress", ingress.qualified_name, "backend", True, rule.source)
    backends = [b for b in compiled.backends(svc, service_port) if b.port is not None]
    if not backends:
        hop = Hop(label, (StepRecord(Step.PROXY, f"{_rule_text(rule)}: the Service has no endpoints", False,
                                     Disposition.NO_ENDPOINTS, (decision,)),))
        return [Path(first.source, f"{label} → service:{svc.qualified_name}", first.hops + (hop,))]
    proxy = Hop(label, (StepRecord(Step.PROXY, f"{_rule_text(rule)}: the controller Pod {pod.qualified_name} "
                                   "opens a new connection to each endpoint", True, None, (decision,)),))
    return second_legs(compiled, tracer, first, pod, label, proxy, backends, service_port.protocol, second)


__all__ = ["find_ingress", "host_matches", "ingress_paths", "serving_rules"]
