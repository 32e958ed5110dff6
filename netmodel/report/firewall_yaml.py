"""A Firewall read from a cloud export, written back as netmodel ``Firewall`` YAML (``netmodel import``).

Every rule carries a comment naming the line of the export it came from; the assumptions the export needs are
listed at the top. A rule's reference to what instances carry (a security group, a network tag) is, for what
the Firewall's own nodes carry, its own ``nodeSelector`` (a YAML anchor, so narrowing it narrows both); for
anything else no node is known to carry it: the peer is written as a comment, and a rule left with no peer is
written commented out, so the YAML allows nothing the export does not (docs/input.md, "Cloud firewalls").
"""

from __future__ import annotations

import json

from netmodel.errors import SourceSpan
from netmodel.model.objects import FirewallChain, FirewallLocal, FirewallPeer, FirewallRule
from netmodel.model.read_cloud import CloudFirewall
from netmodel.sets import ALL_PORTS
from netmodel.sets.ports import ALL_PROTOCOLS, PORTED_PROTOCOLS, protocol_label


def _at(span: SourceSpan) -> str:
    return f"{span.file}:{span.line}:{span.column}"


def _protocol(rule: FirewallRule) -> str:
    if rule.protocols == ALL_PROTOCOLS:
        return "any"
    (low, high), = rule.protocols.ranges
    assert low == high, "a cloud rule has one protocol or all"
    return protocol_label(low)


def _ports(rule: FirewallRule) -> list[str]:
    if rule.ports == ALL_PORTS or rule.protocols == ALL_PROTOCOLS:
        return []
    (low, _), = rule.protocols.ranges
    if low not in PORTED_PROTOCOLS:
        return []
    return [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in rule.ports.ranges]


def _peer(peer: FirewallPeer) -> str:
    if len(peer.cidrs) == 1:
        return "{cidr: " + json.dumps(str(peer.cidrs[0])) + "}"
    return "{cidrs: [" + ", ".join(json.dumps(str(c)) for c in peer.cidrs) + "]}"


def _local(local: FirewallLocal) -> str:
    return "{cidrs: [" + ", ".join(json.dumps(str(c)) for c in local.cidrs) + "]}"


def _rule(rule: FirewallRule, direction: str, carried: frozenset[str]) -> list[str]:
    far, near = ("from", "to") if direction == "ingress" else ("to", "from")
    lines = [f"- name: {rule.name}    # {_at(rule.source)}", f"  action: {rule.action}",
             f"  protocol: {_protocol(rule)}"]
    ports = _ports(rule)
    if ports:
        lines.append("  ports: [" + ", ".join(json.dumps(p) for p in ports) + "]")
    unresolved: list[str] = []
    if rule.peers is not None:
        # this Firewall's own groups or tags are its own nodes: the anchored nodeSelector, narrowed once
        real = [_peer(p) for p in rule.peers if not p.member] + [
            "{nodeSelector: *carriers}" for p in rule.peers if p.member in carried][:1]
        unresolved = [f"  # {far} the instances carrying {p.member} ({_at(p.source)}): no node here carries it, "
                      "so no address (a Firewall importing it names them)"
                      for p in rule.peers if p.member and p.member not in carried]
        if not real:
            return [f"# {line}" for line in lines + unresolved] + [
                "#   (no peer left, so it allows nothing here and is left out)"]
        lines.append(f"  {far}:")
        lines += [f"  - {p}" for p in real]
    lines += unresolved
    if rule.local is not None:
        lines.append(f"  {near}:")
        lines += [f"  - {_local(entry)}" for entry in rule.local]
    return lines


def _chain(chain: FirewallChain, direction: str, carried: frozenset[str]) -> list[str]:
    lines = [f"  {direction}:", f"    defaultAction: {chain.default_action}"]
    if chain.rules:
        lines.append("    rules:")
        for rule in chain.rules:
            lines += [f"    {line}" for line in _rule(rule, direction, carried)]
    return lines


def firewall_yaml(name: str, imported: CloudFirewall, command: str, what: str) -> str:
    """The Firewall ``name`` for ``imported`` as YAML text, headed by the ``command`` that made it, ``what`` it
    stands for, and the assumptions."""
    head = [f"# {command}", f"# {what}"]
    if imported.notes:
        head.append("# Not enforced by the cloud, so not written here:")
        head += [f"# - {_at(span)}: {text}" for span, text in imported.notes]
    if imported.assumptions:
        head.append("# Assumptions (answers these rules decide may differ from the cloud's):")
        head += [f"# - {_at(span)}: {text}" for span, text in imported.assumptions]
    body = ["apiVersion: netmodel.io/v1alpha1", "kind: Firewall", f"metadata: {{name: {name}}}", "spec:",
            "  nodeSelector: &carriers {}    # every node: narrow it to the nodes that carry "
            + (", ".join(m.split(":", 1)[1] for m in imported.members) or "these rules"),
            "  stateful: true"]
    carried = frozenset(imported.members)
    body += _chain(imported.ingress, "ingress", carried) + _chain(imported.egress, "egress", carried)
    return "\n".join(head + body) + "\n"


__all__ = ["firewall_yaml"]
