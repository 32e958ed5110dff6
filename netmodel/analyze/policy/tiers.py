"""Policy tiers: ordered layers of rules that decide a packet one after the other (docs/reachability.md,
"Policy tiers").

A packet at a Pod class (the *subject*), for one direction, goes through the engine's tiers in order. In a tier,
the subject's rules are tried in their order; a rule *matches* when the peer is in its peers AND the
(protocol, port) in its ports. A matching ``Allow`` or ``Deny`` decides; a matching ``Pass`` leaves the tier (the
tier's later rules and its end are skipped) for the next one. A tier that ends without a match either denies (it
*ends in deny* for that subject: NetworkPolicy isolation; Calico's end-of-tier deny) or hands the packet on. After
the last tier the packet is allowed.

A tier whose rules are all ``Allow`` need not be ordered (NetworkPolicy: the union of its rules); it then reports
every matching rule, not the first.

The same walk over whole classes and port spaces (:func:`walk_spaces`): each rule decides only the part of the
space earlier rules left undecided (remaining-space subtraction), so one pass gives the allowed ports between two
classes without trying ports one by one.

>>> from netmodel.sets.ports import TCP
>>> from netmodel.sets import IntervalSet
>>> web = PortSpace.of({TCP: IntervalSet.single(80)})
>>> deny_web = Step(DENY, web)
>>> allow_all = Step(ALLOW, EVERYTHING)
>>> walk_spaces([([deny_web, allow_all], False)]).describe()
'TCP 0-79,81-65535, UDP any, SCTP any'
>>> walk_spaces([([Step(PASS, web)], False), ([], True)]).describe()
'nothing'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from netmodel.analyze.policy.portspace import EVERYTHING, NOTHING, PortSpace
from netmodel.errors import SourceSpan
from netmodel.model.objects import AdminNetworkPolicy, PolicyPort
from netmodel.sets import AddressSet

ALLOW, DENY, PASS = "Allow", "Deny", "Pass"


class TierRuleLike(Protocol):
    """What the walk needs of a rule, whatever language it comes from."""

    @property
    def action(self) -> str:
        """Allow, Deny or Pass."""

    @property
    def ports(self) -> tuple[PolicyPort, ...] | None:
        """The rule's ports as written (None: every port)."""

    @property
    def not_ports(self) -> tuple[PolicyPort, ...]:
        """Ports taken out of ``ports`` (Calico's notPorts and notProtocol; empty elsewhere)."""

    @property
    def peer_classes(self) -> int:
        """The Pod classes the rule's peers match, as a bit set."""

    @property
    def peer_addresses(self) -> AddressSet:
        """The addresses non-Pod peers must be in to match."""


@dataclass(frozen=True, slots=True)
class TierRule:
    """One rule of an AdminNetworkPolicy or BaselineAdminNetworkPolicy compiled against Pod classes.

    ``peer_classes``: the Pod classes its peers match (``namespaces``, ``pods``, and Pods inside ``networks``);
    ``peer_addresses``: the addresses non-Pod peers match (``networks`` CIDRs, the addresses of ``nodes``).
    """

    policy: AdminNetworkPolicy
    direction: str
    index: int
    name: str
    action: str
    ports: tuple[PolicyPort, ...] | None
    peer_classes: int
    peer_addresses: AddressSet
    source: SourceSpan

    @property
    def label(self) -> str:
        """``ingress rule 2 "deny-from-slytherin"`` (1-based, as the trace numbers NetworkPolicy rules)."""
        return f"{self.direction} rule {self.index + 1}" + (f" {self.name!r}" if self.name else "")

    def matches_class(self, class_id: int) -> bool:
        """Whether the rule's peers include the Pod class ``class_id``."""
        return bool(self.peer_classes >> class_id & 1)

    @property
    def not_ports(self) -> tuple[PolicyPort, ...]:
        """Nothing taken out: admin rules have no negated ports."""
        return ()


class Tier(Protocol):
    """One layer of the engine. ``first_match``: rules are ordered and the first match decides; otherwise every
    rule allows and all matching rules are reported."""

    name: str
    first_match: bool

    def rules(self, direction: str, subject: int) -> Sequence[TierRuleLike]:
        """The tier's rules for one Pod class and direction, in evaluation order."""

    def ends_in_deny(self, direction: str, subject: int) -> bool:
        """Whether what no rule decides is denied at the end of this tier (else it passes on)."""


@dataclass(frozen=True, slots=True)
class Step:
    """A rule reduced to what :func:`walk_spaces` needs: its action and the ports it matches for one peer."""

    action: str
    space: PortSpace


def walk_spaces(tiers: Iterable[tuple[Iterable[Step], bool]]) -> PortSpace:
    """The ports allowed after walking ``tiers`` — each (matching steps in order, ends in deny) — for one peer.

    Each step decides the part of its space no earlier step of the walk decided; Pass carries its part to the
    next tier; what a tier leaves undecided is denied when the tier ends in deny, else carried on; what is still
    undecided after the last tier is allowed.
    """
    pending, allowed = EVERYTHING, NOTHING
    for steps, ends_in_deny in tiers:
        remaining, passed = pending, NOTHING
        for step in steps:
            part = step.space & remaining
            if not part:
                continue
            remaining = remaining - part
            if step.action == ALLOW:
                allowed = allowed | part
            elif step.action == PASS:
                passed = passed | part
            if not remaining:
                break
        pending = passed if ends_in_deny else passed | remaining
        if not pending:
            break
    return allowed | pending


__all__ = ["ALLOW", "DENY", "PASS", "Step", "Tier", "TierRule", "TierRuleLike", "walk_spaces"]
