"""Small pieces every check family uses to word and locate its findings."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from netmodel.compile.firewalls import Decision
from netmodel.errors import SourceSpan
from netmodel.sets import AddressSet, IPAddress


def decision_span(decision: Decision, direction: str) -> SourceSpan:
    """The line that decided: the rule, or the chain whose ``defaultAction`` applied."""
    if decision.rule is not None:
        return decision.rule.source
    chain = decision.firewall.ingress if direction == "ingress" else decision.firewall.egress
    return chain.source


def describe_decisions(decisions: Iterable[Decision], direction: str) -> str:
    parts = []
    for d in decisions:
        what = f"rule {d.rule.name!r}" if d.rule is not None else f"{direction} defaultAction {d.action}"
        parts.append(f"Firewall {d.firewall.name} {direction} {what}" if d.rule is not None
                     else f"Firewall {d.firewall.name} {what}")
    return "; ".join(parts) if parts else "no firewall"


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """Items in first-seen order, without repeats."""
    return tuple(dict.fromkeys(items))


def unique_spans(spans: Iterable[SourceSpan]) -> tuple[SourceSpan, ...]:
    return tuple(dict.fromkeys(s for s in spans if s.line > 0))


def example_address(addresses: AddressSet) -> IPAddress | None:
    """A member to quote in a message: the first host of the first range (not a network address like x.x.x.0)."""
    families = ((addresses.v4, ipaddress.IPv4Address), (addresses.v6, ipaddress.IPv6Address))
    for ranges, cls in families:
        for low, high in ranges:
            return cls(low + 1 if high - low >= 2 else low)  # type: ignore[operator]
    return None
