"""Calico NetworkPolicy and GlobalNetworkPolicy compiled into policy tiers over Pod classes.

How Calico decides (docs/reachability.md, "Calico tiers"; sources: the Tier and NetworkPolicy references at
docs.tigera.io/calico/latest/reference/resources/, and projectcalico/calico felix/rules/endpoints.go,
felix/calc/policy_sorter.go, libcalico-go/lib/backend/syncersv1/updateprocessors/rules.go):

* Tiers run by ascending ``order`` (ties by name). A tier with no policy applying to the endpoint in a direction
  is skipped. In a tier, policies run by ascending ``order`` (none = last), ties by name, namespace and kind;
  rules in written order. ``Allow`` and ``Deny`` decide; ``Pass`` leaves the tier for the next; ``Log`` decides
  nothing. When a policy of the tier applies but no rule decides, the tier's ``defaultAction`` acts: ``Deny``
  (the default), or ``Pass`` on to the next tier. After the last tier the endpoint's profile allows (Kubernetes
  Pods' namespace profile allows everything).
* Kubernetes NetworkPolicies are policies of the ``default`` tier at order 1000 (libcalico-go
  k8s/conversion/conversion.go), named ``NAME`` of kind KubernetesNetworkPolicy for ties.
* AdminNetworkPolicies live in the ``kube-admin`` tier (order 1,000, defaultAction Pass), the
  BaselineAdminNetworkPolicy in ``kube-baseline`` (order 10,000,000, Pass): netmodel's admin tiers take those
  places among the Calico tiers (api/pkg/apis/projectcalico/v3/tier.go).
* A policy applies to the Pods its ``selector`` matches — in its own namespace (NetworkPolicy), or in the
  namespaces its ``namespaceSelector`` matches (GlobalNetworkPolicy) — for the directions in ``types``.
* A rule's source/destination: ``nets`` (any listed) AND not ``notNets`` AND ``selector`` AND not ``notSelector``.
  When a selector, notSelector or namespaceSelector is given, the side is limited to Pods of the policy's
  namespace (NetworkPolicy) or of the namespaces ``namespaceSelector`` matches; ``global()`` there matches
  no Pod. In an ingress rule the source is the peer and the destination must match the subject itself; in an
  egress rule the other way round. Destination ``ports``/``notPorts`` (with the rule's protocol, named ports
  resolved on the destination Pod) and ``protocol``/``notProtocol`` make the rule's port space.

Selectors see a Pod's labels plus the ones Calico adds: ``projectcalico.org/namespace``,
``projectcalico.org/orchestrator: k8s`` and its namespace's labels prefixed ``pcns.``; namespace selectors see
the namespace's labels plus ``projectcalico.org/name``. Selectors are evaluated over the classes' label
indexes, never per Pod.

Not modelled: host endpoints (hostNetwork Pods and nodes are seen by address only, which only ``nets`` match),
network sets (no selector matches one), service accounts — docs/reachability.md says which answers that leaves
open, and the kinds stay on the not-evaluated list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from netmodel.analyze.policy.bits import iter_members
from netmodel.analyze.policy.classes import PodClasses
from netmodel.analyze.policy.labels import LabelIndex
from netmodel.analyze.policy.tiers import ALLOW, DENY, PASS, TierRuleLike
from netmodel.errors import SourceSpan
from netmodel.model.calico_selector import Selector
from netmodel.model.labels import Labels
from netmodel.model.objects import (
    CalicoEntity,
    CalicoPolicy,
    CalicoRule,
    IPBlock,
    NetworkPolicy,
    PolicyPort,
)
from netmodel.model.read_calico import BUILTIN_TIERS, DEFAULT_TIER, PORT_PROTOCOLS
from netmodel.model.read_kubernetes import NAMESPACE_NAME_LABEL
from netmodel.model.topology import Topology
from netmodel.sets import ALL_ADDRESSES, AddressSet

# A Kubernetes NetworkPolicy as the engine compiled it: the classes it selects and its rules by direction.
KubernetesPolicies = Mapping[NetworkPolicy, tuple[int, Mapping[str, Sequence[TierRuleLike]]]]

INGRESS, EGRESS = "ingress", "egress"
K8S_ORDER = 1000.0  # the order Calico gives converted Kubernetes NetworkPolicies
NAMESPACE_LABEL = "projectcalico.org/namespace"
ORCHESTRATOR_LABEL = "projectcalico.org/orchestrator"
NAME_LABEL = "projectcalico.org/name"
NAMESPACE_PREFIX = "pcns."


@dataclass(frozen=True, slots=True)
class CalicoTierRule:
    """One Calico rule compiled against Pod classes. ``peer_classes``/``peer_addresses``: what its source
    (ingress) or destination (egress) matches; ``subjects``: the classes its other side admits as the subject."""

    policy: CalicoPolicy
    direction: str
    index: int
    action: str
    ports: tuple[PolicyPort, ...] | None
    not_ports: tuple[PolicyPort, ...]
    peer_classes: int
    peer_addresses: AddressSet
    subjects: int
    source: SourceSpan

    @property
    def label(self) -> str:
        """``ingress rule 2`` (1-based, as the trace numbers rules)."""
        return f"{self.direction} rule {self.index + 1}"

    def matches_class(self, class_id: int) -> bool:
        """Whether the rule's peers include the Pod class ``class_id``."""
        return bool(self.peer_classes >> class_id & 1)


