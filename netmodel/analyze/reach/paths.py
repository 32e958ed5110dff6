"""The path engine: one packet from one endpoint to another, through everything the topology compiled.

The order of steps follows the data path (docs/reachability.md, "Paths"):

* **Pod → Pod**: ``originate``, ``policy-egress`` (the source's egress, against the destination Pod),
  ``snat`` when ip-masq-agent masquerades it (the CNI's outbound NAT never rewrites Pod-to-Pod), then — only between nodes — ``route``, ``encap`` and the node
  firewalls (``firewall-egress`` on the sender's node, ``firewall-ingress`` on the receiver's), then
  ``policy-ingress`` and ``deliver``. Encapsulated modes put the outer packet (node address to node address,
  the tunnel's protocol and port) before the firewalls; native routing shows them the Pod addresses and the
  real port. Traffic within one node crosses no firewall.
* **→ ClusterIP**: ``dnat`` to each endpoint (service port → targetPort by number, or by name on each endpoint
  Pod) and on as Pod → Pod; policies see the endpoint Pod, never the ClusterIP. ClusterIPs are not reachable
  from outside the cluster.
* **→ NodePort / LoadBalancer / externalIPs**: ``firewall-ingress`` at the node entered, ``dnat`` to an
  endpoint; ``externalTrafficPolicy: Cluster`` SNATs to the entry node (so the endpoint's ipBlock rules see the
  node address) and may forward to any node; ``Local`` keeps the client address and only serves endpoints on
  the entry node. A LoadBalancer IP first checks ``loadBalancerSourceRanges``, then enters nodes on the
  nodePort (what cloud load balancers forward to). Nodes sharing the same firewalls are represented by one.
* **→ a node address** (another node's): ``snat`` to the sending node when the CNI's outbound NAT covers node
  addresses (Calico, Flannel, Antrea, Weave by default; not Cilium) or ip-masq-agent does, then the node
  firewalls, then whatever listens there (see :mod:`.compiled`); nothing →
  ``port-closed``.
* **→ outside**: ``policy-egress``, ``snat`` to the node (the CNI's outbound NAT, or ip-masq-agent),
  ``firewall-egress``, ``deliver`` (what listens outside is not modeled).

NetworkPolicy never blocks traffic between a Pod and its own node (the Kubernetes docs: traffic to and from the
node a Pod runs on is always allowed).

* **→ itself**: a Pod reaching its own address is loopback (``deliver`` only: the packet never leaves the Pod's
  network namespace, so no policy sees it). Through a Service or hostPort that picked the Pod itself it is a
  hairpin: egress policy after DNAT, ``snat`` to the node (kube-proxy, portmap), so ingress sees the Pod's own
  node; Cilium's kube-proxy replacement keeps it inside the Pod and skips policy.
* With an encapsulating CNI, replies to a Pod address on another node come back as a new outer packet, so the
  tunnel's firewalls are checked in the reply direction too (:mod:`.crossing`).
"""

from __future__ import annotations

from dataclasses import replace

from netmodel.analyze.policy import EGRESS, INGRESS, PolicyVerdict
from netmodel.analyze.policy.calico import CalicoTierRule
from netmodel.analyze.policy.cilium import CiliumTierRule
from netmodel.analyze.policy.engine import CompiledRule
from netmodel.analyze.policy.tiers import TierRule
from netmodel.analyze.reach.compiled_cluster import Backend, CompiledCluster, Listener, ListenerKind
from netmodel.analyze.reach.crossing import Events, Sender, cross, firewall_step, node_ip
from netmodel.analyze.reach.refs import Endpoint, endpoint_at
from netmodel.analyze.reach.replies import reply_step
from netmodel.analyze.reach.trace import Decision, Disposition, Hop, Path, Step, StepRecord
from netmodel.model.objects import CalicoPolicy, NetworkPolicy, Node, Pod, Service, ServicePort
from netmodel.sets import AddressSet, IPAddress, protocol_label


