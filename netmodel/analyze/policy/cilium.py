"""Cilium policies compiled against Pod classes, as rules of the policy tiers (docs/reachability.md, "Cilium
policies").

Cilium's rules, from its policy documentation (docs.cilium.io "Policy Enforcement Modes", "Layer 3 Policies",
"Deny Policies") and its code (pkg/policy: the rule defaulting of ``enableDefaultDeny``, the translation of rules
into policy entries):

* An endpoint selected by a rule (``spec`` or an entry of ``specs``) with an ingress (egress) section —
  ``ingress`` or ``ingressDeny`` holding a rule — is in default deny for ingress (egress), unless that rule says
  ``enableDefaultDeny.ingress: false``. A Kubernetes NetworkPolicy isolating the Pod does the same: Cilium
  enforces both from one policy repository, so their allow rules are one union.
* Deny rules (``ingressDeny``, ``egressDeny``) of any Cilium policy win over every allow, Kubernetes
  NetworkPolicy included ("Deny policies take precedence over allow policies, regardless of whether they are a
  Cilium Network Policy, a Clusterwide Cilium Network Policy or even a Kubernetes Network Policy").

So Cilium adds two things to the tiers: a tier of its deny rules before NetworkPolicy (first match denies;
nothing matched goes on), and its allow rules to the NetworkPolicy tier, whose end denies what no rule allowed
when NetworkPolicy or a Cilium default-deny rule selects the Pod.

Peers: endpoint selectors match Pods (never hostNetwork Pods, which Cilium sees as their node); a rule with no
peer field matches every peer on its ports, and the empty rule ``{}`` nothing (model/read_cilium.py); entities
and CIDRs match addresses (CIDRs only outside the cluster: "CIDR-based selectors do not match in-cluster
entities (pods or nodes)").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from netmodel.analyze.policy.bits import iter_members
from netmodel.analyze.policy.classes import PodClasses
from netmodel.analyze.policy.identity import ByIdentity
from netmodel.analyze.policy.labels import LabelIndex
from netmodel.analyze.policy.tiers import ALLOW, DENY
from netmodel.compile.addresses import AddressBook
from netmodel.errors import SourceSpan
from netmodel.model.cilium import (
    CiliumPolicy,
    CiliumRule,
    CiliumServiceRef,
    CiliumSpec,
)
from netmodel.model.cilium_host import endpoint_labels
from netmodel.model.labels import Labels, LabelSelector
from netmodel.model.objects import PolicyPort
from netmodel.model.read_cilium import normalize_key
from netmodel.model.topology import Topology
from netmodel.sets import ALL_ADDRESSES, AddressSet, parse_network

INGRESS, EGRESS = "ingress", "egress"
_V4 = AddressSet.of_networks([parse_network("0.0.0.0/0")])
_V6 = AddressSet.of_networks([parse_network("::/0")])


def enforced(topology: Topology) -> bool:
    """Whether Cilium enforces the topology's Cilium policies: its CNI is Cilium, or not said (``other``)."""
    return topology.cluster.cni.plugin in ("cilium", "other")


def cidrs_outside_only(topology: Topology) -> bool:
    """Whether a Kubernetes NetworkPolicy ``ipBlock`` matches outside addresses only: the CNI is Cilium, which
    turns it into a CIDR rule (pkg/k8s/network_policy.go, ``ipBlockToCIDRRule``), and "CIDR rules do not apply
    to traffic where both sides of the connection are either managed by Cilium or use an IP belonging to a node
    in the cluster" (Cilium "Layer 3 Policies", CIDR based). Only a Cluster that names Cilium: with an unnamed CNI
    the ipBlock keeps the Kubernetes reading."""
    return topology.cluster.cni.plugin == "cilium"


@dataclass(frozen=True, slots=True)
class CiliumTierRule:
    """One Cilium rule compiled against Pod classes: an Allow in the NetworkPolicy tier or a Deny in the Cilium
    deny tier."""

    policy: CiliumPolicy
    rule: CiliumRule
    direction: str
    action: str
    ports: tuple[PolicyPort, ...] | None
    peer_classes: int
    peer_addresses: AddressSet

    @property
    def index(self) -> int:
        """The rule's position in its section."""
        return self.rule.index

    @property
    def label(self) -> str:
        """``ingressDeny rule 1`` (with ``specs[i].`` for a rule of specs)."""
        return self.rule.label

    @property
    def source(self) -> SourceSpan:
        """Where the rule is written."""
        return self.rule.source

    @property
    def not_ports(self) -> tuple[PolicyPort, ...]:
        """Cilium rules exclude no ports."""
        return ()

    def matches_class(self, class_id: int) -> bool:
        """Whether the rule's peers include the Pod class ``class_id``."""
        return bool(self.peer_classes >> class_id & 1)


