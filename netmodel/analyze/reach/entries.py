"""Where a question's sources enter its destination: a Service's outside entry points (load-balancer IPs,
externalIPs, nodePorts) for clients outside the cluster, and which source address families fit a destination.

Shared by :mod:`netmodel.analyze.reach.query` and :mod:`netmodel.analyze.reach.gateway`.
"""

from __future__ import annotations

from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.analyze.reach.paths import service_port
from netmodel.analyze.reach.refs import Endpoint, node_endpoint


def family_fits(src: Endpoint, dst: Endpoint) -> bool:
    """Whether an outside source can reach the destination: same IP family (other sources always fit)."""
    if src.kind != "outside" or src.address is None or dst.address is None:
        return True
    return src.address.version == dst.address.version


def service_targets(compiled: CompiledCluster, sources: list[Endpoint], dst: Endpoint, protocol: int,
                    port: int | str) -> list[tuple[Endpoint, int | str]]:
    """Where ``sources`` enter the Service endpoint ``dst``: from outside (every source outside), its outside
    entry points; else the address as resolved (its ClusterIP)."""
    if sources and all(s.kind == "outside" for s in sources):
        return _outside_entries(compiled, dst, protocol, port)
    return [(dst, port)]


def _outside_entries(compiled: CompiledCluster, dst: Endpoint, protocol: int,
                     port: int | str) -> list[tuple[Endpoint, int | str]]:
    """Where a client outside the cluster enters a Service: its LoadBalancer ingress IPs and externalIPs on the
    Service port, and its nodePort on the nodes (one node per firewall class, role and whether it runs an
    endpoint, since ``externalTrafficPolicy: Local`` tells those apart). A ClusterIP is never routed from
    outside, so it is asked only when the Service has no outside entry point (the answer then says so)."""
    svc = dst.service
    if dst.kind != "service" or svc is None or (dst.address is not None and dst.address not in svc.cluster_ips):
        return [(dst, port)]
    label = f"service:{svc.qualified_name}"
    out: list[tuple[Endpoint, int | str]] = [
        (Endpoint("service", f"{label} ({ip})", ip, service=svc), port)
        for ip in dict.fromkeys(svc.load_balancer_ips + svc.external_ips)]
    sp = service_port(svc, protocol, port)
    if sp is not None and sp.node_port is not None and svc.type in ("NodePort", "LoadBalancer"):
        backends = {b.node.name for b in compiled.backends(svc, sp) if b.node is not None}
        seen: set[tuple[object, ...]] = set()
        for node in compiled.topology.nodes:
            key = (tuple(f.name for f in compiled.firewalls.firewalls_of(node)), node.is_control_plane,
                   node.name in backends)
            if key in seen:
                continue
            seen.add(key)
            entry = node_endpoint(node)
            out.append((Endpoint("node", f"{entry.label} (nodePort {sp.node_port} of {label})", entry.address,
                                 node=node), sp.node_port))
    return out or [(dst, port)]
