"""Cilium host policies — CiliumClusterwideNetworkPolicy rules with a ``nodeSelector`` — as the node Firewalls they
are (docs/reachability.md, "Cilium host policies").

Sources: Cilium's documentation, "Host Policies" (Documentation/security/policy/host.rst) and "Host Firewall"
(Documentation/security/host-firewall.rst), and cilium/cilium's code (pkg/policy/utils/utils.go,
``RulesToPolicyEntries``: a host policy's rules become the same policy entries as an endpoint policy's, with the
node as their subject):

* Host policies apply only when the agent runs with ``hostFirewall.enabled`` (the Cluster's
  ``cni.hostFirewall: true``); otherwise they do nothing (warning NM-INPUT-041).
* They apply to the host namespace of the nodes the selector matches (hostNetwork Pods included), not to Pod
  traffic: "They don't apply to communications between non-host-networking pods and locations outside of the
  cluster". So every rule here judges only packets whose node-side address is the node's own (``to: node`` on
  ingress, ``from: node`` on egress).
* The same rule semantics as for endpoints: a node selected by a host policy with an ingress (egress) section is
  in default deny for that direction (``enableDefaultDeny`` as for endpoints); deny rules win over allows; the
  allows of every host policy selecting the node are one union; replies pass (Cilium tracks connections).
* With kube-proxy replacement, NodePort traffic is translated to its backend before the host firewall sees it;
  without it, "hosts will enforce Host Policies on service addresses rather than the service endpoints" (the
  "Host Policies known issues"): the NodePorts are exempted only with ``kubeProxyReplacement``.

Each set of nodes selected by the same host policies gets one Firewall (``cilium-host:NAME+NAME``): its deny
rules first, then its allow rules, then a deny of what is left addressed to the node when a policy puts it in
default deny, and ``defaultAction: allow`` for the rest (Pod traffic crossing the node). Every rule keeps the
Cilium rule's name and file:line, so traces and findings point at the policy. Peers become addresses here, from
the model: endpoint selectors the Pods' addresses; entities, CIDRs and nodes as for endpoint policies
(analyze/policy/cilium.py), with ``world`` and ``cluster`` left for the compiled address book
(:attr:`FirewallPeer.entity`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from netmodel.errors import SourceSpan
from netmodel.model.cilium import (
    NAMESPACE_KEY,
    NAMESPACE_LABELS_PREFIX,
    SERVICE_ACCOUNT_KEY,
    CiliumPolicy,
    CiliumRule,
    CiliumSpec,
)
from netmodel.model.labels import Labels, LabelSelector
from netmodel.model.objects import (
    Firewall,
    FirewallChain,
    FirewallLocal,
    FirewallPeer,
    FirewallRule,
    Node,
    Pod,
    PolicyPort,
)
from netmodel.model.read_cilium import normalize_key
from netmodel.model.topology import Note, Topology
from netmodel.sets import (
    ALL_PORTS,
    ALL_PROTOCOLS,
    AddressSet,
    IntervalSet,
    IPAddress,
    IPNetwork,
    parse_network,
)
from netmodel.sets.ports import PORTED_PROTOCOLS

PREFIX = "cilium-host:"


def endpoint_labels(topology: Topology, namespace: str, labels: Labels, service_account: str = "") -> dict[str, str]:
    """The labels Cilium gives a Pod's endpoint (cilium/cilium pkg/k8s/utils/utils.go, SanitizePodLabels): its own,
    its namespace under ``io.kubernetes.pod.namespace``, the namespace's labels under
    ``io.cilium.k8s.namespace.labels.`` and its ``spec.serviceAccountName`` under
    ``io.cilium.k8s.policy.serviceaccount`` ("" leaves that out: callers that judge Pod classes tell accounts apart
    only when some selector names the key)."""
    out = dict(labels.items())
    out[NAMESPACE_KEY] = namespace
    found = topology.namespace_by_name.get(namespace)
    for key, value in found.labels.items() if found is not None else ():
        out[NAMESPACE_LABELS_PREFIX + key] = value
    if service_account:
        out[SERVICE_ACCOUNT_KEY] = service_account
    return out


def host_specs(topology: Topology) -> list[tuple[CiliumPolicy, CiliumSpec]]:
    """Every host policy rule (a spec with a nodeSelector), in input order."""
    return [(p, s) for p in topology.cilium_policies for s in p.specs if s.node_selector is not None]


def enforced(topology: Topology) -> bool:
    """Whether Cilium enforces host policies here: the CNI is Cilium with its host firewall enabled."""
    cni = topology.cluster.cni
    return cni.plugin == "cilium" and cni.host_firewall


def with_host_policies(topology: Topology) -> Topology:
    """The topology with its host policies as Firewalls when Cilium enforces them; else with warning NM-INPUT-041
    on each (they change nothing)."""
    specs = host_specs(topology)
    if not specs:
        return topology
    if enforced(topology):
        return replace(topology, firewalls=topology.firewalls + host_firewalls(topology, specs))
    cni = topology.cluster.cni
    why = ("the Cluster does not enable Cilium's host firewall" if cni.plugin == "cilium" else
           f"the Cluster's CNI is {cni.plugin}, and only Cilium with its host firewall enforces host policies")
    sources: dict[CiliumPolicy, list[SourceSpan]] = {}
    for policy, spec in specs:
        sources.setdefault(policy, []).append(spec.source)
    notes = tuple(Note("NM-INPUT-041", f"{policy.label}: a host policy (nodeSelector) has no effect: {why}; set "
                       "`cni: {plugin: cilium, hostFirewall: true}` in the Cluster if the agent runs with "
                       "hostFirewall.enabled, or remove the policy", (policy.ref,), (*spans, cni.source), "warning")
                  for policy, spans in sources.items())
    return replace(topology, notes=topology.notes + notes)


def host_firewalls(topology: Topology, specs: list[tuple[CiliumPolicy, CiliumSpec]]) -> tuple[Firewall, ...]:
    """One Firewall per set of nodes the same host policy rules select."""
    groups: dict[tuple[int, ...], list[Node]] = {}
    for node in topology.nodes:
        key = tuple(i for i, (_, spec) in enumerate(specs) if selects(spec, node))
        if key:
            groups.setdefault(key, []).append(node)
    rules = _Rules(topology)
    out = []
    for key, nodes in groups.items():
        selecting = [specs[i] for i in key]
        names = "+".join(dict.fromkeys(p.name for p, _ in selecting))
        out.append(Firewall(
            PREFIX + names, None, tuple(n.name for n in nodes),
            rules.chain(selecting, "ingress"), rules.chain(selecting, "egress"), True, Labels(),
            selecting[0][0].source, derived_from=", ".join(dict.fromkeys(p.label for p, _ in selecting))))
    return tuple(out)


def selects(spec: CiliumSpec, node: Node) -> bool:
    """Whether a host policy rule's nodeSelector matches the node's labels."""
    return spec.node_selector is not None and _node_selector(spec.node_selector).matches(node.labels)


def _node_selector(selector: LabelSelector) -> LabelSelector:
    return LabelSelector.of({normalize_key(k): v for k, v in selector.match_labels}, list(selector.match_expressions))


_V4 = parse_network("0.0.0.0/0")
_V6 = parse_network("::/0")


class _Rules:
    """Cilium rules as Firewall rules of one topology."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.endpoints = [p for p in topology.pods if not p.host_network and p.ips]
        self.labels = {id(p): endpoint_labels(topology, p.namespace, p.labels, p.service_account)
                       for p in self.endpoints}

    def chain(self, selecting: list[tuple[CiliumPolicy, CiliumSpec]], direction: str) -> FirewallChain:
        """Deny rules, allow rules, then the default deny of what is addressed to the node; the rest passes."""
        out: list[FirewallRule] = []
        for deny in (True, False):
            for policy, spec in selecting:
                for rule in spec.rules:
                    if rule.direction == direction and rule.deny == deny:
                        out.extend(self.rules(policy, rule))
        defaulting = [(p, s) for p, s in selecting
                      if (s.has_ingress and s.default_deny_ingress if direction == "ingress"
                          else s.has_egress and s.default_deny_egress)]
        if defaulting:
            if self.topology.cluster.cni.kube_proxy_replacement and direction == "ingress":
                out[:0] = self.node_ports()
            policy, spec = defaulting[0]
            out.append(FirewallRule(f"{policy.ref} puts the node in default deny for {direction}", "deny",
                                    ALL_PROTOCOLS, ALL_PORTS, None, spec.source, (_node_end(spec.source),)))
        return FirewallChain("allow", tuple(out), selecting[0][1].source)

    def node_ports(self) -> list[FirewallRule]:
        """With kube-proxy replacement the NodePorts are translated before the host firewall: the NodePort range
        passes it (a port no Service holds has no listener anyway)."""
        cluster = self.topology.cluster
        return [FirewallRule("NodePort range (kube-proxy replacement translates NodePorts before the host "
                             "firewall)", "allow", IntervalSet((p, p) for p in sorted(PORTED_PROTOCOLS)),
                             cluster.node_port_range, None, cluster.cni.source, (_node_end(cluster.cni.source),))]

    def rules(self, policy: CiliumPolicy, rule: CiliumRule) -> list[FirewallRule]:
        """One Firewall rule per port entry of ``rule`` (none for a port only a container can name)."""
        name = f"{policy.ref} {rule.label}"
        action = "deny" if rule.deny else "allow"
        peers = self.peers(rule)
        local = (_node_end(rule.source),)
        if rule.ports is None:
            return [FirewallRule(name, action, ALL_PROTOCOLS, ALL_PORTS, peers, rule.source, local)]
        return [FirewallRule(name, action, IntervalSet.of((p.protocol, p.protocol)), _port_set(p), peers,
                             rule.source, local)
                for p in rule.ports if not isinstance(p.port, str)] + [
            FirewallRule(name, action, IntervalSet.of((protocol, protocol)), ALL_PORTS, peers, rule.source, local)
            for protocol in rule.icmp_echo]

    def peers(self, rule: CiliumRule) -> tuple[FirewallPeer, ...] | None:
        """The rule's peers as Firewall peers (None: every peer)."""
        if rule.wildcard or "all" in (rule.entities or ()):
            return None
        span = rule.source
        out: list[FirewallPeer] = []
        for sel in rule.endpoints or ():
            out.append(self._pods([p for p in self.endpoints if sel.matches(self.labels[id(p)])], span))
        for name in rule.entities or ():
            out.extend(self._entity(name, span))
        for cidr in rule.cidrs or ():
            block = AddressSet.of_networks([cidr.cidr]) - AddressSet.of_networks(cidr.excepts)
            out.append(FirewallPeer(cidrs=tuple(block.cidrs()), source=span, entity="world"))
        for sel in rule.nodes or ():
            out.append(FirewallPeer(node_selector=_node_selector(sel), source=span))
        for ref in rule.services or ():
            for svc in self.topology.services:
                if not ref.selects(svc):
                    continue
                if svc.selector:
                    chosen = LabelSelector.of(dict(svc.selector.items()))
                    out.append(self._pods([p for p in self.endpoints if p.namespace == svc.namespace
                                           and chosen.matches(p.labels)], span))
                else:
                    out.append(FirewallPeer(cidrs=tuple(ip_network(ip) for s in self.topology.endpoint_slices
                                                        if s.namespace == svc.namespace and s.service_name == svc.name
                                                        for e in s.endpoints for ip in e.addresses),
                                            source=span, entity="world"))
        return tuple(p for p in out if p.cidrs or p.node_selector is not None or p.nodes or p.entity == "cluster")

    def _pods(self, pods: list[Pod], span: SourceSpan) -> FirewallPeer:
        return FirewallPeer(cidrs=tuple(ip_network(ip) for p in pods for ip in p.ips), source=span)

    def _entity(self, name: str, span: SourceSpan) -> list[FirewallPeer]:
        if name == "world":
            return [FirewallPeer(cidrs=(_V4, _V6), source=span, entity="world")]
        if name in ("world-ipv4", "world-ipv6"):
            return [FirewallPeer(cidrs=(_V4 if name == "world-ipv4" else _V6,), source=span, entity="world")]
        if name == "cluster":
            return [FirewallPeer(source=span, entity="cluster")]
        if name == "remote-node":
            # Every node: traffic between a node and itself never crosses its interface, so all a node's firewall
            # sees of the nodes is the remote ones.
            return [FirewallPeer(node_selector=LabelSelector.of({}), source=span)]
        if name == "kube-apiserver":
            out = [FirewallPeer(nodes=tuple(n.name for n in self.topology.control_plane_nodes), source=span)]
            api = tuple(ip_network(ip) for s in self.topology.endpoint_slices
                        if s.namespace == "default" and s.service_name == "kubernetes"
                        for e in s.endpoints for ip in e.addresses)
            return out + ([FirewallPeer(cidrs=api, source=span)] if api else [])
        # host: the node itself (its own traffic never crosses its interface); ingress, init, health, unmanaged:
        # no peer netmodel models (NM-INPUT-045 at the rule).
        return []


def _node_end(span: SourceSpan) -> FirewallLocal:
    return FirewallLocal(node=True, source=span)


def _port_set(port: PolicyPort) -> IntervalSet:
    if port.port is None:
        return ALL_PORTS
    assert isinstance(port.port, int)
    return IntervalSet.of((port.port, port.end_port or port.port))


def ip_network(ip: IPAddress) -> IPNetwork:
    """A host network (/32, /128) of one address."""
    return ipaddress.ip_network(ip)


__all__ = ["PREFIX", "endpoint_labels", "enforced", "host_firewalls", "host_specs", "selects", "with_host_policies"]
