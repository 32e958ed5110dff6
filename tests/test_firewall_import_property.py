"""Imported rules decide as netfilter does: random rulesets (tests/fwimport_rulesets.py) rendered as
iptables-save text and as ``nft -j list ruleset`` JSON, imported through a Firewall's ``spec.import`` and judged
by netmodel's firewall engine (netmodel/compile/firewalls.py), give on every sampled packet the verdict of an
oracle that walks the chains as netfilter does, decided by the same line; and flat rule lists give the verdicts
of the same rules written as Firewall YAML; the YAML `netmodel import` writes decides as the import does.
"""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netmodel.compile.firewalls import FirewallSet
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.model.fwimport import import_text
from netmodel.model.fwimport.render import firewall_yaml
from netmodel.model.topology import Topology
from netmodel.sets import parse_address
from tests.fwimport_rulesets import (
    BUILTIN,
    CIDRS,
    PORTS,
    PROTOCOLS,
    Packet,
    Rule,
    Ruleset,
    iptables_save,
    nft_json,
    rules,
    rulesets,
    verdict,
)

NODE_IP = "10.0.0.21"
POD_IP = "10.244.1.5"  # a Pod of the node (its pod CIDR 10.244.1.0/24)
PEERS = ["10.0.0.5", "10.0.0.21", "10.244.1.7", "10.244.2.3", "192.168.3.4", "203.0.113.9", "8.8.8.8",
         "130.0.0.1"]
LAYOUT = """\
apiVersion: netmodel.io/v1alpha1
kind: Cluster
metadata: {name: lab}
spec: {podCIDRs: ["10.244.0.0/16"], cni: {plugin: calico, mode: bgp}}
---
apiVersion: v1
kind: Node
metadata: {name: w1}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.21}]}
---
"""
FIREWALL = """\
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: imported}
spec:
  nodes: [w1]
  import: {format: %s, file: %s}
"""
# (direction, built-in chain, the node-side address, whether the node's end is the source)
PLACES = [("ingress", "INPUT", NODE_IP), ("ingress", "FORWARD", POD_IP), ("egress", "OUTPUT", NODE_IP),
          ("egress", "FORWARD", POD_IP)]


def imported(folder: Path, fmt: str, text: str) -> Topology:
    name = "rules.json" if fmt == "nftables" else "rules.txt"
    (folder / name).write_text(text)
    yaml_file = folder / "layout.yaml"
    yaml_file.write_text(LAYOUT + FIREWALL % (fmt, name))
    return build_topology(parse_text(yaml_file.read_text(), str(yaml_file)))


def packets() -> st.SearchStrategy[tuple[str, str, int]]:
    ports = sorted({p for lo, hi in PORTS for p in (lo, hi, hi + 1)} | {1})
    return st.tuples(st.sampled_from(PEERS), st.sampled_from(["tcp", "udp", "icmp"]), st.sampled_from(ports))


def rendered(rs: Ruleset, fmt: str) -> tuple[str, dict[tuple[str, int], int] | None]:
    if fmt == "iptables-save":
        return iptables_save(rs)
    return nft_json(rs), None


def policy_line(chain: str) -> int:
    return 3 + BUILTIN.index(chain)  # the rendering's `:INPUT`, `:FORWARD`, `:OUTPUT` lines


