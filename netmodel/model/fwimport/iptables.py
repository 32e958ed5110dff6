"""``iptables-save`` / ``ip6tables-save`` text (and an ``ipset save`` section) read into a :class:`Ruleset`.

The format is the one ``iptables-restore`` reads: ``*table`` opens a table, ``:CHAIN POLICY [packets:bytes]``
declares a chain (``-`` for a user chain's policy), ``-A CHAIN match... -j TARGET`` appends a rule, ``COMMIT``
closes the table (iptables-save(8), iptables-restore(8)). Matches and targets are those of iptables(8) and
iptables-extensions(8); what each one is read as is listed in docs/input.md ("Imported firewall rules"). Only the
``filter`` table decides what passes; rules of the other tables are reported (they are not read).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from netmodel.errors import Problem, SourceSpan
from netmodel.model.fwimport.rules import CT_STATES, Match, NativeChain, NativeRule, Ruleset
from netmodel.sets import ALL_ADDRESSES, ALL_PORTS, AddressSet, IntervalSet
from netmodel.sets.addresses import ALL_IPV4, ALL_IPV6
from netmodel.sets.ports import ALL_PROTOCOLS

BUILTIN = {"INPUT": "input", "FORWARD": "forward", "OUTPUT": "output"}
# IP protocol names iptables accepts with -p (from /etc/protocols as iptables reads it), lower case.
PROTOCOLS = {"tcp": 6, "udp": 17, "udplite": 136, "icmp": 1, "ipv6-icmp": 58, "icmpv6": 58, "icmp6": 58,
             "sctp": 132, "esp": 50, "ah": 51, "gre": 47, "ipip": 4, "ipencap": 4, "igmp": 2, "vrrp": 112,
             "ospf": 89, "pim": 103, "dccp": 33, "mh": 135, "ipv6": 41}
# Targets that end a rule's verdict as netmodel reads them; the rest (below) only act on the side.
TERMINAL = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "drop", "RETURN": "return"}
SIDE_EFFECTS = {"LOG", "NFLOG", "ULOG", "AUDIT", "TRACE", "MARK", "CONNMARK", "CT", "NOTRACK", "TCPMSS",
                "CHECKSUM", "CLASSIFY", "DSCP", "TOS", "TTL", "HL", "SET", "SECMARK", "CONNSECMARK", "IDLETIMER",
                "LED", "TEE", "RATEEST", "SYNPROXY"}
# Options of the rule itself (iptables(8) "PARAMETERS"); the rest belong to a match module or the target.
BASE_OPTIONS = {"-s", "--source", "--src", "-d", "--destination", "--dst", "-p", "--protocol", "-i",
                "--in-interface", "-o", "--out-interface", "-m", "--match", "-j", "--jump", "-g", "--goto", "-f",
                "--fragment", "-c", "--set-counters"}
SOURCES = "iptables(8), iptables-extensions(8)"


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a line with the column where it starts (1-based)."""

    text: str
    column: int


