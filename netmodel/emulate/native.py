"""Imported host firewalls (``Firewall.spec.import``: iptables-save, ip6tables-save, nftables JSON) loaded into a
node's namespace by netfilter's own tools, so the kernel — not netmodel's flattening — walks the chains.

What is loaded. Only what netmodel's reader accepted, with netmodel's names and nothing the reader did not check:

* iptables-save / ip6tables-save: the ``filter`` table's chains, every one renamed (``nm<k>_<j>``: the import's
  index on the node and the chain's; INPUT, FORWARD and OUTPUT become user chains too), each rule as the words
  of the conditions netmodel models exactly (``NativeRule.words``: ``-s``, ``-d``, ``-p``, ``--dport(s)``,
  ``--ctstate``, ``--match-set``, ``-i lo``, …, each word held to :data:`SAFE_WORD`) and its verdict (``REJECT``
  as ``DROP``: ``reject`` is refused in ``postrouting``, and the probe sees a drop either way), fed to
  ``iptables-restore`` (iptables-nft); the ipsets it matches are rebuilt from the addresses netmodel parsed and
  fed to ``ipset restore``. Comments, log prefixes and every other text of the file are left out.
* nftables JSON: the tables, chains, sets and verdict maps the filter base chains reach, renamed (tables
  ``nmi<k>t<j>``, chains ``c<j>``, sets ``s<j>``, maps ``m<j>``), base chains as regular chains; each rule's
  ``match`` objects and verdict as written, minus statements with no verdict (counter, log, comment) —
  every string of what is kept held to :data:`SAFE_JSON` — fed to ``nft -j -f``.

A rule netmodel reads as never matching (an unmodelled condition, NM-FW-001) is left out, and a condition it reads
as true (``-i eth1``, ``--icmp-type``, ``iifname "ens5"``) is dropped from its rule: the lab loads the rules as
the solver reads them, so an agreement checks the reading of everything else, and the assumption is what the
answers already carry.

Where it is attached. netmodel judges a Firewall on the wire at the node's underlay interface (docs/reachability.md,
"Firewall rules with a node-side end"): ingress before DNAT, egress after SNAT. So the renamed chains are entered
from base chains the lab adds in the same table — ``prerouting`` priority -150 and ``postrouting`` priority 300,
as ``nm_fw`` — on packets crossing ``eth0``: a packet to one of the node's addresses jumps to the INPUT chain
and then meets INPUT's policy; any other (natively routed Pod traffic) to FORWARD and its policy; leaving, a
packet from the node's addresses goes to OUTPUT, any other to FORWARD (netmodel/model/fwimport/layers.py reads
them in the same order). Each layer of an nftables file has base chains of its own, so layers AND as netmodel's
Firewalls do. A real node hands NodePort traffic to FORWARD after kube-proxy's DNAT and Pod-to-own-node traffic
to INPUT; the lab follows netmodel's reading there, which docs/reachability.md states.

The tools: `netmodel.emulate.host.native_tool_argv` (iptables-legacy cannot be used: its tables are not nftables
tables, so no nftables base chain can jump into them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from netmodel.emulate.errors import EmulateError
from netmodel.emulate.nft import NDP
from netmodel.model.fwimport.iptables import parse as parse_iptables
from netmodel.model.fwimport.nftables import FAMILIES, layer_bases, reader
from netmodel.model.fwimport.rules import NativeChain, NativeRule
from netmodel.model.objects import Firewall, Node
from netmodel.model.topology import Topology
from netmodel.sets import AddressSet
from netmodel.sets.addresses import ALL_IPV4, ALL_IPV6

# Every word of an iptables rule the lab passes to iptables-restore: addresses, ports, protocol and state names,
# options. No blank, quote, `#` or other text can pass.
SAFE_WORD = re.compile(r"[A-Za-z0-9_.:/,!+-]{1,100}")
# Every string (value or key) of the nftables JSON the lab passes to nft -j.
SAFE_JSON = re.compile(r"[A-Za-z0-9_.:/@=!<>-]{0,100}")
# Statements with no verdict that the lab leaves out (netmodel passes them: nftables.py SIDE_EFFECTS).
NO_VERDICT = {"counter", "log", "comment", "notrack", "meta", "ct", "mangle", "quota", "set", "flow"}
INGRESS_HOOK = "type filter hook prerouting priority -150; policy accept;"
EGRESS_HOOK = "type filter hook postrouting priority 300; policy accept;"


@dataclass(frozen=True, slots=True)
class NativeLoad:
    """What one node loads: (tool, text) in order — ``ipset``, ``iptables``, ``ip6tables``, ``nft-json`` —
    and the nft script of the base chains that enter the loaded chains."""

    loads: tuple[tuple[str, str], ...] = ()
    dispatch: str = ""


@dataclass(slots=True)
class _Tables:
    """The dispatching base chains, by (family, table): their nft lines."""

    chains: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, family: str, table: str, name: str, lines: list[str]) -> None:
        self.chains.setdefault((family, table), []).extend([f"  chain {name} {{", *(f"    {x}" for x in lines),
                                                            "  }"])

    def text(self) -> str:
        return "".join(f"table {family} {table} {{\n" + "\n".join(lines) + "\n}\n"
                       for (family, table), lines in self.chains.items())


def native_firewalls(topology: Topology, node: Node) -> list[list[Firewall]]:
    """The imports selecting ``node``: the Firewalls (layers) of each file, in the input's order."""
    groups: dict[tuple[str, int], list[Firewall]] = {}
    for firewall in topology.firewalls:
        if firewall.native is not None and firewall.selects(node):
            groups.setdefault((firewall.imported, id(firewall.native[1])), []).append(firewall)
    return list(groups.values())