def calico_blocks(topology: Topology) -> list[IPBlock]:
    """Every ``nets``/``notNets`` CIDR of the Calico policies as an ipBlock, so Pod classes split by them."""
    return [IPBlock(net, ()) for pol in topology.calico_policies for rule in pol.ingress + pol.egress
            for entity in (rule.source_entity, rule.destination_entity) for net in entity.nets + entity.not_nets]


def _rule_ports(rule: CalicoRule) -> tuple[tuple[PolicyPort, ...] | None, tuple[PolicyPort, ...]]:
    """The rule's port space as (ports, not_ports): protocol AND destination ports, minus notPorts and
    notProtocol. A protocol other than TCP, UDP and SCTP matches no port netmodel models (ports ``()``)."""
    entity, span = rule.destination_entity, rule.source
    ports: tuple[PolicyPort, ...] | None
    if rule.protocol is None:
        ports = entity.ports  # None, or named ports of any protocol
    elif rule.protocol not in PORT_PROTOCOLS:
        ports = ()
    else:
        ports = entity.ports if entity.ports is not None else (PolicyPort(rule.protocol, None, None, span),)
    excluded = entity.not_ports
    if rule.not_protocol is not None and rule.not_protocol in PORT_PROTOCOLS:
        excluded = excluded + (PolicyPort(rule.not_protocol, None, None, span),)
    return ports, excluded


def policy_sort_key(policy: CalicoPolicy | NetworkPolicy) -> tuple[float, str]:
    """Felix's order within a tier: ascending order (none = last), then ``name/namespace/kind``."""
    if isinstance(policy, NetworkPolicy):
        return K8S_ORDER, f"{policy.name}/{policy.namespace}/KubernetesNetworkPolicy"
    order = math.inf if policy.order is None else policy.order
    return order, f"{policy.name}/{policy.namespace}/{policy.kind}"


def namespace_labels(topology: Topology, namespace: str) -> Labels:
    """The labels Calico's namespace selectors see: the namespace's own plus ``projectcalico.org/name``."""
    found = topology.namespace_by_name.get(namespace)
    labels = found.labels if found is not None else Labels({NAMESPACE_NAME_LABEL: namespace})
    return labels.with_items({NAME_LABEL: namespace})


def endpoint_labels(topology: Topology, namespace: str, labels: Labels) -> Labels:
    """The labels Calico's endpoint selectors see on a Pod of ``namespace`` labelled ``labels``: its own, over
    ``projectcalico.org/namespace``, ``projectcalico.org/orchestrator: k8s`` and its namespace's labels
    prefixed ``pcns.``."""
    extra = {NAMESPACE_PREFIX + k: v for k, v in namespace_labels(topology, namespace).items()}
    extra.update({NAMESPACE_LABEL: namespace, ORCHESTRATOR_LABEL: "k8s"})
    return Labels({**extra, **labels})


