"""The topology as a networkx ``MultiDiGraph``: who hosts, routes to, fronts and enters whom.

Built once from the :class:`Topology` by :func:`build_graph`; checks and renderers read it and never edit it
(the typed model stays the source of truth). Diagram code should rely only on the names documented here.

Vertices (id → attributes). Every vertex has ``kind``, ``name``, ``label`` (short display text) and ``source``
(a :class:`SourceSpan`, line 0 for made-up objects):

==========================  ===================  =======================================================
id                          ``kind``             other attributes
==========================  ===================  =======================================================
``network:NAME``            ``network``          ``cidrs`` (tuple of str), ``uses`` (sorted tuple)
``underlay``                ``underlay``         ``cni`` (plugin), ``mode``, ``encapsulation`` (``native``
                                                 or the tunnel), ``encryption``
``node:NAME``               ``node``             ``role`` (control-plane|worker), ``addresses``,
                                                 ``pod_cidrs``, ``firewalls`` (names), ``zone``
``pod:NS/NAME``             ``pod``              ``namespace``, ``node``, ``addresses``, ``host_network``,
                                                 ``owner`` (``Kind/NS/NAME`` or ""), ``labels``
``service:NS/NAME``         ``service``          ``namespace``, ``type``, ``cluster_ips``, ``ports`` (tuple of
                                                 ``"80/TCP->http"`` / ``"80:30080/TCP->http"`` strings),
                                                 ``ingress_controller`` (bool), ``gateway_entry`` (bool: it
                                                 fronts a Gateway's Pods on a listener port)
``ingress:NS/NAME``         ``ingress``          ``namespace``, ``ingress_class``
``ingress-controller``      ``ingress-controller``  ``classes`` (IngressClass names); only when found
``gateway:NS/NAME``         ``gateway``          ``namespace``, ``gateway_class``, ``listeners`` (tuple of
                                                 ``"http HTTP 80"`` strings)
``route:KIND/NS/NAME``      ``route``            ``namespace``, ``route_kind`` (HTTPRoute, GRPCRoute, ...)
==========================  ===================  =======================================================

Edges (``u → v``, key = ``kind``; at most one edge of a kind between two vertices):

=====================  ====================================  =============================================
``kind``               from → to                             attributes
=====================  ====================================  =============================================
``hosts``              node → pod
``underlay``           node → underlay, underlay → node      (the underlay is a hub: 5,000 nodes would
                                                             otherwise need 25M node-pair edges)
``encapsulation``      node → underlay                       ``flows``: tuple of ``"UDP 8472 (Flannel
                                                             VXLAN)"`` strings; ``native`` (bool: Pod
                                                             addresses routed as they are)
``endpoint``           service → pod                         ``ports`` (targetPorts as written)
``backend``            ingress → service                     ``port`` (number or name), ``host``, ``path``
``routes``             ingress-controller → ingress,         (for a Gateway: the listeners the route attached
                       gateway → route                       to, ``listeners``)
``fronted-by``         ingress-controller / gateway →        (the Service clients enter it through)
                       service
``backend``            route → service                       ``port`` (a valid backendRef's Service port)
``entry``              network → node / ingress-controller   ``uses``: tuple of api|nodeports|ingress
                       / gateway
=====================  ====================================  =============================================

``entry`` edges say what a network is *meant* to reach (its ``uses``: ``api`` → control-plane nodes,
``nodeports`` → every node, ``ingress`` → the ingress controller), not what the firewalls let through.

>>> from netmodel.model.build import build_topology
>>> from netmodel.load import parse_text
>>> pod = "{apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c}]}}"
>>> g = build_graph(build_topology(parse_text(pod, "t.yaml")))
>>> sorted(g.nodes)
['node:node-1', 'pod:default/a', 'underlay']
>>> [k for _, _, k in g.out_edges("node:node-1", keys=True)]
['underlay', 'encapsulation', 'hosts']
"""

from __future__ import annotations

import networkx as nx

from netmodel.compile.cni import encapsulation, node_flows, routes_pod_cidrs
from netmodel.compile.gateway import Gateways
from netmodel.compile.ingress import IngressControllers
from netmodel.compile.pod_index import PodIndex
from netmodel.model.objects import NOWHERE, Service
from netmodel.model.topology import Topology
from netmodel.sets.ports import protocol_label

