"""An imported ruleset written back as netmodel ``Firewall`` YAML (``netmodel import iptables-save|nftables``).

One Firewall per layer (netmodel/model/fwimport/__init__.py), each rule with a comment naming the file, line
and rule it came from; the assumptions the file needs at the top. The YAML decides as the import does
(tests/test_firewall_import_property.py loads both and compares them packet by packet).
"""

from __future__ import annotations

import json

from netmodel.model.fwimport.layers import Imported
from netmodel.model.objects import FirewallChain, FirewallLocal, FirewallPeer, FirewallRule
from netmodel.sets import ALL_PORTS, IntervalSet
from netmodel.sets.ports import ALL_PROTOCOLS, PORTED_PROTOCOLS, protocol_label


def _protocols(protocols: IntervalSet) -> list[str]:
    """The ``protocol`` values a rule's protocol set needs: ``any``, or one per protocol (a Firewall rule
    names one)."""
    if protocols == ALL_PROTOCOLS:
        return ["any"]
    return [protocol_label(p) for lo, hi in protocols for p in range(lo, hi + 1)]


def _cidrs(cidrs: tuple) -> str:
    return "[" + ", ".join(json.dumps(str(c)) for c in cidrs) + "]"


def _peer(peer: FirewallPeer) -> str:
    return "{cidrs: " + _cidrs(peer.cidrs) + "}"


def _local(entry: FirewallLocal) -> str:
    if entry.node:
        return "{node: {}}" if entry.within is None else "{node: {within: " + _cidrs(entry.within) + "}}"
    if entry.pods:
        return "{pods: {}}"
    return "{cidrs: " + _cidrs(entry.cidrs) + "}"


def _rule(rule: FirewallRule, direction: str, texts: dict[tuple[str, int, int], str]) -> list[str]:
    far, near = ("from", "to") if direction == "ingress" else ("to", "from")
    where = f"{rule.source.file}:{rule.source.line}"
    said = texts.get((rule.source.file, rule.source.line, rule.source.column), "")
    out: list[str] = []
    names = _protocols(rule.protocols)
    for number, protocol in enumerate(names):
        name = rule.name if len(names) == 1 else f"{rule.name}-p{number + 1}"
        lines = [f"- name: {name}    # {where}" + (f": {said}" if said else ""), f"  action: {rule.action}",
                 f"  protocol: {protocol}"]
        ported = protocol == "any" and rule.protocols <= IntervalSet((p, p) for p in PORTED_PROTOCOLS)
        if rule.ports != ALL_PORTS and (protocol in ("TCP", "UDP", "SCTP") or ported):
            lines.append("  ports: [" + ", ".join(json.dumps(f"{lo}-{hi}" if lo != hi else str(lo))
                                                 for lo, hi in rule.ports) + "]")
        if rule.peers is not None:
            lines.append(f"  {far}: [" + ", ".join(_peer(p) for p in rule.peers) + "]")
        if rule.local is not None:
            lines.append(f"  {near}: [" + ", ".join(_local(e) for e in rule.local) + "]")
        out += lines
    return out


def _chain(chain: FirewallChain, direction: str, texts: dict[tuple[str, int, int], str]) -> list[str]:
    lines = [f"  {direction}:", f"    defaultAction: {chain.default_action}"]
    if chain.rules:
        lines.append("    rules:")
        for rule in chain.rules:
            lines += [f"    {line}" for line in _rule(rule, direction, texts)]
    else:
        lines.append("    rules: []")
    return lines


def firewall_yaml(name: str, imported: Imported, command: str) -> str:
    """The Firewalls of ``imported`` as YAML text (``NAME``, ``NAME-2``, … for several layers), headed by the
    ``command`` that made it and the assumptions."""
    head = [f"# {command}",
            ("# Each rule names the line it came from. The Firewall decides as the file does for the packets "
             "netmodel judges (docs/input.md, \"Imported firewall rules\").")]
    if imported.assumptions:
        head.append("# Assumptions (answers these rules decide may differ from the kernel's):")
        head += [f"# - {span.file}:{span.line}: {text}" for span, text in imported.assumptions]
    for note_id, message, span in imported.notes:
        head.append(f"# {note_id} ({span.file}:{span.line}): {message}")
    docs = []
    for index, layer in enumerate(imported.layers):
        body = ["apiVersion: netmodel.io/v1alpha1", "kind: Firewall",
                f"metadata: {{name: {name if index == 0 else f'{name}-{index + 1}'}}}", "spec:",
                "  nodeSelector: {}    # every node: narrow it to the nodes that load this ruleset",
                "  stateful: true" if layer.stateful else
                ("  stateful: false    # the import judges replies by the file's rules for established packets, "
                 "this YAML by the rules below")]
        if layer.label:
            body.insert(0, f"# layer {index + 1}: {layer.label}")
        body += _chain(layer.ingress, "ingress", imported.texts) + _chain(layer.egress, "egress", imported.texts)
        docs.append("\n".join(body))
    return "\n".join(head) + "\n" + "\n---\n".join(docs) + "\n"


__all__ = ["firewall_yaml"]
