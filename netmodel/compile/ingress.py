"""Which Pods implement an Ingress, and where outside clients enter them.

Kubernetes routes an Ingress to a controller through its class: ``spec.ingressClassName`` names an IngressClass
whose ``spec.controller`` is a string each controller compares with its own; an Ingress without a class takes
the IngressClass annotated ``ingressclass.kubernetes.io/is-default-class: "true"``; the deprecated annotation
``kubernetes.io/ingress.class`` names a class that controllers match by name. The API does not record which
Pods run a controller, so netmodel reads it off the Pods, as each controller reads its own flags
(docs/check-semantics.md, "The ingress controller", cites each default):

* a container argument ``--controller-class=C`` (ingress-nginx and its forks) makes the Pod controller ``C``;
* otherwise a well-known image, with its own flags and defaults: ingress-nginx (``k8s.io/ingress-nginx``,
  legacy class ``nginx``), F5 NGINX Ingress Controller (``nginx.org/ingress-controller``), Traefik (``traefik.io/ingress-controller``, ``traefik``), HAProxy Technologies'
  controller (``haproxy.org/ingress-controller``, plus ``/CLASS`` with ``--ingress.class=CLASS``), Contour and
  the Envoy Pods it bootstraps (``projectcontour.io/ingress-controller``, ``contour``), Kong
  (``ingress-controllers.konghq.com/kong``, ``kong``) and Istio's gateway (``istio.io/ingress-controller``,
  ``istio``; an ``istio/proxyv2`` container started as ``router``, not a sidecar).

The controller's Pods are entered from outside through a **Service** of type NodePort or LoadBalancer that
selects them and has a ``port`` 80 or 443 (clients, or the cloud load balancer, reach its ``nodePort``: on every
node with ``externalTrafficPolicy: Cluster``, on the nodes running a selected Pod with ``Local``), or through a
**host port** 80/443 (``hostPort``, or a ``hostNetwork`` containerPort). A LoadBalancer Service whose
``status.loadBalancer.ingress`` holds a node's own address (K3s ServiceLB) is also entered on that node at its
``port`` 80/443. The Pods behind such an entry are the
data plane: they are the ones that send traffic to the backends (Contour's own Pods configure Envoy and carry
none). A load balancer is assumed to keep the client's address (the node firewall sees the client).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from netmodel.compile.pod_index import PodIndex
from netmodel.errors import SourceSpan
from netmodel.model.gateway import ENVOY_GATEWAY_NAME, GATEWAY_NAME_LABELS
from netmodel.model.objects import Container, Ingress, IngressBackend, Pod, Service, ServicePort
from netmodel.model.topology import Topology
from netmodel.sets.ports import TCP

HTTP_PORTS = (80, 443)


@dataclass(frozen=True, slots=True)
class IngressEntry:
    """One way into the controller: clients' ``port`` (80/443) arrives on ``node_port`` of ``nodes``."""

    port: int
    node_port: int
    nodes: tuple[str, ...]
    via: str  # "service" | "load-balancer-ip" | "host-port"
    ref: str  # Service/NS/NAME or Pod/NS/NAME
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class ControllerIdentity:
    """What a controller Pod answers to: its ``spec.controller`` value and the legacy class name it claims."""

    implementation: str
    controller: str
    legacy_class: str


def _flag(args: tuple[str, ...], name: str) -> str:
    """The value of ``--name=value`` or ``--name value`` (single-dash spellings too), else ``""``."""
    for i, arg in enumerate(args):
        bare = arg.lstrip("-")
        if not arg.startswith("-") or not bare:
            continue
        if bare == name:
            return args[i + 1] if i + 1 < len(args) else ""
        if bare.startswith(name + "="):
            return bare[len(name) + 1:]
    return ""