@pytest.mark.parametrize("fmt", ["iptables-save", "nftables"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rs=rulesets(), samples=st.lists(packets(), min_size=8, max_size=8))
def test_imported_rules_decide_as_netfilter(fmt: str, rs: Ruleset, samples: list[tuple[str, str, int]]) -> None:
    text, where = rendered(rs, fmt)
    with tempfile.TemporaryDirectory() as tmp:
        topology = imported(Path(tmp), fmt, text)
        # `netmodel import` writes the same Firewall as YAML: loaded, it decides alike
        written = firewall_yaml("written", import_text(fmt, text, str(Path(tmp) / "rules")), "netmodel import")
        as_yaml = build_topology(parse_text(LAYOUT + written, "written.yaml"))
    node = topology.nodes[0]
    firewalls = FirewallSet(topology)
    yaml_firewalls = FirewallSet(as_yaml)
    for peer, protocol, port in samples:
        port = 0 if protocol == "icmp" else port
        for direction, chain, local in PLACES:
            src, dst = (peer, local) if direction == "ingress" else (local, peer)
            if ipaddress.ip_address(peer) == ipaddress.ip_address(local):
                continue
            expected, decided_by = verdict(rs, chain, Packet(src, dst, protocol, port))
            got = firewalls.decide(node, direction, parse_address(peer), PROTOCOLS[protocol], port,
                                   parse_address(local))
            assert got.allowed == (expected == "ACCEPT"), (direction, chain, src, dst, protocol, port, text)
            assert yaml_firewalls.decide(as_yaml.nodes[0], direction, parse_address(peer), PROTOCOLS[protocol], port,
                                         parse_address(local)).allowed == got.allowed, (written, peer, port)
            if where is not None:
                (decision,) = got.decisions
                assert decision.rule is not None
                line = policy_line(chain) if decided_by is None else where[decided_by]
                assert decision.rule.source.line == line, (direction, chain, src, dst, protocol, port, text)
    # replies through a ruleset that is not stateful: judged by its rules as established packets, as netfilter
    # does (the reply chains, FirewallSet's "-reply" directions)
    for peer, protocol, port in samples:
        port = 0 if protocol == "icmp" else port
        for direction, chain, local in PLACES:
            src, dst = (peer, local) if direction == "ingress" else (local, peer)
            if ipaddress.ip_address(peer) == ipaddress.ip_address(local):
                continue
            expected, _ = verdict(rs, chain, Packet(src, dst, protocol, port, "ESTABLISHED"))
            got = firewalls.decide(node, f"{direction}-reply", parse_address(peer), PROTOCOLS[protocol], port,
                                   parse_address(local))
            assert got.allowed == (expected == "ACCEPT") or all(fw.stateful for fw in topology.firewalls), (
                "reply", direction, chain, src, dst, protocol, port, text)
    # replies: when netmodel reads the ruleset as stateful, netfilter passes every established packet
    if all(fw.stateful for fw in topology.firewalls):
        for peer, protocol, port in samples:
            for _, chain, local in PLACES:
                for src, dst in ((peer, local), (local, peer)):
                    packet = Packet(src, dst, protocol, 0 if protocol == "icmp" else port, "ESTABLISHED")
                    assert verdict(rs, chain, packet)[0] == "ACCEPT", (chain, packet, text)


# -- flat lists against the same rules written as Firewall YAML --------------------------------------------------

def _complement(cidr: str) -> list[str]:
    whole = ipaddress.ip_network("0.0.0.0/0")
    return [str(n) for n in whole.address_exclude(ipaddress.ip_network(cidr))]


def _yaml_rule(r: Rule, index: int) -> str | None:
    """One INPUT rule as a Firewall ingress rule (negation written as the complement), or None when the rule
    can never match a packet netmodel judges (``-i lo``)."""
    if r.lo:
        return None
    if r.protocol and r.protocol[0]:
        return None  # `! -p` is not one protocol: the flat-list strategy does not draw it
    parts = [f"name: r{index}", f"action: {'allow' if r.verdict == 'ACCEPT' else 'deny'}"]
    if r.protocol:
        parts.append(f"protocol: {r.protocol[1].upper()}")
    if r.ports:
        negated, ranges = r.ports
        chosen = [(lo, hi) for lo, hi in ranges]
        if negated:
            chosen, low = [], 0
            for lo, hi in sorted(ranges):
                if lo > low:
                    chosen.append((low, lo - 1))
                low = hi + 1
            if low <= 65535:
                chosen.append((low, 65535))
        parts.append("ports: [" + ", ".join(f'"{lo}-{hi}"' for lo, hi in chosen) + "]")
    if r.src:
        cidrs = _complement(r.src[1]) if r.src[0] else [r.src[1]]
        parts.append("from: [{cidrs: [" + ", ".join(cidrs) + "]}]")
    within = ["0.0.0.0/0"]
    if r.dst:
        within = _complement(r.dst[1]) if r.dst[0] else [r.dst[1]]
    parts.append("to: [{node: {within: [" + ", ".join(within) + "]}}]")
    return "{" + ", ".join(parts) + "}"


@st.composite
def flat_lists(draw: st.DrawFn) -> Ruleset:
    drawn = draw(st.lists(rules("INPUT", ()), max_size=8))
    flat = [Rule(r.src, r.dst, r.protocol if not (r.protocol and r.protocol[0]) else None,
                 r.ports if not (r.protocol and r.protocol[0]) else None, None, r.lo,
                 r.verdict if r.verdict in ("ACCEPT", "DROP") else "DROP") for r in drawn]
    policy = draw(st.sampled_from(["ACCEPT", "DROP"]))
    return Ruleset({"INPUT": policy, "FORWARD": "ACCEPT", "OUTPUT": "ACCEPT"},
                   {"INPUT": flat, "FORWARD": [], "OUTPUT": [], "U1": [], "U2": [], "U3": []})


@pytest.mark.parametrize("fmt", ["iptables-save", "nftables"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rs=flat_lists(), samples=st.lists(packets(), min_size=10, max_size=10))
def test_imported_rules_decide_as_the_same_rules_written_as_yaml(fmt: str, rs: Ruleset,
                                                                 samples: list[tuple[str, str, int]]) -> None:
    text, _ = rendered(rs, fmt)
    with tempfile.TemporaryDirectory() as tmp:
        native = imported(Path(tmp), fmt, text)
    written = [y for i, r in enumerate(rs.chains["INPUT"]) if (y := _yaml_rule(r, i)) is not None]
    policy = "allow" if rs.policies["INPUT"] == "ACCEPT" else "deny"
    yaml = LAYOUT + ("apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: written}\n"
                     "spec:\n  nodes: [w1]\n  ingress:\n    defaultAction: " + policy + "\n    rules:\n"
                     + "".join(f"    - {y}\n" for y in written) + ("    []\n" if not written else ""))
    yaml = yaml.replace("    rules:\n    []\n", "    rules: []\n")
    topology = build_topology(parse_text(yaml, "written.yaml"))
    ours, theirs = FirewallSet(native), FirewallSet(topology)
    for peer, protocol, port in samples:
        port = 0 if protocol == "icmp" else port
        if peer == NODE_IP:
            continue
        args = (parse_address(peer), PROTOCOLS[protocol], port, parse_address(NODE_IP))
        assert ours.decide(native.nodes[0], "ingress", *args).allowed == \
            theirs.decide(topology.nodes[0], "ingress", *args).allowed, (peer, protocol, port, text, yaml)


def test_the_pools_are_what_the_rendering_assumes() -> None:
    assert all(ipaddress.ip_network(c) for c in CIDRS)
    assert BUILTIN == ("INPUT", "FORWARD", "OUTPUT")