class CalicoIndexes:
    """The label indexes Calico's selectors are evaluated over, one position per Pod class."""

    def __init__(self, topology: Topology, classes: PodClasses) -> None:
        self.topology = topology
        self.classes = classes

    @cached_property
    def endpoints(self) -> LabelIndex:
        """Each class's Pod labels plus the labels Calico gives a workload endpoint."""
        return LabelIndex([endpoint_labels(self.topology, c.namespace, c.labels) for c in self.classes.classes])

    @cached_property
    def namespaces(self) -> LabelIndex:
        """Each class indexed by its namespace's labels plus ``projectcalico.org/name``."""
        return LabelIndex([namespace_labels(self.topology, c.namespace) for c in self.classes.classes])

    def select(self, selector: Selector) -> int:
        """The classes an endpoint selector matches."""
        return selector.select(self.endpoints)

    def select_namespaces(self, selector: Selector) -> int:
        """The classes whose namespace a namespace selector matches."""
        return selector.select(self.namespaces)


class CalicoTier:
    """One Calico tier: its Calico policies (and, for ``default``, the Kubernetes NetworkPolicies) in Felix's
    order, compiled per subject class and direction."""

    first_match = True

    def __init__(self, name: str, order: float, default_action: str, source: SourceSpan | None) -> None:
        self.name = f"Calico tier {name}"
        self.tier = name
        self.order = order
        self.default_action = default_action
        self.source = source
        self._rules: dict[tuple[str, int], list[TierRuleLike]] = {}
        self._applies = {INGRESS: 0, EGRESS: 0}  # classes some policy of the tier applies to
        self._calico = {INGRESS: 0, EGRESS: 0}  # ... some Calico (not Kubernetes) policy
        self.applying: dict[tuple[str, int], list[CalicoPolicy | NetworkPolicy]] = {}

    def add(self, policy: CalicoPolicy | NetworkPolicy, direction: str, selected: int,
            rules: Sequence[TierRuleLike]) -> None:
        """Append a policy (callers add them in order): it applies to ``selected`` in ``direction``."""
        self._applies[direction] |= selected
        if isinstance(policy, CalicoPolicy):
            self._calico[direction] |= selected
        for class_id in iter_members(selected):
            self.applying.setdefault((direction, class_id), []).append(policy)
            mine = [r for r in rules if not isinstance(r, CalicoTierRule) or r.subjects >> class_id & 1]
            if mine:
                self._rules.setdefault((direction, class_id), []).extend(mine)

    # -- the Tier protocol -------------------------------------------------------------------------------------
    def rules(self, direction: str, subject: int) -> Sequence[TierRuleLike]:
        """The tier's rules for one Pod class and direction, in evaluation order."""
        return self._rules.get((direction, subject), ())

    def ends_in_deny(self, direction: str, subject: int) -> bool:
        """A tier with a policy applying to the class ends in its defaultAction: deny unless it is Pass."""
        return self.default_action == DENY and bool(self._applies[direction] >> subject & 1)

    def touches(self, direction: str, subject: int) -> bool:
        """Whether a Calico policy of the tier applies to the class (Kubernetes ones alone keep the plain
        NetworkPolicy path, which answers the same)."""
        return bool(self._calico[direction] >> subject & 1)

    def touched(self, direction: str) -> int:
        """The classes a Calico policy of this tier applies to in ``direction``."""
        return self._calico[direction]

    def policies_at(self, direction: str, subject: int) -> tuple[CalicoPolicy | NetworkPolicy, ...]:
        """The tier's policies applying to the class in ``direction``, in order."""
        return tuple(self.applying.get((direction, subject), ()))