def _repository(image: str) -> str:
    """``registry.k8s.io/ingress-nginx/controller:v1.10.1@sha256:…`` → ``registry.k8s.io/ingress-nginx/controller``."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: len(name) - len(last[-1]) + last[-1].index(":")]
    return name.lower()


def identify_container(container: Container) -> ControllerIdentity | None:
    """The ingress controller a container runs, from its image and flags, or None.

    >>> c = Container("c", (), SourceSpan("t", 0, 0), "registry.k8s.io/ingress-nginx/controller:v1.10.1",
    ...               ("/nginx-ingress-controller", "--controller-class=example.com/internal"))
    >>> identify_container(c)
    ControllerIdentity(implementation='ingress-nginx', controller='example.com/internal', legacy_class='nginx')
    >>> identify_container(Container("c", (), SourceSpan("t", 0, 0), "docker.io/traefik:v3.1")).controller
    'traefik.io/ingress-controller'
    """
    args, repo = container.args, _repository(container.image)
    last = repo.rsplit("/", 1)[-1]
    controller_class = _flag(args, "controller-class")
    if (repo.endswith(("ingress-nginx/controller", "ingress-nginx/controller-chroot"))
            or last == "nginx-ingress-controller" or (args and args[0].endswith("/nginx-ingress-controller"))
            or controller_class):
        return ControllerIdentity("ingress-nginx", controller_class or "k8s.io/ingress-nginx",
                                  _flag(args, "ingress-class") or "nginx")
    if repo.endswith(("nginx/nginx-ingress", "nginx-ic/nginx-plus-ingress")):
        # F5 NGINX Ingress Controller: single-dash flags, IngressClass controller nginx.org/ingress-controller.
        return ControllerIdentity("nginx-ingress", "nginx.org/ingress-controller",
                                  _flag(args, "ingress-class") or "nginx")
    if last == "traefik" or last.endswith("-traefik"):
        return ControllerIdentity("traefik", "traefik.io/ingress-controller",
                                  _flag(args, "providers.kubernetesingress.ingressclass") or "traefik")
    if repo.endswith("haproxytech/kubernetes-ingress"):
        cls = _flag(args, "ingress.class")
        return ControllerIdentity("haproxy", "haproxy.org/ingress-controller" + (f"/{cls}" if cls else ""),
                                  cls or "haproxy")
    if repo.endswith("projectcontour/contour"):
        return ControllerIdentity("contour", "projectcontour.io/ingress-controller",
                                  _flag(args, "ingress-class-name") or "contour")
    if repo.endswith("kong/kubernetes-ingress-controller") or last in ("kong", "kong-gateway"):
        return ControllerIdentity("kong", "ingress-controllers.konghq.com/kong",
                                  _flag(args, "ingress-class") or "kong")
    if last == "proxyv2" and "router" in args:
        return ControllerIdentity("istio", "istio.io/ingress-controller", "istio")
    return None


def identify_pod(pod: Pod) -> ControllerIdentity | None:
    """The first container that runs an ingress controller decides (Kong's proxy and controller share a Pod).

    A Pod labelled for one Gateway (the Gateway API's ``gateway.networking.k8s.io/gateway-name``, Istio's
    ``istio.io/gateway-name``, Envoy Gateway's owner label) is that Gateway's own proxy, made for it by its
    controller (Istio's automated deployment runs ``proxyv2 router`` too): it serves no Ingress."""
    if any(pod.labels.get(k) for k in (*GATEWAY_NAME_LABELS, ENVOY_GATEWAY_NAME)):
        return None
    return next((i for c in pod.containers if (i := identify_container(c)) is not None), None)


@dataclass(frozen=True, slots=True)
class Serving:
    """Who serves one Ingress: the controller values that claim it and their Pods (positions in
    ``topology.pods``), or why none does (``problem``: ``missing-class``, ``no-class``, ``no-pods``,
    ``unclaimed-annotation``, ``no-controller``)."""

    controllers: tuple[str, ...]
    pods: tuple[int, ...]
    problem: str = ""


class IngressControllers:
    """The ingress controllers of a topology, their entries from outside, and which of them serves an Ingress."""

    def __init__(self, topology: Topology, index: PodIndex) -> None:
        self.topology = topology
        self.index = index
        by_alike: dict[int, ControllerIdentity | None] = {}
        pods: dict[str, list[int]] = {}
        legacy: dict[str, set[str]] = {}
        alike: object = None  # the Pod before's Pod.alike, whose identity is ``identity``
        identity: ControllerIdentity | None = None
        for position, pod in enumerate(topology.pods):
            # Pods alike (a workload's, the input's read alike) have one identity: found once (and for a run of
            # them without a lookup).
            if pod.alike is not alike:
                alike = pod.alike
                key = id(alike)
                if key not in by_alike:
                    by_alike[key] = identify_pod(pod)
                identity = by_alike[key]
            if identity is None:
                continue
            pods.setdefault(identity.controller, []).append(position)
            legacy.setdefault(identity.legacy_class, set()).add(identity.controller)
        self.pods: dict[str, tuple[int, ...]] = {c: tuple(p) for c, p in pods.items()}
        self.legacy: dict[str, frozenset[str]] = {n: frozenset(c) for n, c in legacy.items()}
        self._all = frozenset(p for ps in self.pods.values() for p in ps)

    def is_controller(self, position: int) -> bool:
        """Whether the Pod at ``position`` is an ingress controller's."""
        return position in self._all

    @cached_property
    def services(self) -> tuple[Service, ...]:
        """NodePort/LoadBalancer Services with a port 80/443 in front of controller Pods."""
        out = []
        for svc in self.topology.services:
            if svc.type not in ("NodePort", "LoadBalancer"):
                continue
            if not any(p.port in HTTP_PORTS and p.node_port for p in svc.ports):
                continue
            if any(self.is_controller(i) for i in self.index.select(svc.namespace, svc.selector)):
                out.append(svc)
        return tuple(out)

    @cached_property
    def entries(self) -> tuple[IngressEntry, ...]:
        """Where outside traffic enters the ingress controllers: their Services' nodePorts, load-balancer
        node addresses and host ports."""
        topology = self.topology
        entries: list[IngressEntry] = []
        all_nodes = tuple(n.name for n in topology.nodes)
        node_at = {ip: n.name for n in topology.nodes for ip in n.ips}
        for svc in self.services:
            pods = [topology.pods[i] for i in sorted(self.index.select(svc.namespace, svc.selector))]
            endpoint_nodes = tuple(sorted({p.node_name for p in pods}))
            nodes = endpoint_nodes if svc.external_traffic_policy == "Local" else all_nodes
            for p in svc.ports:
                if p.port in HTTP_PORTS and p.node_port and p.protocol == TCP:
                    entries.append(IngressEntry(p.port, p.node_port, nodes, "service", str(svc.ref), p.source))
            # A load-balancer address that is a node's own address (K3s ServiceLB, and any implementation that
            # publishes node addresses) is entered on that node at the Service's port: kube-proxy captures
            # packets to status.loadBalancer.ingress addresses, ServiceLB's Pods bind the port as a hostPort.
            on_nodes = {node_at[ip] for ip in svc.load_balancer_ips if ip in node_at}
            if svc.type == "LoadBalancer" and svc.external_traffic_policy == "Local":
                on_nodes &= set(endpoint_nodes)
            if svc.type == "LoadBalancer" and on_nodes:
                for p in svc.ports:
                    if p.port in HTTP_PORTS and p.protocol == TCP:
                        entries.append(IngressEntry(p.port, p.port, tuple(sorted(on_nodes)), "load-balancer-ip",
                                                    str(svc.ref), p.source))
        for position in sorted(self._all):
            pod = topology.pods[position]
            for cp in pod.ports:
                bound = cp.host_port if cp.host_port is not None else (cp.port if pod.host_network else None)
                if bound in HTTP_PORTS and cp.protocol == TCP:
                    entries.append(IngressEntry(bound, bound, (pod.node_name,), "host-port", str(pod.ref),
                                                cp.source))
        return tuple(entries)

    @cached_property
    def _entered(self) -> frozenset[int]:
        """Controller Pods behind an entry: selected by an entry Service, or binding a host port 80/443."""
        out = {i for svc in self.services for i in self.index.select(svc.namespace, svc.selector)
               if self.is_controller(i)}
        refs = {e.ref for e in self.entries if e.via == "host-port"}
        out |= {i for i in self._all if str(self.topology.pods[i].ref) in refs}
        return frozenset(out)

    def data_plane(self, pods: Iterable[int]) -> tuple[int, ...]:
        """Of ``pods`` (one controller's), those that carry traffic: the ones behind an entry when any is."""
        pods = tuple(pods)
        entered = tuple(p for p in pods if p in self._entered)
        return entered or pods

    def serving(self, ingress: Ingress) -> Serving:
        """The controllers that serve ``ingress`` by its class, or the problem that none does."""
        classes = {c.name: c for c in self.topology.ingress_classes}
        if ingress.class_name and not ingress.class_from_annotation:
            cls = classes.get(ingress.class_name)
            if cls is None:
                return Serving((), (), "missing-class")
            wanted: frozenset[str] = frozenset({cls.controller})
        elif ingress.class_name:
            cls = classes.get(ingress.class_name)
            wanted = self.legacy.get(ingress.class_name, frozenset()) | (
                frozenset({cls.controller}) if cls is not None else frozenset())
            if not wanted:
                return Serving((), (), "unclaimed-annotation")
        else:
            defaults = [c for c in self.topology.ingress_classes if c.is_default]
            if defaults:
                wanted = frozenset(c.controller for c in defaults)
            elif classes:
                return Serving((), (), "no-class")
            else:
                wanted = frozenset(self.pods)  # no IngressClass at all: any controller may claim it
                if not wanted:
                    return Serving((), (), "no-controller")
        found = tuple(sorted(c for c in wanted if c in self.pods))
        if not found:
            return Serving(tuple(sorted(wanted)), (), "no-pods")
        return Serving(found, tuple(sorted(p for c in found for p in self.pods[c])))


def backend_service_port(topology: Topology, ingress: Ingress, backend: IngressBackend) -> tuple[Service, ServicePort] | None:
    """The Service port an Ingress backend sends to: the Service of that name in the Ingress's namespace, its port
    by ``number`` or by ``name`` (``IngressServiceBackend``); None when either is missing (NM-EXT-006/007)."""
    svc = topology.service_by_key.get((ingress.namespace, backend.service))
    if svc is None:
        return None
    port = next((p for p in svc.ports if (p.port == backend.port if isinstance(backend.port, int)
                                          else p.name == backend.port)), None)
    return (svc, port) if port is not None else None


def controller_pods(found: IngressControllers, serving: Serving) -> tuple[int, ...]:
    """The Pods (positions) that carry an Ingress's traffic: of each controller serving it, its data plane."""
    return tuple(sorted(p for c in serving.controllers if c in found.pods for p in found.data_plane(found.pods[c])))
