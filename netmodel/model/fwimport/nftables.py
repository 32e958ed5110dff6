"""An nftables ruleset as ``nft -j list ruleset`` writes it (JSON, libnftables-json(5)) read into layers.

The JSON is a list under ``nftables`` of tables, chains, sets, maps and rules. What is read, from nft(8)
(https://www.netfilter.org/projects/nftables/manpage.html) and libnftables-json(5)
(https://manpages.debian.org/libnftables1/libnftables-json.5.en.html):

* tables of family ``ip`` (IPv4), ``ip6`` (IPv6) and ``inet`` (both); ``arp``, ``bridge`` and ``netdev`` tables
  do not see the packets netmodel judges at the IP hooks, and a filter chain in them is an assumption;
* base chains of type ``filter`` (and ``route``) at the hooks ``input``, ``forward``, ``output``,
  ``prerouting`` and ``postrouting``, with their priority and policy; ``nat`` chains are not read (netmodel
  models kube-proxy's and the CNI's NAT itself). A packet passes every base chain of its hook in priority order,
  and ``accept`` ends only the chain it is in (nftables wiki, "Configuring chains",
  https://wiki.nftables.org/wiki-nftables/index.php/Configuring_chains): so the k-th chain of each hook (by
  priority) forms the k-th netmodel Firewall, and a packet must pass them all;
* matches on ``ip``/``ip6`` ``saddr``/``daddr``, ``ip protocol``, ``ip6 nexthdr``, ``meta l4proto``,
  ``meta nfproto``, ``tcp``/``udp``/``sctp``/``th`` ``dport``, ``ct state``, ``meta iifname``/``oifname`` (and
  ``iif``/``oif``) against ``lo``, with ``==``, ``!=`` and ``in``; values, prefixes, ranges, anonymous sets and
  named sets (``@name``), and verdict maps (``vmap``, anonymous or named);
* verdicts ``accept``, ``drop``, ``reject``, ``jump``, ``goto``, ``return``, ``continue``; ``counter``,
  ``log`` and the like decide nothing.

What cannot be modelled is an assumption at the rule (netmodel/model/fwimport/iptables.py says how each is
read). The ``nft list ruleset`` text form is refused with the command that writes JSON.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from netmodel.errors import LoadError, Problem, SourceSpan
from netmodel.load.document import Document
from netmodel.load.json_reader import parse_json
from netmodel.model.fwimport.iptables import PROTOCOLS
from netmodel.model.fwimport.layers import Imported, layer_of
from netmodel.model.fwimport.rules import CT_STATES, Match, NativeChain, NativeRule, Ruleset
from netmodel.sets import ALL_ADDRESSES, ALL_PORTS, AddressSet, IntervalSet
from netmodel.sets.addresses import ALL_IPV4, ALL_IPV6
from netmodel.sets.ports import ALL_PROTOCOLS

FAMILIES = {"ip": ALL_IPV4, "ip6": ALL_IPV6, "inet": ALL_ADDRESSES}
HOOKS = ("input", "forward", "output", "prerouting", "postrouting")
NAMED_PRIORITIES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
SIDE_EFFECTS = {"counter", "log", "comment", "notrack", "meta", "ct", "mangle", "quota", "set", "flow"}
TRANSPORT = {"tcp": (6,), "udp": (17,), "sctp": (132,), "udplite": (136,), "dccp": (33,), "th": (6, 17, 132)}
UNEXPECTED = "this rule is not in the shape nft -j list ruleset writes (libnftables-json(5))"
TEXT_FORM = "use the JSON form: nft -j list ruleset > FILE (netmodel does not read the text form of nft list ruleset)"


class _Error(Exception):
    def __init__(self, message: str, path: tuple[str | int, ...], hint: str) -> None:
        super().__init__(message)
        self.message, self.path, self.hint = message, path, hint


class _Unmodelled(Exception):
    """A match netmodel cannot model: the rule is read as never matching (``how`` "skip") or the match as true
    ("assume")."""

    def __init__(self, what: str, how: str = "skip") -> None:
        super().__init__(what)
        self.what, self.how = what, how


def read(text: str, file: str) -> Imported:
    """Read ``nft -j list ruleset`` output; every mistake is a problem at its line and column."""
    return reader(text, file)[0]


def reader(text: str, file: str) -> tuple[Imported, _Reader | None]:
    """:func:`read`, and the reader with the file's chains (None when the file is not an nftables JSON
    ruleset): what `netmodel emulate` loads into its lab (netmodel/emulate/native.py)."""
    out = Imported()
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        first = stripped.split(None, 1)[0] if stripped else ""
        out.problems.append(Problem(
            "this is not nftables JSON" + (" (it looks like the text form of nft list ruleset)"
                                           if first in ("table", "flush", "#!/usr/sbin/nft", "define", "include",
                                                        "add") else ""),
            SourceSpan(file, 1, 1), TEXT_FORM))
        return out, None
    try:
        docs = parse_json(text, file)
    except LoadError as err:
        out.problems.extend(err.problems)
        return out, None
    doc = docs[0] if docs else Document(file, None, None)  # type: ignore[arg-type]
    items = doc.data.get("nftables") if isinstance(doc.data, dict) else None
    if not isinstance(items, list):
        out.problems.append(Problem("an nftables JSON ruleset is an object with a list `nftables`",
                                    SourceSpan(file, 1, 1), TEXT_FORM))
        return out, None
    found = _Reader(doc, out)
    for index, item in enumerate(items):
        try:
            found.item(index, item)
        except _Error as err:
            out.problems.append(Problem(err.message, doc.span(("nftables", index, *err.path)), err.hint))
        except (TypeError, ValueError, KeyError, AttributeError, IndexError):
            out.problems.append(Problem(UNEXPECTED, doc.span(("nftables", index)), TEXT_FORM))
    if out.problems:
        return out, None
    found.layers()
    return out, (found if not out.problems else None)


class _Reader:
    """The file's tables, chains, sets and maps as read (``ruleset``: the chains; ``items``: the JSON list)."""

    def __init__(self, doc: Document, out: Imported) -> None:
        self.doc = doc
        self.out = out
        self.ruleset = Ruleset(doc.file)
        self.families: dict[str, str] = {}  # table key -> family
        self.sets: dict[tuple[str, str], tuple[str, list[Any]]] = {}  # (table, name) -> (type, elements)
        self.maps: dict[tuple[str, str], list[Any]] = {}  # verdict maps: (table, name) -> [[key, verdict], ...]
        self.rules: list[tuple[int, dict[str, Any]]] = []
        self.ignored: dict[str, SourceSpan] = {}
        # assumptions by chain: only those of chains a filter base chain reaches are the answers' concern (a
        # kube-proxy nat chain's dnat statements are not)
        self.pending: list[tuple[NativeChain, SourceSpan, str]] = []

    def span(self, index: int, *path: str | int) -> SourceSpan:
        return self.doc.span(("nftables", index, *path))

    def item(self, index: int, item: Any) -> None:
        if not isinstance(item, dict) or len(item) != 1:
            raise _Error("each entry of `nftables` is an object with one key (table, chain, set, map, rule, …)",
                         (), "write the output of nft -j list ruleset unchanged")
        (kind, body), = item.items()
        if kind == "metainfo":
            return
        if not isinstance(body, dict):
            raise _Error(f"`{kind}` must be an object", (kind,), "write the output of nft -j list ruleset unchanged")
        if kind == "table":
            family, name = _text(body, "family", (kind,)), _text(body, "name", (kind,))
            self.families[f"{family} {name}"] = family
        elif kind == "chain":
            self.chain(index, body)
        elif kind in ("set", "map"):
            family, table, name = (_text(body, k, (kind,)) for k in ("family", "table", "name"))
            elements = body.get("elem", [])
            if not isinstance(elements, list):
                raise _Error("`elem` must be a list", (kind, "elem"), "write the output of nft -j list ruleset")
            if kind == "map" and body.get("map") == "verdict":
                self.maps[(f"{family} {table}", name)] = elements
            elif kind == "set":
                self.sets[(f"{family} {table}", name)] = (str(body.get("type", "")), elements)
        elif kind == "rule":
            self.rules.append((index, body))
        elif kind in ("flowtable", "counter", "quota", "ct helper", "limit", "ct timeout", "ct expectation",
                      "secmark", "synproxy", "element"):
            return
        else:
            raise _Error(f"unknown entry {kind!r}", (kind,), "write the output of nft -j list ruleset unchanged")

    def chain(self, index: int, body: dict[str, Any]) -> None:
        family, table, name = (_text(body, k, ("chain",)) for k in ("family", "table", "name"))
        key = f"{family} {table}"
        span = self.span(index, "chain")
        hook = body.get("hook")
        if family not in FAMILIES:
            if hook is not None:
                self.ignored.setdefault(f"{family} {table}", span)
            self.ruleset.chains[(key, name)] = NativeChain(name, span, table=key)
            return
        chain = NativeChain(name, span, family=FAMILIES[family], table=key)
        if hook is not None and body.get("type", "filter") in ("filter", "route"):
            if hook not in HOOKS:
                raise _Error(f"unknown hook {hook!r}", ("chain", "hook"), f"use one of {', '.join(HOOKS)}")
            policy = body.get("policy", "accept")
            if policy not in ("accept", "drop"):
                raise _Error(f"unknown policy {policy!r}", ("chain", "policy"), "a base chain's policy is accept "
                             "or drop")
            chain.hook, chain.policy, chain.priority = hook, policy, _priority(body.get("prio", 0))
        elif hook is not None:
            chain.table = key  # a nat chain: not read
            self.out.notes.append(("NM-FW-003", (f"the {body.get('type')} chain {table}/{name} of {self.doc.file} "
                                   "is not read: netmodel models kube-proxy's and the CNI's NAT itself"), span))
        self.ruleset.chains[(key, name)] = chain

    def layers(self) -> None:
        for index, body in self.rules:
            try:
                self.rule(index, body)
            except _Error as err:
                self.out.problems.append(Problem(err.message, self.span(index, "rule", *err.path), err.hint))
            except (TypeError, ValueError, KeyError, AttributeError, IndexError):
                # a shape nft -j does not write (a list where it writes text, a verdict with no name …)
                self.out.problems.append(Problem(UNEXPECTED, self.span(index, "rule"), TEXT_FORM))
        for table, span in self.ignored.items():
            self.out.assumptions.append((span, (f"the {table} table's base chains are not read (netmodel judges "
                                         "packets at the ip, ip6 and inet hooks); a drop there could change what "
                                         "passes")))
        if self.out.problems:
            return
        reached = self.reached()
        self.out.assumptions.extend((span, message) for chain, span, message in self.pending if id(chain) in reached)
        layers = layer_bases(self.ruleset)
        for bases, label in layers:
            layer_of(self.ruleset, bases, self.out, label)
        if len(layers) > 1:
            self.out.notes.append(("NM-FW-004", (f"{self.doc.file} has {len(layers)} layers of filter base chains "
                                   f"({'; '.join(label for _, label in layers)}): each is a Firewall of its own "
                                   "and a packet must pass all of them"), SourceSpan(self.doc.file, 1, 1)))
        if not layers:
            self.out.notes.append(("NM-FW-004", (f"{self.doc.file} has no filter base chain at the input, forward "
                                   "or output hook: it filters nothing"), SourceSpan(self.doc.file, 1, 1)))

    def reached(self) -> set[int]:
        """The chains (by id) the filter base chains reach through jumps, gotos and verdict maps."""
        todo = [c for c in self.ruleset.chains.values() if c.hook]
        seen = {id(c) for c in todo}
        while todo:
            chain = todo.pop()
            for rule in chain.rules:
                target = self.ruleset.chains.get((chain.table, rule.target)) if rule.target else None
                if target is not None and id(target) not in seen:
                    seen.add(id(target))
                    todo.append(target)
        return seen

    def rule(self, index: int, body: dict[str, Any]) -> None:
        family, table, chain_name = (_text(body, k, ()) for k in ("family", "table", "chain"))
        key = f"{family} {table}"
        chain = self.ruleset.chains.get((key, chain_name))
        if chain is None:
            raise _Error(f"rule of chain {table}/{chain_name}, which the ruleset does not hold", ("chain",),
                         "write the output of nft -j list ruleset unchanged")
        if family not in FAMILIES:
            return
        exprs = body.get("expr", [])
        if not isinstance(exprs, list):
            raise _Error("`expr` must be a list", ("expr",), "write the output of nft -j list ruleset unchanged")
        span = self.span(index, "rule")
        handle = body.get("handle")
        text = f"rule{f' handle {handle}' if handle is not None else ''} of chain {table}/{chain_name}"
        match = Match()
        unmodelled: list[tuple[str, str]] = []
        branches: list[tuple[Match, str, str]] | None = None  # a vmap: (match, verdict, target) per element
        verdict, target = "", ""
        for position, expr in enumerate(exprs):
            path: tuple[str | int, ...] = ("expr", position)
            if not isinstance(expr, dict) or len(expr) != 1:
                raise _Error("a statement is an object with one key", path, "write the output of nft -j unchanged")
            (name, value), = expr.items()
            try:
                if name == "match":
                    match = match & self.match(value, key, path + ("match",))
                elif name in ("accept", "drop", "reject", "return", "continue"):
                    verdict = "drop" if name == "reject" else "" if name == "continue" else name
                    break
                elif name in ("jump", "goto"):
                    target = _text(value, "target", path + (name,)) if isinstance(value, dict) else ""
                    if (key, target) not in self.ruleset.chains:
                        raise _Error(f"{name} to chain {target!r}, which the table does not hold", path,
                                     "write the output of nft -j list ruleset unchanged")
                    verdict = name
                    break
                elif name == "vmap":
                    branches = self.vmap(value, key, path + ("vmap",))
                    break
                elif name in SIDE_EFFECTS:
                    continue
                else:
                    raise _Unmodelled(f"statement {name}")
            except _Unmodelled as u:
                unmodelled.append((u.what, u.how))
                if u.how == "skip":
                    break
        for what, how in unmodelled:
            reading = "read as never matching" if how == "skip" else "read as matching every packet it could"
            self.pending.append((chain, span, f"{text}: `{what}` cannot be modelled; the rule is {reading}"))
        flags = tuple(unmodelled)
        for m, v, t in branches if branches is not None else [(Match(), verdict, target)]:
            whole = match & m
            chain.rules.append(NativeRule(Match(whole.src, whole.dst, whole.protocols, whole.ports, whole.states,
                                                whole.never, flags), v, t, span, text, origin=index))

    # -- matches ---------------------------------------------------------------------------------------------

    def match(self, body: Any, table: str, path: tuple[str | int, ...]) -> Match:
        if not isinstance(body, dict):
            raise _Error("`match` must be an object with op, left and right", path, "write nft -j output unchanged")
        op = body.get("op", "==")
        left, right = body.get("left"), body.get("right")
        negate = op == "!="
        if op not in ("==", "!=", "in"):
            raise _Unmodelled(f"match with {op}")
        if isinstance(left, dict) and "payload" in left and isinstance(left["payload"], dict):
            proto, field = str(left["payload"].get("protocol")), str(left["payload"].get("field"))
            if proto in ("ip", "ip6") and field in ("saddr", "daddr"):
                addresses = self.addresses(right, table, path + ("right",))
                addresses = ALL_ADDRESSES - addresses if negate else addresses
                family = ALL_IPV4 if proto == "ip" else ALL_IPV6
                return Match(src=addresses & family) if field == "saddr" else Match(dst=addresses & family)
            if proto in TRANSPORT and field == "dport":
                ports = self.ports(right, table, path + ("right",))
                protocols = IntervalSet((p, p) for p in TRANSPORT[proto])
                return Match(protocols=protocols, ports=ALL_PORTS - ports if negate else ports)
            if (proto, field) in (("ip", "protocol"), ("ip6", "nexthdr")):
                protocols = self.protocols(right, table, path + ("right",))
                family = ALL_IPV4 if proto == "ip" else ALL_IPV6
                return Match(src=family, protocols=ALL_PROTOCOLS - protocols if negate else protocols)
            raise _Unmodelled(f"{proto} {field}")
        if isinstance(left, dict) and "meta" in left and isinstance(left["meta"], dict):
            key = str(left["meta"].get("key"))
            if key == "l4proto":
                protocols = self.protocols(right, table, path + ("right",))
                return Match(protocols=ALL_PROTOCOLS - protocols if negate else protocols)
            if key == "nfproto":
                nfproto = {"ipv4": ALL_IPV4, "ipv6": ALL_IPV6}.get(str(right))
                if nfproto is None:
                    raise _Unmodelled(f"meta nfproto {right}")
                return Match(src=ALL_ADDRESSES - nfproto if negate else nfproto)
            if key in ("iifname", "oifname", "iif", "oif"):
                names = right if isinstance(right, list) else right.get("set") if isinstance(right, dict) else [
                    right]
                if names == ["lo"]:
                    return Match() if negate else Match(never=True)
                raise _Unmodelled(f"meta {key} {'!= ' if negate else ''}{right}", "assume")
            raise _Unmodelled(f"meta {key}")
        if isinstance(left, dict) and "ct" in left and isinstance(left["ct"], dict) and left["ct"].get("key") == "state":
            states = right if isinstance(right, list) else [right]
            found = frozenset(str(s) for s in states)
            if found - CT_STATES:
                raise _Unmodelled(f"ct state {', '.join(sorted(found - CT_STATES))}")
            return Match(states=CT_STATES - found if negate else found)
        described = next(iter(left)) if isinstance(left, dict) and left else repr(left)
        raise _Unmodelled(f"match on {described}")

    def elements(self, right: Any, table: str, path: tuple[str | int, ...]) -> tuple[list[Any], str]:
        """The elements a right-hand side stands for: one value, an anonymous set, or ``@name``."""
        if isinstance(right, str) and right.startswith("@"):
            found = self.sets.get((table, right[1:]))
            if found is None:
                raise _Error(f"set {right} is not in the table", path, "write the output of nft -j unchanged")
            return found[1], found[0]
        if isinstance(right, dict) and "set" in right:
            values = right["set"]
            return (values if isinstance(values, list) else [values]), ""
        return [right], ""

    def addresses(self, right: Any, table: str, path: tuple[str | int, ...]) -> AddressSet:
        values, _ = self.elements(right, table, path)
        nets: list[Any] = []
        for value in values:
            value = _unwrap(value)
            try:
                if isinstance(value, dict) and "prefix" in value:
                    nets.append(ipaddress.ip_network(f"{value['prefix']['addr']}/{value['prefix']['len']}",
                                                     strict=False))
                elif isinstance(value, dict) and "range" in value:
                    lo, hi = (ipaddress.ip_address(v) for v in value["range"])
                    nets.extend(ipaddress.summarize_address_range(lo, hi))
                elif isinstance(value, str):
                    nets.append(ipaddress.ip_network(value, strict=False))
                else:
                    raise _Unmodelled(f"address {value!r}")
            except (ValueError, TypeError, KeyError):
                raise _Error(f"{value!r} is not an address, prefix or range", path,
                             "write the output of nft -j unchanged") from None
        return AddressSet.of_networks(nets)

    def ports(self, right: Any, table: str, path: tuple[str | int, ...]) -> IntervalSet:
        values, _ = self.elements(right, table, path)
        ranges = []
        for value in values:
            value = _unwrap(value)
            if isinstance(value, dict) and "range" in value and len(value["range"]) == 2:
                lo, hi = (_port(v, path) for v in value["range"])
            else:
                lo = hi = _port(value, path)
            if lo > hi:
                raise _Error(f"port range {lo}-{hi} runs backwards", path, "write FIRST-LAST")
            ranges.append((lo, hi))
        return IntervalSet(ranges)

    def protocols(self, right: Any, table: str, path: tuple[str | int, ...]) -> IntervalSet:
        values, _ = self.elements(right, table, path)
        out = []
        for value in values:
            value = _unwrap(value)
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255:
                out.append((value, value))
            elif isinstance(value, str) and value.lower() in PROTOCOLS:
                number = PROTOCOLS[value.lower()]
                out.append((number, number))
            else:
                raise _Error(f"unknown protocol {value!r}", path, f"use one of {', '.join(sorted(PROTOCOLS))}")
        return IntervalSet(out)

    def vmap(self, body: Any, table: str, path: tuple[str | int, ...]) -> list[tuple[Match, str, str]]:
        """A verdict map: one branch per element, its key matched against the element."""
        if not isinstance(body, dict):
            raise _Error("`vmap` must be an object with key and data", path, "write nft -j output unchanged")
        data = body.get("data")
        if isinstance(data, str) and data.startswith("@"):
            elements = self.maps.get((table, data[1:]))
            if elements is None:
                raise _Error(f"map {data} is not in the table", path, "write the output of nft -j unchanged")
        elif isinstance(data, dict) and isinstance(data.get("set"), list):
            elements = data["set"]
        else:
            raise _Error("`vmap` data must be a set of [key, verdict] pairs or @map", path, "write nft -j unchanged")
        out = []
        for element in elements:
            if not isinstance(element, list) or len(element) != 2 or not isinstance(element[1], dict):
                raise _Error("a verdict map element is [key, verdict]", path, "write the output of nft -j unchanged")
            (name, value), = element[1].items()
            verdict = "drop" if name == "reject" else "" if name == "continue" else name
            target = str(value.get("target", "")) if isinstance(value, dict) else ""
            if verdict in ("jump", "goto") and (table, target) not in self.ruleset.chains:
                raise _Error(f"{name} to chain {target!r}, which the table does not hold", path,
                             "write the output of nft -j list ruleset unchanged")
            if verdict not in ("accept", "drop", "return", "jump", "goto", ""):
                raise _Unmodelled(f"verdict {name}")
            key_match = self.match({"op": "==", "left": body.get("key"), "right": element[0]}, table, path)
            out.append((key_match, verdict, target))
        return out