def native_load(topology: Topology, node: Node, uplink: str) -> NativeLoad:
    """What ``node``'s namespace loads for the imported Firewalls selecting it (nothing when none does)."""
    loads: dict[str, list[str]] = {}
    tables = _Tables()
    for k, group in enumerate(native_firewalls(topology, node)):
        fmt, text, _ = group[0].native  # type: ignore[misc]
        layers = sorted({f.native[2] for f in group})  # type: ignore[index]
        if fmt in ("iptables-save", "ip6tables-save"):
            _iptables(k, fmt, text, group[0].imported, node, uplink, loads, tables)
        else:
            try:
                _nftables(k, text, group[0].imported, layers, node, uplink, loads, tables)
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                # netmodel's reader accepted a shape the lab does not load (a set without `type`, say)
                raise EmulateError(f"{group[0].imported}: the lab cannot load this ruleset ({type(err).__name__}: "
                                   f"{err}); netmodel's own reading of it is unaffected") from None
    order = ("ipset", "iptables", "ip6tables", "nft-json")
    return NativeLoad(tuple((tool, "".join(loads[tool])) for tool in order if tool in loads), tables.text())


# -- iptables-save ---------------------------------------------------------------------------------------------


def _iptables(k: int, fmt: str, text: str, file: str, node: Node, uplink: str, loads: dict[str, list[str]],
              tables: _Tables) -> None:
    version = 4 if fmt == "iptables-save" else 6
    parsed = parse_iptables(text, file, version)
    if parsed.problems:
        raise EmulateError(f"{file}: the imported rules no longer read: {parsed.problems[0].message}")
    chains = [c for c in parsed.ruleset.chains.values() if c.table == "filter"]
    names = {c.name: f"nm{k}_{j}" for j, c in enumerate(chains)}
    set_names: dict[str, str] = {}
    lines = ["*filter", *(f":{names[c.name]} - [0:0]" for c in chains)]
    for chain in chains:
        for rule in chain.rules:
            line = _iptables_rule(k, rule, names, set_names, parsed.sets, file)
            if line:
                lines.append(f"-A {names[chain.name]} {line}")
    lines.append("COMMIT")
    tool = "iptables" if version == 4 else "ip6tables"
    loads.setdefault(tool, []).append("\n".join(lines) + "\n")
    if set_names:
        family = ALL_IPV4 if version == 4 else ALL_IPV6
        out = []
        for original, name in set_names.items():
            out.append(f"create {name} hash:net family {'inet' if version == 4 else 'inet6'}")
            for cidr in _storable(parsed.sets[original] & family):
                out.append(f"add {name} {cidr}")
        loads.setdefault("ipset", []).append("\n".join(out) + "\n")
    bases = {c.hook: c for c in chains if c.hook}
    _dispatch(tables, "ip" if version == 4 else "ip6", "filter", f"nm{k}", bases,
              {c.name: names[c.name] for c in chains}, node, uplink)