class CalicoTiers:
    """Every Calico tier of a topology compiled against the engine's Pod classes."""

    def __init__(self, topology: Topology, classes: PodClasses, kubernetes: KubernetesPolicies) -> None:
        self.classes = classes
        self.indexes = CalicoIndexes(topology, classes)
        found = {name: (order, action, None) for name, (order, action) in BUILTIN_TIERS.items()}
        for t in topology.calico_tiers:
            found[t.name] = (t.order, t.default_action, t.source)  # type: ignore[assignment]
        self.tiers = {name: CalicoTier(name, order, action, source) for name, (order, action, source) in found.items()
                      if name not in ("kube-admin", "kube-baseline")}
        members: dict[str, list[CalicoPolicy | NetworkPolicy]] = {name: [] for name in self.tiers}
        for calico in topology.calico_policies:
            members[calico.tier].append(calico)
        members[DEFAULT_TIER].extend(topology.network_policies)
        for name, policies in members.items():
            tier = self.tiers[name]
            for policy in sorted(policies, key=policy_sort_key):
                if isinstance(policy, NetworkPolicy):
                    selected, by_direction = kubernetes[policy]
                    for direction, rules in by_direction.items():
                        tier.add(policy, direction, selected, rules)
                else:
                    self._add(tier, policy)

    @property
    def ordered(self) -> list[tuple[float, str, CalicoTier]]:
        """(order, name, tier) of every Calico tier (the admin tiers are placed by the engine)."""
        return [(t.order, t.tier, t) for t in self.tiers.values()]

    def subjects(self, policy: CalicoPolicy) -> int:
        """The Pod classes a Calico policy applies to."""
        c, idx = self.classes, self.indexes
        selected = c.policy_subjects & idx.select(policy.selector)
        if policy.namespace:
            selected &= c.in_namespace.get(policy.namespace, 0)
        if policy.namespace_selector is not None:
            selected &= idx.select_namespaces(policy.namespace_selector)
        return selected

    def entity(self, policy: CalicoPolicy, entity: CalicoEntity) -> tuple[int, AddressSet]:
        """The Pod classes and the other addresses one side of a rule matches."""
        c, idx = self.classes, self.indexes
        classes, addresses = c.policy_subjects, ALL_ADDRESSES
        scope: int | None = None
        if entity.namespace_selector is not None:
            scope = idx.select_namespaces(entity.namespace_selector)
        elif policy.namespace:
            scope = c.in_namespace.get(policy.namespace, 0)
        if scope is not None and (entity.selector is not None or entity.not_selector is not None
                                  or entity.namespace_selector is not None):
            classes &= scope
            addresses = AddressSet()  # only workload endpoints carry a namespace
        if entity.selector is not None:
            classes &= idx.select(entity.selector)
            addresses = AddressSet()
        if entity.not_selector is not None:
            classes &= ~idx.select(entity.not_selector)
        if entity.nets:
            inside = 0
            for net in entity.nets:
                inside |= c.block_classes(IPBlock(net, ()))
            classes &= inside
            addresses = addresses & AddressSet.of_networks(entity.nets)
        if entity.not_nets:
            for net in entity.not_nets:
                classes &= ~c.block_classes(IPBlock(net, ()))
            addresses = addresses - AddressSet.of_networks(entity.not_nets)
        return classes & c.policy_subjects, addresses

    def _add(self, tier: CalicoTier, policy: CalicoPolicy) -> None:
        selected = self.subjects(policy)
        for direction, rules in ((INGRESS, policy.ingress), (EGRESS, policy.egress)):
            if direction not in policy.types:
                continue
            compiled = []
            for index, rule in enumerate(rules):
                if rule.action not in (ALLOW, DENY, PASS):
                    continue  # Log: recorded by Calico, decides nothing
                peer_side, own_side = ((rule.source_entity, rule.destination_entity) if direction == INGRESS
                                       else (rule.destination_entity, rule.source_entity))
                peer_classes, peer_addresses = self.entity(policy, peer_side)
                own_classes, _ = self.entity(policy, own_side)
                ports, not_ports = _rule_ports(rule)
                compiled.append(CalicoTierRule(policy, direction, index, rule.action, ports, not_ports,
                                               peer_classes, peer_addresses, own_classes, rule.source))
            tier.add(policy, direction, selected, compiled)


__all__ = ["CalicoIndexes", "CalicoTier", "CalicoTierRule", "CalicoTiers", "calico_blocks", "endpoint_labels",
           "namespace_labels", "policy_sort_key"]
