"""Requirement 4, External-to-Service: NodePorts, load balancers and Ingress from the outside networks.

* NM-EXT-001/002 — nodePorts (and healthCheckNodePorts) outside the NodePort range, or used twice.
* NM-EXT-003 — a NodePort closed by a node firewall from a network whose ``uses`` has ``nodeports``: on every
  node load balancers send to (:attr:`Node.serves_load_balancers`) for ``externalTrafficPolicy: Cluster``, on
  those of them running an endpoint for ``Local``.
* NM-EXT-004 — a ``Local`` LoadBalancer's healthCheckNodePort closed from the load balancer on some node it
  sends to (the same rule). The
  load balancer's addresses are the network named ``lb`` when the Cluster defines one; otherwise the networks
  meant to use the Service (``nodeports`` users, and ``ingress`` users for the ingress controller's Service).
* NM-EXT-005 (warning) — ``loadBalancerSourceRanges`` that admit none of the networks meant to use the Service.
* NM-EXT-006/007 — an Ingress backend naming a missing Service or a port the Service lacks.
* NM-EXT-008 — the ingress controller (found as :mod:`netmodel.compile.ingress` describes) is not reachable on
  80 or 443 from a network whose ``uses`` has ``ingress``: reachable means some entry (the controller Service's
  nodePort on a node that answers, or a host port) admits every address of the network.
* NM-EXT-010 (warning) — an Ingress names an IngressClass that does not exist, or Ingresses exist and no
  controller is found.

"Admits a network" means every address the network owns (:attr:`AddressBook.networks`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from netmodel.analyze.checks.common import (
    FirstClaims,
    decision_span,
    describe_decisions,
    operator_made_service,
    unique_spans,
)
from netmodel.analyze.findings import Finding, Severity
from netmodel.compile.context import CheckContext, NodeClass, describe_node_list, describe_nodes
from netmodel.compile.firewalls import Decision
from netmodel.compile.ingress import HTTP_PORTS, backend_service_port
from netmodel.compile.services import service_endpoints
from netmodel.model.objects import Ingress, Node, OutsideNetwork, Service
from netmodel.sets import AddressSet, Box, IntervalSet, Space, format_ports, protocol_label
from netmodel.sets.ports import TCP

REQUIREMENT = "external-to-service"


def _node_ports(svc: Service) -> list[tuple[str, int, int]]:
    """(what, port, protocol) for every nodePort and the healthCheckNodePort."""
    out = [(f"port {p.name or p.port}", p.node_port, p.protocol) for p in svc.ports if p.node_port]
    if svc.health_check_node_port:
        out.append(("healthCheckNodePort", svc.health_check_node_port, TCP))
    return out


def check_node_port_range(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-001 and NM-EXT-002."""
    node_range = ctx.topology.cluster.node_port_range
    claims: FirstClaims[int, Service] = FirstClaims()
    for svc in ctx.topology.services:
        for what, port, _ in _node_ports(svc):
            if port not in node_range:
                yield Finding(
                    "NM-EXT-001", Severity.ERROR, REQUIREMENT,
                    f"Service {svc.qualified_name} {what} uses nodePort {port}, outside the NodePort range "
                    f"{format_ports(node_range)}; the API server rejects it. Fix: pick a port in the range or "
                    f"leave nodePort empty.",
                    (str(svc.ref),), unique_spans([svc.source]))
            other = claims.earlier(port, svc)
            if other is not None:
                yield Finding(
                    "NM-EXT-002", Severity.ERROR, REQUIREMENT,
                    f"nodePort {port} is used by Services {other.qualified_name} and "
                    f"{svc.qualified_name}; each node can forward it to only one. Fix: give one of them "
                    f"another nodePort.",
                    (str(other.ref), str(svc.ref)), unique_spans([other.source, svc.source]))


NodeGroups = tuple[tuple[NodeClass, tuple[Node, ...]], ...]