UNDERLAY = "underlay"
INGRESS_CONTROLLER = "ingress-controller"


def node_id(name: str) -> str:
    """The graph key of a node."""
    return f"node:{name}"


def pod_id(namespace: str, name: str) -> str:
    """The graph key of a Pod."""
    return f"pod:{namespace}/{name}"


def service_id(namespace: str, name: str) -> str:
    """The graph key of a Service."""
    return f"service:{namespace}/{name}"


def ingress_id(namespace: str, name: str) -> str:
    """The graph key of an Ingress."""
    return f"ingress:{namespace}/{name}"


def gateway_id(namespace: str, name: str) -> str:
    """The graph key of a Gateway."""
    return f"gateway:{namespace}/{name}"


def route_id(kind: str, namespace: str, name: str) -> str:
    """The graph key of a Gateway API route."""
    return f"route:{kind}/{namespace}/{name}"


def network_id(name: str) -> str:
    """The graph key of an outside network."""
    return f"network:{name}"


def _service_ports(svc: Service) -> tuple[str, ...]:
    out = []
    for p in svc.ports:
        front = f"{p.port}:{p.node_port}" if p.node_port else str(p.port)
        out.append(f"{front}/{protocol_label(p.protocol)}->{p.target_port}")
    return tuple(out)


def build_graph(topology: Topology, index: PodIndex | None = None) -> nx.MultiDiGraph:
    """The graph of ``topology``; pass the :class:`PodIndex` when one is built already."""
    index = index or PodIndex.of(topology)
    g = nx.MultiDiGraph(name=topology.cluster.name)
    cluster = topology.cluster
    cni = cluster.cni
    for net in cluster.networks:
        g.add_node(network_id(net.name), kind="network", name=net.name, label=net.name,
                   cidrs=tuple(str(c) for c in net.cidrs), uses=tuple(sorted(net.uses)), source=net.source)
    g.add_node(UNDERLAY, kind="underlay", name=UNDERLAY, label=f"{cni.plugin} {cni.mode}", cni=cni.plugin,
               mode=cni.mode, encapsulation=encapsulation(cni), encryption=cni.encryption, source=cni.source)
    flows = tuple(f"{f.describe()} ({f.purpose})" for f in node_flows(cni))
    native = routes_pod_cidrs(cni)
    firewalls_by_node = {n.name: tuple(f.name for f in topology.firewalls if f.selects(n)) for n in topology.nodes}
    for node in topology.nodes:
        nid = node_id(node.name)
        g.add_node(nid, kind="node", name=node.name, label=node.name, role=node.role,
                   addresses=tuple(str(a) for a in node.ips), pod_cidrs=tuple(str(c) for c in node.pod_cidrs),
                   firewalls=firewalls_by_node[node.name], zone=node.labels.get("topology.kubernetes.io/zone", ""),
                   source=node.source)
        g.add_edge(nid, UNDERLAY, key="underlay", kind="underlay")
        g.add_edge(UNDERLAY, nid, key="underlay", kind="underlay")
        if flows or native:
            g.add_edge(nid, UNDERLAY, key="encapsulation", kind="encapsulation", flows=flows, native=native)
    for pod in topology.pods:
        pid = pod_id(pod.namespace, pod.name)
        g.add_node(pid, kind="pod", name=pod.name, namespace=pod.namespace, label=pod.qualified_name,
                   node=pod.node_name, addresses=tuple(str(a) for a in pod.ips), host_network=pod.host_network,
                   owner=str(pod.owner) if pod.owner else "", labels=dict(pod.labels), source=pod.source)
        g.add_edge(node_id(pod.node_name), pid, key="hosts", kind="hosts")
    found = IngressControllers(topology, index)
    controllers = {s.ref for s in found.services}
    gateways = Gateways(topology, index)
    fronts = {g: gateways.entry_services(g) for g in topology.gateway_api.gateways}
    gateway_entries = {s.ref for services in fronts.values() for s in services}
    for svc in topology.services:
        sid = service_id(svc.namespace, svc.name)
        g.add_node(sid, kind="service", name=svc.name, namespace=svc.namespace,
                   label=svc.qualified_name, type=svc.type,
                   cluster_ips=tuple(str(a) for a in svc.cluster_ips), ports=_service_ports(svc),
                   ingress_controller=svc.ref in controllers, gateway_entry=svc.ref in gateway_entries,
                   source=svc.source)
        targets = tuple(str(p.target_port) for p in svc.ports)
        for i in sorted(index.select(svc.namespace, svc.selector)):
            pod = topology.pods[i]
            g.add_edge(sid, pod_id(pod.namespace, pod.name), key="endpoint", kind="endpoint", ports=targets)
    entries = found.entries
    if entries:
        g.add_node(INGRESS_CONTROLLER, kind="ingress-controller", name=INGRESS_CONTROLLER,
                   label="ingress controller", classes=tuple(c.name for c in topology.ingress_classes),
                   source=NOWHERE)
        for ref in sorted({e.ref for e in entries if e.via == "service"}):
            _, namespace, name = ref.split("/", 2)
            g.add_edge(INGRESS_CONTROLLER, service_id(namespace, name), key="fronted-by", kind="fronted-by")
    for ing in topology.ingresses:
        iid = ingress_id(ing.namespace, ing.name)
        g.add_node(iid, kind="ingress", name=ing.name, namespace=ing.namespace,
                   label=ing.qualified_name, ingress_class=ing.class_name, source=ing.source)
        if entries:
            g.add_edge(INGRESS_CONTROLLER, iid, key="routes", kind="routes")
        for backend in ing.backends:
            sid = service_id(ing.namespace, backend.service)
            if sid in g and not g.has_edge(iid, sid, key="backend"):
                g.add_edge(iid, sid, key="backend", kind="backend", port=backend.port, host=backend.host,
                           path=backend.path)
    for gateway, services in fronts.items():
        gid = gateway_id(gateway.namespace, gateway.name)
        g.add_node(gid, kind="gateway", name=gateway.name, namespace=gateway.namespace,
                   label=gateway.qualified_name, gateway_class=gateway.class_name,
                   listeners=tuple(f"{li.name} {li.protocol} {li.port}" for li in gateway.listeners),
                   source=gateway.source)
        for svc in services:
            g.add_edge(gid, service_id(svc.namespace, svc.name), key="fronted-by", kind="fronted-by")
    for route in topology.gateway_api.routes:
        g.add_node(route_id(route.kind, route.namespace, route.name), kind="route", name=route.name,
                   namespace=route.namespace, label=route.qualified_name, route_kind=route.kind,
                   source=route.source)
    for a in gateways.attached:
        assert a.gateway is not None
        gid, rid = gateway_id(a.gateway.namespace, a.gateway.name), route_id(a.route.kind, a.route.namespace,
                                                                             a.route.name)
        listeners = tuple(li.name for li in a.listeners)
        if g.has_edge(gid, rid, key="routes"):
            listeners = tuple(dict.fromkeys(g.edges[gid, rid, "routes"]["listeners"] + listeners))
        g.add_edge(gid, rid, key="routes", kind="routes", listeners=listeners)
    for v in gateways.backends:
        sid = service_id(v.backend.namespace, v.backend.name)
        if not v.problem and sid in g:
            g.add_edge(route_id(v.route.kind, v.route.namespace, v.route.name), sid, key="backend", kind="backend",
                       port=v.backend.port)
    for net in cluster.networks:
        nid = network_id(net.name)
        if "ingress" in net.uses:
            for gateway, services in fronts.items():
                if services:
                    g.add_edge(nid, gateway_id(gateway.namespace, gateway.name), key="entry", kind="entry",
                               uses=("ingress",))
        for node in topology.nodes:
            uses = tuple(u for u in ("api", "nodeports") if u in net.uses
                         and (node.serves_load_balancers if u == "nodeports" else node.is_control_plane))
            if uses:
                g.add_edge(nid, node_id(node.name), key="entry", kind="entry", uses=uses)
        if "ingress" in net.uses and entries:
            g.add_edge(nid, INGRESS_CONTROLLER, key="entry", kind="entry", uses=("ingress",))
    return g
