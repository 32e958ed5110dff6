"""Services, hostPorts and masquerading as kube-proxy-style nftables NAT (table ``nm_svc`` per node).

* ClusterIP: DNAT in ``prerouting`` (Pods) and ``output`` (the node itself) to the Service's endpoints,
  targetPort resolved per endpoint (by number, or by name and protocol on each endpoint Pod; a Pod without the
  name is no endpoint, as the EndpointSlice controller does). With kube-proxy's ``masqueradeAll`` the
  connection is SNATed to the node.
* NodePort (NodePort and LoadBalancer Services): DNAT of traffic to any local address on the nodePort.
  ``externalTrafficPolicy: Cluster`` SNATs to the entry node's address and may pick any endpoint; ``Local``
  keeps the client address and picks only endpoints on the entry node (none: dropped, as kube-proxy does).
* hostPort: DNAT of the node's port to the Pod's containerPort, on the Pod's node.
* Hairpin (a Pod reaching itself through a Service) is SNATed to the node, as kube-proxy does.
* Masquerading of Pod traffic leaving the node through the underlay, by the solver's rule
  (:mod:`netmodel.compile.masquerade`): the CNI's outbound NAT (``cni.natOutgoing``: every destination outside
  the pod network — the other nodes included — for Calico, Flannel, Antrea and Weave by default; not the nodes
  for Cilium) and ip-masq-agent (every destination outside ``nonMasqueradeCIDRs``).

Endpoint choice: kube-proxy picks at random. To check *every* endpoint, a probe steers: source ports in
`STEERING_PORTS` map to endpoints by block (see `Steering`); any other source port is balanced at random. The
lab's ephemeral range stops below `STEERING_PORTS`, so only probes use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from netmodel.compile import services as compiled
from netmodel.compile.masquerade import masquerade_of
from netmodel.emulate.nft_common import join, l4_match, nft_set
from netmodel.model.objects import Node, Pod, Service, ServicePort
from netmodel.model.topology import Topology
from netmodel.sets import AddressSet, IntervalSet, IPAddress, protocol_label
from netmodel.sets.addresses import ALL_IPV4, ALL_IPV6

SVC_TABLE = "nm_svc"
STEERING_PORTS = (60000, 60999)
EPHEMERAL_PORTS = "32768 59999"  # net.ipv4.ip_local_port_range in the lab: below the steering ports
SNAT_MARK = "0x4000"


@dataclass(frozen=True, slots=True)
class ServiceBackend:
    """One endpoint of one Service port: an address and the port DNAT sends to."""

    address: IPAddress
    port: int
    pod: Pod | None
    node: str  # the endpoint's node ("" when unknown)


@dataclass(frozen=True, slots=True)
class Steering:
    """Source-port blocks that pick each backend of one DNAT rule: ``(backend, low, high)``."""

    blocks: tuple[tuple[ServiceBackend, int, int], ...]

    @classmethod
    def of(cls, backends: tuple[ServiceBackend, ...]) -> Steering:
        """Split the steering source ports into one block per backend."""
        low, high = STEERING_PORTS
        size = (high - low + 1) // max(1, len(backends))
        return cls(tuple((b, low + i * size, low + (i + 1) * size - 1) for i, b in enumerate(backends)))


def proxies_services(topology: Topology) -> bool:
    """Whether the lab programs Service translation: the model's rule
    (:func:`netmodel.compile.services.proxies_services`)."""
    return compiled.proxies_services(topology.cluster)


def service_backends(topology: Topology, service: Service, port: ServicePort,
                     version: int) -> tuple[ServiceBackend, ...]:
    """Endpoints of ``port`` of family ``version``: the analyzer's rule
    (:func:`netmodel.compile.services.service_endpoints`), minus endpoints without a port or an address of
    that family, which get no DNAT target."""
    out: list[ServiceBackend] = []
    for ep in compiled.service_endpoints(topology, service, port):
        address = ep.address(version)
        if ep.port is not None and address is not None:
            out.append(ServiceBackend(address, ep.port, ep.pod, ep.node_name))
    return tuple(out)


def _dnat(match: str, protocol: int, backends: tuple[ServiceBackend, ...], version: int) -> list[str]:
    """DNAT lines: steered by source port first, then at random."""
    family = "ip" if version == 4 else "ip6"
    proto = protocol_label(protocol).lower()

    def target(b: ServiceBackend) -> str:
        address = str(b.address) if version == 4 else f"[{b.address}]"
        return f"{address} . {b.port}"

    steering = Steering.of(backends)
    steered = ", ".join(f"{lo}-{hi} : {target(b)}" for b, lo, hi in steering.blocks)
    spread = ", ".join(f"{i} : {target(b)}" for i, b in enumerate(backends))
    return [
        f"{match} dnat {family} to {proto} sport map {{ {steered} }}",
        f"{match} dnat {family} to numgen random mod {len(backends)} map {{ {spread} }}",
    ]


def _node_ip(node: Node, version: int) -> IPAddress | None:
    return next((ip for ip in node.internal_ips + node.ips if ip.version == version), None)


def _l4(protocol: int, port: int) -> str:
    return l4_match(IntervalSet.single(protocol), IntervalSet.single(port))[0]


def service_rules(topology: Topology, node: Node) -> tuple[list[str], bool]:
    """Lines of the ``services`` chain, and whether NodePort SNAT marks are set."""
    lines: list[str] = []
    if not proxies_services(topology):
        return lines, False
    masquerade_all = topology.cluster.masquerade_all
    for svc in topology.services:
        for sp in svc.ports:
            for cluster_ip in svc.cluster_ips:
                version = cluster_ip.version
                backends = service_backends(topology, svc, sp, version)
                if not backends:
                    continue
                family = "ip" if version == 4 else "ip6"
                match = join(f"{family} daddr {cluster_ip}", _l4(sp.protocol, sp.port))
                if masquerade_all:
                    match = join(match, f"ct mark set {SNAT_MARK}")
                lines += _dnat(match, sp.protocol, backends, version)
            if svc.type not in ("NodePort", "LoadBalancer") or sp.node_port is None:
                continue
            for version in sorted({ip.version for ip in node.ips}):
                backends = service_backends(topology, svc, sp, version)
                match = join(f"meta nfproto ipv{version} fib daddr type local",
                             _l4(sp.protocol, sp.node_port))
                if svc.external_traffic_policy == "Local":
                    backends = tuple(b for b in backends if b.node == node.name)
                else:
                    match = join(match, f"ct mark set {SNAT_MARK}")
                if backends:
                    lines += _dnat(match, sp.protocol, backends, version)
                else:
                    lines.append(f"{match} drop")
    return lines, True


def host_port_rules(topology: Topology, node: Node) -> list[str]:
    """The nft DNAT rules for the hostPorts of the Pods on ``node``."""
    lines = []
    for pod in topology.pods_by_node.get(node.name, ()):
        if pod.host_network:
            continue
        for cp in pod.ports:
            if cp.host_port is None:
                continue
            for ip in pod.ips:
                family = "ip" if ip.version == 4 else "ip6"
                address = str(ip) if ip.version == 4 else f"[{ip}]"
                lines.append(join(f"meta nfproto ipv{ip.version} fib daddr type local",
                                  _l4(cp.protocol, cp.host_port),
                                  f"dnat {family} to {address}:{cp.port}"))
    return lines


def snat_rules(topology: Topology, node: Node, uplinks: list[str]) -> list[str]:
    """Postrouting lines: NodePort/masqueradeAll SNAT, hairpin SNAT, then Pod masquerading."""
    lines = []
    for version in (4, 6):
        node_ip = _node_ip(node, version)
        if node_ip is None:
            continue
        family = "ip" if version == 4 else "ip6"
        lines.append(f"meta nfproto ipv{version} ct mark {SNAT_MARK} snat {family} to {node_ip}")
        local = [ip for p in topology.pods_by_node.get(node.name, ())
                 if not p.host_network for ip in p.ips if ip.version == version]
        for ip in local:
            lines.append(f"{family} saddr {ip} {family} daddr {ip} ct status dnat "
                         f"snat {family} to {node_ip}")
        if not local:
            continue
        # The solver's rule (compile/masquerade.py): SNAT unless every rule in force keeps the destination.
        keep = masquerade_of(topology).kept
        if _keeps_everything(keep, version):
            continue  # natOutgoing: false and no ip-masq-agent
        cidrs = [str(c) for c in keep.cidrs() if c.version == version]
        keep_match = f"{family} daddr != {nft_set(cidrs)}" if cidrs else ""
        links = nft_set(f'"{u}"' for u in uplinks)
        lines.append(join(f"{family} saddr {nft_set(str(ip) for ip in local)}", f"oifname {links}",
                          keep_match, f"snat {family} to {node_ip}"))
    return lines


def _keeps_everything(keep: AddressSet, version: int) -> bool:
    return (ALL_IPV4 if version == 4 else ALL_IPV6) <= keep


def nat_ruleset(topology: Topology, node: Node, uplinks: list[str]) -> str:
    """The node's nft NAT table: Service and hostPort DNAT, then the outbound SNAT rules."""
    services, _ = service_rules(topology, node)
    services += host_port_rules(topology, node)
    snat = snat_rules(topology, node, uplinks)
    out = [f"table inet {SVC_TABLE} {{",
           "  chain pre {", "    type nat hook prerouting priority dstnat; policy accept;",
           "    jump services", "  }",
           "  chain out {", "    type nat hook output priority -100; policy accept;",
           "    jump services", "  }",
           "  chain post {", "    type nat hook postrouting priority srcnat; policy accept;",
           *[f"    {line}" for line in snat], "  }",
           "  chain services {", *[f"    {line}" for line in services], "  }",
           "}"]
    return "\n".join(out) + "\n"
