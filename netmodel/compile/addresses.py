"""Who owns an address: a Pod, a node, a Service, or an outside network.

Node, Pod and Service addresses (and the pod and service CIDRs) belong to the cluster. Any other address belongs
to the most specific outside network whose CIDRs contain it (longest prefix), so with ``internet: 0.0.0.0/0``
and ``office: 198.51.100.0/24``, ``network:internet`` is the internet minus the office minus the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from netmodel.model.objects import Node, OutsideNetwork, Pod, Service
from netmodel.model.topology import Topology
from netmodel.sets import AddressSet, IPAddress


@dataclass(frozen=True, slots=True)
class Owner:
    """What an address is: ``kind`` is pod | node | service | network | cluster-range | unknown."""

    kind: str
    name: str
    obj: object = None


class AddressBook:
    """Address ownership for one topology, computed once."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self._nodes: dict[IPAddress, Node] = {ip: n for n in topology.nodes for ip in n.ips}
        self._services: dict[IPAddress, Service] = {}
        for svc in topology.services:
            for ip in svc.cluster_ips + svc.external_ips + svc.load_balancer_ips:
                self._services.setdefault(ip, svc)

    @cached_property
    def _pods(self) -> dict[IPAddress, Pod]:
        """Each Pod address (not hostNetwork) → the first Pod holding it; built when an address's owner is first
        asked for (a whole check may never ask, and hashing the envelope's 150,000 addresses costs a tenth of a
        second)."""
        out: dict[IPAddress, Pod] = {}
        for pod in self.topology.pods:
            if not pod.host_network:
                for ip in pod.ips:
                    out.setdefault(ip, pod)
        return out

    @cached_property
    def pod_ranges(self) -> AddressSet:
        """The cluster pod CIDRs and every node's pod CIDRs."""
        c = self.topology.cluster
        return AddressSet.of_networks(c.pod_cidrs) | AddressSet.of_networks(
            cidr for n in self.topology.nodes for cidr in n.pod_cidrs)

    @cached_property
    def service_ranges(self) -> AddressSet:
        """The service CIDRs."""
        return AddressSet.of_networks(self.topology.cluster.service_cidrs)

    @cached_property
    def node_addresses(self) -> AddressSet:
        """Every node address."""
        return AddressSet.of_networks(self._nodes)

    @cached_property
    def cluster(self) -> AddressSet:
        """Every address that belongs to the cluster rather than to an outside network."""
        return (self.pod_ranges | self.service_ranges | self.node_addresses
                | AddressSet.of_addresses(ip for pod in self.topology.pods if not pod.host_network for ip in pod.ips)
                | AddressSet.of_networks(self._services))

    @cached_property
    def networks(self) -> dict[str, AddressSet]:
        """Each outside network's own addresses: its CIDRs minus more specific networks' and the cluster's."""
        entries = [(cidr, n) for n in self.topology.cluster.networks for cidr in n.cidrs]
        out: dict[str, AddressSet] = {}
        for n in self.topology.cluster.networks:
            own = AddressSet()
            for cidr in n.cidrs:
                block = AddressSet.of_networks([cidr])
                for other_cidr, other in entries:
                    if other is n or other_cidr.version != cidr.version:
                        continue
                    longer = other_cidr.prefixlen > cidr.prefixlen
                    tie_lost = other_cidr == cidr and self.topology.cluster.networks.index(other) < \
                        self.topology.cluster.networks.index(n)
                    if longer or tie_lost:
                        block = block - AddressSet.of_networks([other_cidr])
                own = own | block
            out[n.name] = own - self.cluster
        return out

    def network_as_written(self, network: OutsideNetwork) -> AddressSet:
        """A network's CIDRs exactly as written (what a firewall rule naming it matches)."""
        return AddressSet.of_networks(network.cidrs)

    def owner(self, ip: IPAddress) -> Owner:
        """What holds ``ip``: a Pod, node or Service, a cluster range, an outside network, or nothing
        known."""
        if ip in self._pods:
            return Owner("pod", self._pods[ip].qualified_name, self._pods[ip])
        if ip in self._nodes:
            return Owner("node", self._nodes[ip].name, self._nodes[ip])
        if ip in self._services:
            svc = self._services[ip]
            return Owner("service", svc.qualified_name, svc)
        if self.pod_ranges.contains(ip) or self.service_ranges.contains(ip):
            return Owner("cluster-range", str(ip))
        for name, addresses in self.networks.items():
            if addresses.contains(ip):
                return Owner("network", name)
        return Owner("unknown", str(ip))

    def pod_at(self, ip: IPAddress) -> Pod | None:
        """The Pod with address ``ip``, or None."""
        return self._pods.get(ip)

    def node_at(self, ip: IPAddress) -> Node | None:
        """The node with address ``ip``, or None."""
        return self._nodes.get(ip)

    def service_at(self, ip: IPAddress) -> Service | None:
        """The Service with address ``ip`` (ClusterIP or external), or None."""
        return self._services.get(ip)
