"""NetworkPolicy v1 semantics over Pod classes.

The rules, as Kubernetes defines them (netmodel's choices where the spec leaves room are marked *choice*):

* A Pod is isolated for ingress (egress) only when some policy in its namespace selects it (``podSelector``,
  empty = every Pod of the namespace) and lists ``Ingress`` (``Egress``) in ``policyTypes``. The model
  applies the defaulting: ``Ingress`` always, ``Egress`` when the policy has egress rules.
* An isolated Pod allows the union of the rules of every policy selecting it; ``ingress: []`` (or absent)
  adds no rule, ``ingress: [{}]`` is one rule matching everything.
* In a rule, peers OR; ports OR; a packet must match a peer AND a port. An absent or empty ``from``/``to`` or
  ``ports`` matches everything.
* A peer with ``podSelector`` alone means Pods of the policy's namespace; ``namespaceSelector`` alone every Pod
  of the matching namespaces; both together, the AND. Namespaces carry ``kubernetes.io/metadata.name``.
* ``ipBlock`` (``cidr`` minus ``except``) matches outside addresses, node addresses and — *choice*, as the
  upstream e2e tests expect — Pod IPs too. Under Cilium (``cni.plugin: cilium``) it matches outside addresses
  only: Cilium turns an ipBlock into a CIDR rule (pkg/k8s/network_policy.go, ``ipBlockToCIDRRule``), and CIDR
  rules never select Pods or nodes (:func:`netmodel.analyze.policy.cilium.cidrs_outside_only`).
* Named ports resolve on the destination Pod by name and protocol, so one rule may mean different numbers on
  different Pods; a named port never matches a destination that is not a Pod. ``endPort`` makes a range.
  ``protocol`` defaults to TCP.
* *choice*: hostNetwork Pods are not subject to policy (they live in the node's network namespace) and no
  ``podSelector``/``namespaceSelector`` matches them: as a peer they are seen with their node's address, which
  only an ``ipBlock`` can match.
* A connection needs both the source's egress and the destination's ingress; replies are implied.

NetworkPolicy is one tier of several (:mod:`netmodel.analyze.policy.tiers`): AdminNetworkPolicy before it,
BaselineAdminNetworkPolicy after it (:mod:`netmodel.analyze.policy.admin`). A class no admin rule touches in a
direction is answered by NetworkPolicy alone, on the paths below that predate the tiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from netmodel.analyze.policy.admin import AdminTier, network_blocks
from netmodel.analyze.policy.bits import iter_members, members
from netmodel.analyze.policy.calico import CalicoTier, CalicoTierRule, CalicoTiers, calico_blocks
from netmodel.analyze.policy.cilium import (
    CiliumDenyTier,
    CiliumPolicies,
    CiliumTierRule,
    cidrs_outside_only,
)
from netmodel.analyze.policy.classes import PodClass, PodClasses
from netmodel.analyze.policy.identity import ByIdentity
from netmodel.analyze.policy.portspace import EVERYTHING, NOTHING, PortSpace
from netmodel.analyze.policy.tiers import (
    ALLOW,
    PASS,
    Step,
    Tier,
    TierRule,
    TierRuleLike,
    walk_spaces,
)
from netmodel.model.cilium import CiliumPolicy
from netmodel.model.objects import CalicoPolicy, NetworkPolicy, PolicyPeer, PolicyPort, PolicyRule
from netmodel.model.topology import Topology
from netmodel.sets import ALL_ADDRESSES, AddressSet, IntervalSet, IPAddress

INGRESS = "ingress"
EGRESS = "egress"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule of one policy with its peers evaluated: Pod classes, and addresses for everything else."""

    policy: NetworkPolicy
    direction: str  # ingress | egress
    index: int  # position in the policy's ingress/egress list
    rule: PolicyRule
    peer_classes: int  # classes (policy subjects) a Pod peer must be in
    peer_addresses: AddressSet  # addresses a non-Pod peer (node, outside, hostNetwork Pod) must be in

    @property
    def label(self) -> str:
        """``ingress[0]``, ``egress[2]``: the rule's direction and position in its policy."""
        return f"{self.direction}[{self.index}]"

    @property
    def action(self) -> str:
        """Always Allow: NetworkPolicy rules only allow."""
        return ALLOW  # NetworkPolicy rules only allow

    @property
    def ports(self) -> tuple[PolicyPort, ...] | None:
        """The rule's ``ports`` as written (None: every port)."""
        return self.rule.ports

    @property
    def not_ports(self) -> tuple[PolicyPort, ...]:
        """No ports are taken out: NetworkPolicy has no negated ports."""
        return ()

    def matches_class(self, class_id: int) -> bool:
        """Whether the rule's peers include the class ``class_id``."""
        return bool(self.peer_classes >> class_id & 1)


