"""What backs a Service and who proxies Services: one rule each, read by the analyzer and by ``emulate``.

What backs a Service port (Kubernetes Service API, ``spec.selector``: "If empty or not present, the service is
assumed to have an external process managing its endpoints, which Kubernetes will not modify"):

* a non-empty ``selector``: every Pod of the Service's namespace whose labels include it and that has an
  address, with ``targetPort`` resolved on that Pod (a number as it is; a name by name and protocol among the
  Pod's container ports, ``None`` when the Pod lacks it — the EndpointSlice controller then leaves it out);
* no selector or ``selector: {}``: the ready endpoints of the EndpointSlices labelled for the Service (their
  first address, as kube-proxy uses it), the port the slice names for the Service port's name and protocol,
  else a numeric ``targetPort``.

Who proxies Services: kube-proxy unless its mode is ``none``, or a CNI that replaces it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from netmodel.compile.addresses import AddressBook
from netmodel.compile.pod_index import PodIndex
from netmodel.errors import SourceSpan
from netmodel.model.objects import Cluster, Pod, Service, ServicePort
from netmodel.model.topology import Topology
from netmodel.sets import IPAddress


@dataclass(frozen=True, slots=True)
class ServiceEndpoint:
    """One endpoint of one Service port."""

    addresses: tuple[IPAddress, ...]  # a Pod's addresses (every family); an EndpointSlice endpoint's first
    pod: Pod | None  # the Pod at the address, if any
    node_name: str  # the endpoint's node ("" when unknown)
    port: int | None  # the resolved targetPort; None when a named targetPort does not exist on this Pod
    source: SourceSpan

    def address(self, version: int | None = None) -> IPAddress | None:
        """The first address (of IP family ``version`` when given)."""
        return next((ip for ip in self.addresses if version is None or ip.version == version), None)


def proxies_services(cluster: Cluster) -> bool:
    """Whether anything turns Service addresses and NodePorts into endpoints: kube-proxy (any mode but
    ``none``) or a CNI running as its replacement."""
    return cluster.kube_proxy_mode != "none" or cluster.cni.kube_proxy_replacement


def selects_pods(service: Service) -> bool:
    """Whether the Service's endpoints come from its selector (else from EndpointSlices the user manages)."""
    return bool(service.selector)


def endpoints_key(service: Service, port: ServicePort) -> Hashable:
    """Everything :func:`service_endpoints` reads of ``service`` and ``port``: two Service ports with equal keys
    in one topology have equal endpoints (Services sharing a selector share their Pods), so callers asking for
    every Service port can compute each distinct one once."""
    if selects_pods(service):
        return True, selection_key(service), port.target_port, port.protocol
    return False, service.namespace, service.name, port.name, port.protocol, port.target_port


def selection_key(service: Service) -> Hashable:
    """Everything :func:`endpoint_pods` reads of a selector Service: Services with equal keys are backed by the
    same Pods (each of their ports resolves its targetPort on them)."""
    assert service.selector is not None
    return service.namespace, frozenset(service.selector.items())


def endpoint_pods(topology: Topology, service: Service, pod_index: PodIndex | None = None) -> list[int]:
    """The Pods backing a selector Service, by position in ``topology.pods`` (ascending): those of its namespace
    whose labels include the selector and that have an address."""
    index = pod_index or PodIndex.of(topology)
    pods = topology.pods
    return [i for i in sorted(index.select(service.namespace, service.selector)) if pods[i].ips]


def target_port_on(pod: Pod, port: ServicePort) -> int | None:
    """``port``'s targetPort on one endpoint Pod: a number as it is; a name by name and protocol among the Pod's
    container ports, None when the Pod lacks it."""
    if isinstance(port.target_port, int):
        return port.target_port
    found = pod.named_port(port.target_port, port.protocol)
    return found.port if found is not None else None


def service_endpoints(topology: Topology, service: Service, port: ServicePort, pod_index: PodIndex | None = None,
                      addresses: AddressBook | None = None) -> tuple[ServiceEndpoint, ...]:
    """The endpoints of one Service port (see the module docstring). ``pod_index`` and ``addresses`` are built
    from ``topology`` when not given; pass them when asking for many Services."""
    out: list[ServiceEndpoint] = []
    if selects_pods(service):
        pods = topology.pods
        for i in endpoint_pods(topology, service, pod_index):
            pod = pods[i]
            out.append(ServiceEndpoint(pod.ips, pod, pod.node_name, target_port_on(pod, port), pod.source))
        return tuple(out)
    book = addresses or AddressBook(topology)
    for eps in topology.endpoint_slices:
        if eps.namespace != service.namespace or eps.service_name != service.name:
            continue
        number = next((p.port for p in eps.ports if p.name == port.name and p.protocol == port.protocol),
                      port.target_port if isinstance(port.target_port, int) else None)
        for ep in eps.endpoints:
            if not ep.ready or not ep.addresses:
                continue
            address = ep.addresses[0]
            holder = book.pod_at(address)
            out.append(ServiceEndpoint((address,), holder, holder.node_name if holder else ep.node_name, number,
                                       eps.source))
    return tuple(out)


__all__ = ["ServiceEndpoint", "endpoint_pods", "endpoints_key", "proxies_services", "selection_key", "selects_pods",
           "service_endpoints", "target_port_on"]
