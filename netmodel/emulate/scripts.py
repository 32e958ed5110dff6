"""Turn a `LabPlan` into per-namespace ``ip -batch`` scripts, phase by phase. Pure, so testable without root.

Phases exist because a line may only refer to what an earlier phase made: a veth's far end appears in
its namespace only when the near end's namespace has run its creation phase, and a VXLAN device's
underlay ``dev`` or a bridge port must exist before it is used.

1. ``create``: veth pairs (created from ``ns_a`` straight into both namespaces, never the host's) and
   bridges.
2. ``configure``: tunnels, bridge ports, addresses, links up, then routes (a gateway must be on an up,
   addressed link).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable

from netmodel.emulate.plan import LabPlan, Tunnel

Script = dict[str, list[str]]  # logical namespace -> ip batch lines

VETH_INDEX_BASE = 1000


def create_phase(plan: LabPlan, kernel_name: Callable[[str], str]) -> Script:
    """Lines that create veth pairs and bridges, keyed by the namespace that runs them."""
    script: Script = defaultdict(list)
    for number, link in enumerate(plan.links):
        mtu = f" mtu {link.mtu}" if link.mtu else ""
        # Distinct ifindexes on the two ends. Interface indexes are per namespace, so both ends of a
        # pair between fresh namespaces would get the same one; the kernel then treats the carrier
        # change as non-urgent and delays it by up to a second, and IPv6 neighbour discovery loses
        # its first solicitation (a 1 s stall that turns short probes into false timeouts).
        index_a, index_b = VETH_INDEX_BASE + 2 * number, VETH_INDEX_BASE + 2 * number + 1
        mac = f" address {link.mac_a}" if link.mac_a else ""
        script[link.ns_a].append(
            f"link add name {link.if_a} index {index_a}{mtu}{mac} type veth"
            f" peer name {link.if_b} index {index_b}{mtu} netns {kernel_name(link.ns_b)}"
        )
    for bridge in plan.bridges:
        script[bridge.ns].append(f"link add name {bridge.name} type bridge")
    return dict(script)


def configure_phase(plan: LabPlan) -> Script:
    """Lines that add tunnels, enslave bridge ports, assign addresses, bring links up and add routes."""
    script: Script = defaultdict(list)
    for tunnel in plan.tunnels:
        script[tunnel.ns].append(tunnel_line(tunnel))
    for bridge in plan.bridges:
        for port in bridge.ports:
            script[bridge.ns].append(f"link set dev {port} master {bridge.name}")
    for ns, ifname, iface in plan.addresses():
        # No duplicate address detection: the lab is closed, and a tentative IPv6 address cannot be bound.
        nodad = " nodad" if iface.version == 6 else ""
        script[ns].append(f"addr add {iface.with_prefixlen} dev {ifname}{nodad}")
    for namespace in plan.namespaces:
        for ifname in sorted(plan.interfaces(namespace.name)):
            script[namespace.name].append(f"link set dev {ifname} up")
    for route in plan.routes:
        dst = route.dst
        if dst == "default":
            is_v6 = route.via is not None and ipaddress.ip_address(route.via).version == 6
            dst = "::/0" if is_v6 else "0.0.0.0/0"
        line = f"route add {dst}"
        if route.via is not None:
            line += f" via {route.via}"
        if route.dev is not None:
            line += f" dev {route.dev}"
        if route.onlink:
            line += " onlink"
        if route.src is not None:
            line += f" src {route.src}"
        script[route.ns].append(line)
    for neighbor in plan.neighbors:
        script[neighbor.ns].append(
            f"neigh replace {neighbor.ip} lladdr {neighbor.mac} dev {neighbor.dev} nud permanent")
    return dict(script)


def tunnel_line(tunnel: Tunnel) -> str:
    """The ``link add`` line for one tunnel device."""
    if tunnel.kind == "vxlan":
        line = (
            f"link add name {tunnel.name} type vxlan id {tunnel.vni} local {tunnel.local}"
            f" remote {tunnel.remote} dstport {tunnel.udp_port}"
        )
    elif tunnel.kind == "geneve":
        # geneve takes no local address: the kernel picks the source from the route to remote.
        line = f"link add name {tunnel.name} type geneve id {tunnel.vni} remote {tunnel.remote}"
        line += f" dstport {tunnel.udp_port}"
    else:
        line = f"link add name {tunnel.name} type ipip local {tunnel.local} remote {tunnel.remote}"
    if tunnel.dev is not None and tunnel.kind != "geneve":
        line += f" dev {tunnel.dev}"
    if tunnel.mtu is not None:
        line += f" mtu {tunnel.mtu}"
    if tunnel.mac is not None and tunnel.kind != "ipip":
        # Link options (address) go before `type`; after it, the vxlan/geneve parser reads them.
        line = line.replace(" type ", f" address {tunnel.mac} type ", 1)
    return line


def prepare_sysctls(plan: LabPlan) -> list[str]:
    """Sysctls every namespace needs before its interfaces exist (so they inherit the defaults).

    IPv6 duplicate address detection is switched off for link-local addresses too: a router sends a
    neighbour solicitation for a *forwarded* packet from its link-local address, and stays silent
    while that address is tentative (about a second after link-up), so forwarded IPv6 would stall.
    The lab is closed, so there is nothing to detect.
    """
    if any(iface.version == 6 for _, _, iface in plan.addresses()):
        return ["net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0"]
    return []


def sysctl_args(plan: LabPlan) -> dict[str, list[str]]:
    """``key=value`` arguments for ``sysctl -w``, per namespace, in plan order."""
    args: dict[str, list[str]] = defaultdict(list)
    for sysctl in plan.sysctls:
        args[sysctl.ns].append(f"{sysctl.key}={sysctl.value}")
    return dict(args)


def nft_scripts(plan: LabPlan) -> dict[str, str]:
    """One ``nft -f`` script per namespace; several rulesets for one namespace load in plan order."""
    scripts: dict[str, list[str]] = defaultdict(list)
    for ruleset in plan.rulesets:
        scripts[ruleset.ns].append(ruleset.text.rstrip("\n") + "\n")
    return {ns: "".join(parts) for ns, parts in scripts.items()}