@dataclass(frozen=True, slots=True)
class PolicyVerdict:
    """One direction's decision for one packet at one Pod.

    ``tier`` names the tier that decided (``AdminNetworkPolicy``, ``NetworkPolicy``,
    ``BaselineAdminNetworkPolicy``; "" when none did and the packet is allowed by default); ``admin_rule`` is the
    admin rule that decided, if one did; ``passed`` the Pass rules the packet went through on the way.
    """

    direction: str
    allowed: bool
    isolated: bool  # False: no NetworkPolicy selects the Pod for this direction
    matched: tuple[CompiledRule | CiliumTierRule, ...]  # the NetworkPolicy rules that allow the packet
    isolating: tuple[NetworkPolicy, ...]  # every NetworkPolicy selecting the Pod for this direction
    tier: str = ""
    admin_rule: TierRule | CalicoTierRule | CiliumTierRule | None = None
    passed: tuple[TierRule | CalicoTierRule, ...] = ()
    tier_end: tuple[CalicoPolicy | NetworkPolicy, ...] = ()  # a Calico tier's defaultAction denied: its policies
    # The Cilium policies that put the Pod in default deny for this direction (docs/reachability.md, "Cilium
    # policies"); ``matched`` may hold Cilium allow rules next to NetworkPolicy rules.
    cilium_isolating: tuple[CiliumPolicy, ...] = ()


Peer = int | IPAddress  # a Pod class id (a policy subject), or the address a non-Pod peer is seen with


def _merge(states: list[list[object]]) -> list[list[object]]:
    """States holding the same space objects as one (their peers OR'ed). By identity: cheap, and the walk's
    remembered operations hand out one object per result, so equal spaces are mostly the same object."""
    merged: dict[tuple[int, ...], list[object]] = {}
    for state in states:
        key = tuple(map(id, state[1:]))
        if key in merged:
            merged[key][0] = merged[key][0] | state[0]  # type: ignore[operator]
        else:
            merged[key] = list(state)
    return list(merged.values())


class NetworkPolicyTier:
    """NetworkPolicy as a tier: unordered Allow rules; it ends in deny for the classes some policy isolates."""

    name = "NetworkPolicy"
    first_match = False

    def __init__(self, engine: PolicyEngine) -> None:
        self.engine = engine

    def rules(self, direction: str, subject: int) -> list[CompiledRule | CiliumTierRule]:
        """The NetworkPolicy rules, then the Cilium allow rules (one union, as Cilium enforces both), that apply
        to the Pod class in this direction."""
        own: list[CompiledRule | CiliumTierRule] = []
        own.extend(self.engine.ingress_rules(subject) if direction == INGRESS else self.engine.egress_rules(subject))
        own.extend(self.engine.cilium.allow_rules(direction, subject))
        return own

    def ends_in_deny(self, direction: str, subject: int) -> bool:
        """Whether a NetworkPolicy or a Cilium default-deny rule isolates the Pod class in this direction (then
        what no rule allows is denied)."""
        return bool(self.engine.isolating(subject, direction)) or \
            bool(self.engine.cilium.default_deny(direction, subject))


