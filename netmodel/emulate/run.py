"""Replay flows in a lab and compare what the kernel did with what the solver said.

Each flow becomes one probe per concrete path the kernel can take: one for a Pod or node address, one per
endpoint for a ClusterIP or NodePort (steered by source port, see `netmodel.emulate.services`). The kernel's
verdict is ``allowed`` when every probe connected, ``denied`` when none did, ``partial`` otherwise; the
solver's is its `Answer.verdict`. A flow agrees when the two are equal.

Flows the lab cannot replay are *skipped with the reason* (SCTP on a kernel without it, a destination the
lab does not model such as a cloud load balancer's IP), never counted as agreeing.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from netmodel.analyze.reach import Answer, CompiledCluster, query, resolve
from netmodel.emulate.errors import EmulateError
from netmodel.emulate.features import KernelFeatures
from netmodel.emulate.flows import Flow, choose_flows, protocol_of
from netmodel.emulate.kernel import Lab
from netmodel.emulate.plan import PROTO_NAMES, Probe, Proto
from netmodel.emulate.results import ProbeOutcome, ProbeResult
from netmodel.emulate.services import Steering, proxies_services, service_backends
from netmodel.emulate.translate import LabLayout, translate
from netmodel.model.topology import Topology
from netmodel.sets import IPAddress, parse_address
from netmodel.sets.ports import SCTP

Solver = Callable[[Flow], Answer]
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


@dataclass(frozen=True, slots=True)
class PlannedFlow:
    """A flow with the probes that replay it, or the reason it cannot be replayed."""

    flow: Flow
    probes: tuple[Probe, ...] = ()
    skipped: str = ""
    fixed_verdict: str = ""  # a verdict the lab knows without a probe (a named port the Pod lacks)
    fixed_detail: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One replayed flow: what the solver said, what the kernel did, and the probes behind it."""

    flow: Flow
    solver: str  # allowed | denied | partial
    kernel: str
    answer: Answer
    results: tuple[ProbeResult, ...]
    detail: str = ""

    @property
    def agrees(self) -> bool:
        """Whether the solver and the kernel gave the same verdict."""
        return self.solver == self.kernel


@dataclass(frozen=True, slots=True)
class Report:
    """An emulation run: the outcomes, the flows skipped with why, notes and how long each stage took."""

    outcomes: tuple[Outcome, ...]
    skipped: tuple[tuple[Flow, str], ...]
    notes: tuple[str, ...]
    timings: Mapping[str, float] = field(default_factory=dict)

    @property
    def disagreements(self) -> tuple[Outcome, ...]:
        """The outcomes where the solver and the kernel differ."""
        return tuple(o for o in self.outcomes if not o.agrees)

    @property
    def expectation_misses(self) -> tuple[Outcome, ...]:
        """Flows whose kernel verdict contradicts the Expectations file they came from."""
        return tuple(o for o in self.outcomes if o.flow.expectation is not None
                     and o.kernel != ("allowed" if o.flow.expectation.allowed else "denied"))


def engine_solver(compiled: CompiledCluster) -> Solver:
    """The solver the emulator compares with the kernel: the engine's query on ``compiled``."""
    def solve(flow: Flow) -> Answer:
        return query(compiled, flow.source, flow.destination, flow.port, flow.protocol)
    return solve


# --------------------------------------------------------------------------------------- flow planning