def _iptables_rule(k: int, rule: NativeRule, names: dict[str, str], set_names: dict[str, str],
                   sets: dict[str, AddressSet], file: str) -> str:
    """One rule as iptables-restore words, or "" when the lab leaves it out (no verdict, read as never
    matching)."""
    if not rule.verdict or any(how == "skip" for _, how in rule.match.unmodelled):
        return ""
    words = list(rule.words)
    for i, word in enumerate(words):
        if i > 0 and words[i - 1] == "--match-set":
            if word not in sets:
                raise EmulateError(f"{file}:{rule.source.line}: ipset {word!r} is not one netmodel read")
            words[i] = set_names.setdefault(word, f"nm{k}s{len(set_names)}")
        elif not SAFE_WORD.fullmatch(word):
            raise EmulateError(f"{file}:{rule.source.line}: the lab does not pass {word!r} to iptables-restore")
    verdict = {"accept": ["-j", "ACCEPT"], "drop": ["-j", "DROP"], "return": ["-j", "RETURN"],
               "jump": ["-j", names.get(rule.target, "")], "goto": ["-g", names.get(rule.target, "")]}
    return " ".join(words + verdict[rule.verdict])


def _storable(addresses: AddressSet) -> Iterator[str]:
    """CIDRs an ipset ``hash:net`` can hold: it refuses a zero prefix, so ``/0`` goes in as two halves."""
    for cidr in addresses.cidrs():
        if cidr.prefixlen == 0:
            yield from (str(half) for half in cidr.subnets())
        else:
            yield str(cidr)


# -- nftables JSON ---------------------------------------------------------------------------------------------


def _nftables(k: int, text: str, file: str, layers: Sequence[int], node: Node, uplink: str,
              loads: dict[str, list[str]], tables: _Tables) -> None:
    _, found = reader(text, file)
    if found is None:
        raise EmulateError(f"{file}: the imported rules no longer read")
    items: list[Any] = found.doc.data["nftables"]
    reached = found.reached()
    kept = [c for c in found.ruleset.chains.values() if id(c) in reached and c.table.split()[0] in FAMILIES]
    table_names: dict[str, str] = {}
    for chain in kept:
        table_names.setdefault(chain.table, f"nmi{k}t{len(table_names)}")
    chain_names = {(c.table, c.name): f"c{j}" for j, c in enumerate(kept)}
    json_out: list[dict[str, Any]] = []
    for key, name in table_names.items():
        json_out.append({"add": {"table": {"family": key.split()[0], "name": name}}})
    for chain in kept:
        json_out.append({"add": {"chain": {"family": chain.table.split()[0], "table": table_names[chain.table],
                                           "name": chain_names[(chain.table, chain.name)]}}})
    writer = _JsonRules(items, table_names, chain_names, file)
    rules: list[dict[str, Any]] = []
    for index, body in found.rules:
        key = f"{body['family']} {body['table']}"
        owner = found.ruleset.chains.get((key, body["chain"]))
        if owner is None or id(owner) not in reached or key not in table_names:
            continue
        natives = [r for r in owner.rules if r.origin == index]
        if not natives or any(how == "skip" for r in natives for _, how in r.match.unmodelled):
            continue
        exprs = writer.rule(key, body.get("expr", []), index)
        if exprs:
            rules.append({"add": {"rule": {"family": key.split()[0], "table": table_names[key],
                                           "chain": chain_names[(key, owner.name)], "expr": exprs}}})
    json_out += writer.sets_out + rules
    loads.setdefault("nft-json", []).append(json.dumps({"nftables": json_out}) + "\n")
    bases = layer_bases(found.ruleset)
    for layer in layers:
        chosen = {hook: chain for hook, chain in bases[layer][0].items() if chain is not None}
        for hook, chain in chosen.items():
            family, table = chain.table.split()[0], table_names[chain.table]
            _dispatch(tables, family, table, f"nm{k}l{layer}", {hook: chain},
                      {chain.name: chain_names[(chain.table, chain.name)]}, node, uplink)


