"""AdminNetworkPolicy and BaselineAdminNetworkPolicy compiled into tiers over Pod classes.

The AdminNetworkPolicy tier holds, per subject class and direction, the rules of every AdminNetworkPolicy that
selects the class, policies by ascending ``priority`` (lower first), rules in written order; the first matching
rule decides (Allow, Deny) or passes to the NetworkPolicy tier (Pass). Two policies of one priority have no
defined order in the API; netmodel takes them by name and the check NM-POL-005 says so. The baseline tier holds
the BaselineAdminNetworkPolicy's rules (Allow, Deny), after NetworkPolicy. Neither tier ends in deny: a packet no
rule matches goes on (docs/reachability.md, "Policy tiers"; API reference of kubernetes-sigs/network-policy-api).

Peers: ``namespaces`` and ``pods`` match Pod classes (never hostNetwork Pods, as the API says); ``networks``
match the Pods whose addresses they hold (the API: "cluster-internal traffic will be checked against the rule as
well") and any other address inside; ``nodes`` match the addresses the selected nodes list in status.
"""

from __future__ import annotations

from collections.abc import Sequence

from netmodel.analyze.policy.bits import iter_members
from netmodel.analyze.policy.classes import PodClasses
from netmodel.analyze.policy.identity import ByIdentity
from netmodel.analyze.policy.tiers import TierRule
from netmodel.model.objects import AdminNetworkPolicy, AdminPeer, AdminRule, IPBlock
from netmodel.model.topology import Topology
from netmodel.sets import AddressSet

INGRESS, EGRESS = "ingress", "egress"


def network_blocks(topology: Topology) -> list[IPBlock]:
    """The ``networks`` of every admin policy as ipBlocks, so Pod classes split by membership in them."""
    return [IPBlock(net, ()) for pol in topology.admin_policies for rule in pol.egress for peer in rule.peers
            for net in peer.networks]


def policy_order(policies: Sequence[AdminNetworkPolicy]) -> list[AdminNetworkPolicy]:
    """AdminNetworkPolicies in evaluation order: ascending priority, then name (the API leaves equal priorities
    undefined; the name makes netmodel's choice reproducible)."""
    return sorted(policies, key=lambda p: (p.priority if p.priority is not None else 0, p.name))


