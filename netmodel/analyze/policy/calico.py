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
  namespaces its ``namespaceSelector`` matches (GlobalNetworkPolicy) — and, with ``serviceAccountSelector``,
  whose service account that selector matches — for the directions in ``types`` (:func:`subject_selector`).
* A rule's source/destination: ``nets`` (any listed) AND not ``notNets`` AND ``selector`` AND not ``notSelector``.
  ``selector`` and ``serviceAccounts`` (names AND selector) join into one selector, limited to the policy's
  namespace (NetworkPolicy) or to what the side's ``namespaceSelector`` matches as soon as a selector field is
  used (:func:`entity_selector`); ``global()`` there matches no Pod. A selector matches by address, as Felix's
  IP sets do: the Pods it selects and the nets of the network sets it selects (:meth:`CalicoIndexes.ip_set`).
  In an ingress rule the source is the peer and the destination must match the subject itself; in an egress
  rule the other way round. Destination ``ports``/``notPorts`` (with the rule's protocol, named ports resolved
  on the destination Pod) and ``protocol``/``notProtocol`` make the rule's port space.

Selectors see an endpoint's labels as Calico builds them (:func:`endpoint_labels`, :func:`network_set_labels`):
a Pod's own, ``projectcalico.org/namespace``, ``projectcalico.org/orchestrator: k8s``,
``projectcalico.org/serviceaccount``, and inherited from its namespace (``pcns.``) and service account
(``pcsa.``), each with ``projectcalico.org/name``. Namespace and service-account selectors are rewritten onto
those prefixed labels, as Calico does. Selectors are evaluated over the classes' label indexes, never per Pod.