def _admin_decision(rule: TierRule | CalicoTierRule | CiliumTierRule, allowed: bool) -> Decision:
    """An AdminNetworkPolicy/BaselineAdminNetworkPolicy rule as the trace names it: priority, rule, action; a
    Calico rule: tier, order, rule, action; a Cilium deny rule: NS/NAME, section and rule, action."""
    if isinstance(rule, CiliumTierRule):
        return Decision(rule.policy.kind, rule.policy.qualified_name, f"{rule.label}: {rule.action}", allowed,
                        rule.source)
    if isinstance(rule, CalicoTierRule):
        p = rule.policy
        order = "no order" if p.order is None else f"order {p.order:g}"
        return Decision(f"Calico {p.kind}", p.qualified_name, f"tier {p.tier}, {order}, {rule.label}: {rule.action}",
                        allowed, rule.source)
    priority = "" if rule.policy.priority is None else f"priority {rule.policy.priority}, "
    return Decision(rule.policy.kind, rule.policy.name, f"{priority}{rule.label}: {rule.action}", allowed, rule.source)


def _allow_decision(rule: CompiledRule | CiliumTierRule) -> Decision:
    """A NetworkPolicy or Cilium allow rule that let a packet through, as the trace names it."""
    if isinstance(rule, CiliumTierRule):
        return Decision(rule.policy.kind, rule.policy.qualified_name, f"{rule.label}: Allow", True, rule.source)
    return Decision("NetworkPolicy", rule.policy.qualified_name, f"{rule.direction} rule {rule.index + 1}", True,
                    rule.rule.source)


def _applying_decision(policy: CalicoPolicy | NetworkPolicy, who: str, direction: str) -> Decision:
    """A policy that applies to the Pod in a Calico tier whose end denied the packet."""
    if isinstance(policy, NetworkPolicy):
        return Decision("NetworkPolicy", policy.qualified_name, f"selects {who} for {direction}; no {direction} rule "
                        "matches", False, policy.source)
    order = "no order" if policy.order is None else f"order {policy.order:g}"
    return Decision(f"Calico {policy.kind}", policy.qualified_name, f"tier {policy.tier}, {order}: applies to {who} for "
                    f"{direction}; no {direction} rule decides", False, policy.source)


def _where(pod: Pod) -> str:
    return f"pod:{pod.qualified_name}"


def _ip_of(pod: Pod, version: int) -> IPAddress | None:
    return next((ip for ip in pod.ips if ip.version == version), pod.ips[0] if pod.ips else None)


def service_port(svc: Service, protocol: int, port: int | str) -> ServicePort | None:
    """The Service port a client asks for: by number (``port``) or by name, with the protocol."""
    return next((sp for sp in svc.ports if sp.protocol == protocol
                 and (sp.port == port if isinstance(port, int) else sp.name == port)), None)


