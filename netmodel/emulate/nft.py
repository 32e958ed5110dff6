"""Node firewalls and NetworkPolicies as nftables rulesets, written from the model alone.

The emulation is an oracle for the solver, so nothing here asks the solver (or its compiled policy classes):
selectors are evaluated directly on the model's Pods and Namespaces, named ports are looked up on each Pod.

Firewalls (table ``nm_fw`` in each node namespace):

* ``ingress`` runs in ``prerouting`` at priority -150, before any DNAT, on packets that entered through the
  node's underlay interface: the firewall sees what the wire carried (a NodePort, an outer VXLAN packet).
* ``egress`` runs in ``postrouting`` at priority 300, after SNAT, on packets leaving through it.
* A rule's node-side end (``to`` on ingress, ``from`` on egress) is an ``ip daddr`` match in the ingress chain
  (before DNAT: a NodePort is the node's address, natively routed Pod traffic the Pod's) and an ``ip saddr``
  match in the egress chain (after SNAT), next to the far end's ``saddr``/``daddr`` match, per IP family.
* Each Firewall is one chain: rules in order, an allow ``return``s (the next firewall decides too), a deny
  ``drop``s, the default action ends the chain. The base chain jumps to every firewall selecting the node in
  turn, so the firewalls AND. A stateful firewall first lets ``ct state established,related`` through.

NetworkPolicies (table ``nm_pol``), on each Pod's veth in its node's namespace:

* egress in ``prerouting`` at priority 0 (after DNAT: a packet to a ClusterIP is judged by its endpoint),
  ingress in ``postrouting`` at priority 200 (after SNAT: an ipBlock sees the node a NodePort SNATed to);
* an isolated Pod's chain accepts replies, then traffic to/from its own node's addresses (Kubernetes: traffic
  between a Pod and its node is always allowed), then each rule of each selecting policy, then drops.

AdminNetworkPolicy and BaselineAdminNetworkPolicy (``policy.networking.k8s.io/v1alpha1``) wrap that, per Pod and
direction: the Pod's chain first jumps to an ``_anp`` chain holding the rules of every AdminNetworkPolicy that
selects the Pod, by ascending priority then name, rules in order — Allow ``accept``s, Deny ``drop``s, Pass
``return``s to the Pod's chain, which goes on with the NetworkPolicy rules; where no NetworkPolicy isolates the
Pod, the end of its chain jumps to a ``_banp`` chain (the baseline's rules: accept, drop; none matching returns,
and the base chain's policy accepts). Peers are addresses: the Pods ``namespaces``/``pods`` select (never
hostNetwork ones), ``networks`` as written, the addresses of the ``nodes`` selected.

Cilium policies (``cilium.io/v2``; netmodel/emulate/nft_cilium.py) join the same chain: their deny rules
``drop`` right after the ``_anp`` jump, their allow rules ``accept`` next to the NetworkPolicy rules, and the
chain ends in ``drop`` when a NetworkPolicy isolates the Pod or a Cilium rule puts it in default deny.

Calico tiers (``projectcalico.org/v3``; netmodel/emulate/nft_calico.py) replace that order when the input has a
Calico policy or Tier, as in the solver: after replies and the own node, the chain jumps to one chain per tier in
Calico's order (the ``_anp``/``_banp`` chains at the ``kube-admin``/``kube-baseline`` places, the NetworkPolicy
rules inside the ``default`` tier at order 1000).

IPv6 neighbour discovery is link plumbing like ARP and is never filtered.

No text from the input reaches a script: chains and comments name objects by their index in the topology
(``firewall 2 ingress rule 0``, ``policy 5 egress 1``, the Pod on ``v3``), and everything else written is an address, a
number or a name the lab made itself. Names are held to the API server's rules at load time too
(`netmodel.model.names`); this is the second, independent guard, so a rule name can never close a quote.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from netmodel.compile.addresses import AddressBook
from netmodel.emulate.nft_calico import CalicoChains, KubernetesLines
from netmodel.emulate.nft_calico import replayed as calico_replayed
from netmodel.emulate.nft_cilium import CiliumLines
from netmodel.emulate.nft_common import (
    family_matches,
    join,
    l4_match,
    nft_set,
    paired_matches,
    policy_pods,
)
from netmodel.emulate.nft_common import pod_addresses as _pod_addresses
from netmodel.emulate.nft_common import port_matches as _port_matches
from netmodel.model.objects import (
    AdminNetworkPolicy,
    AdminPeer,
    Firewall,
    FirewallChain,
    FirewallLocal,
    FirewallPeer,
    FirewallRule,
    NetworkPolicy,
    Node,
    Pod,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
)
from netmodel.model.topology import Topology
from netmodel.sets import AddressSet, IPAddress, IPNetwork

NDP = (
    "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert }"
    " accept"
)
FIREWALL_TABLE = "nm_fw"
POLICY_TABLE = "nm_pol"


# ------------------------------------------------------------------------------------------ firewalls


def firewall_peer_addresses(topology: Topology, peer: FirewallPeer) -> AddressSet:
    """What one firewall peer matches: CIDRs, a network's CIDRs as written, nodes' addresses, or the cluster's
    addresses or those outside it (a Cilium host policy's ``cluster`` and ``world``, CIDRs outside the cluster)."""
    if peer.entity:
        cluster = _cluster_addresses(topology)
        return cluster if peer.entity == "cluster" else AddressSet.of_networks(peer.cidrs) - cluster
    if peer.cidrs:
        return AddressSet.of_networks(peer.cidrs)
    if peer.network:
        network = topology.cluster.network(peer.network)
        return AddressSet.of_networks(network.cidrs) if network else AddressSet()
    if peer.nodes:
        nodes = [n for n in topology.nodes if n.name in peer.nodes]
    else:
        selector = peer.node_selector
        nodes = [n for n in topology.nodes if selector is not None and selector.matches(n.labels)]
    return AddressSet.of_networks(ip for n in nodes for ip in n.ips)


def firewall_local_addresses(topology: Topology, node: Node, local: Sequence[FirewallLocal]) -> AddressSet:
    """What a rule's node-side entries match on ``node``: its own addresses, every Pod range, or CIDRs."""
    out = AddressSet()
    for entry in local:
        if entry.node:
            own = AddressSet.of_networks(node.ips)
            out = out | (own if entry.within is None else own & AddressSet.of_networks(entry.within))
        elif entry.pods:
            out = out | AddressSet.of_networks(topology.cluster.pod_cidrs) | AddressSet.of_networks(
                c for n in topology.nodes for c in n.pod_cidrs)
        else:
            out = out | AddressSet.of_networks(entry.cidrs)
    return out


def _address_matches(topology: Topology, node: Node, rule: FirewallRule, peer_field: str,
                     local_field: str) -> list[str]:
    """The address part of one rule's lines: the far end (``peer_field``) and the node's own end
    (``local_field``), one line per IP family when either is restricted; [] when it can match nothing."""
    peers = None
    if rule.peers is not None:
        peers = AddressSet()
        for peer in rule.peers:
            peers = peers | firewall_peer_addresses(topology, peer)
    local = None if rule.local is None else firewall_local_addresses(topology, node, rule.local)
    return paired_matches((peer_field, peers), (local_field, local))


def _firewall_chain(topology: Topology, node: Node, name: str, firewall: Firewall, chain: FirewallChain,
                    peer_field: str) -> list[str]:
    number = _position(topology.firewalls, firewall)
    direction = "ingress" if peer_field == "saddr" else "egress"
    # ingress sees the packet before DNAT (destination: the node's end), egress after SNAT (source: ours)
    local_field = "daddr" if peer_field == "saddr" else "saddr"
    lines = [f"  chain {name} {{", f"    # firewall {number} (its position among the input's Firewalls)"]
    if firewall.stateful:
        lines.append("    ct state established,related return")
    for rule_number, rule in enumerate(chain.rules):
        verdict = "return" if rule.action == "allow" else "drop"
        address_matches = _address_matches(topology, node, rule, peer_field, local_field)
        for l4 in l4_match(rule.protocols, rule.ports):
            for address_match in address_matches:
                lines.append(f"    {join(address_match, l4, verdict)} comment \"firewall {number} {direction} rule {rule_number}\"")
    lines.append(f"    {'return' if chain.default_action == 'allow' else 'drop'} comment \"default\"")
    lines.append("  }")
    return lines


def firewall_ruleset(topology: Topology, node: Node, uplinks: Sequence[str]) -> str | None:
    """The ``nm_fw`` table for one node, or None when no Firewall written in netmodel's terms selects it."""
    # an imported iptables/nftables file is loaded as it is (netmodel/emulate/native.py), not translated here
    firewalls = [f for f in topology.firewalls if f.selects(node) and f.native is None]
    if not firewalls:
        return None
    links = nft_set(f'"{u}"' for u in uplinks)
    ingress = ["  chain ingress {", "    type filter hook prerouting priority -150; policy accept;",
               f"    iifname != {links} accept", f"    {NDP}"]
    egress = ["  chain egress {", "    type filter hook postrouting priority 300; policy accept;",
              f"    oifname != {links} accept", f"    {NDP}"]
    chains: list[str] = []
    for index, firewall in enumerate(firewalls):
        ingress.append(f"    jump fw{index}_in")
        egress.append(f"    jump fw{index}_out")
        chains += _firewall_chain(topology, node, f"fw{index}_in", firewall, firewall.ingress, "saddr")
        chains += _firewall_chain(topology, node, f"fw{index}_out", firewall, firewall.egress, "daddr")
    return "\n".join([f"table inet {FIREWALL_TABLE} {{", *ingress, "  }", *egress, "  }", *chains, "}"]) + "\n"


# ------------------------------------------------------------------------------------ NetworkPolicies


def selects(topology: Topology, policy: NetworkPolicy, pod: Pod) -> bool:
    """Whether ``policy`` applies to ``pod`` (same namespace, podSelector matches)."""
    return pod.namespace == policy.namespace and policy.pod_selector.matches(pod.labels)


def peer_pods(topology: Topology, policy: NetworkPolicy, peer: PolicyPeer) -> list[Pod]:
    """Pods a selector peer stands for (podSelector and namespaceSelector AND when both are given)."""
    if peer.pod_selector is None and peer.namespace_selector is None:
        return []
    out = []
    for pod in policy_pods(topology):
        if peer.namespace_selector is None:
            in_namespace = pod.namespace == policy.namespace
        else:
            namespace = topology.namespace_by_name.get(pod.namespace)
            in_namespace = namespace is not None and peer.namespace_selector.matches(namespace.labels)
        if in_namespace and (peer.pod_selector is None or peer.pod_selector.matches(pod.labels)):
            out.append(pod)
    return out


def _rule_peers(topology: Topology, policy: NetworkPolicy,
                rule: PolicyRule) -> tuple[list[Pod], AddressSet, bool]:
    """(selected Pods, ipBlock addresses, matches everyone) for one rule."""
    if rule.peers is None:
        return [], AddressSet(), True
    pods: list[Pod] = []
    blocks = AddressSet()
    for peer in rule.peers:
        if peer.ip_block is not None:
            blocks = blocks | peer.ip_block.addresses
        else:
            pods += peer_pods(topology, policy, peer)
    if blocks and topology.cluster.cni.plugin == "cilium":
        # Cilium makes an ipBlock a CIDR rule, which matches no Pod or node address (docs/reachability.md).
        blocks = blocks - _cluster_addresses(topology)
    return list(dict.fromkeys(pods)), blocks, False


_LAST_CLUSTER: list[tuple[Topology, AddressSet]] = []


def _cluster_addresses(topology: Topology) -> AddressSet:
    """The cluster's own addresses (netmodel.compile.addresses), kept for the last topology asked about."""
    if not _LAST_CLUSTER or _LAST_CLUSTER[0][0] is not topology:
        _LAST_CLUSTER[:] = [(topology, AddressBook(topology).cluster)]
    return _LAST_CLUSTER[0][1]


def _note(topology: Topology, policy: NetworkPolicy, direction: str, index: int) -> str:
    """The comment of a policy rule's lines: the policy's and the rule's index, never their text."""
    return f'comment "policy {_position(topology.network_policies, policy)} {direction} {index}"'


def _position(items: Sequence[object], item: object) -> int:
    """Where ``item`` itself (not an equal one) is in ``items``: by identity, so no deep comparisons."""
    return next(i for i, candidate in enumerate(items) if candidate is item)


def ingress_rules(topology: Topology, pod: Pod, policies: Sequence[NetworkPolicy]) -> Iterator[str]:
    """Accept lines for traffic into ``pod`` (ports resolve on ``pod`` itself)."""
    for policy in policies:
        for index, rule in enumerate(policy.ingress):
            pods, blocks, everyone = _rule_peers(topology, policy, rule)
            ports = _port_matches(pod, rule.ports)
            peers = [""] if everyone else family_matches("saddr", _pod_addresses(pods) | blocks)
            note = _note(topology, policy, "ingress", index)
            for peer in peers:
                for port in ports:
                    yield join(peer, port, "accept", note)


def egress_rules(topology: Topology, pod: Pod, policies: Sequence[NetworkPolicy]) -> Iterator[str]:
    """Accept lines for traffic from ``pod``; named ports resolve on each destination Pod."""
    for policy in policies:
        for index, rule in enumerate(policy.egress):
            pods, blocks, everyone = _rule_peers(topology, policy, rule)
            note = _note(topology, policy, "egress", index)
            named = rule.ports is not None and any(isinstance(p.port, str) for p in rule.ports)
            numbered = None if rule.ports is None else tuple(
                p for p in rule.ports if not isinstance(p.port, str))
            if rule.ports is None or numbered:
                peers = [""] if everyone else family_matches("daddr", _pod_addresses(pods) | blocks)
                for peer in peers:
                    for port in _port_matches(None, numbered):
                        yield join(peer, port, "accept", note)
            if named:
                assert rule.ports is not None
                names = tuple(p for p in rule.ports if isinstance(p.port, str))
                # A named port means a number per destination Pod: one line per Pod the peers cover.
                for target in policy_pods(topology):
                    addresses = _pod_addresses([target])
                    if not everyone and target not in pods:
                        addresses = addresses & blocks
                    for peer in family_matches("daddr", addresses):
                        for port in _port_matches(target, names):
                            yield join(peer, port, "accept", note)


def admin_selects(topology: Topology, policy: AdminNetworkPolicy, pod: Pod) -> bool:
    """An admin policy's subject: Pods (not hostNetwork) of the selected namespaces whose labels match."""
    namespace = topology.namespace_by_name.get(pod.namespace)
    return not pod.host_network and bool(pod.ips) and namespace is not None and \
        policy.namespace_selector.matches(namespace.labels) and policy.pod_selector.matches(pod.labels)


def admin_peer_addresses(topology: Topology, peer: AdminPeer) -> AddressSet:
    """The addresses an admin policy's node or network peer stands for (Pod peers are matched by class)."""
    if peer.field == "networks":
        return AddressSet.of_networks(peer.networks)
    if peer.field == "nodes" and peer.node_selector is not None:
        selector = peer.node_selector
        return AddressSet.of_networks(ip for n in topology.nodes if selector.matches(n.labels) for ip in n.ips)
    if peer.namespace_selector is None:
        return AddressSet()  # domainNames: not evaluated, matches nothing
    pods = []
    for target in policy_pods(topology):
        namespace = topology.namespace_by_name.get(target.namespace)
        if namespace is not None and peer.namespace_selector.matches(namespace.labels) and \
                (peer.pod_selector is None or peer.pod_selector.matches(target.labels)):
            pods.append(target)
    return _pod_addresses(pods)


_ADMIN_VERDICTS = {"Allow": "accept", "Deny": "drop", "Pass": "return"}


def admin_lines(topology: Topology, pod: Pod, policies: Sequence[AdminNetworkPolicy], direction: str,
                ) -> Iterator[str]:
    """The rules of ``policies`` (in evaluation order) for ``pod`` in ``direction`` as verdict lines."""
    field = "saddr" if direction == "ingress" else "daddr"
    for policy in policies:
        position = _position(topology.admin_policies, policy)
        for index, rule in enumerate(policy.ingress if direction == "ingress" else policy.egress):
            verdict = _ADMIN_VERDICTS[rule.action]
            note = f'comment "admin {position} {direction} {index}"'
            addresses = AddressSet()
            for peer in rule.peers:
                addresses = addresses | admin_peer_addresses(topology, peer)
            if direction == "ingress":
                for match in family_matches(field, addresses):
                    for port in _port_matches(pod, rule.ports):
                        yield join(match, port, verdict, note)
                continue
            numbered = None if rule.ports is None else tuple(p for p in rule.ports if not isinstance(p.port, str))
            if rule.ports is None or numbered:
                for match in family_matches(field, addresses):
                    for port in _port_matches(None, numbered):
                        yield join(match, port, verdict, note)
            named = tuple(p for p in rule.ports or () if isinstance(p.port, str))
            if named:
                # A named port means a number per destination Pod: one line per Pod inside the peers.
                for target in policy_pods(topology):
                    for match in family_matches(field, _pod_addresses([target]) & addresses):
                        for port in _port_matches(target, named):
                            yield join(match, port, verdict, note)


def verdict_lines(pod: Pod, direction: str, field: str, addresses: AddressSet | None,
                  ports: tuple[PolicyPort, ...] | None, verdict: str, note: str, topology: Topology) -> Iterator[str]:
    """Lines matching ``addresses`` (None: any peer) and ``ports`` with ``verdict``; on egress a named port
    resolves on each destination Pod inside the addresses."""
    matches = [""] if addresses is None else family_matches(field, addresses)
    if direction == "ingress":
        for match in matches:
            for port in _port_matches(pod, ports):
                yield join(match, port, verdict, note)
        return
    numbered = None if ports is None else tuple(p for p in ports if not isinstance(p.port, str))
    if ports is None or numbered:
        for match in matches:
            for port in _port_matches(None, numbered):
                yield join(match, port, verdict, note)
    named = tuple(p for p in ports or () if isinstance(p.port, str))
    if named:
        for target in policy_pods(topology):
            inside = _pod_addresses([target]) if addresses is None else _pod_addresses([target]) & addresses
            for match in family_matches(field, inside):
                for port in _port_matches(target, named):
                    yield join(match, port, verdict, note)


def _admin_policies(topology: Topology, pod: Pod, direction: str, baseline: bool) -> list[AdminNetworkPolicy]:
    found = [p for p in topology.admin_policies if p.baseline == baseline
             and (p.ingress if direction == "ingress" else p.egress) and admin_selects(topology, p, pod)]
    return sorted(found, key=lambda p: (p.priority or 0, p.name))


def _isolating(topology: Topology, pod: Pod, policy_type: str) -> list[NetworkPolicy]:
    return [p for p in topology.network_policies
            if policy_type in p.policy_types and selects(topology, p, pod)]


def _kubernetes_lines(topology: Topology) -> KubernetesLines:
    """A NetworkPolicy's accept lines for a Pod and direction (None: it does not apply there), for the tiers of
    nft_calico.py."""
    def lines(policy: NetworkPolicy, pod: Pod, direction: str) -> list[str] | None:
        if direction.capitalize() not in policy.policy_types or not selects(topology, policy, pod):
            return None
        return list((ingress_rules if direction == "ingress" else egress_rules)(topology, pod, [policy]))
    return lines


def _calico_chains(topology: Topology, calico: CalicoChains, pod: Pod, policy_type: str, name: str, field: str,
                   own: AddressSet, admins: list[AdminNetworkPolicy],
                   baseline: list[AdminNetworkPolicy]) -> list[str]:
    """The Pod's chain ``name`` and the chains it jumps to when Calico's tiers decide (nft_calico.py): replies and
    the Pod's own node accepted, then a jump per tier in order; [] when no tier has a say on the Pod."""
    direction = policy_type.lower()
    jumps, tiers = calico.chains(pod, direction, name, _kubernetes_lines(topology), bool(admins), bool(baseline))
    if not jumps:
        return []
    lines = [f"  chain {name} {{", f"    # {policy_type} of the Pod, through the Calico tiers",
             "    ct state established,related accept"]
    lines += [f"    {m} accept comment \"own node\"" for m in family_matches(field, own)]
    lines += [f"    {jump}" for jump in jumps]
    lines += ["  }", *tiers]
    for suffix, tier in (("anp", admins), ("banp", baseline)):
        if tier:
            lines += [f"  chain {name}_{suffix} {{"]
            lines += [f"    {line}" for line in admin_lines(topology, pod, tier, direction)]
            lines.append("  }")
    return lines


def policy_ruleset(topology: Topology, node: Node, veths: dict[Pod, str]) -> str | None:
    """The ``nm_pol`` table for one node's Pods, or None when no Pod on it is isolated."""
    own = _addrs(node.ips)
    cilium = CiliumLines(topology)
    calico = CalicoChains(topology) if calico_replayed(topology) else None

    def port_lines(pod: Pod, direction: str, field: str, addresses: AddressSet | None,
                   ports: tuple[PolicyPort, ...] | None, verdict: str, note: str) -> Iterator[str]:
        return verdict_lines(pod, direction, field, addresses, ports, verdict, note, topology)

    ingress_map: list[str] = []
    egress_map: list[str] = []
    chains: list[str] = []
    for number, (pod, veth) in enumerate(veths.items()):
        for policy_type, direction, field, rules in (
            ("Ingress", "in", "saddr", ingress_rules),
            ("Egress", "out", "daddr", egress_rules),
        ):
            policies = _isolating(topology, pod, policy_type)
            admins = _admin_policies(topology, pod, policy_type.lower(), baseline=False)
            baseline = _admin_policies(topology, pod, policy_type.lower(), baseline=True)
            if calico is not None:
                name = f"pod{number}_{direction}"
                lines = _calico_chains(topology, calico, pod, policy_type, name, field, own, admins, baseline)
                if lines:
                    (ingress_map if direction == "in" else egress_map).append(f'"{veth}" : jump {name}')
                    chains += lines
                continue
            cilium_deny = list(cilium.lines(pod, policy_type.lower(), True, port_lines))
            cilium_allow = list(cilium.lines(pod, policy_type.lower(), False, port_lines))
            cilium_isolates = cilium.default_deny(pod, policy_type.lower())
            if not policies and not admins and not baseline and not cilium_deny and not cilium_allow \
                    and not cilium_isolates:
                continue
            name = f"pod{number}_{direction}"
            (ingress_map if direction == "in" else egress_map).append(f'"{veth}" : jump {name}')
            lines = [f"  chain {name} {{", f"    # {policy_type} of the Pod on {veth}",
                     "    ct state established,related accept"]
            lines += [f"    {m} accept comment \"own node\"" for m in family_matches(field, own)]
            if admins:
                lines.append(f"    jump {name}_anp")
            lines += [f"    {line}" for line in cilium_deny]
            if policies or cilium_isolates:
                lines += [f"    {line}" for line in rules(topology, pod, policies)]
                lines += [f"    {line}" for line in cilium_allow]
                lines.append("    drop")
            else:
                # Cilium allows without default deny decide before the baseline, as in the solver's
                # NetworkPolicy tier (a matching allow there is final).
                lines += [f"    {line}" for line in cilium_allow]
                if baseline:
                    lines.append(f"    jump {name}_banp")
            lines.append("  }")
            for suffix, tier in (("anp", admins), ("banp", baseline if not policies and not cilium_isolates else [])):
                if tier:
                    lines += [f"  chain {name}_{suffix} {{"]
                    lines += [f"    {line}" for line in admin_lines(topology, pod, tier, policy_type.lower())]
                    lines.append("  }")
            chains += lines
    if not chains:
        return None
    out = [f"table inet {POLICY_TABLE} {{"]
    if egress_map:
        out += ["  chain egress {", "    type filter hook prerouting priority 0; policy accept;",
                f"    {NDP}", f"    iifname vmap {{ {', '.join(egress_map)} }}", "  }"]
    if ingress_map:
        out += ["  chain ingress {", "    type filter hook postrouting priority 200; policy accept;",
                f"    {NDP}", f"    oifname vmap {{ {', '.join(ingress_map)} }}", "  }"]
    return "\n".join(out + chains + ["}"]) + "\n"


def _addrs(ips: Iterable[IPAddress | IPNetwork]) -> AddressSet:
    return AddressSet.of_networks(ips)