def layer_bases(ruleset: Ruleset) -> list[tuple[dict[str, NativeChain | None], str]]:
    """The base chains of each layer (one netmodel Firewall each) and its label: the k-th chain by priority
    at input, forward and output forms layer k; each prerouting and postrouting chain is a layer of its own."""
    by_hook = {hook: ruleset.base_chains(hook) for hook in HOOKS}
    depth = max((len(by_hook[h]) for h in ("input", "forward", "output")), default=0)
    layers: list[tuple[dict[str, NativeChain | None], str]] = []
    for k in range(depth):
        chosen = {h: (by_hook[h][k] if k < len(by_hook[h]) else None) for h in ("input", "forward", "output")}
        label = ", ".join(f"{c.table.split()[1]}/{c.name}" for c in chosen.values() if c is not None)
        layers.append((chosen, label))
    for hook in ("prerouting", "postrouting"):
        for chain in by_hook[hook]:
            layers.append(({hook: chain}, f"{chain.table.split()[1]}/{chain.name}"))
    return layers


def _unwrap(value: Any) -> Any:
    """A set element with options (timeout, counter, comment) is ``{"elem": {"val": ...}}``."""
    while isinstance(value, dict) and "elem" in value and isinstance(value["elem"], dict):
        value = value["elem"].get("val")
    return value


def _port(value: Any, path: tuple[str | int, ...]) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
        return value
    raise _Error(f"{value!r} is not a port number", path, "nft -j writes ports as numbers 0-65535")


def _priority(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        base, _, offset = value.replace(" ", "").partition("+")
        if "-" in base and not offset:
            base, _, neg = base.partition("-")
            return NAMED_PRIORITIES.get(base, 0) - int(neg or 0)
        return NAMED_PRIORITIES.get(base, 0) + int(offset or 0)
    return 0


def _text(body: Any, key: str, path: tuple[str | int, ...]) -> str:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise _Error(f"`{key}` is missing or not text", path, "write the output of nft -j list ruleset unchanged")
    return value


__all__ = ["layer_bases", "read", "reader"]
