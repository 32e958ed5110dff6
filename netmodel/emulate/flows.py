"""Which flows to replay: every endpoint against every open (and one closed) port, the Expectations, or a
deterministic sample of the first.

A flow names its ends the way the solver's query does (``pod:NS/NAME``, ``node:NAME``, ``ip:ADDRESS``), one
concrete address each, so the solver is asked about exactly the packet the lab sends: an outside network is
replayed from the solver's own sample addresses (one per region its rules tell apart), and a reference
standing for several Pods (a workload, a Service as a source) is split into one flow per Pod. An outside
sample address is only paired with destinations of its own IP family.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from netmodel.analyze.reach import CompiledCluster, Endpoint, resolve
from netmodel.compile.cni import node_flows
from netmodel.emulate.errors import EmulateError
from netmodel.model.objects import ExpectedFlow
from netmodel.sets import parse_address
from netmodel.sets.ports import SCTP, TCP, UDP

CLOSED_PORT = 9  # discard: declared by no layout we ship; each endpoint is also probed where nothing listens
PROTOCOLS = {TCP: "TCP", UDP: "UDP", SCTP: "SCTP"}


@dataclass(frozen=True, slots=True)
class Flow:
    """One packet to replay: solver references for both ends, a port (number or name), a protocol."""

    source: str
    destination: str
    port: int | str
    protocol: str  # TCP | UDP | SCTP
    expectation: ExpectedFlow | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What identifies the flow: source, destination, port and protocol."""
        return (self.source, self.destination, str(self.port), self.protocol)


def parse_selection(text: str) -> tuple[str, int]:
    """``all`` | ``expectations`` | ``sample:N`` → (mode, N)."""
    if text in ("all", "expectations"):
        return text, 0
    mode, _, number = text.partition(":")
    if mode == "sample" and number.isdigit() and int(number) > 0:
        return "sample", int(number)
    raise EmulateError(f"--flows {text!r}: use all, expectations or sample:N (N > 0)")


def source_ref(endpoint: Endpoint) -> str:
    """The query reference a flow uses for ``endpoint`` as its source: its Pod, its node, else its address."""
    if endpoint.pod is not None:
        return f"pod:{endpoint.pod.qualified_name}"
    if endpoint.kind == "node" and endpoint.node is not None:
        return f"node:{endpoint.node.name}"
    return f"ip:{endpoint.address}"


def sources(compiled: CompiledCluster) -> list[str]:
    """Every source the emulator samples flows from: addressed Pods, nodes and each outside network's
    addresses."""
    t = compiled.topology
    out = [f"pod:{p.qualified_name}" for p in t.pods if p.ips]
    out += [f"node:{n.name}" for n in t.nodes]
    for network in t.cluster.networks:
        out += [source_ref(e) for e in resolve(compiled, f"network:{network.name}", as_source=True).endpoints]
    return list(dict.fromkeys(out))


def destinations(compiled: CompiledCluster) -> list[tuple[str, int, int]]:
    """(reference, protocol, port): every Pod address, ClusterIP and node address with its open ports."""
    t = compiled.topology
    cp = t.cluster.control_plane
    out: list[tuple[str, int, int]] = []
    for pod in t.pods:
        if not pod.ips or not pod.ports:
            continue
        refs = [f"pod:{pod.qualified_name}"] + [f"ip:{ip}" for ip in pod.ips[1:]]
        ports = {(p.protocol, p.port) for p in pod.ports} | {(TCP, CLOSED_PORT)}
        out += [(ref, proto, number) for ref in refs for proto, number in sorted(ports)]
    for svc in t.services:
        for ip in svc.cluster_ips:
            out += [(f"ip:{ip}", sp.protocol, sp.port) for sp in svc.ports]
    node_ports: set[tuple[int, int]] = {(TCP, cp.ports.kubelet), (TCP, CLOSED_PORT)}
    for svc in t.services:
        node_ports |= {(sp.protocol, sp.node_port) for sp in svc.ports if sp.node_port is not None}
        if svc.health_check_node_port is not None:
            node_ports.add((TCP, svc.health_check_node_port))
    for flow in node_flows(t.cluster.cni):
        if flow.listens and flow.protocol == TCP and flow.to == "all":
            node_ports.add((TCP, flow.ports.first()))
    control = {(TCP, cp.ports.apiserver), (TCP, cp.ports.scheduler), (TCP, cp.ports.controller_manager)}
    if not cp.etcd_external:
        control |= {(TCP, lo) for lo, _ in cp.ports.etcd}
    for node in t.nodes:
        ports = set(node_ports) | (control if node.is_control_plane else set())
        for pod in t.pods_by_node.get(node.name, ()):
            ports |= {(p.protocol, p.host_port) for p in pod.ports if p.host_port is not None}
            if pod.host_network:
                ports |= {(p.protocol, p.port) for p in pod.ports}
        out += [(f"ip:{ip}", proto, number) for ip in node.ips for proto, number in sorted(ports)]
    return out


