"""Answer "can FROM reach TO on PORT/PROTOCOL, and if not, what blocks it?" for references.

Every pair of concrete endpoints the references stand for is traced; Pods that share a class and a node take
identical paths, so one of them stands for the rest.
"""

from __future__ import annotations

from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.analyze.reach.entries import family_fits, service_targets
from netmodel.analyze.reach.paths import Tracer
from netmodel.analyze.reach.refs import Endpoint, resolve
from netmodel.analyze.reach.trace import Answer, Path
from netmodel.errors import Problem, UsageError
from netmodel.model.fields import is_port_name
from netmodel.model.names import is_dns1123_label, is_dns1123_subdomain
from netmodel.model.topology import Topology
from netmodel.sets import protocol_number
from netmodel.sets.numbers import brief, is_decimal

QUERY_PROTOCOLS = ("TCP", "UDP", "SCTP")


def _representatives(compiled: CompiledCluster, endpoints: tuple[Endpoint, ...]) -> list[Endpoint]:
    seen: dict[tuple[object, ...], Endpoint] = {}
    for e in endpoints:
        key: tuple[object, ...] = (e.kind, e.label)
        if e.pod is not None:
            key = ("pod", compiled.class_of(e.pod).id, e.pod.node_name)
        seen.setdefault(key, e)
    return list(seen.values())


def parse_protocol(text: str) -> int:
    """The IP protocol number of ``TCP``, ``UDP`` or ``SCTP`` (any case); a usage error for anything else."""
    name = text.strip().upper()
    if name not in QUERY_PROTOCOLS:
        raise UsageError([Problem(f"unknown protocol {text!r}", None, "use TCP, UDP or SCTP")])
    return protocol_number(name)


def parse_port(text: str | int) -> int | str:
    """A number 1-65535, or a named port (resolved on each destination Pod or Service)."""
    if isinstance(text, int) or is_decimal(str(text)):
        number = int(text)
        if not 1 <= number <= 65535:
            raise UsageError([Problem(f"port {number} is outside 1-65535", None, "give a port between 1 and 65535")])
        return number
    name = str(text).strip()
    if name.isascii() and name.isdigit():  # decimal, but longer than any port
        raise UsageError([Problem(f"port {brief(name)} is outside 1-65535", None, "give a port between 1 and 65535")])
    # A container port name is an IANA_SVC_NAME; a Service port name a DNS-1123 label (it may be longer).
    if not (is_port_name(name) or is_dns1123_label(name)):
        raise UsageError([Problem(f"{brief(str(text))!r} is neither a port number nor a port name", None,
                                  "give a number 1-65535 (80) or a container/Service port name: lower-case "
                                  "letters, digits and '-' (http)")])
    return name


def check_port_name(topology: Topology, port: int | str) -> None:
    """A named port that no Pod and no Service of ``topology`` has is a usage error, not a closed port.

    ``--port 0x50``, ``1e3`` or ``nan`` are valid names, but a name no one declares is a typo or a number
    written the wrong way; answering "denied" for it would be a false alarm.
    """
    if isinstance(port, int):
        return
    declared = {p.name for pod in topology.pods for p in pod.ports} | {
        p.name for svc in topology.services for p in svc.ports}
    if port not in declared:
        raise UsageError([Problem(f"no Pod or Service in the input has a port named {port!r}", None,
                                  "write the port as a decimal number (80), or use a name the input declares"
                                  + (f" ({', '.join(sorted(n for n in declared if n)[:8])}…)" if declared else ""))])


def parse_host(text: str) -> str:
    """A request hostname (HTTP Host, TLS SNI) to ask a Gateway about: a DNS-1123 subdomain, lower-cased; no
    wildcard and no IP address (``HTTPRoute.spec.hostnames`` allows neither as a request's host)."""
    host = text.strip().lower().rstrip(".")
    if not is_dns1123_subdomain(host) or host.replace(".", "").isdigit():
        raise UsageError([Problem(f"{brief(text)!r} is not a host name", None,
                                  "give the DNS name a client asks for (api.example.com), without '*' or port")])
    return host


def query(compiled: CompiledCluster, source: str, destination: str, port: int | str, protocol: str = "TCP",
          tracer: Tracer | None = None, host: str = "") -> Answer:
    """Trace every (source, destination) endpoint pair; see :class:`Answer` for how they combine.

    >>> from netmodel.load import parse_text
    >>> from netmodel.model.build import build_topology
    >>> pods = "\\n---\\n".join(
    ...     "{apiVersion: v1, kind: Pod, metadata: {name: %s, namespace: x, labels: {pod: %s}}, "
    ...     "spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}" % (n, n) for n in "ab")
    >>> answer = query(CompiledCluster(build_topology(parse_text(pods, "t.yaml"))), "x/a", "x/b", 80)
    >>> answer.allowed, answer.disposition.value
    (True, 'delivered')
    """
    number = parse_protocol(protocol)
    port = parse_port(port)
    kind = destination.partition(":")[0].strip().lower()
    is_gateway = kind == "gateway"
    if host and kind not in ("gateway", "ingress"):
        raise UsageError([Problem(f"a host name ({host}) is asked of a Gateway or an Ingress only, not of "
                                  f"{destination!r}", None,
                                  "ask --to gateway:NS/NAME or ingress:NS/NAME with --host, or leave --host out")])
    host = parse_host(host) if host else ""
    src = resolve(compiled, source, as_source=True)
    tracer = tracer or Tracer(compiled)
    sources = _representatives(compiled, src.endpoints)
    if is_gateway:
        # gateway:NS/NAME: through the Gateway's listener on the port (for the host, when given) to its routes'
        # backends.
        from netmodel.analyze.reach.gateway import gateway_paths

        if not isinstance(port, int):
            raise UsageError([Problem(f"a Gateway is asked on a listener port number, not {port!r}", None,
                                      "give the listener's port (80)")])
        shown = f"{destination} (host {host})" if host else destination
        return Answer(source, shown, port, protocol.upper(),
                      tuple(gateway_paths(compiled, sources, destination, number, port, tracer, host)))
    if kind == "ingress":
        # ingress:NS/NAME: through the ingress controller on 80/443 to the backends of the rules serving the host.
        from netmodel.analyze.reach.ingress import ingress_paths

        if not isinstance(port, int):
            raise UsageError([Problem(f"an Ingress is asked on port 80 or 443, not {port!r}", None,
                                      "give --port 80 or 443")])
        shown = f"{destination} (host {host})" if host else destination
        return Answer(source, shown, port, protocol.upper(),
                      tuple(ingress_paths(compiled, sources, destination, number, port, tracer, host)))
    dst = resolve(compiled, destination, as_source=False)
    paths: list[Path] = []
    targets = [(d, port) for d in _representatives(compiled, dst.endpoints)]
    if destination.partition(":")[0].strip().lower() == "service":
        # service:NS/NAME names the Service, not an address: from outside, its outside entry points. An ip: of
        # the ClusterIP is asked as written.
        targets = [t for d, p in targets for t in service_targets(compiled, sources, d, number, p)]
    for d, to_port in targets:
        # An outside source is one fixed address: only the samples of the destination's family can send to it
        # (all of them, when none can: the tracer then says why there is no route).
        same_family = [s for s in sources if family_fits(s, d)]
        for s in same_family or sources:
            paths.extend(tracer.trace(s, d, number, to_port))
    return Answer(source, destination, port, protocol.upper(), tuple(paths))