@dataclass(slots=True)
class Parsed:
    """What a file holds: the filter table's chains, the assumptions its rules need, notes."""

    ruleset: Ruleset
    # the ipsets of addresses the file defines, by name (what `-m set --match-set NAME` matches)
    sets: dict[str, AddressSet] = field(default_factory=dict)
    assumptions: list[tuple[SourceSpan, str]] = field(default_factory=list)
    notes: list[tuple[str, SourceSpan]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class _Error(Exception):
    def __init__(self, message: str, column: int, hint: str) -> None:
        super().__init__(message)
        self.message, self.column, self.hint = message, column, hint


def tokenize(line: str) -> list[Token]:
    """Split one line as iptables-restore does: words apart at blanks, ``"..."`` one word (``\\"`` inside)."""
    out: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        if line[i] in " \t":
            i += 1
            continue
        start = i
        word: list[str] = []
        while i < n and line[i] not in " \t":
            if line[i] == '"':
                i += 1
                while i < n and line[i] != '"':
                    if line[i] == "\\" and i + 1 < n:
                        i += 1
                    word.append(line[i])
                    i += 1
                if i >= n:
                    raise _Error("unterminated quoted string", start + 1, 'close the string with "')
                i += 1
            else:
                word.append(line[i])
                i += 1
        out.append(Token("".join(word), start + 1))
    return out


def parse(text: str, file: str, version: int) -> Parsed:
    """Read an iptables-save (``version`` 4) or ip6tables-save (6) file; problems are collected, located."""
    family = ALL_IPV4 if version == 4 else ALL_IPV6
    result = Parsed(Ruleset(file))
    table = ""
    table_span: SourceSpan | None = None
    sets: dict[str, _IpSet] = {}
    pending: list[tuple[int, list[Token]]] = []  # the filter table's rules, read once its chains are all known
    other_rules: dict[str, SourceSpan] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            tokens = tokenize(raw)
            if line.startswith("*"):
                if table:
                    raise _Error(f"table {line[1:]!r} opens before table {table!r} is committed", 1,
                                 "end each table with a COMMIT line")
                table, table_span = line[1:].strip(), SourceSpan(file, number, 1)
                continue
            if tokens[0].text == "COMMIT":
                if not table:
                    raise _Error("COMMIT outside a table", tokens[0].column, "open a table first: *filter")
                table = ""
                continue
            if not table and tokens[0].text in ("create", "add", "-N", "-A") and (
                    tokens[0].text in ("create", "add") or len(tokens) > 1 and tokens[1].text in sets):
                _ipset_line(tokens, sets, file, number, version)
                continue
            if not table:
                raise _Error(f"{tokens[0].text!r} outside a table", tokens[0].column,
                             "rules belong inside a table: *filter … COMMIT (the output of iptables-save), "
                             "ipset lines are `create` and `add` (the output of ipset save)")
            if line.startswith(":"):
                _declare(tokens, table, result.ruleset, file, number, family)
                continue
            start = 1 if tokens[0].text.startswith("[") else 0  # `iptables-save -c` counters
            if start >= len(tokens) or tokens[start].text not in ("-A", "--append"):
                shown = tokens[min(start, len(tokens) - 1)]
                raise _Error(f"unknown command {shown.text!r}", shown.column,
                             "an iptables-save file holds `-A CHAIN ...` rules (iptables-save output)")
            if table == "filter":
                pending.append((number, tokens[start:]))
            else:
                other_rules.setdefault(table, SourceSpan(file, number, 1))
        except _Error as err:
            result.problems.append(Problem(err.message, SourceSpan(file, number, err.column), err.hint))
    if table:
        result.problems.append(Problem(f"table {table!r} is not committed", table_span or SourceSpan(file, 1, 1),
                                       "end the table with a COMMIT line"))
    for name, hook in BUILTIN.items():
        result.ruleset.chains.setdefault(("filter", name), NativeChain(
            name, SourceSpan(file, 1, 1), hook, "accept", 0, family, table="filter"))
    for number, tokens in pending:
        try:
            _rule(tokens, result, sets, file, number, version)
        except _Error as err:
            result.problems.append(Problem(err.message, SourceSpan(file, number, err.column), err.hint))
    result.sets = {name: AddressSet.of_networks(s.members) for name, s in sets.items() if s.addresses_only}
    for name, span in other_rules.items():
        if name == "nat":
            result.notes.append(((f"the nat table of {file} is not read: netmodel models kube-proxy's and the "
                                 "CNI's NAT from the Services and the Cluster"), span))
        else:
            result.assumptions.append((span, (f"the {name} table is not read (only filter decides in netmodel); "
                                       f"a DROP or mark there could change what passes")))
    return result


def _declare(tokens: list[Token], table: str, ruleset: Ruleset, file: str, number: int,
             family: AddressSet) -> None:
    name = tokens[0].text[1:]
    if not name:
        raise _Error("a chain needs a name", tokens[0].column + 1, "write `:NAME POLICY [0:0]`")
    if len(tokens) < 2:
        raise _Error(f"chain {name!r} has no policy", tokens[0].column + len(tokens[0].text),
                     "write `:NAME ACCEPT [0:0]` for a built-in chain, `:NAME - [0:0]` for a user chain")
    policy = tokens[1].text
    if table != "filter":
        return
    span = SourceSpan(file, number, 1)
    if ("filter", name) in ruleset.chains:
        raise _Error(f"chain {name!r} is declared twice", 1, "declare each chain once")
    if name in BUILTIN:
        if policy not in ("ACCEPT", "DROP"):
            raise _Error(f"policy {policy!r} of built-in chain {name}", tokens[1].column,
                         "a built-in chain's policy is ACCEPT or DROP")
        ruleset.chains[("filter", name)] = NativeChain(name, span, BUILTIN[name], policy.lower(), 0, family,
                                                        table="filter")
        return
    if policy != "-":
        raise _Error(f"user chain {name!r} with policy {policy!r}", tokens[1].column,
                     "only INPUT, FORWARD and OUTPUT have a policy in the filter table; write `-`")
    ruleset.chains[("filter", name)] = NativeChain(name, span, family=family, table="filter")


# -- ipset -------------------------------------------------------------------------------------------------------

@dataclass(slots=True)
class _IpSet:
    name: str
    kind: str  # hash:ip, hash:net, ...
    members: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(default_factory=list)
    addresses_only: bool = True  # one dimension of addresses; else netmodel cannot match it


def _ipset_line(tokens: list[Token], sets: dict[str, _IpSet], file: str, number: int, version: int) -> None:
    """``create NAME TYPE [options]`` and ``add NAME MEMBER [options]`` (ipset(8), "ipset save" output)."""
    if len(tokens) < 3:
        raise _Error(f"`{tokens[0].text}` needs a set name and a {'type' if tokens[0].text == 'create' else 'member'}",
                     tokens[0].column, "write `create NAME hash:net family inet` or `add NAME 10.0.0.0/8`")
    command, name, value = tokens[0].text, tokens[1].text, tokens[2]
    if command in ("create", "-N"):
        sets[name] = _IpSet(name, value.text, addresses_only=value.text in (
            "hash:ip", "hash:net", "bitmap:ip"))
        return
    ipset = sets.get(name)
    if ipset is None:
        raise _Error(f"ipset {name!r} is not created", tokens[1].column, f"add `create {name} hash:net` above")
    if not ipset.addresses_only:
        return
    text = value.text
    try:
        if "-" in text and "/" not in text:
            lo, hi = (ipaddress.ip_address(p) for p in text.split("-", 1))
            ipset.members.extend(ipaddress.summarize_address_range(lo, hi))
        else:
            ipset.members.append(ipaddress.ip_network(text, strict=False))
    except (ValueError, TypeError):
        raise _Error(f"{text!r} is not an address, range or CIDR", value.column,
                     "write an address, a CIDR or FIRST-LAST") from None


# -- rules -------------------------------------------------------------------------------------------------------

def _addresses(token: Token, version: int) -> AddressSet:
    nets = []
    for part in token.text.split(","):
        try:
            if "/" in part and "." in part.split("/", 1)[1]:  # a dotted netmask: 10.0.0.0/255.0.0.0
                net = ipaddress.ip_network(part, strict=False)
            else:
                net = ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise _Error(f"{part!r} is not an address or CIDR", token.column,
                         "write an address or ADDRESS/PREFIX (iptables-save writes 10.0.0.0/8)") from None
        if net.version != version:
            raise _Error(f"{part!r} is an IPv{net.version} address in an {'ip6' if version == 6 else 'ip'}tables file",
                         token.column, "put IPv4 rules in iptables-save output and IPv6 rules in ip6tables-save "
                         "output (format ip6tables-save)")
        nets.append(net)
    return AddressSet.of_networks(nets)


def _ports(token: Token, multi: bool) -> IntervalSet:
    ranges = []
    parts = token.text.split(",") if multi else [token.text]
    for part in parts:
        lo_s, sep, hi_s = part.partition(":")
        try:
            lo = int(lo_s) if lo_s else 0
            hi = (int(hi_s) if hi_s else 65535) if sep else lo
        except ValueError:
            raise _Error(f"{part!r} is not a port or port range", token.column,
                         "write a port number or FIRST:LAST (service names are resolved by iptables-save)") from None
        if not (0 <= lo <= 65535 and 0 <= hi <= 65535) or lo > hi:
            raise _Error(f"port range {part!r} is outside 0-65535 or runs backwards", token.column,
                         "write FIRST:LAST with 0 <= FIRST <= LAST <= 65535")
        ranges.append((lo, hi))
    return IntervalSet(ranges)


def _protocols(token: Token) -> IntervalSet:
    text = token.text.lower()
    if text in ("all", "0"):
        return ALL_PROTOCOLS
    if text.isdigit() and int(text) <= 255:
        return IntervalSet.single(int(text))
    if text in PROTOCOLS:
        return IntervalSet.single(PROTOCOLS[text])
    raise _Error(f"unknown protocol {token.text!r}", token.column,
                 f"use one of {', '.join(sorted(PROTOCOLS))}, all, or a number 0-255")


def _groups(tokens: list[Token], i: int) -> tuple[list[tuple[bool, Token, list[Token]]], int]:
    """The options of a match module from ``tokens[i]``: (negated, option, arguments) up to the next base
    option."""
    out = []
    negate = False
    while i < len(tokens):
        t = tokens[i]
        if t.text == "!":
            if i + 1 < len(tokens) and tokens[i + 1].text in BASE_OPTIONS:
                break
            negate = True
            i += 1
            continue
        if t.text in BASE_OPTIONS:
            break
        if not t.text.startswith("--"):
            raise _Error(f"unknown option {t.text!r}", t.column,
                         f"netmodel reads the options iptables-save writes ({SOURCES}); check the spelling")
        args = []
        i += 1
        while i < len(tokens) and not tokens[i].text.startswith("-") and tokens[i].text != "!":
            args.append(tokens[i])
            i += 1
        out.append((negate, t, args))
        negate = False
    return out, i


def _one(option: Token, args: list[Token]) -> Token:
    if len(args) != 1:
        raise _Error(f"{option.text} takes one value, found {len(args)}", option.column,
                     f"write `{option.text} VALUE`")
    return args[0]


def _rule(tokens: list[Token], result: Parsed, sets: dict[str, _IpSet], file: str, number: int,
          version: int) -> None:
    ruleset = result.ruleset
    if len(tokens) < 2:
        raise _Error("-A needs a chain", tokens[0].column, "write `-A CHAIN ...`")
    chain = ruleset.chains.get(("filter", tokens[1].text))
    if chain is None:
        raise _Error(f"chain {tokens[1].text!r} is not declared", tokens[1].column,
                     f"declare it at the top of the table: `:{tokens[1].text} - [0:0]`")
    span = SourceSpan(file, number, tokens[0].column)
    text = " ".join(t.text if " " not in t.text else f'"{t.text}"' for t in tokens)
    match = Match()
    unmodelled: list[tuple[str, str]] = []
    protocol_names: list[str] = []
    kept: list[str] = []  # the words of the conditions read exactly (NativeRule.words)
    verdict, target = "", ""
    i = 2
    negate = False
    while i < len(tokens):
        t = tokens[i]
        opt = t.text
        bang = ["!"] if negate else []
        if opt == "!":
            negate = True
            i += 1
            continue
        if opt in ("-j", "--jump", "-g", "--goto"):
            if i + 1 >= len(tokens):
                raise _Error(f"{opt} needs a target", t.column, "write `-j ACCEPT`, `-j DROP` or a chain")
            name = tokens[i + 1].text
            if opt in ("-g", "--goto"):
                if ("filter", name) not in ruleset.chains:
                    raise _Error(f"goto to chain {name!r}, which is not declared", tokens[i + 1].column,
                                 f"declare it: `:{name} - [0:0]`")
                verdict, target = "goto", name
            elif ("filter", name) in ruleset.chains:
                if name in BUILTIN:
                    raise _Error(f"a jump to built-in chain {name}", tokens[i + 1].column,
                                 "jump to a user chain or a target (ACCEPT, DROP, REJECT, RETURN, LOG)")
                verdict, target = "jump", name
            elif name in TERMINAL:
                verdict = TERMINAL[name]
            elif name in SIDE_EFFECTS:
                verdict = ""
            else:
                unmodelled.append((f"target {name}", "skip"))
            i = len(tokens)  # the target's own options follow it to the end of the line
            break
        i += 1
        if opt in ("-s", "--source", "--src", "-d", "--destination", "--dst"):
            if i >= len(tokens):
                raise _Error(f"{opt} needs an address", t.column, f"write `{opt} 10.0.0.0/8`")
            addresses = _addresses(tokens[i], version)
            if negate:
                addresses = ALL_ADDRESSES - addresses
            kept += [*bang, opt, tokens[i].text]
            i += 1
            if opt in ("-s", "--source", "--src"):
                match = match & Match(src=addresses)
            else:
                match = match & Match(dst=addresses)
        elif opt in ("-p", "--protocol"):
            if i >= len(tokens):
                raise _Error(f"{opt} needs a protocol", t.column, "write `-p tcp`")
            protocols = _protocols(tokens[i])
            if not negate:
                protocol_names.append(tokens[i].text.lower())
            match = match & Match(protocols=ALL_PROTOCOLS - protocols if negate else protocols)
            kept += [*bang, opt, tokens[i].text]
            i += 1
        elif opt in ("-i", "--in-interface", "-o", "--out-interface"):
            if i >= len(tokens):
                raise _Error(f"{opt} needs an interface", t.column, f"write `{opt} eth0`")
            name = tokens[i].text
            i += 1
            # Packets netmodel judges cross the node's network interface, never loopback (`+`: any name).
            if name in ("lo", "+"):
                kept += [*bang, opt, name]
            if (name == "lo" and not negate) or (name == "+" and negate):
                match = match & Match(never=True)
            elif name not in ("lo", "+"):
                unmodelled.append((f"{'! ' if negate else ''}{opt} {name}", "assume"))
        elif opt in ("-f", "--fragment"):
            unmodelled.append(("-f (fragments)", "skip"))
        elif opt in ("-c", "--set-counters"):
            i += 2
        elif opt in ("-m", "--match"):
            if i >= len(tokens):
                raise _Error(f"{opt} needs a module", t.column, "write `-m tcp`")
            module = tokens[i].text
            groups, i = _groups(tokens, i + 1)
            match = _module(module, groups, match, unmodelled, sets, protocol_names, kept)
        elif opt.startswith("--") and protocol_names:
            # options of the protocol's own module, loaded implicitly by -p (iptables(8), "MATCH EXTENSIONS")
            groups, i = _groups(tokens, i - 1)
            match = _module(protocol_names[-1], groups, match, unmodelled, sets, protocol_names, kept, implicit=True)
        else:
            raise _Error(f"unknown option {opt!r}", t.column,
                         f"netmodel reads the options iptables-save writes ({SOURCES}); check the spelling")
        negate = False
    if negate:
        raise _Error("`!` negates nothing", tokens[-1].column, "put `!` before the option it negates")
    for what, how in unmodelled:
        reading = ("read as never matching" if how == "skip" else "read as matching every packet it could")
        result.assumptions.append((span, f"`{what}` cannot be modelled; the rule is {reading}"))
    chain.rules.append(NativeRule(Match(match.src, match.dst, match.protocols, match.ports, match.states,
                                        match.never, tuple(unmodelled)), verdict, target, span, text,
                                  tuple(kept), number))


def _module(module: str, groups: list[tuple[bool, Token, list[Token]]], match: Match,
            unmodelled: list[tuple[str, str]], sets: dict[str, _IpSet], protocol_names: list[str],
            kept: list[str], implicit: bool = False) -> Match:
    """Apply the options of one ``-m MODULE`` to ``match``; what netmodel cannot model goes to ``unmodelled``,
    the words of what it models exactly to ``kept`` (``implicit``: the options of ``-p``'s own module)."""
    whole = f"-m {module}" + "".join(f" {'! ' if n else ''}{o.text}" + "".join(" " + a.text for a in a_)
                                     for n, o, a_ in groups)
    skipped = False
    words: list[str] = []
    for negate, option, args in groups:
        opt = option.text
        shown = whole
        exact = ["!"] * negate + [opt] + [a.text for a in args]
        if module == "comment":
            continue
        if module in ("tcp", "udp", "sctp", "udplite", "dccp") and opt in ("--dport", "--destination-port"):
            ports = _ports(_one(option, args), False)
            match = match & Match(ports=ALL_PORTS - ports if negate else ports)
            words += exact
        elif module == "multiport" and opt in ("--dports", "--destination-ports"):
            ports = _ports(_one(option, args), True)
            match = match & Match(ports=ALL_PORTS - ports if negate else ports)
            words += exact
        elif module in ("conntrack", "state") and opt in ("--ctstate", "--state"):
            states = frozenset(s.lower() for s in _one(option, args).text.split(","))
            unknown = states - CT_STATES
            if unknown:
                unmodelled.append((shown, "skip"))
                continue
            match = match & Match(states=CT_STATES - states if negate else states)
            words += exact
        elif module == "set" and opt == "--match-set":
            if len(args) != 2:
                raise _Error("--match-set takes a set name and src or dst", option.column,
                             "write `--match-set NAME src`")
            ipset = sets.get(args[0].text)
            flags = args[1].text.split(",")
            if ipset is None or not ipset.addresses_only or len(flags) != 1 or flags[0] not in ("src", "dst"):
                why = "not defined in the file" if ipset is None else "not a set of addresses"
                unmodelled.append((f"{shown} ({why})", "skip"))
                continue
            addresses = AddressSet.of_networks(ipset.members)
            if negate:
                addresses = ALL_ADDRESSES - addresses
            match = match & (Match(src=addresses) if flags[0] == "src" else Match(dst=addresses))
            words += exact
        elif module == "iprange" and opt in ("--src-range", "--dst-range"):
            value = _one(option, args)
            try:
                lo, hi = (ipaddress.ip_address(p) for p in value.text.split("-", 1))
                addresses = AddressSet.of_networks(ipaddress.summarize_address_range(lo, hi))
            except (ValueError, TypeError):
                raise _Error(f"{value.text!r} is not an address range", value.column, "write FIRST-LAST") from None
            if negate:
                addresses = ALL_ADDRESSES - addresses
            match = match & (Match(src=addresses) if opt == "--src-range" else Match(dst=addresses))
            words += exact
        elif module in ("icmp", "icmp6") and opt in ("--icmp-type", "--icmpv6-type"):
            unmodelled.append((shown, "assume"))
        elif module == "tcp" and opt == "--syn" and not negate:
            words += exact
            continue  # a new TCP connection starts with SYN: the packets netmodel judges have it
        elif module == "tcp" and opt == "--tcp-flags" and not negate and len(args) == 2 and \
                args[1].text.upper() == "SYN" and "SYN" in args[0].text.upper().split(","):
            words += exact
            continue  # --syn written out: SYN set, ACK, RST, FIN clear
        elif not skipped:
            skipped = True
            unmodelled.append((shown, "skip"))
    if not groups and module not in ("comment", "tcp", "udp", "sctp", "conntrack", "state", "multiport"):
        unmodelled.append((whole, "skip"))
    if module in ("tcp", "udp", "sctp") and not protocol_names:
        raise _Error(f"-m {module} without -p {module}", groups[0][1].column if groups else 1,
                     f"add `-p {module}` before it")
    if words:
        kept += words if implicit else ["-m", module, *words]
    return match


__all__ = ["PROTOCOLS", "Parsed", "parse", "tokenize"]
