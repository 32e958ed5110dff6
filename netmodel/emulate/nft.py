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

IPv6 neighbour discovery is link plumbing like ARP and is never filtered.

No text from the input reaches a script: chains and comments name objects by their index in the topology
(``firewall 2 ingress rule 0``, ``policy 5 egress 1``, the Pod on ``v3``), and everything else written is an address, a
number or a name the lab made itself. Names are held to the API server's rules at load time too
(`netmodel.model.names`); this is the second, independent guard, so a rule name can never close a quote.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from netmodel.compile.addresses import AddressBook
from netmodel.emulate.nft_cilium import CiliumLines
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
from netmodel.sets import ALL_PORTS, ALL_PROTOCOLS, AddressSet, IntervalSet, IPAddress, IPNetwork
from netmodel.sets.ports import PORTED_PROTOCOLS

NDP = (
    "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert }"
    " accept"
)
FIREWALL_TABLE = "nm_fw"
POLICY_TABLE = "nm_pol"


# ------------------------------------------------------------------------------------------ rendering


def nft_set(items: Iterable[str]) -> str:
    """``a`` for one item, ``{ a, b }`` for several (nft rejects an empty set: callers skip those)."""
    values = list(dict.fromkeys(items))
    return values[0] if len(values) == 1 else "{ " + ", ".join(values) + " }"


def intervals(values: IntervalSet) -> list[str]:
    """The ranges of ``values`` in nft syntax (``80``, ``8000-8100``)."""
    return [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in values]


def family_matches(direction: str, addresses: AddressSet) -> list[str]:
    """One match per IP family present: ``ip saddr {...}`` / ``ip6 daddr {...}`` (none when empty)."""
    out = []
    for version, keyword in ((4, "ip"), (6, "ip6")):
        cidrs = [str(c) for c in addresses.cidrs() if c.version == version]
        if cidrs:
            out.append(f"{keyword} {direction} {nft_set(cidrs)}")
    return out


def l4_match(protocols: IntervalSet, ports: IntervalSet) -> list[str]:
    """Matches for a protocol set and a destination-port set; [] when the pair is empty.

    Ports only exist for TCP, UDP and SCTP, so a port-restricted match keeps only those protocols.
    """
    if protocols.is_empty() or ports.is_empty():
        return []
    proto = "" if protocols == ALL_PROTOCOLS else f"meta l4proto {nft_set(intervals(protocols))}"
    if ports == ALL_PORTS:
        return [proto]
    ported = protocols & IntervalSet((p, p) for p in PORTED_PROTOCOLS)
    if ported.is_empty():
        return []
    return [f"meta l4proto {nft_set(intervals(ported))} th dport {nft_set(intervals(ports))}"]


def join(*parts: str) -> str:
    """The non-empty ``parts`` separated by spaces."""
    return " ".join(p for p in parts if p)


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
    if peers is None and local is None:
        return [""]
    out = []
    for version, keyword in ((4, "ip"), (6, "ip6")):
        parts = []
        for field, addresses in ((peer_field, peers), (local_field, local)):
            if addresses is None:
                continue
            cidrs = [str(c) for c in addresses.cidrs() if c.version == version]
            if not cidrs:
                break
            parts.append(f"{keyword} {field} {nft_set(cidrs)}")
        else:
            out.append(" ".join(parts))
    return out


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
    """The ``nm_fw`` table for one node, or None when no Firewall selects it (it filters nothing)."""
    firewalls = [f for f in topology.firewalls if f.selects(node)]
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


def policy_pods(topology: Topology) -> list[Pod]:
    """Pods NetworkPolicy can select and police: not hostNetwork, with an address."""
    return [p for p in topology.pods if not p.host_network and p.ips]


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


def resolve_port(pod: Pod, port: PolicyPort) -> IntervalSet | None:
    """The destination ports ``port`` means on ``pod``; None when a named port does not exist there."""
    if port.port is None:
        return ALL_PORTS
    if isinstance(port.port, str):
        found = pod.named_port(port.port, port.protocol)
        return IntervalSet.single(found.port) if found is not None else None
    return IntervalSet.of((port.port, port.end_port if port.end_port is not None else port.port))


def _port_matches(pod: Pod | None, ports: tuple[PolicyPort, ...] | None) -> list[str]:
    """Protocol/port matches for a rule's ports, resolved on destination ``pod`` (None: not a Pod)."""
    if ports is None:
        return [""]
    out = []
    for port in ports:
        if isinstance(port.port, str) and pod is None:
            continue  # a named port never matches a destination that is not a Pod
        numbers = resolve_port(pod, port) if pod is not None else resolve_port_number(port)
        if numbers is not None:
            out += l4_match(IntervalSet.single(port.protocol), numbers)
    return out


def resolve_port_number(port: PolicyPort) -> IntervalSet | None:
    """The ports a policy port allows, by number; None for a named port (resolved per Pod elsewhere)."""
    if port.port is None:
        return ALL_PORTS
    if isinstance(port.port, str):
        return None
    return IntervalSet.of((port.port, port.end_port if port.end_port is not None else port.port))


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


def _pod_addresses(pods: Iterable[Pod]) -> AddressSet:
    return AddressSet.of_networks(ip for p in pods for ip in p.ips)


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


def policy_ruleset(topology: Topology, node: Node, veths: dict[Pod, str]) -> str | None:
    """The ``nm_pol`` table for one node's Pods, or None when no Pod on it is isolated."""
    own = _addrs(node.ips)
    cilium = CiliumLines(topology)

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