def family(compiled: CompiledCluster, ref: str) -> int | None:
    """The IP family a reference sends or receives with: an address's own, a Pod's first; None for a node."""
    if ref.startswith("ip:"):
        return parse_address(ref[3:]).version
    if ref.startswith("pod:"):
        pod = resolve(compiled, ref, as_source=False).endpoints[0]
        return pod.address.version if pod.address is not None else None
    return None


def all_flows(compiled: CompiledCluster) -> list[Flow]:
    """Every source against every destination port, except an outside sample address against a destination
    of the other IP family: such a packet cannot exist (the solver only traces outside networks to their own
    family, :mod:`netmodel.analyze.reach.query`), so it is neither a flow nor a skip."""
    network_samples = {ref for ref in sources(compiled) if ref.startswith("ip:")}
    targets = [(dst, proto, number, family(compiled, dst)) for dst, proto, number in destinations(compiled)
               if proto in PROTOCOLS]
    out = []
    for src in sources(compiled):
        version = family(compiled, src) if src in network_samples else None
        for dst, proto, number, dst_version in targets:
            if version is None or dst_version is None or version == dst_version:
                out.append(Flow(src, dst, number, PROTOCOLS[proto]))
    return out


def expectation_flows(compiled: CompiledCluster) -> list[Flow]:
    """Each Expectations flow, split into one flow per concrete source and destination."""
    out: list[Flow] = []
    for expectations in compiled.topology.expectations:
        for expected in expectations.flows:
            srcs = resolve(compiled, expected.from_ref, as_source=True).endpoints
            if expected.to_ref.partition(":")[0].strip().lower() in ("gateway", "ingress"):
                # Through a Gateway or an Ingress: kept whole, the plan skips it with the reason (run.py).
                out.extend(Flow(source_ref(s), expected.to_ref, expected.port, expected.protocol, expected)
                           for s in srcs)
                continue
            dsts = resolve(compiled, expected.to_ref, as_source=False).endpoints
            for s in srcs:
                for d in dsts:
                    dst = (f"pod:{d.pod.qualified_name}" if d.pod is not None and d.kind == "pod"
                           else f"ip:{d.address}")
                    out.append(Flow(source_ref(s), dst, expected.port, expected.protocol, expected))
    return out


def choose_flows(compiled: CompiledCluster, selection: str, seed: int = 0) -> list[Flow]:
    """The flows to replay for ``selection`` (``expectations``, or a sample of all flows), drawn with
    ``seed``."""
    mode, count = parse_selection(selection)
    if mode == "expectations":
        if not compiled.topology.expectations:
            raise EmulateError("--flows expectations: the inputs hold no Expectations object "
                               "(add a file with kind: Expectations to the paths)")
        return expectation_flows(compiled)
    flows = all_flows(compiled)
    if mode == "sample" and count < len(flows):
        picked = sorted(random.Random(seed).sample(range(len(flows)), count))
        flows = [flows[i] for i in picked]
    return flows


def describe(flow: Flow) -> str:
    """One line naming a flow: source → destination protocol port."""
    return f"{flow.source} → {flow.destination} {flow.protocol} {flow.port}"


def protocol_of(flow: Flow) -> int:
    """The IP protocol number of the flow's protocol name."""
    return {"TCP": TCP, "UDP": UDP, "SCTP": SCTP}[flow.protocol]