class CiliumPolicies:
    """Every Cilium policy of a topology compiled against its Pod classes: per (direction, subject class) the
    deny rules, the allow rules and the policies that put the class in default deny."""

    def __init__(self, topology: Topology, classes: PodClasses) -> None:
        self.topology = topology
        self.classes = classes
        self.allow: dict[tuple[str, int], list[CiliumTierRule]] = {}
        self.deny: dict[tuple[str, int], list[CiliumTierRule]] = {}
        self.defaulting: dict[tuple[str, int], list[CiliumPolicy]] = {}
        # By identity: hashing a policy hashes every source span in it, which for YAML input parses its document
        # again to locate them (most of compiling 500 Cilium policies).
        self.selected: ByIdentity[CiliumPolicy, int] = ByIdentity()
        self.compiled: ByIdentity[CiliumPolicy, tuple[CiliumTierRule, ...]] = ByIdentity()
        self._touched = {INGRESS: 0, EGRESS: 0}
        for policy in topology.cilium_policies if enforced(topology) else ():
            self._compile(policy)

    # -- what Cilium knows of an endpoint ----------------------------------------------------------------------
    @cached_property
    def labels(self) -> LabelIndex:
        """Each class's labels as Cilium sees the endpoint (model/cilium_host.py, ``endpoint_labels``)."""
        return LabelIndex([Labels(endpoint_labels(self.topology, c.namespace, c.labels, c.service_account))
                           for c in self.classes.classes])

    @cached_property
    def book(self) -> AddressBook:
        """Who owns which address (the cluster's own addresses bound ``world``)."""
        return AddressBook(self.topology)

    @cached_property
    def world(self) -> AddressSet:
        """Every address outside the cluster: not a Pod, node or Service address, nor in the pod or service
        ranges."""
        return ALL_ADDRESSES - self.book.cluster

    @cached_property
    def apiserver(self) -> AddressSet:
        """The kube-apiserver: the control-plane nodes' addresses and the endpoints of Service
        default/kubernetes."""
        out = AddressSet.of_networks(ip for n in self.topology.nodes if n.is_control_plane for ip in n.ips)
        for s in self.topology.endpoint_slices:
            if s.namespace == "default" and s.service_name == "kubernetes":
                out = out | AddressSet.of_networks(ip for e in s.endpoints for ip in e.addresses)
        return out

    def select(self, selector: LabelSelector) -> int:
        """The Pod classes (policy subjects) an endpoint selector matches."""
        return self.labels.select(selector) & self.classes.policy_subjects

    # -- peers -------------------------------------------------------------------------------------------------
    def _entity(self, name: str) -> tuple[int, AddressSet]:
        subjects = self.classes.policy_subjects
        if name == "all":
            return subjects, ALL_ADDRESSES
        if name == "world":
            return 0, self.world
        if name == "world-ipv4":
            return 0, self.world & _V4
        if name == "world-ipv6":
            return 0, self.world & _V6
        if name == "cluster":
            return subjects, self.book.cluster
        if name == "remote-node":
            # The Pod's own node never reaches the tiers (traffic with it is always allowed), so every node
            # address a tier sees is a remote node.
            return 0, self.book.node_addresses
        if name == "kube-apiserver":
            return 0, self.apiserver
        return 0, AddressSet()  # host (own node: decided before the tiers); ingress, init, health, unmanaged

    def _service(self, ref: CiliumServiceRef) -> tuple[int, AddressSet]:
        classes, addresses = 0, AddressSet()
        c = self.classes
        for svc in self.topology.services:
            if not ref.selects(svc):
                continue
            if svc.selector:
                # "uses the discovered services' label selector as an endpoint selector"
                classes |= c.pod_labels.select(LabelSelector.of(dict(svc.selector.items()))) \
                    & c.in_namespace.get(svc.namespace, 0) & c.policy_subjects
            else:
                # A Service without a selector: its EndpointSlices' addresses as CIDRs (outside the cluster only).
                for s in self.topology.endpoint_slices:
                    if s.namespace == svc.namespace and s.service_name == svc.name:
                        addresses = addresses | (AddressSet.of_networks(
                            ip for e in s.endpoints for ip in e.addresses) & self.world)
        return classes, addresses

    def peers(self, rule: CiliumRule) -> tuple[int, AddressSet]:
        """The Pod classes and the addresses a rule's peers match."""
        if rule.wildcard:
            return self.classes.policy_subjects, ALL_ADDRESSES
        classes, addresses = 0, AddressSet()
        for sel in rule.endpoints or ():
            classes |= self.select(sel)
        for name in rule.entities or ():
            more_classes, more = self._entity(name)
            classes |= more_classes
            addresses = addresses | more
        for cidr in rule.cidrs or ():
            block = AddressSet.of_networks([cidr.cidr]) - AddressSet.of_networks(cidr.excepts)
            addresses = addresses | (block & self.world)
        for sel in rule.nodes or ():
            normalized = LabelSelector.of({normalize_key(k): v for k, v in sel.match_labels},
                                          list(sel.match_expressions))
            addresses = addresses | AddressSet.of_networks(
                ip for n in self.topology.nodes if normalized.matches(n.labels) for ip in n.ips)
        for ref in rule.services or ():
            more_classes, more = self._service(ref)
            classes |= more_classes
            addresses = addresses | more
        return classes, addresses

    # -- compilation -------------------------------------------------------------------------------------------
    def _compile(self, policy: CiliumPolicy) -> None:
        compiled: list[CiliumTierRule] = []
        everything = 0
        for spec in policy.specs:
            if spec.endpoint_selector is None:
                continue  # a host policy (nodeSelector): not evaluated, marked (analyze/unevaluated.py)
            selected = self.select(spec.endpoint_selector)
            everything |= selected
            compiled.extend(self._compile_spec(policy, spec, selected))
        self.selected[policy] = everything
        self.compiled[policy] = tuple(compiled)

    def _compile_spec(self, policy: CiliumPolicy, spec: CiliumSpec, selected: int) -> list[CiliumTierRule]:
        out = []
        for rule in spec.rules:
            classes, addresses = self.peers(rule)
            out.append(CiliumTierRule(policy, rule, rule.direction, DENY if rule.deny else ALLOW, rule.ports,
                                      classes, addresses))
        for direction, has, default_deny in ((INGRESS, spec.has_ingress, spec.default_deny_ingress),
                                             (EGRESS, spec.has_egress, spec.default_deny_egress)):
            these = [r for r in out if r.direction == direction]
            if has or these:
                self._touched[direction] |= selected
            for class_id in iter_members(selected):
                for r in these:
                    (self.deny if r.action == DENY else self.allow).setdefault((direction, class_id), []).append(r)
                if has and default_deny:
                    found = self.defaulting.setdefault((direction, class_id), [])
                    if not any(p is policy for p in found):  # by identity, as above
                        found.append(policy)
        return out

    def touches(self, direction: str, subject: int) -> bool:
        """Whether some Cilium rule selects the Pod class in this direction."""
        return bool(self._touched[direction] >> subject & 1)

    def touched(self, direction: str) -> int:
        """The subject classes Cilium has rules for in ``direction``."""
        return self._touched[direction]

    def allow_rules(self, direction: str, subject: int) -> Sequence[CiliumTierRule]:
        """The allow rules selecting the class in ``direction``."""
        return self.allow.get((direction, subject), ())

    def default_deny(self, direction: str, subject: int) -> tuple[CiliumPolicy, ...]:
        """The Cilium policies that put the class in default deny for ``direction``."""
        return tuple(self.defaulting.get((direction, subject), ()))


class CiliumDenyTier:
    """Cilium's deny rules as a tier before NetworkPolicy: a matching rule denies; nothing matched goes on."""

    name = "CiliumNetworkPolicy deny"
    first_match = True

    def __init__(self, policies: CiliumPolicies) -> None:
        self.policies = policies

    def rules(self, direction: str, subject: int) -> Sequence[CiliumTierRule]:
        """The deny rules selecting the class in ``direction``."""
        return self.policies.deny.get((direction, subject), ())

    def ends_in_deny(self, direction: str, subject: int) -> bool:
        """Never: what no deny rule matches goes to the allow rules."""
        return False


__all__ = ["CiliumDenyTier", "CiliumPolicies", "CiliumTierRule", "cidrs_outside_only", "enforced"]