class AdminTier:
    """The AdminNetworkPolicy tier (``baseline`` False) or the BaselineAdminNetworkPolicy tier (True)."""

    first_match = True

    def __init__(self, topology: Topology, classes: PodClasses, baseline: bool) -> None:
        self.name = "BaselineAdminNetworkPolicy" if baseline else "AdminNetworkPolicy"
        self.topology = topology
        self.classes = classes
        self.policies = policy_order([p for p in topology.admin_policies if p.baseline == baseline])
        self.selected: ByIdentity[AdminNetworkPolicy, int] = ByIdentity()  # by identity: hashing a policy is costly
        self.compiled: ByIdentity[AdminNetworkPolicy, tuple[TierRule, ...]] = ByIdentity()
        self._rules: dict[tuple[str, int], list[TierRule]] = {}
        self._touched = {INGRESS: 0, EGRESS: 0}
        self._node_addresses: dict[tuple[int, ...], AddressSet] = {}
        selecting: dict[str, list[tuple[int, list[TierRule]]]] = {INGRESS: [], EGRESS: []}
        for policy in self.policies:
            self._compile(policy, selecting)
        for direction, order in selecting.items():
            self._place(direction, order)

    def subjects(self, policy: AdminNetworkPolicy) -> int:
        """The Pod classes an admin policy's subject selects (policy subjects only)."""
        c = self.classes
        return c.namespace_labels.select(policy.namespace_selector) & c.pod_labels.select(policy.pod_selector) \
            & c.policy_subjects

    def _peer(self, peer: AdminPeer) -> tuple[int, AddressSet]:
        c = self.classes
        if peer.field == "namespaces" and peer.namespace_selector is not None:
            return c.namespace_labels.select(peer.namespace_selector) & c.policy_subjects, AddressSet()
        if peer.field == "pods" and peer.namespace_selector is not None and peer.pod_selector is not None:
            return (c.namespace_labels.select(peer.namespace_selector) & c.pod_labels.select(peer.pod_selector)
                    & c.policy_subjects), AddressSet()
        if peer.field == "networks":
            classes = 0
            for net in peer.networks:
                classes |= c.block_classes(IPBlock(net, ()))
            return classes & c.policy_subjects, AddressSet.of_networks(peer.networks)
        if peer.field == "nodes" and peer.node_selector is not None:
            selector = peer.node_selector
            nodes = self.topology.nodes
            matched = tuple(i for i, n in enumerate(nodes) if selector.matches(n.labels))
            found = self._node_addresses.get(matched)  # many rules name the same nodes (a zone, the workers)
            if found is None:
                found = self._node_addresses[matched] = AddressSet.of_networks(ip for i in matched
                                                                               for ip in nodes[i].ips)
            return 0, found
        return 0, AddressSet()  # domainNames: not evaluated (NM-INPUT-021)

    def _compile_rule(self, policy: AdminNetworkPolicy, direction: str, index: int, rule: AdminRule) -> TierRule:
        classes, addresses = 0, AddressSet()
        for peer in rule.peers:
            more_classes, more_addresses = self._peer(peer)
            classes |= more_classes
            addresses = addresses | more_addresses
        return TierRule(policy, direction, index, rule.name, rule.action, rule.ports, classes, addresses,
                        rule.source)

    def _compile(self, policy: AdminNetworkPolicy, selecting: dict[str, list[tuple[int, list[TierRule]]]]) -> None:
        selected = self.subjects(policy)
        self.selected[policy] = selected
        compiled: list[TierRule] = []
        for direction, rules in ((INGRESS, policy.ingress), (EGRESS, policy.egress)):
            these = [self._compile_rule(policy, direction, i, r) for i, r in enumerate(rules)]
            compiled.extend(these)
            if not these:
                continue  # "ANPs with no ingress rules do not affect ingress traffic"
            self._touched[direction] |= selected
            selecting[direction].append((selected, these))
        self.compiled[policy] = tuple(compiled)

    def _place(self, direction: str, order: list[tuple[int, list[TierRule]]]) -> None:
        """Each class's rules in ``direction``: the rules of the policies selecting it (``order``: each policy's
        subject classes and rules, in evaluation order), one list shared by the classes the same policies
        select. The classes are split by each policy's subjects in turn (sets, not one class at a time), so
        the work follows the distinct rule lists, and the engine meets each list as one object."""
        blocks: list[tuple[int, list[TierRule]]] = [(self._touched[direction], [])]
        for selected, these in order:
            split: list[tuple[int, list[TierRule]]] = []
            for classes, rules in blocks:
                inside = classes & selected
                if inside:
                    split.append((inside, rules + these))
                if inside != classes:
                    split.append((classes & ~selected, rules))
            blocks = split
        for classes, rules in blocks:
            for class_id in iter_members(classes):
                self._rules[(direction, class_id)] = rules

    # -- the Tier protocol -------------------------------------------------------------------------------------
    def rules(self, direction: str, subject: int) -> Sequence[TierRule]:
        """The tier's rules for one Pod class and direction, in evaluation order."""
        return self._rules.get((direction, subject), ())

    def ends_in_deny(self, direction: str, subject: int) -> bool:
        """Admin tiers never end in deny: a connection no rule decides passes to the next tier."""
        return False

    def touches(self, direction: str, subject: int) -> bool:
        """Whether some policy of the tier selects the Pod class in this direction."""
        return bool(self._touched[direction] >> subject & 1)

    def touched(self, direction: str) -> int:
        """The subject classes this tier has rules for in ``direction``."""
        return self._touched[direction]


__all__ = ["AdminTier", "network_blocks", "policy_order"]
