"""A declarative description of a lab: namespaces, links, addresses, firewalls, listeners.

A plan is pure data. It names namespaces by their *logical* names (``node-1``, ``pod-a``); the kernel layer
(`netmodel.emulate.kernel`) adds a per-run prefix when it builds them, so two runs never collide and a
killed run can be found again. Interface names live inside their namespace, so they need no prefix; they
only have to fit the kernel's 15-character limit.

Addresses are written as interfaces (``10.0.0.1/24``, ``fd00::1/64``); both IP families may be mixed.

>>> plan = LabPlan(
...     namespaces=(Namespace("a"), Namespace("b")),
...     links=(VethLink("a", "eth0", ("10.0.0.1/24",), "b", "eth0", ("10.0.0.2/24",)),),
...     listeners=(Listener("b", "tcp", "10.0.0.2", 80),),
... )
>>> [ns.name for ns in plan.namespaces]
['a', 'b']
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from netmodel.emulate.errors import PlanError
from netmodel.sets.ports import SCTP, TCP, UDP

Proto = Literal["tcp", "udp", "sctp"]
TunnelKind = Literal["vxlan", "ipip", "geneve"]
# The lab's name of each IP protocol number it can probe.
PROTO_NAMES: dict[int, Proto] = {TCP: "tcp", UDP: "udp", SCTP: "sctp"}

PROTOS: tuple[str, ...] = ("tcp", "udp", "sctp")
TUNNEL_KINDS: tuple[str, ...] = ("vxlan", "ipip", "geneve")
# IANA ports; Linux's own VXLAN default (8472) is what Flannel uses, so callers override per CNI.
DEFAULT_TUNNEL_PORTS: dict[str, int] = {"vxlan": 4789, "geneve": 6081}

IFNAME_MAX = 15  # IFNAMSIZ is 16 including the terminating NUL
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class Namespace:
    """A network namespace, by logical name (the kernel name gets a per-run prefix)."""

    name: str


@dataclass(frozen=True, slots=True)
class VethLink:
    """A veth pair: ``if_a`` in ``ns_a`` and ``if_b`` in ``ns_b``, each with its addresses."""

    ns_a: str
    if_a: str
    addrs_a: tuple[str, ...]
    ns_b: str
    if_b: str
    addrs_b: tuple[str, ...]
    mtu: int | None = None
    mac_a: str | None = None  # a fixed link-layer address for ``if_a`` (static neighbours point at it)


@dataclass(frozen=True, slots=True)
class Bridge:
    """A Linux bridge in ``ns`` enslaving ``ports`` (interfaces of that namespace): an L2 segment."""

    ns: str
    name: str
    ports: tuple[str, ...] = ()
    addrs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    """A route in ``ns``: ``dst`` is a CIDR or ``default``; at least one of ``via``/``dev`` is given.

    ``default`` means ``0.0.0.0/0``, or ``::/0`` when ``via`` is an IPv6 address.
    ``onlink`` lets ``via`` sit outside the device's subnets (the Flannel VXLAN idiom). ``src`` pins the
    source address the namespace's own packets take on this route (a node speaks with its node IP, not
    with the link-local gateway address its Pod veths carry).
    """

    ns: str
    dst: str
    via: str | None = None
    dev: str | None = None
    onlink: bool = False
    src: str | None = None


@dataclass(frozen=True, slots=True)
class Tunnel:
    """A point-to-point encapsulating device ``name`` in ``ns`` between underlay ``local`` and ``remote``.

    ``vni`` is required for vxlan/geneve; ``port`` defaults to `DEFAULT_TUNNEL_PORTS`; ``dev`` pins the
    underlay interface. ipip carries IPv4 over an IPv4 underlay only.
    """

    ns: str
    name: str
    kind: TunnelKind
    local: str
    remote: str
    vni: int | None = None
    port: int | None = None
    addrs: tuple[str, ...] = ()
    dev: str | None = None
    mtu: int | None = None
    mac: str | None = None  # the device's own link-layer address (vxlan/geneve), for static neighbours

    @property
    def udp_port(self) -> int | None:
        """The outer UDP destination port, or None for ipip (IP protocol 4, no ports)."""
        if self.kind == "ipip":
            return None
        return self.port if self.port is not None else DEFAULT_TUNNEL_PORTS[self.kind]


@dataclass(frozen=True, slots=True)
class Neighbor:
    """A permanent neighbour entry in ``ns``: ``ip`` is at ``mac`` on ``dev``.

    Overlays program these instead of resolving over the tunnel (Flannel writes its VTEP neighbours), so
    no ARP rides the tunnel where the real CNI sends none.
    """

    ns: str
    ip: str
    mac: str
    dev: str


@dataclass(frozen=True, slots=True)
class Sysctl:
    """A sysctl inside ``ns``, e.g. ``Sysctl("router", "net.ipv4.ip_forward", "1")``.

    Applied after interfaces exist, so per-interface keys (``net.ipv4.conf.eth0.rp_filter``) work.
    """

    ns: str
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class NftRuleset:
    """A complete ``nft -f`` script loaded into ``ns`` after addresses and routes are in place."""

    ns: str
    text: str


# Netfilter's own loaders, in the order a namespace runs them (netmodel/emulate/native.py): ipsets before the
# iptables rules that match them, both before the nft scripts whose base chains jump into their chains.
NATIVE_TOOLS: tuple[str, ...] = ("ipset", "iptables", "ip6tables", "nft-json")


@dataclass(frozen=True, slots=True)
class NativeRules:
    """Rules of an imported firewall file loaded into ``ns`` by netfilter's own tool (``ipset restore``,
    ``iptables-restore``, ``ip6tables-restore``, ``nft -j -f``), before the ``nft -f`` scripts."""

    ns: str
    tool: str
    text: str


@dataclass(frozen=True, slots=True)
class Listener:
    """A socket listening in ``ns``: TCP accepts and closes, UDP echoes, SCTP accepts and closes.

    ``ip`` may be a wildcard (``0.0.0.0``, ``::``); a specific address makes UDP replies come from it.
    """

    ns: str
    proto: Proto
    ip: str
    port: int


@dataclass(frozen=True, slots=True)
class Probe:
    """One connection attempt from ``ns`` to ``dst_ip:dst_port``, optionally bound to ``src_ip``.

    ``src_port`` pins the source port (0: the kernel picks one); a lab can steer a probe to one
    Service endpoint by its source port.
    """

    ns: str
    proto: Proto
    dst_ip: str
    dst_port: int
    src_ip: str | None = None
    src_port: int = 0


@dataclass(frozen=True, slots=True)
class LabPlan:
    """Everything a lab contains. Validated on construction; every problem is reported at once."""

    namespaces: tuple[Namespace, ...]
    links: tuple[VethLink, ...] = ()
    bridges: tuple[Bridge, ...] = ()
    tunnels: tuple[Tunnel, ...] = ()
    routes: tuple[Route, ...] = ()
    neighbors: tuple[Neighbor, ...] = ()
    sysctls: tuple[Sysctl, ...] = ()
    rulesets: tuple[NftRuleset, ...] = ()
    listeners: tuple[Listener, ...] = ()
    natives: tuple[NativeRules, ...] = ()
    # Prefixes no interface or route covers that the lab still answers for through NAT (Service
    # ClusterIPs): legal probe targets.
    nat_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = list(_plan_problems(self))
        if problems:
            raise PlanError([f"lab plan: {p}" for p in problems])

    def addresses(
        self,
    ) -> Iterator[tuple[str, str, ipaddress.IPv4Interface | ipaddress.IPv6Interface]]:
        """Yield ``(namespace, interface, address)`` for every address the plan assigns."""
        for link in self.links:
            for a in link.addrs_a:
                yield link.ns_a, link.if_a, ipaddress.ip_interface(a)
            for b in link.addrs_b:
                yield link.ns_b, link.if_b, ipaddress.ip_interface(b)
        for bridge in self.bridges:
            for addr in bridge.addrs:
                yield bridge.ns, bridge.name, ipaddress.ip_interface(addr)
        for tunnel in self.tunnels:
            for addr in tunnel.addrs:
                yield tunnel.ns, tunnel.name, ipaddress.ip_interface(addr)

    def lab_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """Every subnet the lab's addresses and (non-default) routes cover: the only legal probe targets."""
        nets = {iface.network for _, _, iface in self.addresses()}
        for route in self.routes:
            if route.dst != "default":
                net = ipaddress.ip_network(route.dst, strict=False)
                if net.prefixlen > 0:
                    nets.add(net)
        nets.update(ipaddress.ip_network(n) for n in self.nat_networks)
        return tuple(sorted(nets, key=lambda n: (n.version, n)))

    def interfaces(self, ns: str) -> set[str]:
        """Names of the interfaces the plan creates in ``ns`` (loopback ``lo`` always exists)."""
        names = {"lo"}
        for link in self.links:
            if link.ns_a == ns:
                names.add(link.if_a)
            if link.ns_b == ns:
                names.add(link.if_b)
        names.update(b.name for b in self.bridges if b.ns == ns)
        names.update(t.name for t in self.tunnels if t.ns == ns)
        return names