class _Planner:
    """Turns flows into probes against a `LabLayout`, handing out unique steering source ports."""

    def __init__(self, topology: Topology, compiled: CompiledCluster, layout: LabLayout,
                 features: KernelFeatures | None) -> None:
        self.t = topology
        self.compiled = compiled
        self.layout = layout
        self.features = features
        self.used: dict[str, set[int]] = {}

    def _port(self, ns: str, low: int, high: int) -> int:
        """A steering source port in ``[low, high]`` no other probe from ``ns`` uses."""
        used = self.used.setdefault(ns, set())
        port = next((p for p in range(low, high + 1) if p not in used), None)
        if port is None:
            raise EmulateError(f"more than {high - low + 1} probes from {ns} steer to one endpoint; "
                               "use --flows sample:N")
        used.add(port)
        return port

    def source(self, ref: str, version: int) -> tuple[str, str | None] | str:
        """(lab namespace, source address) or the reason the source cannot send IPv``version``."""
        endpoint = resolve(self.compiled, ref, as_source=True).endpoints[0]
        if endpoint.pod is not None:
            pod = endpoint.pod
            ns = self.layout.pod_ns.get((pod.namespace, pod.name))
            ip = next((a for a in pod.ips if a.version == version), None)
            if ns is None or ip is None:
                return f"{ref} has no IPv{version} address in the lab"
            return ns, str(ip) if pod.host_network else None
        if endpoint.node is not None:
            node = endpoint.node
            ip = next((a for a in node.internal_ips + node.ips if a.version == version), None)
            if ip is None:
                return f"{ref} has no IPv{version} address"
            return self.layout.node_ns[node.name], str(ip)
        assert endpoint.address is not None
        ns = self.layout.outside_ns(endpoint.address)
        if ns is None or endpoint.address.version != version:
            return f"{ref} is not an address of the lab's outside networks"
        return ns, str(endpoint.address)

    def plan(self, flow: Flow) -> PlannedFlow:
        protocol = protocol_of(flow)
        if protocol == SCTP and (self.features is None or not self.features.sctp):
            return PlannedFlow(flow, skipped="SCTP: this kernel has no SCTP support (sctp module missing)")
        if flow.destination.startswith(("gateway:", "ingress:")):
            what = "a Gateway" if flow.destination.startswith("gateway:") else "an Ingress"
            return PlannedFlow(flow, skipped=f"through {what}: the gateway or ingress controller is a proxy that "
                                             "opens a second connection, which packets in the lab do not replay; its "
                                             "legs (the NodePort entry, the proxy Pod → backend) are flows of their "
                                             "own")
        dst = resolve(self.compiled, flow.destination, as_source=False).endpoints[0]
        if dst.address is None:
            return PlannedFlow(flow, skipped=f"{flow.destination} has no address")
        for ref in (flow.source, flow.destination):
            if ref.startswith("ip:") and unusable_on_the_wire(parse_address(ref[3:])):
                return PlannedFlow(flow, skipped=f"{ref[3:]} cannot be carried by a packet (this-network, "
                                                 "loopback or multicast)")
        where = self.source(flow.source, dst.address.version)
        if isinstance(where, str):
            return PlannedFlow(flow, skipped=where)
        ns, src_ip = where
        proto = PROTO_NAMES[protocol]
        address = dst.address
        if dst.service is not None:
            return self._service(flow, ns, src_ip, dst.service, address, protocol)
        port = flow.port
        if isinstance(port, str):
            if dst.pod is None:
                return PlannedFlow(flow, fixed_verdict="denied",
                                   fixed_detail=f"named port {port!r} on a destination that is no Pod")
            found = dst.pod.named_port(port, protocol)
            if found is None:
                return PlannedFlow(flow, fixed_verdict="denied",
                                   fixed_detail=f"{flow.destination} has no {flow.protocol} port named {port!r}")
            port = found.port
        if dst.node is not None and dst.pod is None:
            steered = self._node_port(ns, src_ip, dst.node.name, address, protocol, port)
            if steered:
                return PlannedFlow(flow, probes=steered)
        return PlannedFlow(flow, probes=(Probe(ns, proto, str(address), port, src_ip),))

    def _steer(self, ns: str, src_ip: str | None, proto: Proto, address: IPAddress, port: int,
               steering: Steering) -> tuple[Probe, ...]:
        return tuple(Probe(ns, proto, str(address), port, src_ip, self._port(ns, lo, hi))
                     for _, lo, hi in steering.blocks)

    def _service(self, flow: Flow, ns: str, src_ip: str | None, service: object, address: IPAddress,
                 protocol: int) -> PlannedFlow:
        from netmodel.model.objects import Service

        assert isinstance(service, Service)
        if address not in service.cluster_ips:
            return PlannedFlow(flow, skipped="LoadBalancer and external IPs: the cloud load balancer and the "
                                             "routing to externalIPs are not emulated")
        sp = next((p for p in service.ports if p.protocol == protocol and
                   (p.port == flow.port if isinstance(flow.port, int) else p.name == flow.port)), None)
        number = sp.port if sp is not None else flow.port if isinstance(flow.port, int) else None
        if number is None:
            return PlannedFlow(flow, fixed_verdict="denied",
                               fixed_detail=f"Service has no {flow.protocol} port named {flow.port!r}")
        backends = service_backends(self.t, service, sp, address.version) if sp is not None else ()
        proto = PROTO_NAMES[protocol]
        if not backends or not proxies_services(self.t):
            return PlannedFlow(flow, probes=(Probe(ns, proto, str(address), number, src_ip),))
        return PlannedFlow(flow, probes=self._steer(ns, src_ip, proto, address, number, Steering.of(backends)))

    def _node_port(self, ns: str, src_ip: str | None, node: str, address: IPAddress, protocol: int,
                   port: int) -> tuple[Probe, ...]:
        if not proxies_services(self.t):
            return ()
        for svc in self.t.services:
            if svc.type not in ("NodePort", "LoadBalancer"):
                continue
            for sp in svc.ports:
                if sp.node_port == port and sp.protocol == protocol:
                    backends = service_backends(self.t, svc, sp, address.version)
                    if svc.external_traffic_policy == "Local":
                        backends = tuple(b for b in backends if b.node == node)
                    if backends:
                        return self._steer(ns, src_ip, PROTO_NAMES[protocol], address, port,
                                           Steering.of(backends))
        return ()


# ------------------------------------------------------------------------------------------- the run


def unusable_on_the_wire(address: IPAddress) -> bool:
    """Addresses no packet can carry as its source or destination (0.0.0.0/8, loopback, multicast)."""
    if address.version == 4 and address in _THIS_NETWORK:
        return True
    return address.is_unspecified or address.is_loopback or address.is_multicast or (
        address.version == 4 and address.is_reserved)


