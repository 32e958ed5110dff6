"""Carrying a packet between nodes: the node firewalls it meets, and the tunnel its reply comes back in.

With an encapsulating CNI every packet *to a Pod address on another node* is wrapped in a fresh outer packet
(node address → node address, the tunnel's protocol and port). That holds for replies too: when a Pod on node
A talks to anything on node B with its own Pod address as the source, B sends the replies to that Pod address,
so they leave B as a new outer packet B → A on the tunnel's port. It is not the conntrack reply of the
request's outer packet (a VXLAN or Geneve sender picks a hashed source port and sends to the well-known port,
so the reply's outer 5-tuple is not the request's reversed), so B's egress and A's ingress firewalls must allow
the tunnel from B to A on their own: a connection needs the tunnel open in both directions between the nodes.

Two kinds of tunnel are the exception, and only when the request itself rode the tunnel: for a tunnel with no
ports (IP-in-IP, ESP) conntrack tracks the outer flow by addresses and protocol alone, and WireGuard sends from
its listening port to the same port, so in both cases the reply's outer packet *is* the reversed request and a
stateful firewall lets it through as established (cloud security groups track such protocols the same way).
A stateless firewall must still allow it by its rules.

Once the source has been SNATed to a node address (and whenever the tunnel is not involved: native routing,
node addresses, outside clients), replies travel the node network unencapsulated, as conntrack replies of the
inner flow: stateful firewalls pass them, stateless ones judge them by their rules (:func:`plain_reply`,
:mod:`.replies`).
"""

from __future__ import annotations

from dataclasses import dataclass

from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.analyze.reach.replies import reply_step
from netmodel.analyze.reach.trace import Decision, Disposition, Step, StepRecord
from netmodel.compile.firewalls import ruling, ruling_span
from netmodel.model.objects import Node, Pod
from netmodel.sets import IPAddress, protocol_label
from netmodel.sets.ports import PORTED_PROTOCOLS

Events = tuple[tuple[str, StepRecord], ...]


@dataclass(frozen=True, slots=True)
class Sender:
    """The packet as it travels: its current source address and where it is."""

    address: IPAddress
    node: Node | None  # the node the packet is on; None while outside the cluster
    origin: Pod | None  # the Pod that sent it (hostNetwork Pods included)
    egress_pending: bool  # the origin Pod's egress policy is still to be checked
    snatted: bool = False  # the source address is no longer the origin's
    location: str = ""
    dnatted: bool = False  # a Service or hostPort rewrote the destination (so reaching itself is a hairpin)

    @property
    def pod_sourced(self) -> bool:
        """The source is still a (non-hostNetwork) Pod's own address, so replies are routed to a Pod."""
        return self.origin is not None and not self.origin.host_network and not self.snatted


def node_ip(node: Node, version: int) -> IPAddress | None:
    """The node's address of IP family ``version`` (an InternalIP first), or None."""
    for ip in node.internal_ips + node.ips:
        if ip.version == version:
            return ip
    return None


def reply_is_tracked(tunnel: tuple[int, int, str]) -> bool:
    """Whether a tunnel's reply outer packet reverses the request's (see the module docstring)."""
    protocol, _, name = tunnel
    return protocol not in PORTED_PROTOCOLS or "WireGuard" in name


def firewall_step(compiled: CompiledCluster, node: Node, direction: str, peer: IPAddress, protocol: int, port: int,
                  what: str, established: bool = False, local: IPAddress | None = None) -> StepRecord:
    """The node's firewalls on one packet; ``established``: it is a conntrack reply (stateful ones pass it);
    ``local``: the packet's node-side address (destination on ingress, source on egress; default the node's)."""
    step = Step.FIREWALL_EGRESS if direction == "egress" else Step.FIREWALL_INGRESS
    verdict = compiled.firewalls.decide(node, direction, peer, protocol, port, local)
    if not verdict.decisions:
        return StepRecord(step, f"{what}: no Firewall selects node {node.name}")
    decisions = tuple(
        Decision("Firewall", d.firewall.name, f"{direction}: established (stateful), reply of the request's "
                 "outer flow", True, d.firewall.source) if established and d.firewall.stateful else
        Decision("Firewall", d.firewall.name, ruling(direction, d.rule, d.action), d.allowed,
                 ruling_span(d.firewall, direction, d.rule))
        for d in verdict.decisions)
    allowed = all(d.allowed for d in decisions)
    return StepRecord(step, f"{what}: {'allowed' if allowed else 'denied'}", allowed,
                      None if allowed else Disposition.DENIED_BY_FIREWALL, decisions)