@dataclass(slots=True)
class _JsonRules:
    """Rules and the sets they name, renamed and checked."""

    items: list[Any]
    tables: dict[str, str]
    chains: dict[tuple[str, str], str]
    file: str
    sets: dict[tuple[str, str], str] = field(default_factory=dict)
    sets_out: list[dict[str, Any]] = field(default_factory=list)

    def rule(self, table: str, exprs: list[Any], index: int) -> list[Any]:
        out: list[Any] = []
        for expr in exprs:
            (name, value), = expr.items()
            if name == "match":
                if _assumed_interface(value):
                    continue  # read as true: the condition is left out
                out.append({"match": self.checked(table, value, index)})
            elif name in ("accept", "drop", "return", "continue", "reject"):
                out.append({"drop" if name == "reject" else name: None})
                break
            elif name in ("jump", "goto"):
                out.append({name: {"target": self.chains[(table, value["target"])]}})
                break
            elif name == "vmap":
                out.append({"vmap": self.vmap(table, value, index)})
                break
            elif name in NO_VERDICT:
                continue
            else:
                raise EmulateError(f"{self.file}: rule {index}: statement {name!r} was not read by netmodel")
        if not out or next(iter(out[-1])) == "match":
            return []  # no verdict: it decides nothing
        return out

    def vmap(self, table: str, body: dict[str, Any], index: int) -> dict[str, Any]:
        data = body["data"]
        key = self.checked(table, body["key"], index)
        if isinstance(data, str):
            return {"key": key, "data": self.reference(table, data, index)}
        return {"key": key, "data": {"set": [[self.checked(table, k, index), self.verdict(table, v)]
                                             for k, v in data["set"]]}}

    def verdict(self, table: str, value: dict[str, Any]) -> dict[str, Any]:
        (name, body), = value.items()
        if name in ("jump", "goto"):
            return {name: {"target": self.chains[(table, body["target"])]}}
        return {"drop" if name == "reject" else name: None}

    def reference(self, table: str, ref: str, index: int) -> str:
        """``@name`` of a set or verdict map, renamed; its definition is written once."""
        original = (table, ref[1:])
        if original not in self.sets:
            item = next((body for item in self.items for kind, body in item.items()
                         if kind in ("set", "map") and isinstance(body, dict)
                         and f"{body.get('family')} {body.get('table')}" == table and body.get("name") == ref[1:]),
                        None)
            if item is None:
                raise EmulateError(f"{self.file}: rule {index}: {ref} is not a set of the table")
            kind = "map" if "map" in item else "set"
            name = f"{'m' if kind == 'map' else 's'}{len(self.sets)}"
            self.sets[original] = name
            elements = [_element(e) for e in item.get("elem", [])]
            if kind == "map":
                elements = [[self.checked(table, key, index), self.verdict(table, value)] for key, value in elements]
            else:
                elements = [self.checked(table, e, index) for e in elements]
            body: dict[str, Any] = {"family": table.split()[0], "table": self.tables[table], "name": name,
                                    "type": self.checked(table, item["type"], index)}
            if kind == "map":
                body["map"] = "verdict"
            if "flags" in item:
                body["flags"] = self.checked(table, item["flags"], index)
            if elements:
                body["elem"] = elements
            self.sets_out.append({"add": {kind: body}})
        return f"@{self.sets[original]}"

    def checked(self, table: str, value: Any, index: int) -> Any:
        """``value`` with set references renamed; every string held to :data:`SAFE_JSON`."""
        if isinstance(value, str):
            if value.startswith("@"):
                return self.reference(table, value, index)
            if not SAFE_JSON.fullmatch(value):
                raise EmulateError(f"{self.file}: rule {index}: the lab does not pass {value!r} to nft")
            return value
        if isinstance(value, list):
            return [self.checked(table, v, index) for v in value]
        if isinstance(value, dict):
            out = {}
            for key, inner in value.items():
                if not SAFE_JSON.fullmatch(key):
                    raise EmulateError(f"{self.file}: rule {index}: the lab does not pass {key!r} to nft")
                out[key] = self.checked(table, _element(inner), index)
            return out
        if value is None or isinstance(value, (bool, int)):
            return value
        raise EmulateError(f"{self.file}: rule {index}: the lab does not pass {value!r} to nft")


