"""What the cloud firewall readers (AWS security groups, GCP VPC firewall rules) give: netmodel chains for the
nodes that carry some groups, tags or service accounts, plus every assumption the export needs.

A cloud firewall names instances by what they carry, not by address: an AWS rule admits "the instances in
security group sg-X", a GCP rule "the VMs tagged web". The nodes carrying a group (or tag, or service account)
are the nodes of the Firewalls that say they carry it (``members``, written ``aws-sg:sg-0abc``,
``gcp-tag:web``, ``gcp-sa:NAME@PROJECT.iam.gserviceaccount.com``): a rule's reference is a peer on such a
member (:attr:`FirewallPeer.member`), replaced by those Firewalls' node selections once every Firewall is read
(:func:`resolve_members`). A member no Firewall carries is read as no address, and said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from netmodel.errors import Problem, SourceSpan
from netmodel.model.objects import Firewall, FirewallChain, FirewallPeer, FirewallRule

# A rule's name is a DNS-1123 label (docs/input.md): at most 63 characters.
MAX_RULE_NAME = 63


@dataclass(frozen=True, slots=True)
class CloudFirewall:
    """The rules a cloud firewall export gives the nodes carrying ``members``: both chains (stateful: both
    clouds' firewalls let replies through), the assumptions (span, what) the rules need and the problems that
    make the export unreadable (each located in the file)."""

    ingress: FirewallChain
    egress: FirewallChain
    members: tuple[str, ...]
    assumptions: tuple[tuple[SourceSpan, str], ...] = ()
    problems: tuple[Problem, ...] = ()
    # what the export holds that the cloud does not enforce (a disabled rule): said, answers unaffected
    notes: tuple[tuple[SourceSpan, str], ...] = ()


def rule_name(base: str, suffix: str = "") -> str:
    """``base`` and ``suffix`` as a rule name: lower case, at most 63 characters, alphanumeric at both ends.

    >>> rule_name("sg-0a1b2c3d4e5f6a7b8", "in-1")
    'sg-0a1b2c3d4e5f6a7b8-in-1'
    """
    text = "".join(c if c.isascii() and (c.isalnum() or c == "-") else "-" for c in base.lower()).strip("-")
    tail = f"-{suffix}" if suffix else ""
    return (text[:MAX_RULE_NAME - len(tail)].rstrip("-") or "rule") + tail


def resolve_members(firewalls: Sequence[Firewall]) -> tuple[list[Firewall], list[tuple[str, str, SourceSpan]]]:
    """``firewalls`` with every member peer replaced by the node selections of the Firewalls that carry the
    member (their ``nodeSelector`` and ``nodes``); and the members no Firewall carries, each with the Firewall
    and the place a rule names it (read as no address)."""
    carriers: dict[str, list[FirewallPeer]] = {}
    for fw in firewalls:
        for member in fw.members:
            found = carriers.setdefault(member, [])
            if fw.node_selector is not None:
                found.append(FirewallPeer(node_selector=fw.node_selector, source=fw.source))
            if fw.node_names:
                found.append(FirewallPeer(nodes=fw.node_names, source=fw.source))
    missing: dict[tuple[str, str], SourceSpan] = {}

    def peers_of(rule: FirewallRule, owner: str) -> FirewallRule:
        if rule.peers is None or not any(p.member for p in rule.peers):
            return rule
        out: list[FirewallPeer] = []
        for peer in rule.peers:
            if not peer.member:
                out.append(peer)
            elif peer.member in carriers:
                out.extend(replace(p, source=peer.source) for p in carriers[peer.member])
            else:
                missing.setdefault((owner, peer.member), peer.source)
        return replace(rule, peers=tuple(out))

    def chain(c: FirewallChain, owner: str) -> FirewallChain:
        return replace(c, rules=tuple(peers_of(r, owner) for r in c.rules))

    resolved = [replace(fw, ingress=chain(fw.ingress, fw.name), egress=chain(fw.egress, fw.name))
                for fw in firewalls]
    return resolved, [(owner, member, span) for (owner, member), span in sorted(missing.items(),
                                                                                key=lambda item: item[0])]


__all__ = ["CloudFirewall", "resolve_members", "rule_name"]