Not modelled: host endpoints (hostNetwork Pods and nodes are seen by address only, which only ``nets`` match;
a HostEndpoint object and the host-only policy fields are reported on every answer they could change —
docs/reachability.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from netmodel.analyze.policy.bits import iter_members
from netmodel.analyze.policy.classes import PodClasses
from netmodel.analyze.policy.labels import LabelIndex
from netmodel.analyze.policy.tiers import ALLOW, DENY, PASS, TierRuleLike
from netmodel.errors import SourceSpan
from netmodel.model.calico_selector import Compare, Has, InSet, Not, Selector, conjunction, prefixed
from netmodel.model.labels import Labels
from netmodel.model.objects import (
    CalicoEntity,
    CalicoNetworkSet,
    CalicoPolicy,
    CalicoRule,
    IPBlock,
    NetworkPolicy,
    PolicyPort,
    ServiceAccountMatch,
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
ACCOUNT_LABEL = "projectcalico.org/serviceaccount"
NAMESPACE_PREFIX = "pcns."
ACCOUNT_PREFIX = "pcsa."


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
    """Every ``nets``/``notNets`` CIDR of the Calico policies and every network set's net as an ipBlock, so Pod
    classes split by them."""
    return [IPBlock(net, ()) for pol in topology.calico_policies for rule in pol.ingress + pol.egress
            for entity in (rule.source_entity, rule.destination_entity) for net in entity.nets + entity.not_nets] \
        + [IPBlock(net, ()) for network_set in topology.calico_network_sets for net in network_set.nets]


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
    """The labels Calico's namespace selectors see: the namespace's own plus ``projectcalico.org/name``
    (libcalico-go k8s/conversion/conversion.go NamespaceToProfile)."""
    found = topology.namespace_by_name.get(namespace)
    labels = found.labels if found is not None else Labels({NAMESPACE_NAME_LABEL: namespace})
    return labels.with_items({NAME_LABEL: namespace})


def account_labels(topology: Topology, namespace: str, name: str) -> dict[str, str]:
    """The labels a service account gives its Pods' endpoints: its own and ``projectcalico.org/name``, each
    prefixed ``pcsa.`` (conversion.go ServiceAccountToProfile). A ServiceAccount the input lacks is read as one
    without labels: Kubernetes admits no Pod whose account does not exist (NM-INPUT-043 says so)."""
    found = topology.service_account_by_key.get((namespace, name))
    own = dict(found.labels) if found is not None else {}
    own[NAME_LABEL] = name
    return {ACCOUNT_PREFIX + k: v for k, v in own.items()}


def endpoint_labels(topology: Topology, namespace: str, labels: Mapping[str, str],
                    service_account: str = "") -> Labels:
    """The labels Calico's selectors see on a Pod (its workload endpoint): its own labels less any ``pcns.`` and
    ``pcsa.`` ones (workloadendpointprocessor.go drops them so no Pod can pose as another namespace or account),
    then ``projectcalico.org/namespace``, ``projectcalico.org/orchestrator: k8s`` and
    ``projectcalico.org/serviceaccount`` (workload_endpoint_default.go), and — where the endpoint has no label of
    that name — those inherited from its namespace's and service account's profiles (felix/labelindex
    label_inheritance_index.go: the endpoint's own labels win)."""
    own = {k: v for k, v in labels.items() if not k.startswith((NAMESPACE_PREFIX, ACCOUNT_PREFIX))}
    own.update({NAMESPACE_LABEL: namespace, ORCHESTRATOR_LABEL: "k8s"})
    inherited = {NAMESPACE_PREFIX + k: v for k, v in namespace_labels(topology, namespace).items()}
    if service_account:
        own[ACCOUNT_LABEL] = service_account
        inherited.update(account_labels(topology, namespace, service_account))
    return Labels({**inherited, **own})


def network_set_labels(topology: Topology, network_set: CalicoNetworkSet) -> Labels:
    """The labels Calico's selectors see on a network set: a GlobalNetworkSet's own; a NetworkSet's own with
    ``projectcalico.org/namespace`` and its namespace's labels inherited (``pcns.``)
    (libcalico-go updateprocessors/networksetprocessor.go and globalnetworksetprocessor.go)."""
    if not network_set.namespace:
        return network_set.labels
    own = {**network_set.labels, NAMESPACE_LABEL: network_set.namespace}
    inherited = {NAMESPACE_PREFIX + k: v for k, v in namespace_labels(topology, network_set.namespace).items()}
    return Labels({**inherited, **own})


def _in_namespace(namespace: str) -> Selector:
    return Selector(f"{NAMESPACE_LABEL} == '{namespace}'", Compare(NAMESPACE_LABEL, "==", namespace))


def account_selector(match: ServiceAccountMatch | None) -> Selector | None:
    """A rule's ``serviceAccounts`` as the selector Calico makes of it: the account's labels (``pcsa.``) AND its
    name among ``names`` (updateprocessors/rules.go parseServiceAccounts); None when it restricts nothing."""
    if match is None:
        return None
    names = None
    if match.names:
        names = Selector(f"{ACCOUNT_LABEL} in {{...}}", InSet(ACCOUNT_LABEL, tuple(sorted(match.names)), False))
    labels = prefixed(match.selector, ACCOUNT_PREFIX) if match.selector is not None else None
    return conjunction(labels, names)


def entity_selector(policy: CalicoPolicy, entity: CalicoEntity) -> Selector | None:
    """The one selector Calico makes of a rule side's selector, serviceAccounts and namespaceSelector, scoped to
    the policy's namespace (updateprocessors/rules.go getEndpointSelector): the namespace part (the
    namespaceSelector over ``pcns.`` labels, ``all()`` = in some namespace, ``global()`` = in none; else, in a
    NetworkPolicy, its own namespace) joins as soon as any selector field is used, notSelector included. None:
    the side selects by addresses alone. ``notSelector`` stays apart, unscoped (rules.go keeps it as written)."""
    scope: Selector | None = None
    if entity.namespace_selector is not None:
        scope = prefixed(entity.namespace_selector, NAMESPACE_PREFIX, all_becomes=Has(NAMESPACE_LABEL),
                         global_becomes=Not(Has(NAMESPACE_LABEL)))
    elif policy.namespace:
        scope = _in_namespace(policy.namespace)
    selector = conjunction(account_selector(entity.service_accounts), entity.selector)
    if scope is not None and (selector is not None or entity.not_selector is not None
                              or entity.namespace_selector is not None):
        selector = conjunction(scope, selector)
    return selector


def subject_selector(policy: CalicoPolicy) -> Selector:
    """The endpoints a policy applies to, as Calico rewrites it: its selector AND its namespace (NetworkPolicy)
    or namespaceSelector over ``pcns.`` labels (GlobalNetworkPolicy), AND its serviceAccountSelector over
    ``pcsa.`` labels (networkpolicyprocessor.go, globalnetworkpolicyprocessor.go). Their rewriting of ``all()``
    into ``has(projectcalico.org/namespace)``/``has(projectcalico.org/serviceaccount)`` changes nothing for Pods,
    which carry both labels."""
    scope = _in_namespace(policy.namespace) if policy.namespace else None
    if policy.namespace_selector is not None:
        scope = prefixed(policy.namespace_selector, NAMESPACE_PREFIX)
    accounts = None
    if policy.service_account_selector is not None:
        accounts = prefixed(policy.service_account_selector, ACCOUNT_PREFIX)
    found = conjunction(policy.selector, scope, accounts)
    assert found is not None
    return found


class CalicoIndexes:
    """The label sets Calico's selectors are evaluated over: one position per Pod class (:attr:`endpoints`),
    and the network sets, whose nets a selector matching them adds to the rule's addresses."""

    def __init__(self, topology: Topology, classes: PodClasses) -> None:
        self.topology = topology
        self.classes = classes
        self.network_sets = [(s, network_set_labels(topology, s)) for s in topology.calico_network_sets]

    @cached_property
    def endpoints(self) -> LabelIndex:
        """Each class's labels as Calico's selectors see them (:func:`endpoint_labels`)."""
        return LabelIndex([endpoint_labels(self.topology, c.namespace, c.labels, c.service_account)
                           for c in self.classes.classes])

    def select(self, selector: Selector) -> int:
        """The classes an endpoint selector matches."""
        return selector.select(self.endpoints)

    def ip_set(self, selector: Selector) -> tuple[int, AddressSet]:
        """What a rule selector matches, as Felix's IP set of it holds it: the classes it selects and those with
        an address inside a network set it selects (by address, as the IP set matches), and the nets of those
        sets (felix/calc: a selector's IP set takes endpoints' addresses and network sets' nets)."""
        classes, addresses = self.select(selector), AddressSet()
        for network_set, labels in self.network_sets:
            if network_set.nets and selector.matches(labels, namespaced=bool(network_set.namespace)):
                addresses = addresses | AddressSet.of_networks(network_set.nets)
                for net in network_set.nets:
                    classes |= self.classes.block_classes(IPBlock(net, ()))
        return classes, addresses


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

    def every_rule(self) -> Iterator[TierRuleLike]:
        """Every rule of the tier, for every class and direction (repeats included)."""
        for rules in self._rules.values():
            yield from rules

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
        return self.classes.policy_subjects & self.indexes.select(subject_selector(policy))

    def entity(self, policy: CalicoPolicy, entity: CalicoEntity) -> tuple[int, AddressSet]:
        """The Pod classes and the other addresses one side of a rule matches: its selector's IP set (Pods and
        network sets), minus its notSelector's, within ``nets`` and outside ``notNets``."""
        c, idx = self.classes, self.indexes
        classes, addresses = c.policy_subjects, ALL_ADDRESSES
        selector = entity_selector(policy, entity)
        if selector is not None:
            classes, addresses = idx.ip_set(selector)
        if entity.not_selector is not None:
            excluded, excluded_addresses = idx.ip_set(entity.not_selector)
            classes &= ~excluded
            addresses = addresses - excluded_addresses
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


__all__ = ["CalicoIndexes", "CalicoTier", "CalicoTierRule", "CalicoTiers", "account_labels", "account_selector",
           "calico_blocks", "endpoint_labels", "entity_selector", "namespace_labels", "network_set_labels",
           "policy_sort_key", "subject_selector"]
