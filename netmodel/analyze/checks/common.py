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
            return cls(low + 1 if high - low >= 2 else low)
    return None


# Addresses that do not name a host on the public internet: "this network", loopback, link-local, multicast,
# reserved (RFC 6890 special-purpose registries), private (RFC 1918, RFC 4193) and shared (RFC 6598) space.
NOT_PUBLIC = AddressSet.parse("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                              "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/127",
                              "fc00::/7", "fe80::/10", "ff00::/8")
# No packet can carry these as its source address.
NOT_A_SOURCE = AddressSet.parse("0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4", "::/127", "ff00::/8")


def network_example(addresses: AddressSet) -> IPAddress | None:
    """An outside address to quote as a network's example: a host a packet can come from, public when the set
    holds public addresses (so ``internet`` is shown as 1.0.0.1, never 0.0.0.1 or a private 10.x address that
    reads like a node), else the first usable one; None when empty.

    >>> [str(network_example(AddressSet.parse(*c))) for c in (["0.0.0.0/0"], ["10.0.0.0/24"],
    ...                                                        ["10.0.0.0/8", "198.51.100.0/24"])]
    ['1.0.0.1', '10.0.0.1', '198.51.100.1']
    """
    for preferred in (addresses - NOT_PUBLIC, addresses - NOT_A_SOURCE):
        if preferred:
            return example_address(preferred)
    return example_address(addresses)