def _plan_problems(plan: LabPlan) -> Iterator[str]:
    """Every inconsistency in ``plan``, as one message each (so a user fixes them in one pass)."""
    known: set[str] = set()
    for ns in plan.namespaces:
        if not _NAME_RE.match(ns.name) or len(ns.name) > 40:
            yield f"namespace name {ns.name!r} must be 1-40 of [A-Za-z0-9_.-], not starting with - or ."
        if ns.name in known:
            yield f"namespace {ns.name!r} is declared twice"
        known.add(ns.name)

    def need_ns(ns: str, what: str) -> Iterator[str]:
        if ns not in known:
            yield f"{what} refers to unknown namespace {ns!r}"

    created: set[tuple[str, str]] = set()

    def new_iface(ns: str, name: str, what: str) -> Iterator[str]:
        if len(name) > IFNAME_MAX or not _NAME_RE.match(name):
            yield f"{what}: interface name {name!r} must be 1-{IFNAME_MAX} of [A-Za-z0-9_.-]"
        if name == "lo" or (ns, name) in created:
            yield f"{what}: interface {name!r} already exists in namespace {ns!r}"
        created.add((ns, name))

    for link in plan.links:
        what = f"veth {link.ns_a}/{link.if_a} <-> {link.ns_b}/{link.if_b}"
        yield from need_ns(link.ns_a, what)
        yield from need_ns(link.ns_b, what)
        yield from new_iface(link.ns_a, link.if_a, what)
        yield from new_iface(link.ns_b, link.if_b, what)
        yield from _addr_problems(link.addrs_a + link.addrs_b, what)
    for bridge in plan.bridges:
        what = f"bridge {bridge.ns}/{bridge.name}"
        yield from need_ns(bridge.ns, what)
        yield from new_iface(bridge.ns, bridge.name, what)
        yield from _addr_problems(bridge.addrs, what)
    for tunnel in plan.tunnels:
        yield from _tunnel_problems(tunnel, known, created)
    for bridge in plan.bridges:
        for port in bridge.ports:
            if (bridge.ns, port) not in created or port == bridge.name:
                yield f"bridge {bridge.ns}/{bridge.name}: port {port!r} is not an interface of the plan"
    for route in plan.routes:
        yield from _route_problems(route, known, created)
    for neighbor in plan.neighbors:
        what = f"neighbour {neighbor.ns} {neighbor.ip}"
        yield from need_ns(neighbor.ns, what)
        if (neighbor.ns, neighbor.dev) not in created:
            yield f"{what}: dev {neighbor.dev!r} is not an interface of the plan"
        if not re.match(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$", neighbor.mac):
            yield f"{what}: {neighbor.mac!r} is not a MAC address"
        yield from _addr_problems((neighbor.ip + ("/128" if ":" in neighbor.ip else "/32"),), what)
    for sysctl in plan.sysctls:
        yield from need_ns(sysctl.ns, f"sysctl {sysctl.key}")
        if not re.match(r"^[A-Za-z0-9_.-]+$", sysctl.key) or ".." in sysctl.key:
            yield f"sysctl key {sysctl.key!r} is not a dotted sysctl name"
        if not sysctl.key.startswith("net."):
            # Only net.* is namespaced; anything else would change the host.
            yield f"sysctl {sysctl.key!r}: only net.* keys are per-namespace"
    for ruleset in plan.rulesets:
        yield from need_ns(ruleset.ns, "nft ruleset")
    for native in plan.natives:
        yield from need_ns(native.ns, f"{native.tool} rules")
        if native.tool not in NATIVE_TOOLS:
            yield f"rules for {native.tool!r}: the tool is one of {', '.join(NATIVE_TOOLS)}"
    for network in plan.nat_networks:
        try:
            ipaddress.ip_network(network, strict=True)
        except ValueError as exc:
            yield f"NAT network: {exc}"
    for listener in plan.listeners:
        what = f"listener {listener.ns} {listener.proto}/{listener.ip}:{listener.port}"
        yield from need_ns(listener.ns, what)
        yield from _endpoint_problems(listener.proto, listener.ip, listener.port, what)
    seen = set()
    for listener in plan.listeners:
        key = (listener.ns, listener.proto, listener.ip, listener.port)
        if key in seen:
            yield f"listener {listener.ns} {listener.proto}/{listener.ip}:{listener.port} is declared twice"
        seen.add(key)


def _tunnel_problems(
    tunnel: Tunnel, known: set[str], created: set[tuple[str, str]]
) -> Iterator[str]:
    what = f"{tunnel.kind} tunnel {tunnel.ns}/{tunnel.name}"
    if tunnel.ns not in known:
        yield f"{what} refers to unknown namespace {tunnel.ns!r}"
    if len(tunnel.name) > IFNAME_MAX or not _NAME_RE.match(tunnel.name):
        yield f"{what}: interface name must be 1-{IFNAME_MAX} of [A-Za-z0-9_.-]"
    if (tunnel.ns, tunnel.name) in created:
        yield f"{what}: interface {tunnel.name!r} already exists"
    created.add((tunnel.ns, tunnel.name))
    if tunnel.kind not in TUNNEL_KINDS:
        yield f"{what}: kind must be one of {', '.join(TUNNEL_KINDS)}"
        return
    try:
        local, remote = ipaddress.ip_address(tunnel.local), ipaddress.ip_address(tunnel.remote)
    except ValueError as exc:
        yield f"{what}: {exc}"
        return
    if local.version != remote.version:
        yield f"{what}: local and remote must be of one IP family"
    if tunnel.kind == "ipip" and local.version == 6:
        yield f"{what}: ipip needs an IPv4 underlay"
    if tunnel.kind != "ipip" and (tunnel.vni is None or not 0 <= tunnel.vni < 2**24):
        yield f"{what}: vni must be given, 0..16777215"
    if tunnel.port is not None and not 1 <= tunnel.port <= 65535:
        yield f"{what}: port must be 1..65535"
    if tunnel.dev is not None and (tunnel.ns, tunnel.dev) not in created:
        yield f"{what}: underlay dev {tunnel.dev!r} is not an interface of the plan"
    yield from _addr_problems(tunnel.addrs, what)


def _route_problems(route: Route, known: set[str], created: set[tuple[str, str]]) -> Iterator[str]:
    what = f"route {route.ns} {route.dst}"
    if route.ns not in known:
        yield f"{what} refers to unknown namespace {route.ns!r}"
    if route.via is None and route.dev is None:
        yield f"{what}: give via, dev or both"
    if route.dst != "default":
        try:
            ipaddress.ip_network(route.dst, strict=True)
        except ValueError as exc:
            yield f"{what}: {exc}"
    for address in (route.via, route.src):
        if address is not None:
            try:
                ipaddress.ip_address(address)
            except ValueError as exc:
                yield f"{what}: {exc}"
    if route.dev is not None and route.dev != "lo" and (route.ns, route.dev) not in created:
        yield f"{what}: dev {route.dev!r} is not an interface of the plan"


def _addr_problems(addrs: tuple[str, ...], what: str) -> Iterator[str]:
    if isinstance(addrs, str):
        yield f"{what}: addresses must be a tuple of strings, not one string"
        return
    for addr in addrs:
        if "/" not in addr:
            yield f"{what}: address {addr!r} needs a prefix length (10.0.0.1/24)"
            continue
        try:
            ipaddress.ip_interface(addr)
        except ValueError as exc:
            yield f"{what}: {exc}"


def _endpoint_problems(proto: str, ip: str, port: int, what: str) -> Iterator[str]:
    if proto not in PROTOS:
        yield f"{what}: protocol must be one of {', '.join(PROTOS)}"
    try:
        ipaddress.ip_address(ip)
    except ValueError as exc:
        yield f"{what}: {exc}"
    if not isinstance(port, int) or not 1 <= port <= 65535:
        yield f"{what}: port must be 1..65535"


def probe_problems(plan: LabPlan, probes: tuple[Probe, ...]) -> list[str]:
    """Why ``probes`` cannot run against ``plan``: unknown namespaces, or targets outside the lab.

    A target must lie in a subnet of the lab (an assigned address's network or a routed prefix), so a
    probe can never be aimed at a host or the internet, even by mistake.
    """
    known = {ns.name for ns in plan.namespaces}
    nets = plan.lab_networks()
    problems = []
    for probe in probes:
        what = f"probe {probe.ns} -> {probe.proto}/{probe.dst_ip}:{probe.dst_port}"
        if probe.ns not in known:
            problems.append(f"{what}: unknown namespace {probe.ns!r}")
        problems.extend(_endpoint_problems(probe.proto, probe.dst_ip, probe.dst_port, what))
        try:
            dst = ipaddress.ip_address(probe.dst_ip)
        except ValueError:
            continue
        if not any(dst.version == n.version and dst in n for n in nets):
            problems.append(f"{what}: {dst} is outside every subnet of the lab")
        if probe.src_ip is not None:
            try:
                src = ipaddress.ip_address(probe.src_ip)
            except ValueError as exc:
                problems.append(f"{what}: {exc}")
                continue
            if src.version != dst.version:
                problems.append(f"{what}: source and destination are of different IP families")
        if not isinstance(probe.src_port, int) or not 0 <= probe.src_port <= 65535:
            problems.append(f"{what}: source port must be 0..65535")
    return problems
