"""What every nftables writer of the lab shares: rendering sets, address and protocol/port matches, and the Pods
policies police, with named ports resolved on them (netmodel/emulate/nft.py, nft_cilium.py, nft_calico.py,
services.py).

Everything here writes addresses, numbers and fixed keywords only: no text from the input reaches a script.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from netmodel.model.objects import Pod, PolicyPort
from netmodel.model.topology import Topology
from netmodel.sets import ALL_PORTS, ALL_PROTOCOLS, AddressSet, IntervalSet
from netmodel.sets.ports import PORTED_PROTOCOLS

# Writes the lines matching peers (None: any) and ports with a verdict: netmodel.emulate.nft.verdict_lines.
PortLines = Callable[[Pod, str, str, AddressSet | None, tuple[PolicyPort, ...] | None, str, str], Iterator[str]]


def nft_set(items: Iterable[str]) -> str:
    """``a`` for one item, ``{ a, b }`` for several (nft rejects an empty set: callers skip those)."""
    values = list(dict.fromkeys(items))
    return values[0] if len(values) == 1 else "{ " + ", ".join(values) + " }"


def intervals(values: IntervalSet) -> list[str]:
    """The ranges of ``values`` in nft syntax (``80``, ``8000-8100``)."""
    return [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in values]


def family_matches(direction: str, addresses: AddressSet) -> list[str]:
    """One match per IP family present: ``ip saddr {...}`` / ``ip6 daddr {...}`` (none when empty)."""
    out = []
    for version, keyword in ((4, "ip"), (6, "ip6")):
        cidrs = [str(c) for c in addresses.cidrs() if c.version == version]
        if cidrs:
            out.append(f"{keyword} {direction} {nft_set(cidrs)}")
    return out


def paired_matches(*pairs: tuple[str, AddressSet | None]) -> list[str]:
    """The address part of lines matching every ``(field, addresses)`` pair at once (None: that field is free):
    one line per IP family all restricted fields have addresses in; ``[""]`` when none is restricted, ``[]``
    when they can match nothing together."""
    if all(addresses is None for _, addresses in pairs):
        return [""]
    out = []
    for version, keyword in ((4, "ip"), (6, "ip6")):
        parts = []
        for field, addresses in pairs:
            if addresses is None:
                continue
            cidrs = [str(c) for c in addresses.cidrs() if c.version == version]
            if not cidrs:
                break
            parts.append(f"{keyword} {field} {nft_set(cidrs)}")
        else:
            out.append(" ".join(parts))
    return out


def l4_match(protocols: IntervalSet, ports: IntervalSet) -> list[str]:
    """Matches for a protocol set and a destination-port set; [] when the pair is empty.

    Ports only exist for TCP, UDP and SCTP, so a port-restricted match keeps only those protocols.
    """
    if protocols.is_empty() or ports.is_empty():
        return []
    proto = "" if protocols == ALL_PROTOCOLS else f"meta l4proto {nft_set(intervals(protocols))}"
    if ports == ALL_PORTS:
        return [proto]
    ported = protocols & IntervalSet((p, p) for p in PORTED_PROTOCOLS)
    if ported.is_empty():
        return []
    return [f"meta l4proto {nft_set(intervals(ported))} th dport {nft_set(intervals(ports))}"]


def join(*parts: str) -> str:
    """The non-empty ``parts`` separated by spaces."""
    return " ".join(p for p in parts if p)


def policy_pods(topology: Topology) -> list[Pod]:
    """Pods policies can select and police: not hostNetwork, with an address."""
    return [p for p in topology.pods if not p.host_network and p.ips]


def pod_addresses(pods: Iterable[Pod]) -> AddressSet:
    """Every address of ``pods``."""
    return AddressSet.of_networks(ip for p in pods for ip in p.ips)


def resolve_port(pod: Pod, port: PolicyPort) -> IntervalSet | None:
    """The destination ports ``port`` means on ``pod``; None when a named port does not exist there."""
    if port.port is None:
        return ALL_PORTS
    if isinstance(port.port, str):
        found = pod.named_port(port.port, port.protocol)
        return IntervalSet.single(found.port) if found is not None else None
    return IntervalSet.of((port.port, port.end_port if port.end_port is not None else port.port))


def resolve_port_number(port: PolicyPort) -> IntervalSet | None:
    """The ports a policy port allows, by number; None for a named port (resolved per Pod elsewhere)."""
    if port.port is None:
        return ALL_PORTS
    if isinstance(port.port, str):
        return None
    return IntervalSet.of((port.port, port.end_port if port.end_port is not None else port.port))


def port_matches(pod: Pod | None, ports: tuple[PolicyPort, ...] | None) -> list[str]:
    """Protocol/port matches for a rule's ports, resolved on destination ``pod`` (None: not a Pod)."""
    if ports is None:
        return [""]
    out = []
    for port in ports:
        if isinstance(port.port, str) and pod is None:
            continue  # a named port never matches a destination that is not a Pod
        numbers = resolve_port(pod, port) if pod is not None else resolve_port_number(port)
        if numbers is not None:
            out += l4_match(IntervalSet.single(port.protocol), numbers)
    return out


__all__ = ["PortLines", "family_matches", "intervals", "join", "l4_match", "nft_set", "paired_matches",
           "pod_addresses", "policy_pods", "port_matches", "resolve_port", "resolve_port_number"]