def group_nodes(ctx: CheckContext, nodes: Iterable[Node]) -> NodeGroups:
    """``nodes`` split by firewall class (a class's nodes in input order)."""
    groups: dict[int, tuple[NodeClass, list[Node]]] = {}
    for node in nodes:
        node_class = ctx.node_class_of[node.name]
        groups.setdefault(id(node_class), (node_class, []))[1].append(node)
    return tuple((c, tuple(ns)) for c, ns in groups.values())


class NodePortReach:
    """Which nodes admit a network on one port: one firewall evaluation per node class, cached.

    Callers pass nodes already grouped by class, so a check over thousands of NodePorts never walks every node
    for every port (the 5,000-node envelope made that 66 s).
    """

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.cache: dict[tuple[int, str, int, int], tuple[Decision, ...] | None] = {}
        self.spaces: dict[tuple[int, str, int, IntervalSet], Space] = {}
        self.closed_nodes: dict[tuple[int, tuple[int, ...]], tuple[NodeGroups, list[Node]]] = {}
        self.order = {n.name: i for i, n in enumerate(ctx.topology.nodes)}

    def _denial(self, node_class: NodeClass, network: OutsideNetwork, protocol: int,
                port: int) -> tuple[Decision, ...] | None:
        """None when every address of ``network`` may reach the port on the class; else the verdict on an example."""
        key = (id(node_class), network.name, protocol, port)
        if key not in self.cache:
            # One evaluation over the whole NodePort range answers every nodePort of every Service.
            ports = self.ctx.topology.cluster.node_port_range
            if port not in ports:
                ports = IntervalSet.single(port)
            blocked = self._blocked(node_class, network, protocol, ports)
            box = next((b for b in blocked if port in b.ports), None)
            if box is None:
                self.cache[key] = None
            else:
                example = box.peers.sample(host=True)
                assert example is not None
                self.cache[key] = self.ctx.firewalls.decide(node_class.representative, "ingress", example, protocol,
                                                            port).denials
        return self.cache[key]

    def _blocked(self, node_class: NodeClass, network: OutsideNetwork, protocol: int, ports: IntervalSet) -> Space:
        key = (id(node_class), network.name, protocol, ports)
        if key not in self.spaces:
            query = Box(self.ctx.addresses.networks[network.name], IntervalSet.single(protocol), ports)
            allowed = self.ctx.firewalls.allowed_space(node_class.representative, "ingress", query)
            self.spaces[key] = Space.of(query) - allowed
        return self.spaces[key]

    def blocked(self, groups: NodeGroups, network: OutsideNetwork, protocol: int,
                port: int) -> tuple[list[Node], tuple[Decision, ...]]:
        """The nodes of ``groups`` whose firewalls close ``port`` to ``network``, and the decisions that
        close it."""
        closed: list[int] = []
        decisions: dict[tuple[str, str], Decision] = {}
        for i, (node_class, _) in enumerate(groups):
            denial = self._denial(node_class, network, protocol, port)
            if denial is not None:
                closed.append(i)
                for d in denial:  # every firewall class that blocks, each named once
                    decisions.setdefault((d.firewall.name, d.rule.name if d.rule else ""), d)
        # Thousands of Services closed on the same classes share one node list (sorting 5,000 nodes each is seconds).
        # The cache keeps ``groups`` alive, so its id cannot be reused by another grouping.
        key = (id(groups), tuple(closed))
        if key not in self.closed_nodes:
            nodes = [n for i in closed for n in groups[i][1]]
            ordered = sorted(nodes, key=lambda n: self.order[n.name]) if len(closed) > 1 else nodes
            self.closed_nodes[key] = (groups, ordered)
        return self.closed_nodes[key][1], tuple(decisions.values())


def load_balanced_nodes(ctx: CheckContext) -> NodeGroups:
    """The nodes networks using NodePorts or a load balancer must reach, by firewall class."""
    return group_nodes(ctx, (n for n in ctx.topology.nodes if n.serves_load_balancers))


