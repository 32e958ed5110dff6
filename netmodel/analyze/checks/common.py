"""Small pieces every check family uses to word and locate its findings."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from netmodel.compile.firewalls import Decision, ruling, ruling_span
from netmodel.errors import SourceSpan
from netmodel.model.objects import SkippedObject
from netmodel.sets import AddressSet, IPAddress


def decision_span(decision: Decision, direction: str) -> SourceSpan:
    """The line that decided: the rule, or the chain whose ``defaultAction`` applied."""
    return ruling_span(decision.firewall, direction, decision.rule)


def decision_text(decision: Decision, direction: str) -> str:
    """``Firewall NAME ingress rule 'RULE'`` (or ``... defaultAction deny``), as findings word it."""
    what = ruling(direction, decision.rule, decision.action, quote=True)
    return f"Firewall {decision.firewall.name} {what}"


def describe_decisions(decisions: Iterable[Decision], direction: str) -> str:
    """Each decision (see :func:`decision_text`), joined by ``;``; ``no firewall`` for none."""
    return "; ".join(decision_text(d, direction) for d in decisions) or "no firewall"


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class FirstClaims(Generic[K, V]):
    """Who claimed each key first, for values that must be unique (Pod IP, ClusterIP, nodePort).

    Claims are made in input order, so a collision names the earlier object first.

    >>> claims: FirstClaims[int, str] = FirstClaims()
    >>> claims.earlier(30080, "a"), claims.earlier(30080, "a"), claims.earlier(30080, "b")
    (None, None, 'a')
    """

    __slots__ = ("_first",)

    def __init__(self) -> None:
        self._first: dict[K, V] = {}

    def earlier(self, key: K, claimant: V) -> V | None:
        """Who claimed ``key`` before ``claimant``; None if nobody did or it was ``claimant`` itself."""
        first = self._first.setdefault(key, claimant)
        return None if first is claimant else first


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """Items in first-seen order, without repeats."""
    return tuple(dict.fromkeys(items))


def unique_spans(spans: Iterable[SourceSpan]) -> tuple[SourceSpan, ...]:
    """The spans in first-seen order, without repeats, leaving out made-up ones (line 0)."""
    return tuple(dict.fromkeys(s for s in spans if s.line > 0))


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
            return preferred.sample(host=True)
    return addresses.sample(host=True)


def operator_made_service(maker: SkippedObject) -> str:
    """What NM-EXT-006 and NM-EXT-012 say, as a warning, of a missing backend Service named after a custom resource
    whose operator makes Pods: the operator likely makes that Service too (Topology.service_maker)."""
    return (f": it is likely made by the operator of {maker.label} ({maker.project}), named after it, like that "
            "resource's Pods (NM-INPUT-016), so the route is not analyzed. Fix: add the Services the operator makes "
            f"(kubectl get services -n {maker.namespace} -o yaml) to analyze it, or correct the name.")
