"""How the ingress controller is found, and where outside clients enter it.

Kubernetes does not record which Pods implement an IngressClass (``spec.controller`` is a free-form string
only the controller itself reads), so netmodel identifies the controller by the convention every major chart
follows (ingress-nginx, Traefik, HAProxy, Contour's Envoy, ...):

* **Controller Pods** carry ``app.kubernetes.io/component: controller``.
* They are entered from outside either through a **Service** of type NodePort or LoadBalancer that selects
  such Pods and has a ``port`` 80 or 443 (clients, or the cloud load balancer in front, reach the Service's
  ``nodePort`` on the nodes: every node with ``externalTrafficPolicy: Cluster``, only nodes running a
  controller Pod with ``Local``), or through a **host port**: a controller Pod with ``hostPort`` 80/443, or with
  ``hostNetwork`` and containerPort 80/443, is entered on its own node's port 80/443.

Every controller found this way is taken to serve every IngressClass (the model cannot tell them apart). A
load balancer is assumed to keep the client's address (the node firewall sees the client).
"""

from __future__ import annotations

from dataclasses import dataclass

from netmodel.compile.pod_index import PodIndex
from netmodel.errors import SourceSpan
from netmodel.model.objects import Pod, Service
from netmodel.model.topology import Topology
from netmodel.sets.ports import TCP

CONTROLLER_LABEL = ("app.kubernetes.io/component", "controller")
HTTP_PORTS = (80, 443)


@dataclass(frozen=True, slots=True)
class IngressEntry:
    """One way into the controller: clients' ``port`` (80/443) arrives on ``node_port`` of ``nodes``."""

    port: int
    node_port: int
    nodes: tuple[str, ...]
    via: str  # "service" | "host-port"
    ref: str  # Service/NS/NAME or Pod/NS/NAME
    source: SourceSpan


def is_controller_pod(pod: Pod) -> bool:
    return pod.labels.get(CONTROLLER_LABEL[0]) == CONTROLLER_LABEL[1]


def controller_services(topology: Topology, index: PodIndex) -> tuple[Service, ...]:
    """NodePort/LoadBalancer Services with a port 80/443 in front of controller Pods."""
    out = []
    for svc in topology.services:
        if svc.type not in ("NodePort", "LoadBalancer"):
            continue
        if not any(p.port in HTTP_PORTS and p.node_port for p in svc.ports):
            continue
        if any(is_controller_pod(topology.pods[i]) for i in index.select(svc.namespace, svc.selector)):
            out.append(svc)
    return tuple(out)


def ingress_entries(topology: Topology, index: PodIndex) -> tuple[IngressEntry, ...]:
    entries: list[IngressEntry] = []
    all_nodes = tuple(n.name for n in topology.nodes)
    for svc in controller_services(topology, index):
        pods = [topology.pods[i] for i in sorted(index.select(svc.namespace, svc.selector))]
        endpoint_nodes = tuple(sorted({p.node_name for p in pods}))
        nodes = endpoint_nodes if svc.external_traffic_policy == "Local" else all_nodes
        for p in svc.ports:
            if p.port in HTTP_PORTS and p.node_port and p.protocol == TCP:
                entries.append(IngressEntry(p.port, p.node_port, nodes, "service", str(svc.ref), p.source))
    for pod in topology.pods:
        if not is_controller_pod(pod):
            continue
        for cp in pod.ports:
            bound = cp.host_port if cp.host_port is not None else (cp.port if pod.host_network else None)
            if bound in HTTP_PORTS and cp.protocol == TCP:
                entries.append(IngressEntry(bound, bound, (pod.node_name,), "host-port", str(pod.ref), cp.source))
    return tuple(entries)