def _element(value: Any) -> Any:
    """A set element without its options (timeout, counter, comment): ``{"elem": {"val": X}}`` is X."""
    while isinstance(value, dict) and "elem" in value and isinstance(value["elem"], dict):
        value = value["elem"].get("val")
    return value


def _assumed_interface(match: Any) -> bool:
    """An interface match other than ``lo``: netmodel reads it as true (nftables.py)."""
    left, right = match.get("left"), match.get("right")
    if not (isinstance(left, dict) and isinstance(left.get("meta"), dict)
            and left["meta"].get("key") in ("iifname", "oifname", "iif", "oif")):
        return False
    names = right if isinstance(right, list) else right.get("set") if isinstance(right, dict) else [right]
    return names != ["lo"]


# -- the base chains that enter the loaded chains ---------------------------------------------------------------


def _dispatch(tables: _Tables, family: str, table: str, prefix: str, bases: dict[str, NativeChain],
              names: dict[str, str], node: Node, uplink: str) -> None:
    """Base chains in ``table`` entering the loaded chains where netmodel judges them (module docstring). A
    layer without an INPUT (OUTPUT) chain lets the node's own packets pass: its FORWARD chain accepts them."""
    versions = {"ip": (4,), "ip6": (6,), "inet": (4, 6)}[family]
    own = {v: sorted(str(ip) for ip in node.ips if ip.version == v) for v in versions}
    ndp = [NDP] if 6 in versions else []
    for hook, side, address, hook_line in (("input", "in", "daddr", INGRESS_HOOK),
                                           ("output", "out", "saddr", EGRESS_HOOK)):
        lines = [f'{"iifname" if side == "in" else "oifname"} != "{uplink}" accept', *ndp]
        mine = [f"{'ip' if v == 4 else 'ip6'} {address} {{ {', '.join(own[v])} }}" for v in versions if own[v]]
        if hook in bases:
            chain = bases[hook]
            tables.add(family, table, f"{prefix}_{hook}", [hook_line, *lines,
                *(f"{m} jump {names[chain.name]}" for m in mine),
                *(f"{m} {chain.policy}" for m in mine)])
        if "forward" in bases:
            chain = bases["forward"]
            tables.add(family, table, f"{prefix}_forward_{side}", [hook_line, *lines, *(f"{m} accept" for m in mine),
                                                                   f"jump {names[chain.name]}", chain.policy])
    for hook, side, hook_line in (("prerouting", "iifname", INGRESS_HOOK), ("postrouting", "oifname", EGRESS_HOOK)):
        if hook in bases:
            chain = bases[hook]
            tables.add(family, table, f"{prefix}_{hook}", [hook_line, f'{side} != "{uplink}" accept', *ndp,
                                                           f"jump {names[chain.name]}", chain.policy])