class PolicyEngine:
    """Every NetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy of a topology compiled against its
    Pod classes, as the tiers ``admin``, NetworkPolicy, ``baseline`` (:attr:`tiers`, in evaluation order)."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        # Under Cilium an ipBlock selects no Pod, so it splits no Pod class.
        self.blocks_outside_only = cidrs_outside_only(topology)
        blocks = [] if self.blocks_outside_only else [
            peer.ip_block for pol in topology.network_policies for rule in pol.ingress + pol.egress
            for peer in rule.peers or () if peer.ip_block is not None]
        self.classes = PodClasses(topology, blocks + network_blocks(topology) + calico_blocks(topology))
        self.admin = AdminTier(topology, self.classes, baseline=False)
        self.baseline = AdminTier(topology, self.classes, baseline=True)
        self.cilium = CiliumPolicies(topology, self.classes)
        # Cilium's deny rules decide after the admin tier and before NetworkPolicy (docs/reachability.md).
        self.tiers: tuple[Tier, ...] = (self.admin, CiliumDenyTier(self.cilium), NetworkPolicyTier(self),
                                        self.baseline)
        self.calico: CalicoTiers | None = None
        # ingress_groups' and _tier_groups' answers by the ids of the rules that apply (rules the engine and its
        # tiers hold), whether the tiers end in deny, and the declared ports named ports resolve on; and their
        # spread into dicts (_spread).
        self._groups: dict[tuple[object, ...], list[tuple[int, PortSpace]]] = {}
        self._spread_cache: dict[int, tuple[list[tuple[int, PortSpace]], dict[int, PortSpace]]] = {}
        self._ops: dict[tuple[str, int, int], tuple[PortSpace, PortSpace, PortSpace]] = {}
        # One object per value for what _op answers: states whose spaces are equal then hold the same objects,
        # and _merge (by identity) merges every state it can (the walks of 500 AdminNetworkPolicies kept about
        # five times as many states as values without it).
        self._canonical: dict[PortSpace, PortSpace] = {NOTHING: NOTHING, EVERYTHING: EVERYTHING}
        # _tier_groups' walks step by step: (the step before, id of the rule or the ids of a tier's rules, the
        # subject's declared ports when they resolve the tier's named ports) or (the step before, a tier's end)
        # → (this step's number; the rule(s), which keep their ids their own; the states after the step; when
        # to merge them next). A walk starts at a step numbered from 0 by direction; later steps are numbered
        # from -1 down, so the two never meet.
        self._first_step: dict[str, int] = {}
        self._named: dict[tuple[int, ...], bool] = {}
        self._named_rules: list[Sequence[TierRuleLike]] = []
        self._steps: dict[tuple[object, ...], tuple[int, object, list[list[object]], int]] = {}
        # resolve_ports' answers by the identity of a rule's ports (hashing them would hash their source spans,
        # which looks their line and column up) and the destination's declared ports; each entry holds the
        # ports object, so its id stays its own.
        self._resolved: dict[tuple[int, tuple[object, ...]], tuple[tuple[PolicyPort, ...], PortSpace]] = {}
        self.selected: ByIdentity[NetworkPolicy, int] = ByIdentity()  # by identity: hashing a policy is costly
        self.rules: ByIdentity[NetworkPolicy, tuple[CompiledRule, ...]] = ByIdentity()
        self._ingress_rules: dict[int, list[CompiledRule]] = {}
        self._egress_rules: dict[int, list[CompiledRule]] = {}
        self._ingress_policies: dict[int, list[NetworkPolicy]] = {}
        self._egress_policies: dict[int, list[NetworkPolicy]] = {}
        for policy in topology.network_policies:
            self._compile(policy)
        if topology.calico_policies or topology.calico_tiers:
            # Calico: the admin tiers at their Calico tiers' places, Kubernetes NetworkPolicy inside ``default``.
            kubernetes: ByIdentity[NetworkPolicy, tuple[int, dict[str, list[CompiledRule]]]] = ByIdentity()
            for p in topology.network_policies:
                kubernetes[p] = (self.selected[p], {d: [r for r in self.rules[p] if r.direction == d]
                                                    for d in (INGRESS, EGRESS) if d.capitalize() in p.policy_types})
            self.calico = CalicoTiers(topology, self.classes, kubernetes)
            placed: list[tuple[float, str, Tier]] = [(1_000.0, "kube-admin", self.admin),
                                                     (10_000_000.0, "kube-baseline", self.baseline)]
            placed += self.calico.ordered
            self.tiers = tuple(t for _, _, t in sorted(placed, key=lambda e: (e[0], e[1])))

    # -- compilation -------------------------------------------------------------------------------------------
    def peer_classes(self, policy: NetworkPolicy, peer: PolicyPeer) -> int:
        """The Pod classes a peer matches (hostNetwork and address-less Pods never)."""
        c = self.classes
        if peer.ip_block is not None:
            return 0 if self.blocks_outside_only else c.block_classes(peer.ip_block) & c.policy_subjects
        if peer.namespace_selector is None:
            namespaces = c.in_namespace.get(policy.namespace, 0)
        else:
            namespaces = c.namespace_labels.select(peer.namespace_selector)
        pods = c.pod_labels.everything if peer.pod_selector is None else c.pod_labels.select(peer.pod_selector)
        return namespaces & pods & c.policy_subjects

    def _compile_rule(self, policy: NetworkPolicy, direction: str, index: int, rule: PolicyRule) -> CompiledRule:
        if rule.peers is None:
            return CompiledRule(policy, direction, index, rule, self.classes.policy_subjects, ALL_ADDRESSES)
        classes, addresses = 0, AddressSet()
        for peer in rule.peers:
            classes |= self.peer_classes(policy, peer)
            if peer.ip_block is not None:
                block = peer.ip_block.addresses
                addresses = addresses | (block & self.cilium.world if self.blocks_outside_only else block)
        return CompiledRule(policy, direction, index, rule, classes, addresses)

    def _compile(self, policy: NetworkPolicy) -> None:
        c = self.classes
        selected = c.in_namespace.get(policy.namespace, 0) & c.pod_labels.select(policy.pod_selector) \
            & c.policy_subjects
        self.selected[policy] = selected
        compiled: list[CompiledRule] = []
        for direction, rules, by_class, policies in (
                (INGRESS, policy.ingress, self._ingress_rules, self._ingress_policies),
                (EGRESS, policy.egress, self._egress_rules, self._egress_policies)):
            if direction.capitalize() not in policy.policy_types:
                continue
            these = [self._compile_rule(policy, direction, i, r) for i, r in enumerate(rules)]
            compiled.extend(these)
            for class_id in iter_members(selected):
                by_class.setdefault(class_id, []).extend(these)
                policies.setdefault(class_id, []).append(policy)
        self.rules[policy] = tuple(compiled)

    # -- ports -------------------------------------------------------------------------------------------------
    def resolve_ports(self, ports: tuple[PolicyPort, ...] | None, destination: PodClass | None) -> PortSpace:
        """What a rule's ``ports`` allow on one destination (named ports by name and protocol on the Pod)."""
        if ports is None:
            return EVERYTHING
        # Classes declaring the same ports resolve named ports alike, except hostNetwork ones (they resolve none).
        key = (id(ports), destination.ports if destination is not None and not destination.host_network else ())
        cached = self._resolved.get(key)
        if cached is not None:
            return cached[1]
        out: dict[int, IntervalSet] = {}
        for p in ports:
            if p.port is None:
                numbers = IntervalSet.of((0, 65535))
            elif isinstance(p.port, int):
                numbers = IntervalSet.of((p.port, p.end_port if p.end_port is not None else p.port))
            else:
                found = destination.port_numbers(p.port, p.protocol) if destination is not None else []
                numbers = IntervalSet((n, n) for n in found)
            if numbers:
                out[p.protocol] = out[p.protocol] | numbers if p.protocol in out else numbers
        space = PortSpace.of(out)
        self._resolved[key] = (ports, space)
        return space

    # -- one packet --------------------------------------------------------------------------------------------
    def ingress_rules(self, class_id: int) -> list[CompiledRule]:
        """The ingress rules of the policies isolating class ``class_id``."""
        return self._ingress_rules.get(class_id, [])

    def egress_rules(self, class_id: int) -> list[CompiledRule]:
        """The egress rules of the policies isolating class ``class_id``."""
        return self._egress_rules.get(class_id, [])

    def isolating(self, class_id: int, direction: str) -> tuple[NetworkPolicy, ...]:
        """The policies that isolate class ``class_id`` in ``direction``."""
        table = self._ingress_policies if direction == INGRESS else self._egress_policies
        return tuple(table.get(class_id, ()))

    def _peer_matches(self, rule: CompiledRule, peer: Peer) -> bool:
        if isinstance(peer, int):
            return rule.matches_class(peer)
        return rule.peer_addresses.contains(peer)

    def admin_touched(self, direction: str, subject: int) -> bool:
        """Some AdminNetworkPolicy, BaselineAdminNetworkPolicy, Calico or Cilium rule applies to ``subject`` in
        ``direction``."""
        if self.admin.touches(direction, subject) or self.baseline.touches(direction, subject) \
                or self.cilium.touches(direction, subject):
            return True
        return self.calico is not None and any(t.touches(direction, subject) for t in self.calico.tiers.values())

    def tiered(self, direction: str) -> int:
        """The classes some admin or Calico policy applies to in ``direction`` (answered through the tiers)."""
        out = self.admin.touched(direction) | self.baseline.touched(direction) | self.cilium.touched(direction)
        if self.calico is not None:
            for tier in self.calico.tiers.values():
                out |= tier.touched(direction)
        return out

    def rule_space(self, rule: TierRuleLike, destination: PodClass | None) -> PortSpace:
        """The ports a tier rule matches on ``destination``: its ports minus its excluded ports (Calico's
        notPorts and notProtocol)."""
        space = self.resolve_ports(rule.ports, destination)
        if rule.not_ports and space:
            space = self._op("-", space, self.resolve_ports(rule.not_ports, destination))
        return space

    def silent(self, direction: str, subject: int) -> bool:
        """No tier has a say on Pod class ``subject`` in ``direction``: no rule of any tier applies to it and no
        tier ends in deny for it, so every packet passes whatever its peer and port."""
        return not any(tier.rules(direction, subject) or tier.ends_in_deny(direction, subject) for tier in self.tiers)

    def _walked(self, direction: str, subject: int) -> bool:
        """Answered by the walk through every tier: an admin tier selects the class, or a tier other than
        AdminNetworkPolicy, NetworkPolicy and BaselineAdminNetworkPolicy has a say on it (otherwise NetworkPolicy
        alone answers, on its own shorter paths)."""
        return self.admin_touched(direction, subject) or any(
            tier.rules(direction, subject) or tier.ends_in_deny(direction, subject)
            for tier in self.tiers if not isinstance(tier, (AdminTier, NetworkPolicyTier)))

    def _tier_matches(self, rule: TierRuleLike, peer: Peer, destination: PodClass | None, protocol: int,
                      port: int) -> bool:
        if not (rule.peer_classes >> peer & 1 if isinstance(peer, int) else rule.peer_addresses.contains(peer)):
            return False
        return self.rule_space(rule, destination).contains(protocol, port)

    def _walk(self, direction: str, subject: int, peer: Peer, destination: PodClass | None,
              protocol: int, port: int) -> PolicyVerdict:
        """The tiers in order for one packet (:mod:`netmodel.analyze.policy.tiers`)."""
        policies = self.isolating(subject, direction)
        cilium = self.cilium.default_deny(direction, subject)
        isolated = bool(policies or cilium)
        passed: list[TierRule | CalicoTierRule] = []
        for tier in self.tiers:
            rules = tier.rules(direction, subject)
            if tier.first_match:
                hit = next((r for r in rules if self._tier_matches(r, peer, destination, protocol, port)), None)
                if isinstance(hit, CompiledRule):  # a Kubernetes NetworkPolicy rule in Calico's default tier
                    return PolicyVerdict(direction, True, isolated, (hit,), policies, tier.name, None,
                                         tuple(passed), cilium_isolating=cilium)
                if hit is not None:
                    assert isinstance(hit, (TierRule, CalicoTierRule, CiliumTierRule))
                    if hit.action == PASS and not isinstance(hit, CiliumTierRule):
                        passed.append(hit)
                        continue  # Pass skips the rest of the tier, its end included
                    return PolicyVerdict(direction, hit.action == ALLOW, isolated, (), policies, tier.name,
                                         hit, tuple(passed), cilium_isolating=cilium)
            else:
                matched = tuple(r for r in rules if self._tier_matches(r, peer, destination, protocol, port))
                if matched:
                    return PolicyVerdict(direction, True, isolated, matched, policies,  # type: ignore[arg-type]
                                         tier.name, None, tuple(passed), cilium_isolating=cilium)
            if tier.ends_in_deny(direction, subject):
                ending = tier.policies_at(direction, subject) if isinstance(tier, CalicoTier) else ()
                return PolicyVerdict(direction, False, isolated, (), policies, tier.name, None, tuple(passed),
                                     ending, cilium)
        return PolicyVerdict(direction, True, isolated, (), policies, "", None, tuple(passed), cilium_isolating=cilium)

    def verdict(self, direction: str, subject: int, peer: Peer, destination: PodClass | None,
                protocol: int, port: int) -> PolicyVerdict:
        """The decision at Pod class ``subject`` for a packet to/from ``peer``.

        ``destination`` is the class named ports resolve on: the subject itself for ingress, the peer's class
        (or None for a non-Pod) for egress.
        """
        if self._walked(direction, subject):
            return self._walk(direction, subject, peer, destination, protocol, port)
        policies = self.isolating(subject, direction)
        if not policies:
            return PolicyVerdict(direction, True, False, (), ())
        rules = self.ingress_rules(subject) if direction == INGRESS else self.egress_rules(subject)
        matched = tuple(r for r in rules if self._peer_matches(r, peer)
                        and self.resolve_ports(r.rule.ports, destination).contains(protocol, port))
        return PolicyVerdict(direction, bool(matched), True, matched, policies, "NetworkPolicy")

    # -- whole classes (connectivity matrix) -------------------------------------------------------------------
    @cached_property
    def isolated_ingress(self) -> int:
        """The classes some policy isolates for ingress, as a bitset."""
        return sum(1 << c for c in self._ingress_policies)

    @cached_property
    def isolated_egress(self) -> int:
        """The classes some policy isolates for egress, as a bitset."""
        return sum(1 << c for c in self._egress_policies)

    def _tier_groups(self, direction: str, subject: PodClass) -> list[tuple[int, PortSpace]]:
        """The peer classes allowed something at ``subject`` through every tier, grouped by what they are allowed:
        (peers as a bitset, ports), one group per distinct space.

        The walk of :func:`netmodel.analyze.policy.tiers.walk_spaces`, done for every peer class at once: the
        peers are held as a few *states* — a bitset of peer classes with the same (allowed, undecided, passed)
        spaces — and each rule splits a state into the peers it names and the rest, applying itself to the
        first. States that end up equal merge, so the cost follows the rules and the distinct outcomes, not the
        number of peers. Subjects with the same rules (by identity) and, for named ports, the same declared
        ports share one answer (callers only read it).
        """
        tiers = [(tier.rules(direction, subject.id), tier.ends_in_deny(direction, subject.id)) for tier in self.tiers]
        ids = tuple(tuple(map(id, rules)) for rules, _ in tiers)
        # Named ports resolve on the subject for ingress: the tiers whose rules name one depend on its ports.
        resolved = [subject.ports if direction == INGRESS and self._names_ports(i, rules) else None
                    for i, (rules, _) in zip(ids, tiers)]
        key = (direction, tuple(zip(ids, (ends for _, ends in tiers))), tuple(resolved))
        found = self._groups.get(key)
        if found is not None:
            return found
        # A state: [peers, allowed, undecided, passed]; lists, merged once per tier (hashing spaces is costly).
        states: list[list[object]] = [[self.classes.policy_subjects, NOTHING, EVERYTHING, NOTHING]]
        # Subjects whose rules start alike (the same AdminNetworkPolicies, then their own NetworkPolicies) share
        # the walk of that beginning: each step's states are remembered under (the step before, the rule), and
        # a whole tier's under (the step before, its rules), so a subject whose tier holds the same rules as an
        # earlier one's takes it in one step however many rules it holds. In a tier naming ports the subject's
        # declared ports are part of the step (they decide what its rules match); elsewhere they are not, so
        # subjects declaring different ports still share their walk through the admin tiers.
        steps = self._steps
        step = self._first_step.setdefault(direction, len(self._first_step))
        for (rules, ends), rule_ids, ports in zip(tiers, ids, resolved):
            walked = steps.get((step, rule_ids, ports)) if rules else None
            if walked is None and rules:
                before, limit = step, 8
                for rule in rules:
                    walked = steps.get((step, id(rule), ports))
                    if walked is None:
                        states = self._apply(rule, direction, subject, states)
                        if len(states) > limit:  # merge when the states have doubled since the last merge
                            states = _merge(states)
                            limit = max(8, 2 * len(states))
                        walked = steps[(step, id(rule), ports)] = (-len(steps) - 1, rule, states, limit)
                    step, _, states, limit = walked
                walked = steps[(before, rule_ids, ports)] = (step, rules, states, limit)
            if walked is not None:
                step, _, states, _ = walked
            end = "ends in deny" if ends else "passes on"
            walked = steps.get((step, end))
            if walked is None:
                states = _merge([[peers, allowed, passed if ends else self._op("|", passed, remaining),  # type: ignore[arg-type]
                                  NOTHING] for peers, allowed, remaining, passed in states])
                walked = steps[(step, end)] = (-len(steps) - 1, None, states, 0)
            step, _, states, _ = walked
        out = self._grouped([(peers, self._op("|", allowed, pending))  # type: ignore[misc, arg-type]
                             for peers, allowed, pending, _ in states])
        self._groups[key] = out
        return out

    @staticmethod
    def _grouped(parts: list[tuple[int, PortSpace]]) -> list[tuple[int, PortSpace]]:
        """``parts`` (peers, space) with the peers of one space object OR'ed together, empty spaces left out."""
        by_space: dict[int, tuple[int, PortSpace]] = {}
        for peers, space in parts:
            if space is NOTHING or not space:
                continue
            found = by_space.get(id(space))
            by_space[id(space)] = (peers, space) if found is None else (found[0] | peers, space)
        return list(by_space.values())

    def _spread(self, groups: list[tuple[int, PortSpace]]) -> dict[int, PortSpace]:
        """``groups`` as peer class → space (remembered per groups object, which callers share)."""
        found = self._spread_cache.get(id(groups))
        if found is None:
            out: dict[int, PortSpace] = {}
            for peers, space in groups:
                out.update(dict.fromkeys(members(peers), space))
            found = self._spread_cache[id(groups)] = (groups, out)
        return found[1]

    def _names_ports(self, ids: tuple[int, ...], rules: Sequence[TierRuleLike]) -> bool:
        """Whether some rule of ``rules`` (whose ids are ``ids``) names a port; remembered per list of rules."""
        found = self._named.get(ids)
        if found is None:
            found = any(isinstance(p.port, str) for r in rules for p in (r.ports or ()) + r.not_ports)
            self._named[ids] = found
            self._named_rules.append(rules)  # held, so the ids stay theirs
        return found

    def _apply(self, rule: TierRuleLike, direction: str, subject: PodClass,
               states: list[list[object]]) -> list[list[object]]:
        """One rule over the states of a tier walk: the peers it names get their undecided ports it matches
        decided (Allow → allowed, Pass → passed, Deny → neither)."""
        # The spaces in states come from _op (or are NOTHING and EVERYTHING), one object per value: emptiness is
        # a comparison with NOTHING. A state keeps its peers whole unless the rule decides some of their ports.
        out: list[list[object]] = []
        op = self._op
        named, action = rule.peer_classes, rule.action
        space = None if direction == EGRESS and any(isinstance(p.port, str) for p in (rule.ports or ()) + rule.not_ports) \
            else self.rule_space(rule, subject if direction == INGRESS else None)
        for state in states:
            peers, allowed, remaining, passed = state
            inside = peers & named  # type: ignore[operator]
            if not inside or remaining is NOTHING:
                out.append(state)
                continue
            rest = peers
            for part, part_space in [(inside, space)] if space is not None else \
                    self._rule_spaces(rule, direction, subject, inside):
                hit = op("&", part_space, remaining)  # type: ignore[arg-type]
                if hit is NOTHING:
                    continue
                rest &= ~part  # type: ignore[operator]
                out.append([part, op("|", allowed, hit) if action == ALLOW else allowed,  # type: ignore[arg-type]
                            op("-", remaining, hit),  # type: ignore[arg-type]
                            op("|", passed, hit) if action == PASS else passed])  # type: ignore[arg-type]
            if rest:
                out.append(state if rest == peers else [rest, allowed, remaining, passed])
        return out

    def _op(self, kind: str, a: PortSpace, b: PortSpace) -> PortSpace:
        """``a & b``, ``a | b`` or ``a - b``, remembered by the operands' identity (the walks meet the same
        spaces over and over; the entry holds the operands, so their ids stay theirs)."""
        key = (kind, id(a), id(b))
        found = self._ops.get(key)
        if found is None:
            result = a & b if kind == "&" else a | b if kind == "|" else a - b
            result = self._canonical.setdefault(result, result)
            found = self._ops[key] = (a, b, result)
        return found[2]

    def _rule_spaces(self, rule: TierRuleLike, direction: str, subject: PodClass,
                     peers: int) -> list[tuple[int, PortSpace]]:
        """The ports a rule matches for ``peers``: one space, unless named ports resolve on each egress peer
        (then one per group of peers declaring the same ports)."""
        if direction == INGRESS or not any(isinstance(p.port, str) for p in (rule.ports or ()) + rule.not_ports):
            return [(peers, self.rule_space(rule, subject if direction == INGRESS else None))]
        classes = self.classes.classes
        out = []
        for bits in self._by_port_signature.values():
            part = bits & peers
            if part:
                first = part & -part
                out.append((part, self.rule_space(rule, classes[first.bit_length() - 1])))
        return out

    @cached_property
    def _by_port_signature(self) -> dict[tuple[object, ...], int]:
        out: dict[tuple[object, ...], int] = {}
        for c in self.classes.classes:
            out[c.ports] = out.get(c.ports, 0) | (1 << c.id)
        return out

    def ingress_groups(self, destination: PodClass) -> list[tuple[int, PortSpace]] | None:
        """The source classes ``destination``'s ingress allows something, grouped by the ports it allows them:
        (sources as a bitset, ports), one group per distinct space; None when not isolated (everything)."""
        if self._walked(INGRESS, destination.id):
            return self._tier_groups(INGRESS, destination)
        if not self.isolating(destination.id, INGRESS):
            return None
        # The union of the rules, as groups: each rule splits the groups into the sources it names and the rest.
        key = (INGRESS, tuple(map(id, self.ingress_rules(destination.id))), destination.ports)
        found = self._groups.get(key)
        if found is not None:
            return found
        groups: list[tuple[int, PortSpace]] = []
        covered = 0
        for rule in self.ingress_rules(destination.id):
            space = self.resolve_ports(rule.rule.ports, destination)
            if not space:
                continue
            # Canonical, as _op's results are: _grouped merges groups by the identity of their space, so an equal
            # space resolved afresh must be the same object or one group splits in two.
            space = self._canonical.setdefault(space, space)
            named = rule.peer_classes
            split: list[tuple[int, PortSpace]] = []
            for peers, allowed in groups:
                inside = peers & named
                if inside:
                    split.append((inside, self._op("|", allowed, space)))
                if inside != peers:
                    split.append((peers & ~named, allowed))
            if named & ~covered:
                split.append((named & ~covered, space))
                covered |= named
            groups = split
        found = self._groups[key] = self._grouped(groups)
        return found

    def ingress_spaces(self, destination: PodClass) -> dict[int, PortSpace] | None:
        """Source class → ports its ingress allows at ``destination``; None when not isolated (everything)."""
        groups = self.ingress_groups(destination)
        return None if groups is None else self._spread(groups)

    def egress_spaces(self, source: PodClass) -> dict[int, PortSpace] | None:
        """Destination class → ports the source's egress allows to it; None when not isolated."""
        if self._walked(EGRESS, source.id):
            return self._spread(self._tier_groups(EGRESS, source))
        if not self.isolating(source.id, EGRESS):
            return None
        out: dict[int, PortSpace] = {}
        classes = self.classes.classes
        for rule in self.egress_rules(source.id):
            for destination in iter_members(rule.peer_classes):
                space = self.resolve_ports(rule.rule.ports, classes[destination])
                if space:
                    out[destination] = out[destination] | space if destination in out else space
        return out

    def address_space(self, direction: str, subject: PodClass, addresses: AddressSet,
                      ) -> tuple[PortSpace, AddressSet]:
        """For non-Pod peers in ``addresses``: the ports allowed to some of them, and which of them get any."""
        if self._walked(direction, subject.id):
            return self._tier_address_space(direction, subject, addresses)
        if not self.isolating(subject.id, direction):
            return EVERYTHING, addresses
        rules = self.ingress_rules(subject.id) if direction == INGRESS else self.egress_rules(subject.id)
        ports, reached = NOTHING, AddressSet()
        for rule in rules:
            common = rule.peer_addresses & addresses
            # Egress to an address: named ports cannot resolve (no Pod), so only numeric entries count.
            space = self.resolve_ports(rule.rule.ports, subject if direction == INGRESS else None)
            if common and space:
                ports = ports | space
                reached = reached | common
        return ports, reached

    def _tier_address_space(self, direction: str, subject: PodClass, addresses: AddressSet,
                            ) -> tuple[PortSpace, AddressSet]:
        """:meth:`address_space` through every tier: ``addresses`` cut into pieces no rule's addresses split,
        each walked once."""
        destination = subject if direction == INGRESS else None
        rules = [r for tier in self.tiers for r in tier.rules(direction, subject.id)]
        pieces = [addresses]
        for rule in rules:
            cut: list[AddressSet] = []
            for piece in pieces:
                inside, outside = piece & rule.peer_addresses, piece - rule.peer_addresses
                cut.extend(p for p in (inside, outside) if p)
            pieces = cut
        ports, reached = NOTHING, AddressSet()
        for piece in pieces:
            space = walk_spaces(
                ((Step(r.action, self.rule_space(r, destination)) for r in tier.rules(direction, subject.id)
                  if piece <= r.peer_addresses),
                 tier.ends_in_deny(direction, subject.id))
                for tier in self.tiers)
            if space:
                ports = ports | space
                reached = reached | piece
        return ports, reached
