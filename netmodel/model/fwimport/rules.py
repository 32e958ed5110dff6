"""The native rulesets (iptables-save, nftables) in one form, and their flattening into netmodel's Firewall chains.

A parser (``iptables.py``, ``nftables.py``) turns its text into a :class:`Ruleset`: chains of :class:`NativeRule`
whose matches are a conjunction over the source and destination addresses, the IP protocol, the destination
ports and the connection-tracking state, with a verdict (accept, drop, jump, goto, return, or none). Netfilter
walks such chains as a program; netmodel's ``Firewall`` is a first-match list. :func:`flatten` walks every path
through the chains once, offline, and writes the list the walk amounts to (netfilter's traversal: iptables(8)
"TARGETS", iptables-extensions(8); nft(8) "VERDICT STATEMENT"):

* an accept or drop (reject) rule is one rule of the list, its match ANDed with the matches of the jumps that
  led to it;
* ``jump X`` inlines X under the jump's match; packets X does not decide continue after the jump, as they do in
  the kernel;
* ``return`` (and ``goto X``, whose chain returns to the caller of the chain that jumped) sends the packets it
  matches to the rest of the calling chain: that rest is written again under the return's match, up to the base
  chain's policy, which ends it, so the packets the return took are decided before the rules that follow it;
* a base chain ends with its policy, a rule that matches every packet of the chain.

Only intersections are needed (no complement), so every flattened rule is a box: source and destination
addresses, protocols and destination ports. The size of the result is capped (a ruleset whose returns nest so
that it would multiply beyond the cap is refused, located at the file).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netmodel.errors import SourceSpan
from netmodel.sets import ALL_ADDRESSES, ALL_PORTS, AddressSet, IntervalSet
from netmodel.sets.ports import ALL_PROTOCOLS

# Connection-tracking states a packet of a new connection has, and one of an established connection (a reply).
NEW = "new"
ESTABLISHED = "established"
CT_STATES = frozenset({"new", "established", "related", "invalid", "untracked"})
# The flattened list of one ruleset may hold at most this many rules (netmodel's limit for Firewall rules).
MAX_FLAT_RULES = 200_000


@dataclass(frozen=True, slots=True)
class Match:
    """A conjunction of conditions on a packet; an omitted condition matches every packet."""

    src: AddressSet = ALL_ADDRESSES
    dst: AddressSet = ALL_ADDRESSES
    protocols: IntervalSet = ALL_PROTOCOLS
    ports: IntervalSet = ALL_PORTS  # destination ports; narrower than all only for TCP/UDP/SCTP
    states: frozenset[str] | None = None  # conntrack states; None: any
    never: bool = False  # a condition no packet crossing the node's interface meets (loopback)
    # Conditions netmodel does not model: (what, how it is read) — "skip": the rule is read as never matching,
    # "assume": the condition is read as true.
    unmodelled: tuple[tuple[str, str], ...] = ()

    def __and__(self, other: Match) -> Match:
        states = self.states if other.states is None else other.states if self.states is None else (
            self.states & other.states)
        return Match(self.src & other.src, self.dst & other.dst, self.protocols & other.protocols,
                     self.ports & other.ports, states, self.never or other.never,
                     self.unmodelled + tuple(u for u in other.unmodelled if u not in self.unmodelled))

    def empty_for(self, state: str) -> bool:
        """Whether no packet in ``state`` (``new`` or ``established``) can match."""
        return (self.never or (self.states is not None and state not in self.states) or self.src.is_empty()
                or self.dst.is_empty() or self.protocols.is_empty() or self.ports.is_empty()
                or any(how == "skip" for _, how in self.unmodelled))


ANY = Match()


@dataclass(frozen=True, slots=True)
class NativeRule:
    """One rule of a native chain: a match and a verdict (``accept``, ``drop``, ``jump``, ``goto``, ``return``,
    or ``""`` for a rule that only logs or counts)."""

    match: Match
    verdict: str
    target: str  # the chain of a jump or goto
    source: SourceSpan
    text: str  # the rule as written, for comments and messages
    # What `netmodel emulate` loads into its lab (netmodel/emulate/native.py): for iptables the words of the
    # matches netmodel models exactly, in order (comments and conditions read as true left out); for nftables
    # the index of the rule's object in the JSON list.
    words: tuple[str, ...] = ()
    origin: int = -1


@dataclass(slots=True)
class NativeChain:
    """A chain: base chains have a hook (``input``, ``forward``, ``output``) and a policy, user chains neither."""

    name: str
    source: SourceSpan
    hook: str = ""
    policy: str = "accept"
    priority: int = 0
    family: AddressSet = ALL_ADDRESSES  # the packets the chain sees: IPv4, IPv6 or both
    rules: list[NativeRule] = field(default_factory=list)
    table: str = ""


@dataclass(slots=True)
class Ruleset:
    """Every chain of one file, by (table, name); base chains in the order a packet meets them at each hook."""

    file: str
    chains: dict[tuple[str, str], NativeChain] = field(default_factory=dict)

    def base_chains(self, hook: str) -> list[NativeChain]:
        """The base chains at ``hook``, lowest priority (first traversed) first."""
        return sorted((c for c in self.chains.values() if c.hook == hook), key=lambda c: c.priority)


@dataclass(frozen=True, slots=True)
class FlatRule:
    """One rule of the flattened first-match list: a match (a box), allow or deny, and the native rule that
    decides (or the base chain whose policy does)."""

    match: Match
    action: str  # allow | deny
    source: SourceSpan
    text: str
    policy: bool = False  # the base chain's policy (the last rule of the list)


class TooLarge(Exception):
    """The flattened list would pass :data:`MAX_FLAT_RULES`."""


class Loop(Exception):
    """A chain jumps back into itself."""

    def __init__(self, path: list[str], source: SourceSpan) -> None:
        super().__init__(" -> ".join(path))
        self.path = path
        self.source = source


def flatten(ruleset: Ruleset, base: NativeChain, state: str) -> list[FlatRule]:
    """The first-match list equal to walking ``base`` (and every chain it jumps to) for packets in ``state``."""
    out: list[FlatRule] = []
    walker = _Walker(ruleset, base, state, out)
    walker.walk(base, 0, Match(src=base.family, dst=base.family), [])
    return out


# A frame of the call stack: the chain and the index of the rule after the jump that entered the next frame.
Frame = tuple[NativeChain, int]


@dataclass(slots=True)
class _Walker:
    ruleset: Ruleset
    base: NativeChain
    state: str
    out: list[FlatRule]

    def walk(self, chain: NativeChain, start: int, cond: Match, stack: list[Frame]) -> None:
        """Write the rules of ``chain`` from ``start`` on under ``cond``. A user chain falls through to its
        caller (which goes on after this returns); the base chain ends with its policy."""
        if len(stack) > 64:
            raise Loop([f[0].name for f in stack] + [chain.name], chain.source)
        for index in range(start, len(chain.rules)):
            rule = chain.rules[index]
            here = cond & rule.match
            if here.empty_for(self.state):
                continue
            if rule.verdict in ("accept", "drop"):
                self.emit(FlatRule(here, "allow" if rule.verdict == "accept" else "deny", rule.source, rule.text))
            elif rule.verdict == "return":
                self.resume(here, stack)
            elif rule.verdict in ("jump", "goto"):
                target = self.ruleset.chains[(chain.table, rule.target)]
                if target is chain or any(frame[0] is target for frame in stack):
                    raise Loop([f[0].name for f in stack] + [chain.name, target.name], rule.source)
                if rule.verdict == "jump":
                    self.walk(target, 0, here, [*stack, (chain, index + 1)])
                else:
                    # goto: the target returns to the caller of this chain, not to the rule after the goto
                    self.walk(target, 0, here, stack)
                    self.resume(here, stack)
        if chain is self.base and not stack:
            self.policy(cond)

    def resume(self, cond: Match, stack: list[Frame]) -> None:
        """Packets matching ``cond`` leave the current chain: the rest of each calling chain decides them, down
        to the base chain's policy, written here under ``cond`` so they are decided before the current chain
        goes on."""
        while stack:
            (caller, index), stack = stack[-1], stack[:-1]
            self.walk(caller, index, cond, stack)
            if caller is self.base and not stack:
                return  # the base chain ended with its policy
        self.policy(cond)

    def policy(self, cond: Match) -> None:
        self.emit(FlatRule(cond, "allow" if self.base.policy == "accept" else "deny", self.base.source,
                           f"policy {self.base.policy}", policy=True))

    def emit(self, rule: FlatRule) -> None:
        if len(self.out) >= MAX_FLAT_RULES:
            raise TooLarge
        self.out.append(rule)


def accepts_everything(rules: list[FlatRule], family: AddressSet) -> bool:
    """Whether the list allows every packet of ``family``: an allow that matches all of them comes before any
    deny (a sufficient test, exact for the usual ``ct state established accept`` at the head of a chain or an
    accepting policy with no drop)."""
    for rule in rules:
        if rule.action == "deny":
            return False
        m = rule.match
        if (family <= m.src and family <= m.dst and m.protocols == ALL_PROTOCOLS and m.ports == ALL_PORTS
                and not m.never):
            return True
    return False
