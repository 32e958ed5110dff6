"""Native chains flattened into the layers of netmodel Firewalls (one per set of base chains), and what an
import gives: :class:`Imported`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from netmodel.errors import Problem, SourceSpan
from netmodel.model.fwimport.rules import (
    ESTABLISHED,
    NEW,
    FlatRule,
    Loop,
    NativeChain,
    Ruleset,
    TooLarge,
    accepts_everything,
    flatten,
)
from netmodel.model.objects import FirewallChain, FirewallLocal, FirewallPeer, FirewallRule
from netmodel.sets import ALL_ADDRESSES, ALL_PORTS, AddressSet, IntervalSet, IPNetwork
from netmodel.sets.ports import ALL_PROTOCOLS, PORTED_PROTOCOLS


@dataclass(frozen=True, slots=True)
class Layer:
    """What one netmodel Firewall gets from the file: both chains and whether replies pass (``stateful``)."""

    ingress: FirewallChain
    egress: FirewallChain
    stateful: bool
    label: str = ""  # which base chains it holds (several layers: one per priority)
    # Not stateful: the chains walked for a reply (conntrack state established), which judge replies in place
    # of ingress and egress (a rule for `ct state new` does not match a reply, one for established does).
    replies: tuple[FirewallChain, FirewallChain] | None = None


@dataclass(slots=True)
class Imported:
    """A file read: its layers, the assumptions its rules need (span, what), notes (id, message, span),
    and the problems that make it unreadable."""

    layers: list[Layer] = field(default_factory=list)
    file: str = ""  # as shown in messages
    assumptions: list[tuple[SourceSpan, str]] = field(default_factory=list)
    notes: list[tuple[str, str, SourceSpan]] = field(default_factory=list)
    texts: dict[tuple[str, int, int], str] = field(default_factory=dict)  # each rule as written, by its span
    problems: list[Problem] = field(default_factory=list)
    # What the selected nodes carry in the cloud (security groups, tags): the Firewall's members, for the
    # cloud rules that name instances by them (netmodel/model/read_cloud.py).
    members: tuple[str, ...] = ()
    # The format and text of a host firewall file (iptables-save, nftables), kept for `netmodel emulate`.
    format: str = ""
    text: str = ""


def layer_of(ruleset: Ruleset, bases: Mapping[str, NativeChain | None], out: Imported, label: str = "") -> None:
    """Flatten the base chains of one layer (input, forward, output; None where there is none) into a
    :class:`Layer` appended to ``out``; a chain loop or a list over the cap is a problem located in the file."""
    try:
        flats = {hook: (flatten(ruleset, chain, NEW), flatten(ruleset, chain, ESTABLISHED))
                 for hook, chain in bases.items() if chain is not None}
    except TooLarge:
        out.problems.append(Problem(f"{ruleset.file}: the rules expand to more than 200,000 netmodel rules "
                                    "(returns and gotos copy the rest of their calling chains)",
                                    SourceSpan(ruleset.file, 1, 1), "split the ruleset, or write fewer nested "
                                    "RETURN rules"))
        return
    except Loop as loop:
        out.problems.append(Problem(f"chains jump in a loop: {' -> '.join(loop.path)}", loop.source,
                                    "netfilter refuses such a ruleset; remove the jump that closes the loop"))
        return
    ingress, egress = _chains(ruleset, bases, {h: f[0] for h, f in flats.items()}, out)
    stateful = all(accepts_everything(flats[h][1], bases[h].family)  # type: ignore[union-attr]
                   for h in flats)
    whole = SourceSpan(ruleset.file, 1, 1)
    replies = None
    if not stateful:
        out.notes.append(("NM-FW-002", (f"{ruleset.file}{' ' + label if label else ''}: not every reply is "
                          "accepted as established (no `ct state established accept` ahead of every drop in each "
                          "chain), so replies are judged by the rules, as packets of an established connection "
                          "(stateful: false)"), whole))
        back_in, back_out = _chains(ruleset, bases, {h: f[1] for h, f in flats.items()}, out)
        replies = (FirewallChain("allow", tuple(back_in), whole), FirewallChain("allow", tuple(back_out), whole))
    out.layers.append(Layer(FirewallChain("allow", tuple(ingress), whole),
                            FirewallChain("allow", tuple(egress), whole), stateful, label, replies))


def _chains(ruleset: Ruleset, bases: Mapping[str, NativeChain | None], flats: Mapping[str, list[FlatRule]],
            out: Imported) -> tuple[list[FirewallRule], list[FirewallRule]]:
    """The ingress and egress rules of one layer from the flattened base chains (for one conntrack state)."""
    ingress: list[FirewallRule] = []
    egress: list[FirewallRule] = []
    names: dict[str, int] = {}
    # INPUT judges packets addressed to the node and comes first, ending with its policy for all of them;
    # FORWARD then judges what is left (routed, Pod traffic). Likewise OUTPUT (from the node) before FORWARD.
    # A prerouting (postrouting) chain sees every packet entering (leaving) the node, as netmodel's ingress
    # (egress) does: it is a layer of its own, with no node-side region.
    walk: tuple[tuple[str, list[FirewallRule], str], ...] = (
        ("input", ingress, "ingress"), ("forward", ingress, "ingress"),
        ("output", egress, "egress"), ("forward", egress, "egress"))
    if "prerouting" in bases or "postrouting" in bases:
        walk = (("prerouting", ingress, "ingress"), ("postrouting", egress, "egress"))
    for hook, rules, direction in walk:
        chain = bases.get(hook)
        if chain is None:
            if hook in ("input", "output"):
                rules.append(FirewallRule(_name(names, hook, None, direction), "allow", ALL_PROTOCOLS, ALL_PORTS,
                                          None, SourceSpan(ruleset.file, 1, 1),
                                          (FirewallLocal(node=True, source=SourceSpan(ruleset.file, 1, 1)),)))
            continue
        for flat in flats[hook]:
            out.texts.setdefault((flat.source.file, flat.source.line, flat.source.column), flat.text)
            rule = _rule(flat, hook, direction, chain.family, _name(names, hook, flat, direction))
            if rule is not None:
                rules.append(rule)
    return ingress, egress


def _name(names: dict[str, int], hook: str, flat: FlatRule | None, direction: str) -> str:
    if flat is None:
        base = f"{hook}-none"
    elif flat.policy:
        base = f"{hook}-policy"
    else:
        base = f"{hook}-l{flat.source.line}"
    key = f"{direction}/{base}"
    names[key] = names.get(key, 0) + 1
    return base if names[key] == 1 else f"{base}-{names[key]}"


def _cidrs(addresses: AddressSet) -> tuple[IPNetwork, ...]:
    return tuple(addresses.cidrs())


def _rule(flat: FlatRule, hook: str, direction: str, family: AddressSet, name: str) -> FirewallRule | None:
    """One flattened rule as a netmodel rule: the far end as peers, the node's end as its ``to``/``from``."""
    m = flat.match
    far, near = (m.src, m.dst) if direction == "ingress" else (m.dst, m.src)
    far = far & family
    near = near & family
    if far.is_empty() or near.is_empty():
        return None
    peers = None if far == ALL_ADDRESSES else (FirewallPeer(cidrs=_cidrs(far), source=flat.source),)
    local: tuple[FirewallLocal, ...] | None
    if hook in ("input", "output"):
        local = (FirewallLocal(node=True, source=flat.source, within=None if family <= near else _cidrs(near)),)
    else:
        local = None if family <= near else (FirewallLocal(cidrs=_cidrs(near), source=flat.source),)
    ports = m.ports if m.protocols <= _PORTED else ALL_PORTS
    return FirewallRule(name, flat.action, m.protocols, ports, peers, flat.source, local)


_PORTED = IntervalSet((p, p) for p in PORTED_PROTOCOLS)

__all__ = ["Imported", "Layer", "layer_of"]