def answering_nodes(ctx: CheckContext, svc: Service, everyone: NodeGroups) -> NodeGroups:
    """The nodes a NodePort/LoadBalancer Service answers on: every node load balancers send to, or for
    ``externalTrafficPolicy: Local`` those of them running an endpoint."""
    if svc.external_traffic_policy != "Local":
        return everyone
    # The nodes with an endpoint: the Service's backends by the one rule the analyzer and emulate use
    # (selector Pods, else EndpointSlices), not its selector alone.
    hosts = {ep.node_name for sp in svc.ports
             for ep in service_endpoints(ctx.topology, svc, sp, ctx.pod_index, ctx.addresses) if ep.port is not None}
    by_name = ctx.topology.node_by_name
    return group_nodes(ctx, (by_name[h] for h in sorted(hosts) if h in by_name and by_name[h].serves_load_balancers))


def _client_networks(ctx: CheckContext, svc: Service) -> list[OutsideNetwork]:
    controller_refs = {e.ref for e in ctx.ingress_entries if e.via == "service"} | ctx.gateways.entry_refs
    out = []
    for network in ctx.topology.cluster.networks:
        if "nodeports" in network.uses or ("ingress" in network.uses and str(svc.ref) in controller_refs):
            out.append(network)
    return out


def _blocked_finding(check_id: str, message: str, svc: Service, blocked: list[Node],
                     decisions: tuple[Decision, ...], extra_span: list) -> Finding:
    firewalls = [d.firewall for d in decisions]
    return Finding(
        check_id, Severity.ERROR, REQUIREMENT,
        f"{message} on node {describe_node_list(blocked)}, blocked by "
        f"{describe_decisions(decisions, 'ingress')}. Fix: allow it in "
        f"{', '.join('Firewall ' + f.name for f in firewalls) or 'the node firewall'} ingress.",
        tuple(dict.fromkeys([str(svc.ref)] + [f"Node/{n.name}" for n in blocked[:3]]
                            + [str(f.ref) for f in firewalls])),
        unique_spans(extra_span + [decision_span(d, "ingress") for d in decisions] + [svc.source]))


def check_node_ports_reachable(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-003."""
    reach = NodePortReach(ctx)
    users = [n for n in ctx.topology.cluster.networks if "nodeports" in n.uses and ctx.addresses.networks[n.name]]
    node_range = ctx.topology.cluster.node_port_range
    everyone = load_balanced_nodes(ctx)
    for svc in ctx.topology.services:
        if svc.type not in ("NodePort", "LoadBalancer"):
            continue
        nodes = answering_nodes(ctx, svc, everyone)
        for port in svc.ports:
            if not port.node_port or port.node_port not in node_range:
                continue  # a nodePort outside the range is NM-EXT-001's finding; kube-proxy never opens it
            for network in users:
                blocked, decisions = reach.blocked(nodes, network, port.protocol, port.node_port)
                if blocked:
                    yield _blocked_finding(
                        "NM-EXT-003", f"NodePort {port.node_port}/{protocol_label(port.protocol)} of Service "
                        f"{svc.qualified_name} is closed to network {network.name} (uses: nodeports)",
                        svc, blocked, decisions, [port.source, network.source])


def load_balancer_networks(ctx: CheckContext, svc: Service) -> list[OutsideNetwork]:
    """The networks a LoadBalancer Service's load balancer sends from (and probes the healthCheckNodePort
    from): the network named ``lb`` when the Cluster defines one, else the networks meant to use the Service."""
    lb = ctx.topology.cluster.network("lb")
    return [lb] if lb is not None else _client_networks(ctx, svc)


def check_health_check_node_ports(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-004."""
    reach = NodePortReach(ctx)
    everyone = load_balanced_nodes(ctx)
    for svc in ctx.topology.services:
        port = svc.health_check_node_port
        if svc.type != "LoadBalancer" or svc.external_traffic_policy != "Local" or not port:
            continue
        for network in load_balancer_networks(ctx, svc):
            if ctx.addresses.networks[network.name].is_empty():
                continue
            blocked, decisions = reach.blocked(everyone, network, TCP, port)
            if blocked:
                yield _blocked_finding(
                    "NM-EXT-004", f"healthCheckNodePort {port}/TCP of the Local LoadBalancer "
                    f"{svc.qualified_name} is closed to the load balancer (network {network.name}); it "
                    f"cannot tell which nodes have endpoints", svc, blocked, decisions, [network.source])