def cross(compiled: CompiledCluster, events: Events, sender: Sender, to_node: Node, destination: IPAddress, to_pod: bool,
          protocol: int, port: int) -> tuple[Events, bool]:
    """Carry the packet from the sender's node (or from outside) to ``to_node``. Returns (events, routed).

    Adds the reply tunnel's firewalls when the replies will come back encapsulated.
    """
    here = sender.node
    target = f"node:{to_node.name}"
    what = f"{protocol_label(protocol)} {port} {sender.address} → {destination}"
    if here is not None and here.name == to_node.name:
        return events, True
    tunnel = compiled.tunnel
    cluster = compiled.topology.cluster
    if here is None:
        if to_pod and tunnel is not None:
            return events + ((target, StepRecord(
                Step.ROUTE, f"Pod addresses are not routed outside the cluster ({tunnel[2]} overlay)", False,
                Disposition.NO_ROUTE, (Decision("Cluster", cluster.name, f"CNI mode {cluster.cni.mode}", False,
                                                cluster.cni.source),))),), False
        events = events + ((target, firewall_step(compiled, to_node, "ingress", sender.address, protocol, port,
                                                  what, local=destination)),)
        return events + plain_reply(compiled, None, to_node, sender.address, destination, protocol), True
    source_node = f"node:{here.name}"
    here_ip = node_ip(here, destination.version) or sender.address
    there_ip = node_ip(to_node, destination.version) or destination
    if to_pod and tunnel is not None:
        t_proto, t_port, t_name = tunnel
        outer = f"{t_name} {protocol_label(t_proto)}{' ' + str(t_port) if t_port else ''} {here_ip} → {there_ip}"
        events = events + (
            (source_node, StepRecord(Step.ROUTE, f"to {destination} on node {to_node.name}")),
            (source_node, StepRecord(Step.ENCAP, f"outer packet {outer}")),
            (source_node, firewall_step(compiled, here, "egress", there_ip, t_proto, t_port, outer, local=here_ip)),
            (target, firewall_step(compiled, to_node, "ingress", here_ip, t_proto, t_port, outer, local=there_ip)))
    else:
        mode = "native routing" if to_pod else "the node network"
        events = events + (
            (source_node, StepRecord(Step.ROUTE, f"to {destination} on node {to_node.name} via {mode}")),
            (source_node, firewall_step(compiled, here, "egress", destination, protocol, port, what,
                                        local=sender.address)),
            (target, firewall_step(compiled, to_node, "ingress", sender.address, protocol, port, what,
                                   local=destination)))
    if tunnel is not None and sender.pod_sourced:
        events = events + reply_tunnel(compiled, tunnel, sender.address, here, to_node, here_ip, there_ip,
                                       request_encapsulated=to_pod)
    else:
        events = events + plain_reply(compiled, here, to_node, sender.address, destination, protocol)
    return events, True


def plain_reply(compiled: CompiledCluster, here: Node | None, there: Node, source: IPAddress, destination: IPAddress,
                protocol: int) -> Events:
    """Stateless firewalls on the reversed packet ``destination`` → ``source``: it leaves ``there`` and, when
    the request came from a node (``here``), enters it (:mod:`.replies`)."""
    out: list[tuple[str, StepRecord]] = []
    leaving = reply_step(compiled, there, "egress", source, destination, source, protocol)
    if leaving is not None:
        out.append((f"node:{there.name}", leaving))
    if here is not None:
        entering = reply_step(compiled, here, "ingress", destination, destination, source, protocol)
        if entering is not None:
            out.append((f"node:{here.name}", entering))
    return tuple(out)


def reply_tunnel(compiled: CompiledCluster, tunnel: tuple[int, int, str], pod_address: IPAddress, here: Node,
                 there: Node, here_ip: IPAddress, there_ip: IPAddress, request_encapsulated: bool) -> Events:
    """The replies to a Pod address on ``here``, sent from ``there``: a new outer packet there → here."""
    t_proto, t_port, t_name = tunnel
    tracked = request_encapsulated and reply_is_tracked(tunnel)
    outer = f"{t_name} {protocol_label(t_proto)}{' ' + str(t_port) if t_port else ''} {there_ip} → {here_ip}"
    why = "the reversed request outer packet (stateful firewalls pass it)" if tracked else \
        "a new outer flow, not a conntrack reply"
    return (
        (f"node:{there.name}", StepRecord(Step.ENCAP, f"replies to {pod_address} return encapsulated: outer packet "
                                          f"{outer}, {why}")),
        (f"node:{there.name}", firewall_step(compiled, there, "egress", here_ip, t_proto, t_port,
                                             f"reply {outer}", tracked, local=there_ip)),
        (f"node:{here.name}", firewall_step(compiled, here, "ingress", there_ip, t_proto, t_port,
                                            f"reply {outer}", tracked, local=here_ip)))


__all__ = ["Events", "Sender", "cross", "firewall_step", "node_ip", "plain_reply", "reply_is_tracked",
           "reply_tunnel"]