def outside_addresses(compiled: CompiledCluster, flows: Sequence[Flow]) -> dict[str, list[IPAddress]]:
    """The outside addresses the flows speak from or to, grouped by the network that owns them."""
    out: dict[str, list[IPAddress]] = {}
    for flow in flows:
        for ref in (flow.source, flow.destination):
            if not ref.startswith("ip:"):
                continue
            address = parse_address(ref[3:])
            if unusable_on_the_wire(address):
                continue
            owner = compiled.addresses.owner(address)
            if owner.kind in ("network", "unknown"):
                bucket = out.setdefault(owner.name if owner.kind == "network" else "", [])
                if address not in bucket:
                    bucket.append(address)
    return out


def outside_ports(compiled: CompiledCluster, flows: Sequence[Flow]) -> list[tuple[str, int]]:
    """(protocol, port) of every flow to an outside address, so the lab can listen there."""
    ports = []
    for flow in flows:
        if flow.destination.startswith("ip:") and isinstance(flow.port, int):
            owner = compiled.addresses.owner(parse_address(flow.destination[3:]))
            if owner.kind in ("network", "unknown"):
                ports.append((flow.protocol.lower(), flow.port))
    return list(dict.fromkeys(ports))


def _verdict(results: Sequence[ProbeResult]) -> str:
    reached = sum(r.reachable for r in results)
    return "allowed" if reached == len(results) else "denied" if reached == 0 else "partial"


# A silent probe is the kernel's word for "dropped" only if the silence is not the machine's: on a loaded host a
# SYN answered late reads as a drop. So a timed-out probe of a flow the solver judged differently is asked once
# more, few at a time, with a longer wait. A real drop stays silent the second time too; the answer that counts
# is the second one. Probes that connected or were refused are never asked again (those answers cannot be late).
RETRY_TIMEOUT_FACTOR = 6.0
RETRY_CONCURRENCY = 16


def _ask_silent_probes_again(lab: Lab, planned: Sequence[PlannedFlow], answers: Mapping[int, Answer],
                             results: Sequence[ProbeResult], probe_timeout: float) -> tuple[ProbeResult, ...]:
    """Re-run, with a longer timeout, the timed-out probes of flows whose kernel verdict disagrees."""
    final = list(results)
    retry: list[int] = []
    cursor = 0
    for p in planned:
        if p.skipped:
            continue
        span = range(cursor, cursor + len(p.probes))
        cursor += len(p.probes)
        if p.fixed_verdict or _verdict(results[span.start:span.stop]) == answers[id(p)].verdict:
            continue
        retry.extend(i for i in span if results[i].outcome is ProbeOutcome.TIMEOUT)
    if retry:
        again = lab.probe([results[i].probe for i in retry], timeout=probe_timeout * RETRY_TIMEOUT_FACTOR,
                          concurrency=RETRY_CONCURRENCY)
        for i, result in zip(retry, again, strict=True):
            final[i] = result
    return tuple(final)


def emulate(topology: Topology, selection: str = "all", features: KernelFeatures | None = None,
            solver: Solver | None = None, probe_timeout: float = 0.5,
            hold: Callable[[Lab], None] | None = None) -> Report:
    """Plan, solve, build, probe, compare and tear down. ``hold`` runs with the lab alive (``--keep``)."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    compiled = CompiledCluster(topology)
    flows = choose_flows(compiled, selection)
    layout = translate(topology, outside_addresses(compiled, flows), outside_ports(compiled, flows), features)
    planner = _Planner(topology, compiled, layout, features)
    planned = [planner.plan(f) for f in flows]
    timings["plan_s"] = time.monotonic() - started
    solve = solver or engine_solver(compiled)
    clock = time.monotonic()
    answers = {id(p): solve(p.flow) for p in planned if not p.skipped}
    timings["solve_s"] = time.monotonic() - clock
    probes = [probe for p in planned for probe in p.probes]
    with Lab(layout.plan, probe_timeout=probe_timeout) as lab:
        clock = time.monotonic()
        results = lab.probe(probes)
        timings["probe_s"] = time.monotonic() - clock
        clock = time.monotonic()
        results = _ask_silent_probes_again(lab, planned, answers, results, probe_timeout)
        timings["reprobe_s"] = time.monotonic() - clock
        timings.update({f"lab_{k}": v for k, v in lab.timings.items()})
        if hold is not None:
            hold(lab)
    timings.update({f"lab_{k}": v for k, v in lab.timings.items()})
    outcomes, skipped, cursor = [], [], 0
    for p in planned:
        if p.skipped:
            skipped.append((p.flow, p.skipped))
            continue
        mine = tuple(results[cursor:cursor + len(p.probes)])
        cursor += len(p.probes)
        kernel = p.fixed_verdict or _verdict(mine)
        outcomes.append(Outcome(p.flow, answers[id(p)].verdict, kernel, answers[id(p)], mine, p.fixed_detail))
    timings["total_s"] = time.monotonic() - started
    return Report(tuple(outcomes), tuple(skipped), layout.notes, timings)