def check_load_balancer_source_ranges(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-005."""
    for svc in ctx.topology.services:
        if svc.type != "LoadBalancer" or not svc.load_balancer_source_ranges:
            continue
        clients = _client_networks(ctx, svc)
        admitted = AddressSet.of_networks(svc.load_balancer_source_ranges)
        if clients and all((AddressSet.of_networks(n.cidrs) & admitted).is_empty() for n in clients):
            names = ", ".join(n.name for n in clients)
            ranges = ", ".join(map(str, svc.load_balancer_source_ranges))
            yield Finding(
                "NM-EXT-005", Severity.WARNING, REQUIREMENT,
                f"Service {svc.qualified_name} loadBalancerSourceRanges ({ranges}) admit none of the "
                f"networks meant to use it ({names}). Fix: add their CIDRs to loadBalancerSourceRanges.",
                (str(svc.ref),) + tuple(f"network:{n.name}" for n in clients),
                unique_spans([svc.source] + [n.source for n in clients]))


def check_ingress_backends(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-006 and NM-EXT-007."""
    services = ctx.topology.service_by_key
    for ing in ctx.topology.ingresses:
        for backend in ing.backends:
            route = f"{backend.host or '*'}{backend.path or ''}"
            svc = services.get((ing.namespace, backend.service))
            if svc is None:
                known = sorted(name for ns, name in services if ns == ing.namespace)
                maker = ctx.topology.service_maker(ing.namespace, backend.service)
                missing = (f"Ingress {ing.qualified_name} routes {route} to Service {backend.service}, which does "
                           f"not exist in namespace {ing.namespace} (Services there: {', '.join(known[:8]) or 'none'})")
                yield Finding(
                    "NM-EXT-006", Severity.ERROR if maker is None else Severity.WARNING, REQUIREMENT,
                    f"{missing}. Fix: correct the backend's service name or create the Service." if maker is None
                    else f"{missing}{operator_made_service(maker)}",
                    (str(ing.ref), f"Service/{ing.namespace}/{backend.service}"),
                    unique_spans([backend.source, ing.source]))
                continue
            if backend_service_port(ctx.topology, ing, backend) is None:
                offered = ", ".join(f"{p.name}={p.port}" if p.name else str(p.port) for p in svc.ports)
                yield Finding(
                    "NM-EXT-007", Severity.ERROR, REQUIREMENT,
                    f"Ingress {ing.qualified_name} routes {route} to Service {backend.service} port "
                    f"{backend.port!r}, which the Service does not have (it has {offered or 'no ports'}). Fix: use "
                    f"one of those ports.",
                    (str(ing.ref), str(svc.ref)), unique_spans([backend.source, ing.source, svc.source]))


def check_ingress_controller_reachable(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-008."""
    entries = ctx.ingress_entries
    if not entries:
        return  # NM-EXT-010 says no controller is known when Ingresses need one
    reach = NodePortReach(ctx)
    nodes = ctx.topology.node_by_name
    for network in ctx.topology.cluster.networks:
        if "ingress" not in network.uses:
            continue
        if ctx.addresses.networks[network.name].is_empty():
            continue
        for port in HTTP_PORTS:
            candidates = [e for e in entries if e.port == port]
            failures = []
            for entry in candidates:
                groups = group_nodes(ctx, (nodes[n] for n in entry.nodes))
                blocked, decisions = reach.blocked(groups, network, TCP, entry.node_port)
                if len(blocked) < len(entry.nodes):
                    break  # reachable through this entry on some node
                failures.append((entry, blocked, decisions))
            else:
                yield _controller_finding(network, port, failures)


def _controller_finding(network: OutsideNetwork, port: int, failures: list) -> Finding:
    if not failures:
        return Finding(
            "NM-EXT-008", Severity.ERROR, REQUIREMENT,
            f"the ingress controller has no entry on port {port} (no NodePort/LoadBalancer Service port {port} and "
            f"no hostPort {port}), so network {network.name} (uses: ingress) cannot reach it. Fix: expose port "
            f"{port} on the controller's Service.",
            (f"network:{network.name}",), unique_spans([network.source]))
    entry, blocked, decisions = failures[0]
    via = {"service": f"nodePort {entry.node_port} of {entry.ref}",
           "load-balancer-ip": f"port {entry.node_port} of {entry.ref} on the nodes' own load-balancer addresses"
           }.get(entry.via, f"host port of {entry.ref}")
    firewalls = [d.firewall for d in decisions]
    return Finding(
        "NM-EXT-008", Severity.ERROR, REQUIREMENT,
        f"the ingress controller is unreachable on port {port} from network {network.name} (uses: ingress): "
        f"{via} is closed on node {describe_node_list(blocked)} by "
        f"{describe_decisions(decisions, 'ingress')}. Fix: allow TCP {entry.node_port} from network "
        f"{network.name} in {', '.join('Firewall ' + f.name for f in firewalls) or 'the node firewall'} ingress.",
        tuple(dict.fromkeys([entry.ref, f"network:{network.name}"] + [str(f.ref) for f in firewalls])),
        unique_spans([entry.source] + [decision_span(d, "ingress") for d in decisions] + [network.source]))


def check_ingress_classes(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-010: Ingresses no controller in the layout serves, one finding per cause (an Ingress is in one)."""
    topo = ctx.topology
    found = ctx.ingress_controllers
    classes = {c.name: c for c in topo.ingress_classes}
    groups: dict[tuple[str, str], list[Ingress]] = {}
    for ing in topo.ingresses:
        serving = found.serving(ing)
        if serving.problem:
            detail = ",".join(serving.controllers) if serving.problem == "no-pods" else ing.class_name
            groups.setdefault((serving.problem, detail), []).append(ing)
    known = ", ".join(sorted(classes)) or "none"
    for (problem, detail), ingresses in groups.items():
        names = describe_nodes([i.qualified_name for i in ingresses])  # "a, b, c and 4 more"
        one = len(ingresses) == 1
        what = f"Ingress {names}" if one else f"Ingresses {names}"
        names_verb, carry, belong = ("names", "carries", "belongs") if one else ("name", "carry", "belong")
        if problem == "missing-class":
            message = (f"{what} {names_verb} IngressClass {detail!r}, which does not exist (known: {known}); no "
                       f"controller serves it. Fix: correct ingressClassName or add the IngressClass.")
        elif problem == "no-class":
            message = (f"{what} {names_verb} no IngressClass and none is marked default; no controller may claim it. "
                       f"Fix: set ingressClassName (e.g. {min(classes)!r}).")
        elif problem == "unclaimed-annotation":
            message = (f"{what} {carry} the annotation kubernetes.io/ingress.class: {detail!r}, which no "
                       f"IngressClass and no ingress controller Pod in the layout claims (known classes: {known}). "
                       f"Fix: set ingressClassName to a class a controller serves.")
        elif problem == "no-pods":
            message = (f"{what} {belong} to controller {detail}, but no Pod in the layout runs it: netmodel "
                       f"recognises ingress-nginx, Traefik, HAProxy, Contour, Kong and Istio gateway Pods by "
                       f"image and flags, and any Pod with --controller-class={detail}. Fix: add the controller's "
                       f"Deployment or DaemonSet (and its Service) to the layout, or correct the IngressClass's "
                       f"spec.controller.")
        else:
            message = (f"{what}: no ingress controller is known: no Pod runs a recognised controller "
                       f"(ingress-nginx, Traefik, HAProxy, Contour, Kong, Istio gateway, or "
                       f"--controller-class) and the layout has no IngressClass. Fix: add the controller's "
                       f"Deployment and Service to the layout.")
        spans = [i.source for i in ingresses[:3]]
        if problem == "no-pods":
            spans += [c.source for c in topo.ingress_classes if c.controller in detail.split(",")][:3]
        yield Finding("NM-EXT-010", Severity.WARNING, REQUIREMENT, message,
                      tuple(str(i.ref) for i in ingresses), unique_spans(spans))