class Tracer:
    """Traces packets for one topology; stateless apart from its :class:`CompiledCluster`."""

    def __init__(self, compiled: CompiledCluster) -> None:
        self.compiled = compiled
        self.policies = compiled.policies

    # -- entry -------------------------------------------------------------------------------------------------
    def trace(self, src: Endpoint, dst: Endpoint, protocol: int, port: int | str) -> list[Path]:
        """Every path from ``src`` to ``dst`` on ``port``/``protocol``, hop by hop with the decisions
        taken."""
        label = f"{protocol_label(protocol)} {port}"
        if dst.address is None:
            return [self._path(src, dst, ((dst.label, StepRecord(
                Step.DELIVER, f"{dst.label} has no address (Pending Pod?)", False, Disposition.NO_ROUTE,
                (Decision("Pod", dst.label, "has no IP", False, dst.pod.source if dst.pod else None),))),))]
        version = dst.address.version
        if src.kind == "outside" and src.address is not None and src.address.version != version:
            return [self._path(src, dst, ((src.label, StepRecord(
                Step.ORIGINATE, f"{src.label} has no IPv{version} address to send to {dst.address}", False,
                Disposition.NO_ROUTE)),))]
        address = src.address
        if src.pod is not None:
            address = _ip_of(src.pod, version)
        elif src.node is not None:
            address = node_ip(src.node, version) or src.address
        if address is None:
            return [self._path(src, dst, ((src.label, StepRecord(
                Step.ORIGINATE, f"{src.label} has no address (Pending Pod?)", False, Disposition.NO_ROUTE,
                (Decision("Pod", src.label, "has no IP", False, src.pod.source if src.pod else None),))),))]
        node = src.node
        sender = Sender(address, node, src.pod, src.pod is not None and not src.pod.host_network,
                        location=src.label)
        where = f"node {node.name}" if node else (f"network {src.network}" if src.network else "outside")
        events: Events = ((src.label, StepRecord(Step.ORIGINATE, f"{address} on {where} sends {label} to "
                                                 f"{dst.address}")),)
        ends = self._dispatch(events, sender, dst, protocol, port)
        return [self._path(src, dst, e) for e in ends]

    def _path(self, src: Endpoint, dst: Endpoint, events: Events) -> Path:
        hops: list[Hop] = []
        blocked = next((record.step for _, record in events if not record.ok), None)
        for location, record in events:
            if blocked is not None and record.step is Step.DELIVER and record.ok:
                # Every stage is evaluated after a denial (so every blocking rule is listed), but a packet dropped
                # on the way arrives nowhere: the trace ends with what was evaluated, never with "delivered".
                continue
            if hops and hops[-1].location == location:
                hops[-1] = Hop(location, hops[-1].steps + (record,))
            else:
                hops.append(Hop(location, (record,)))
        return Path(src.label, dst.label, tuple(hops))

    def _dispatch(self, events: Events, sender: Sender, dst: Endpoint, protocol: int,
                  port: int | str) -> list[Events]:
        assert dst.address is not None
        if dst.kind == "pod" and dst.pod is not None:
            number = self._pod_port(dst.pod, protocol, port)
            if number is None:
                return [events + ((dst.label, StepRecord(
                    Step.DELIVER, f"{dst.label} has no port named {port!r} for {protocol_label(protocol)}",
                    False, Disposition.PORT_CLOSED, (Decision("Pod", dst.label[4:], f"no containerPort named "
                                                              f"{port}", False, dst.pod.source),))),)]
            return self._to_pod(events, sender, dst.pod, protocol, number)
        if isinstance(port, str):
            if dst.kind == "service" and dst.service is not None:
                return self._to_service_ip(events, sender, dst.service, dst.address, protocol, port)
            return [events + ((dst.label, StepRecord(
                Step.DELIVER, f"a named port ({port}) only means something on a Pod or a Service", False,
                Disposition.PORT_CLOSED)),)]
        if dst.kind == "node" and dst.node is not None:
            return self._to_node(events, sender, dst.node, dst.address, protocol, port)
        if dst.kind == "service" and dst.service is not None:
            return self._to_service_ip(events, sender, dst.service, dst.address, protocol, port)
        return self._to_outside(events, sender, dst, protocol, port)

    @staticmethod
    def _pod_port(pod: Pod, protocol: int, port: int | str) -> int | None:
        if isinstance(port, int):
            return port
        found = pod.named_port(port, protocol)
        return found.port if found is not None else None

    # -- policy ------------------------------------------------------------------------------------------------
    def _policy_step(self, verdict: PolicyVerdict, who: str, what: str) -> StepRecord:
        step = Step.POLICY_EGRESS if verdict.direction == EGRESS else Step.POLICY_INGRESS
        # Pass rules the packet went through, then what decided: an admin rule, NetworkPolicy, or nothing.
        passed = tuple(_admin_decision(r, True) for r in verdict.passed)
        on_way = "".join(f"{r.policy.label} {r.label} passes it to the next tier; " for r in verdict.passed)
        rule = verdict.admin_rule
        if rule is not None:
            allowed = verdict.allowed
            return StepRecord(step, f"{on_way}{what} {'allowed' if allowed else 'denied'} by {rule.policy.label} "
                              f"{rule.label} ({rule.action})", allowed,
                              None if allowed else Disposition.DENIED_BY_POLICY, passed + (_admin_decision(rule,
                                                                                                           allowed),))
        if verdict.tier_end:
            return StepRecord(step, f"{on_way}{what} denied at the end of {verdict.tier} (defaultAction Deny): "
                              f"{len(verdict.tier_end)} polic{'y' if len(verdict.tier_end) == 1 else 'ies'} of the "
                              f"tier appl{'ies' if len(verdict.tier_end) == 1 else 'y'} to {who} for "
                              f"{verdict.direction} and no rule decides", False, Disposition.DENIED_BY_POLICY, passed + tuple(
                                  _applying_decision(p, who, verdict.direction) for p in verdict.tier_end))
        topology = self.compiled.topology
        if not verdict.isolated:
            return StepRecord(step, f"{on_way}no NetworkPolicy selects {who} for {verdict.direction}"
                              + (" and no admin or Calico policy rule decides"
                                 if topology.admin_policies or topology.calico_policies else "")
                              + (" and no Cilium policy puts it in default deny" if topology.cilium_policies else "")
                              + ": allowed", True, None, passed)
        if verdict.allowed:
            return StepRecord(step, f"{on_way}{what} allowed", True, None,
                              passed + tuple(_allow_decision(r) for r in verdict.matched))
        selecting = len(verdict.isolating) + len(verdict.cilium_isolating)
        return StepRecord(step, f"{on_way}{what} denied: {who} is isolated for {verdict.direction} and no rule of "
                          f"{selecting} selecting polic{'y' if selecting == 1 else 'ies'}"
                          " allows it", False, Disposition.DENIED_BY_POLICY, passed + tuple(
                              Decision("NetworkPolicy", p.qualified_name,
                                       f"selects {who} for {verdict.direction}; no {verdict.direction} rule "
                                       f"matches", False, p.source) for p in verdict.isolating) + tuple(
                              Decision(p.kind, p.qualified_name,
                                       f"puts {who} in default deny for {verdict.direction}; no "
                                       f"{verdict.direction} rule matches", False, p.source)
                              for p in verdict.cilium_isolating))

    def _egress(self, events: Events, sender: Sender, target: Pod | None, address: IPAddress,
                protocol: int, port: int) -> tuple[Events, Sender]:
        origin = sender.origin
        if origin is None or not sender.egress_pending:
            return events, sender
        sender = replace(sender, egress_pending=False)
        where, what = _where(origin), f"{protocol_label(protocol)} {port} to {address}"
        own_node = sender.node is not None and (
            (target is None and address in sender.node.ips)
            or (target is not None and target.host_network and target.node_name == sender.node.name))
        if own_node:
            return events + ((where, StepRecord(Step.POLICY_EGRESS, f"{what}: traffic to the Pod's own node is "
                                                "always allowed")),), sender
        target_class = self.compiled.class_of(target) if target is not None else None
        peer: int | IPAddress = address
        if target_class is not None and target_class.subject_to_policy:
            peer = target_class.id
        verdict = self.policies.verdict(EGRESS, self.compiled.class_of(origin).id, peer, target_class,
                                        protocol, port)
        return events + ((where, self._policy_step(verdict, where, what)),), sender

    def _ingress(self, events: Events, sender: Sender, pod: Pod, protocol: int, port: int) -> Events:
        where = _where(pod)
        what = f"{protocol_label(protocol)} {port} from {sender.address}"
        if pod.host_network:
            return events + ((where, StepRecord(Step.POLICY_INGRESS, "hostNetwork Pod: NetworkPolicy does not "
                                                "apply")),)
        from_own_node = sender.node is not None and sender.node.name == pod.node_name and \
            sender.address in sender.node.ips
        if from_own_node:
            return events + ((where, StepRecord(Step.POLICY_INGRESS, f"{what}: traffic from the Pod's own node is "
                                                "always allowed")),)
        peer: int | IPAddress = sender.address
        if sender.origin is not None and not sender.snatted and not sender.origin.host_network:
            peer = self.compiled.class_of(sender.origin).id
        cls = self.compiled.class_of(pod)
        verdict = self.policies.verdict(INGRESS, cls.id, peer, cls, protocol, port)
        return events + ((where, self._policy_step(verdict, where, what)),)

    # -- the wire ----------------------------------------------------------------------------------------------
    def _masquerade(self, events: Events, sender: Sender, destination: IPAddress) -> tuple[Events, Sender]:
        """The CNI's outbound NAT or ip-masq-agent rewrites a Pod source leaving its node (compile/masquerade.py).

        Callers apply it only to traffic that leaves the Pod's node; from then on the packet carries the node's
        address, so node firewalls and NetworkPolicy ipBlocks on the way see the node, with the node's rights.
        """
        origin, node = sender.origin, sender.node
        if origin is None or origin.host_network or sender.snatted or node is None:
            return events, sender
        rule = self.compiled.masquerade.rule_for(destination)
        if rule is None:
            return events, sender
        snat_ip = node_ip(node, destination.version)
        if snat_ip is None:
            return events, sender
        cluster = self.compiled.topology.cluster
        what = f"{sender.address} → {snat_ip} ({rule.why}; the Pod now has node {node.name}'s firewall rights)"
        events = events + ((f"node:{node.name}", StepRecord(Step.SNAT, what, True, None, (
            Decision("Cluster", cluster.name, rule.why, True, rule.source),))),)
        return events, replace(sender, address=snat_ip, snatted=True)

    # -- destinations ------------------------------------------------------------------------------------------
    def _to_pod(self, events: Events, sender: Sender, pod: Pod, protocol: int, port: int) -> list[Events]:
        address = _ip_of(pod, sender.address.version)
        node = self.compiled.node_of(pod)
        if address is None or node is None:
            return [events + ((_where(pod), StepRecord(Step.ROUTE, f"{_where(pod)} has no address or node", False,
                                                       Disposition.NO_ROUTE)),)]
        if sender.pod_sourced and sender.origin is not None and _same_pod(sender.origin, pod):
            if not sender.dnatted:
                return [self._deliver(events, pod, protocol, port, f"loopback: {_where(pod)} reaches its own "
                                      "address over lo inside its network namespace; the packet never reaches "
                                      "the Pod's interface, so NetworkPolicy does not apply")]
            return [self._hairpin(events, sender, pod, node, address, protocol, port)]
        events, sender = self._egress(events, sender, pod, address, protocol, port)
        if sender.node is not None and sender.node.name != node.name:
            events, sender = self._masquerade(events, sender, address)
        events, _ = cross(self.compiled, events, sender, node, address, not pod.host_network, protocol, port)
        events = self._ingress(events, sender, pod, protocol, port)
        return [self._deliver(events, pod, protocol, port)]

    def _hairpin(self, events: Events, sender: Sender, pod: Pod, node: Node, address: IPAddress, protocol: int,
                 port: int) -> Events:
        """A Pod reaching itself through a Service (or hostPort) that picked it as the endpoint."""
        cluster = self.compiled.topology.cluster
        if cluster.cni.plugin == "cilium" and cluster.cni.kube_proxy_replacement:
            return self._deliver(events, pod, protocol, port, "service loopback: Cilium's kube-proxy replacement "
                                 "translates the Service at the socket, so the connection stays inside the Pod "
                                 "(without socket LB it SNATs to its service-loopback address and skips policy "
                                 "enforcement); NetworkPolicy does not apply")
        events, sender = self._egress(events, sender, pod, address, protocol, port)
        snat_ip = node_ip(node, address.version)
        if snat_ip is not None:
            events = events + ((f"node:{node.name}", StepRecord(
                Step.SNAT, f"hairpin: kube-proxy masquerades a Pod reaching itself through a Service, "
                f"{sender.address} → {snat_ip}")),)
            sender = replace(sender, address=snat_ip, snatted=True, node=node)
        events = self._ingress(events, sender, pod, protocol, port)
        return self._deliver(events, pod, protocol, port)

    def _deliver(self, events: Events, pod: Pod, protocol: int, port: int, why: str = "") -> Events:
        """The last step at a Pod: something listens on the port, or it is closed."""
        cls = self.compiled.class_of(pod)
        where = _where(pod)
        prefix = f"{why}; " if why else ""
        if cls.listens(protocol, port):
            note = "" if cls.ports else " (the Pod declares no containerPorts; assumed to listen)"
            return events + ((where, StepRecord(Step.DELIVER, f"{prefix}{protocol_label(protocol)} {port} "
                                                f"delivered{note}")),)
        declared = ", ".join(f"{protocol_label(p)} {n}" for _, n, p in cls.ports)
        return events + ((where, StepRecord(
            Step.DELIVER, f"{prefix}no container listens on {protocol_label(protocol)} {port} (declared: "
            f"{declared})", False, Disposition.PORT_CLOSED,
            (Decision("Pod", where[4:], f"no containerPort {protocol_label(protocol)} {port}", False,
                      pod.source),))),)

    def _to_node(self, events: Events, sender: Sender, node: Node, address: IPAddress, protocol: int,
                 port: int) -> list[Events]:
        listeners = self.compiled.listeners_at(node, protocol, port)
        forwards = next((lst for lst in listeners if lst.kind in (ListenerKind.NODEPORT, ListenerKind.HOST_PORT)), None)
        if forwards is None or not self._translated_on_sending_node(sender, node):
            # The packet leaves its node still addressed to the node: the Pod's egress policy judges that address.
            events, sender = self._egress(events, sender, None, address, protocol, port)
        if sender.node is not None and sender.node.name != node.name:
            events, sender = self._masquerade(events, sender, address)
        events, _ = cross(self.compiled, events, sender, node, address, False, protocol, port)
        sender = replace(sender, node=node) if sender.node is None or forwards is not None else sender
        where = f"node:{node.name}"
        if not listeners:
            return [events + ((where, StepRecord(
                Step.DELIVER, f"nothing listens on {protocol_label(protocol)} {port} on node {node.name}", False,
                Disposition.PORT_CLOSED, (Decision("Node", node.name, f"no listener on {protocol_label(protocol)} "
                                                   f"{port}", False, node.source),))),)]
        if forwards is not None and forwards.kind == ListenerKind.HOST_PORT and forwards.pod is not None:
            pod = forwards.pod
            target = forwards.target_port or port
            events = events + ((where, StepRecord(Step.DNAT, f"hostPort {port} → {_where(pod)}:{target}", True, None,
                                                  (Decision("Pod", where, f"hostPort {port}", True,
                                                            forwards.source),))),)
            return self._to_pod(events, replace(sender, dnatted=True), pod, protocol, target)
        if forwards is not None and forwards.service is not None and forwards.service_port is not None:
            return self._enter_service(events, sender, node, forwards.service, forwards.service_port, protocol,
                                       f"NodePort {port}")
        first = listeners[0]
        return [events + ((where, StepRecord(Step.DELIVER, f"{first.name} listens on {protocol_label(protocol)} "
                                             f"{port}", True, None, (Decision(_listener_kind(first), first.name,
                                                                              first.kind, True, first.source),))),)]

    def _translated_on_sending_node(self, sender: Sender, node: Node) -> bool:
        """Whether a NodePort or hostPort of ``node`` is translated to its backend before the packet leaves the
        sender's node, so that the sender's egress policy sees the backend rather than the node.

        kube-proxy (iptables, ipvs and nftables modes) and the portmap plugin translate them only for destination
        addresses local to the node (``--dst-type LOCAL``, ``fib daddr type local``): a Pod reaching another node's
        address is translated there, after its egress policy judged the node address. A CNI replacing kube-proxy
        translates at the socket on the sending node (Cilium's socket load balancer) — *assumption*: any node's
        NodePort, as the solver did before, so the backend is judged."""
        return (sender.node is None or sender.node.name == node.name
                or self.compiled.topology.cluster.cni.kube_proxy_replacement)

    def _service_port(self, svc: Service, protocol: int, port: int | str) -> ServicePort | None:
        return service_port(svc, protocol, port)

    def _live_backends(self, events: Events, svc: Service, sp: ServicePort,
                       node: Node | None) -> tuple[list[Backend], Events | None]:
        where = f"service:{svc.qualified_name}"
        backends = [b for b in self.compiled.backends(svc, sp) if b.port is not None]
        why = ("no endpoint Pod exposes targetPort " + str(sp.target_port)) if self.compiled.backends(svc, sp) \
            else "the Service has no endpoints (its selector matches no Pod with an address)"
        if node is not None and svc.external_traffic_policy == "Local":
            backends = [b for b in backends if b.node is not None and b.node.name == node.name]
            why = f"externalTrafficPolicy Local and no endpoint on node {node.name}"
        if backends:
            return _distinct(self.compiled, backends), None
        return [], events + ((where, StepRecord(Step.DNAT, why, False, Disposition.NO_ENDPOINTS, (
            Decision("Service", svc.qualified_name, why, False, sp.source),))),)

    def _to_service_ip(self, events: Events, sender: Sender, svc: Service, address: IPAddress, protocol: int,
                       port: int | str) -> list[Events]:
        where = f"service:{svc.qualified_name}"
        name = svc.qualified_name
        sp = self._service_port(svc, protocol, port)
        if sp is None:
            ports = ", ".join(f"{protocol_label(p.protocol)} {p.port}" for p in svc.ports) or "none"
            return [events + ((where, StepRecord(
                Step.DNAT, f"Service {name} has no port {protocol_label(protocol)} {port} (ports: {ports})", False,
                Disposition.NO_LISTENER, (Decision("Service", name, f"no port {protocol_label(protocol)} {port}",
                                                   False, svc.source),))),)]
        if not self.compiled.proxies_services:
            return [events + ((where, StepRecord(Step.DNAT, "no kube-proxy and no CNI replacement: Service IPs are "
                                                 "not translated", False, Disposition.NO_ROUTE)),)]
        if address in svc.cluster_ips:
            if sender.node is None:
                return [events + ((where, StepRecord(Step.ROUTE, "ClusterIPs are only reachable inside the cluster",
                                                     False, Disposition.NO_ROUTE)),)]
            if self.compiled.topology.cluster.masquerade_all:
                snat_ip = node_ip(sender.node, address.version)
                if snat_ip is not None and not sender.snatted:
                    events = events + ((f"node:{sender.node.name}", StepRecord(
                        Step.SNAT, f"{sender.address} → {snat_ip} (kube-proxy masqueradeAll)")),)
                    sender = replace(sender, address=snat_ip, snatted=True)
            backends, failed = self._live_backends(events, svc, sp, None)
            if failed is not None:
                return [failed]
            out: list[Events] = []
            for b in backends:
                step = StepRecord(Step.DNAT, f"{address}:{sp.port} → {b.address}:{b.port}", True, None,
                                  (Decision("Service", name, f"port {sp.name or sp.port} → targetPort "
                                            f"{sp.target_port}", True, sp.source),))
                out.extend(self._to_backend(events + ((where, step),), replace(sender, dnatted=True), b, protocol))
            return out
        return self._to_external_ip(events, sender, svc, sp, address, protocol)

    def _to_external_ip(self, events: Events, sender: Sender, svc: Service, sp: ServicePort, address: IPAddress,
                        protocol: int) -> list[Events]:
        where = f"service:{svc.qualified_name}"
        name = svc.qualified_name
        is_lb = address in svc.load_balancer_ips
        if is_lb and svc.load_balancer_source_ranges:
            ranges = AddressSet.of_networks(svc.load_balancer_source_ranges)
            ok = ranges.contains(sender.address)
            events = events + ((where, StepRecord(
                Step.FIREWALL_INGRESS, f"loadBalancerSourceRanges {ranges} {'admit' if ok else 'exclude'} "
                f"{sender.address}", ok, None if ok else Disposition.DENIED_BY_SOURCE_RANGES,
                (Decision("Service", name, f"loadBalancerSourceRanges {ranges}", ok, svc.source),))),)
        entry_port = sp.node_port if is_lb and sp.node_port is not None else sp.port
        nodes = self.compiled.topology.nodes
        if svc.external_traffic_policy == "Local":
            local = {b.node.name for b in self.compiled.backends(svc, sp) if b.node is not None and b.port is not None}
            nodes = tuple(n for n in nodes if n.name in local)
        if not nodes:
            return [events + ((where, StepRecord(Step.DNAT, "no node can take the traffic (Local and no endpoint)",
                                                 False, Disposition.NO_ENDPOINTS)),)]
        out: list[Events] = []
        for node in _distinct_nodes(self.compiled, nodes):
            how = f"load balancer → node {node.name} NodePort {entry_port}" if is_lb else \
                f"externalIP routed to node {node.name} port {entry_port}"
            leg = events + ((where, StepRecord(Step.ROUTE, how)),)
            # A load balancer sends to the node's address; an externalIP is routed to the node as it is, so the
            # node's firewall sees that address as the destination (a rule's `to: [{node: {}}]` does not cover it).
            entry_ip = (node_ip(node, address.version) or address) if is_lb else address
            leg, _ = cross(self.compiled, leg, sender, node, entry_ip, False, protocol, entry_port)
            entered = replace(sender, node=node)
            out.extend(self._enter_service(leg, entered, node, svc, sp, protocol,
                                           "LoadBalancer" if is_lb else "externalIP"))
        return out

    def _enter_service(self, events: Events, sender: Sender, node: Node, svc: Service, sp: ServicePort,
                       protocol: int, how: str) -> list[Events]:
        """Traffic arriving on a node for a Service from outside the Pod network (NodePort, LB, externalIP)."""
        where = f"node:{node.name}"
        backends, failed = self._live_backends(events, svc, sp, node)
        if failed is not None:
            return [failed]
        # kube-proxy rewrites the destination first (PREROUTING) and the source last (POSTROUTING), so the trace
        # shows dnat before snat.
        snat: Events = ()
        if svc.external_traffic_policy != "Local":
            snat_ip = node_ip(node, sender.address.version)
            if snat_ip is not None:
                snat = ((where, StepRecord(
                    Step.SNAT, f"{sender.address} → {snat_ip} (externalTrafficPolicy Cluster)", True, None,
                    (Decision("Service", svc.qualified_name, "externalTrafficPolicy Cluster", True,
                              svc.source),))),)
                sender = replace(sender, address=snat_ip, snatted=True, node=node)
        out: list[Events] = []
        for b in backends:
            step = StepRecord(Step.DNAT, f"{how} → {b.address}:{b.port}", True, None, (
                Decision("Service", svc.qualified_name, f"{how} port {sp.name or sp.port} → "
                         f"targetPort {sp.target_port}", True, sp.source),))
            out.extend(self._to_backend(events + ((where, step),) + snat, replace(sender, dnatted=True), b,
                                        protocol))
        return out

    def _to_backend(self, events: Events, sender: Sender, backend: Backend, protocol: int) -> list[Events]:
        assert backend.port is not None
        if backend.pod is not None:
            return self._to_pod(events, sender, backend.pod, protocol, backend.port)
        endpoint = endpoint_at(self.compiled, backend.address)
        if endpoint.kind == "node" and endpoint.node is not None:
            return self._to_node(events, sender, endpoint.node, backend.address, protocol, backend.port)
        return self._to_outside(events, sender, endpoint, protocol, backend.port)

    def _to_outside(self, events: Events, sender: Sender, dst: Endpoint, protocol: int,
                    port: int) -> list[Events]:
        assert dst.address is not None
        if sender.node is None:
            return [events + ((dst.label, StepRecord(Step.ROUTE, "both ends are outside the cluster", False,
                                                     Disposition.NO_ROUTE)),)]
        events, sender = self._egress(events, sender, None, dst.address, protocol, port)
        events, sender = self._masquerade(events, sender, dst.address)
        node = sender.node
        assert node is not None
        what = f"{protocol_label(protocol)} {port} {sender.address} → {dst.address}"
        events = events + ((f"node:{node.name}", firewall_step(self.compiled, node, "egress", dst.address, protocol,
                                                             port, what, local=sender.address)),)
        reply = reply_step(self.compiled, node, "ingress", dst.address, dst.address, sender.address, protocol)
        if reply is not None:
            events = events + ((f"node:{node.name}", reply),)
        events = events + ((dst.label, StepRecord(Step.DELIVER, "leaves the cluster (what listens outside is "
                                                  "not modeled)")),)
        return [events]


def _same_pod(a: Pod, b: Pod) -> bool:
    return (a.namespace, a.name) == (b.namespace, b.name)


def _listener_kind(listener: Listener) -> str:
    return "Pod" if listener.pod is not None else "Service" if listener.service is not None else "Node"


def _distinct(compiled: CompiledCluster, backends: list[Backend]) -> list[Backend]:
    """One backend per (Pod class, node, port): the others take identical paths."""
    seen: dict[tuple[object, ...], Backend] = {}
    for b in backends:
        key = (compiled.class_of(b.pod).id if b.pod else b.address, b.node.name if b.node else "", b.port)
        seen.setdefault(key, b)
    return list(seen.values())


def _distinct_nodes(compiled: CompiledCluster, nodes: tuple[Node, ...]) -> list[Node]:
    """Entry nodes that differ in what filters them: one per set of firewalls and role."""
    seen: dict[tuple[object, ...], Node] = {}
    for n in nodes:
        key = (compiled.firewalls.class_key(n), n.is_control_plane)
        seen.setdefault(key, n)
    return list(seen.values())
