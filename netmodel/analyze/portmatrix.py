"""The control-plane/worker port matrix: each node × port row × source class, and what its firewalls do.

Rows are the node-component table of docs/check-semantics.md ("Ports") with the Cluster's port overrides: on
control-plane nodes kube-apiserver, etcd (unless external), kubelet, kube-scheduler, kube-controller-manager and
the NodePort range; on workers kubelet and the NodePort range. Source classes: ``self``, ``control-plane`` (the
other control-plane nodes' InternalIPs), ``workers``, ``pods`` (every pod CIDR) and ``network:NAME`` (the
network's own addresses: its CIDRs minus more specific networks and the cluster, see :class:`AddressBook`).

How a cell is judged: a packet from a source inside the cluster leaves its sending node through that node's
egress firewalls, then meets the receiving node's ingress firewalls (who sends, and with which address, is
:mod:`netmodel.analyze.portmatrix_sources`); outside networks meet only the receiver's ingress. A node's own
traffic and its own Pods' traffic never cross its firewall, so those addresses are left out of every class, and
``self`` is always allowed.

* **required** cells — ``allowed`` is true only when *every* source address may reach *every* port of the row
  through both chains; otherwise ``blocked``, with an example and the rule (or default action) that denies it,
  on the receiver's ingress or on the sender's egress (:attr:`Cell.blocked_at`).
* other cells — ``allowed`` is true when *some* source address reaches *some* port through both chains; a cell
  whose source must not reach the port is then ``exposed``, with an example and the rules that admitted it.

Cost: one ingress evaluation per (receiving firewall class, role, row, source class) and one egress evaluation
per sending firewall class of it; per node only set intersections, and a judged example is reused by the next
node of the class while it still holds there. Where the node plays no part in the judgement (a required cell
nothing blocks, a cell nothing admits; or, with no egress rule about the ports, a node whose own addresses are
apart from the source's and its senders') it is judged once for all such nodes.

Which cells are required or forbidden (:func:`expectation`): apiserver from all nodes, Pods and networks using
``api`` (other networks: NM-PORT-005); etcd from the other control-plane nodes only (NM-PORT-002 for anyone
else); kubelet from the control plane (outside networks: NM-PORT-003; workers and Pods are not judged);
scheduler and controller-manager from the node itself only (NM-PORT-004); NodePorts, on the nodes load balancers
send to (:attr:`Node.serves_load_balancers`: not on kubeadm's control-plane nodes), from all nodes, Pods and
networks using ``nodeports`` (other networks, on every node: NM-PORT-006, not counting the ingress controller's
own NodePorts, which are the ingress entry point judged by NM-EXT-008, nor, from a load balancer's own network,
the healthCheckNodePorts it must probe, judged by NM-EXT-004).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from itertools import chain
from typing import TYPE_CHECKING

from netmodel.analyze.checks.common import decision_text, network_example
from netmodel.analyze.portmatrix_sources import (
    SELF,
    Sender,
    SourceClass,
    pods_masqueraded_to,
    sent_from,
    source_classes,
)
from netmodel.compile.firewalls import Decision
from netmodel.model.objects import Node
from netmodel.sets import (
    AddressSet,
    Box,
    IntervalSet,
    IPAddress,
    Space,
    format_ports,
    protocol_label,
)
from netmodel.sets.ports import TCP

if TYPE_CHECKING:
    from netmodel.compile.context import CheckContext, NodeClass


class PortKind(StrEnum):
    """Which component a port row is for."""

    APISERVER = "apiserver"
    ETCD = "etcd"
    KUBELET = "kubelet"
    SCHEDULER = "scheduler"
    CONTROLLER_MANAGER = "controller-manager"
    NODEPORTS = "nodeports"


class CellStatus(StrEnum):
    """What a cell says: ``ok``, ``blocked`` (required but closed) or ``exposed`` (open to a source that must
    not reach it)."""

    OK = "ok"
    BLOCKED = "blocked"
    EXPOSED = "exposed"


@dataclass(frozen=True, slots=True)
class PortRow:
    """One row of the matrix: a component's port(s) on a node."""

    key: PortKind
    purpose: str
    protocol: int
    ports: IntervalSet
    # The report's words for protocol and ports, made once per row rather than for each of its 5,000 nodes' cells.
    protocol_text: str = field(init=False, compare=False, repr=False)
    ports_text: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "protocol_text", protocol_label(self.protocol))
        object.__setattr__(self, "ports_text", format_ports(self.ports))

    def describe(self) -> str:
        """The row's purpose with its protocol and ports."""
        return f"{self.purpose} ({self.protocol_text} {self.ports_text})"


@dataclass(frozen=True, slots=True)
class Cell:
    """One node × port row × source class: whether the source must, may or must not reach the port, and
    what it gets."""

    node: Node
    row: PortRow
    source: SourceClass
    required: bool
    forbidden: str  # the exposure finding ID when this source must not reach the port, else ""
    allowed: bool
    status: CellStatus
    example: tuple[IPAddress, int] | None  # a blocked/exposing (source address, port)
    decisions: tuple[Decision, ...]  # the receiving node's ingress firewalls on the example packet
    egress: tuple[Decision, ...] = ()  # the sending node's egress firewalls on it, when they decided or passed it
    sender: Node | None = None  # the node the example packet left, when it came from inside the cluster
    admitted: AddressSet | None = None  # an exposed outside network: the part of its CIDRs the firewalls admit

    @property
    def blocked_at(self) -> str:
        """``egress`` when the sender's firewalls block the example, ``ingress`` when the receiver's do."""
        if self.status != CellStatus.BLOCKED:
            return ""
        return "egress" if self.egress and not self.decisions else "ingress"

    def to_json(self) -> dict[str, object]:
        """The cell as a port-matrix entry of check.schema.json."""
        out: dict[str, object] = {
            "node": self.node.name, "role": self.node.role, "ports": self.row.ports_text,
            "protocol": self.row.protocol_text, "purpose": self.row.purpose,
            "source": self.source.name, "required": self.required, "allowed": self.allowed, "status": self.status,
        }
        if self.example is not None:
            out["example"] = f"{self.example[0]!s} -> {self.example[1]}"  # !s: ipaddress's __format__ is Python code
        if self.sender is not None and self.status != CellStatus.OK:
            out["sender"] = self.sender.name
        if self.status != CellStatus.OK and (self.decisions or self.egress):
            out["decidedBy"] = [_decision_text(d, "ingress") for d in self.decisions] + [
                _decision_text(d, "egress") for d in self.egress]
        return out


def _decision_text(decision: Decision, direction: str) -> str:
    return f"{decision_text(decision, direction)} ({decision.action})"


def rows_for(ctx: CheckContext, node: Node) -> list[PortRow]:
    """The port rows judged on ``node``: kubelet and NodePorts everywhere, the control plane's on control-
    plane nodes."""
    cluster = ctx.topology.cluster
    ports = cluster.control_plane.ports
    kubelet = PortRow(PortKind.KUBELET, "kubelet API", TCP, IntervalSet.single(ports.kubelet))
    node_ports = PortRow(PortKind.NODEPORTS, "NodePort Services", TCP, cluster.node_port_range)
    if not node.is_control_plane:
        return [kubelet, node_ports]
    rows = [PortRow(PortKind.APISERVER, "kube-apiserver", TCP, IntervalSet.single(ports.apiserver))]
    if not cluster.control_plane.etcd_external:
        rows.append(PortRow(PortKind.ETCD, "etcd", TCP, ports.etcd))
    rows += [kubelet,
             PortRow(PortKind.SCHEDULER, "kube-scheduler", TCP, IntervalSet.single(ports.scheduler)),
             PortRow(PortKind.CONTROLLER_MANAGER, "kube-controller-manager", TCP,
                     IntervalSet.single(ports.controller_manager)),
             node_ports]
    return rows


def expectation(row: PortRow, source: SourceClass, node: Node) -> tuple[bool, str]:
    """``(required, exposure finding ID or "")`` for one cell."""
    if source.name == SELF:
        return True, ""
    network = source.network
    internal = network is None
    if row.key == PortKind.APISERVER:
        if network is None or "api" in network.uses:
            return True, ""
        return False, "NM-PORT-005"
    if row.key == PortKind.ETCD:
        return (True, "") if source.name == "control-plane" else (False, "NM-PORT-002")
    if row.key == PortKind.KUBELET:
        if source.name == "control-plane":
            return True, ""
        return (False, "") if internal else (False, "NM-PORT-003")
    if row.key in (PortKind.SCHEDULER, PortKind.CONTROLLER_MANAGER):
        return False, "NM-PORT-004"
    # nodeports: required where load balancers send (Node.serves_load_balancers), open on every node
    if network is None or "nodeports" in network.uses:
        return node.serves_load_balancers, ""
    return False, "NM-PORT-006"


def judged_ports(ctx: CheckContext, row: PortRow, forbidden: str, source: SourceClass,
                 probed: dict[str, IntervalSet]) -> IntervalSet:
    """The ports an exposure cell looks at: the NodePort range minus the ingress controller's NodePorts (judged
    by NM-EXT-008) and a Gateway's entry NodePorts (the gateway's listeners, netmodel/compile/gateway.py) and, from a load balancer's own network, minus the healthCheckNodePorts it probes (``probed``,
    from :func:`probed_health_check_ports`; judged by NM-EXT-004)."""
    if forbidden != "NM-PORT-006":
        return row.ports
    ports = row.ports - IntervalSet((e.node_port, e.node_port) for e in ctx.ingress_entries if e.via == "service")
    ports = ports - IntervalSet((p, p) for p in ctx.gateways.entry_node_ports)
    return ports - probed.get(source.name, IntervalSet())


def probed_health_check_ports(ctx: CheckContext) -> dict[str, IntervalSet]:
    """``network:NAME`` -> the healthCheckNodePorts of the Local LoadBalancers whose load balancer is that
    network (the same networks NM-EXT-004 requires to reach them)."""
    from netmodel.analyze.checks.external import load_balancer_networks

    out: dict[str, list[tuple[int, int]]] = {}
    for svc in ctx.topology.services:
        port = svc.health_check_node_port
        if svc.type == "LoadBalancer" and svc.external_traffic_policy == "Local" and port:
            for network in load_balancer_networks(ctx, svc):
                out.setdefault(f"network:{network.name}", []).append((port, port))
    return {name: IntervalSet(ports) for name, ports in out.items()}


@dataclass(frozen=True, slots=True)
class IngressView:
    """What the receiving nodes' ingress firewalls do with one (source class, row) query."""

    allowed: Space
    blocked: Space
    allowed_peers: AddressSet
    blocked_peers: AddressSet


@dataclass(frozen=True, slots=True)
class EgressLeg:
    """What one sender class's egress firewalls do with the row's ports towards the receiving nodes."""

    sender: Sender
    allowed: Space  # peers: destination (receiver) addresses
    blocked: Space
    blocked_peers: AddressSet
    whole: bool  # everything is allowed (the common case: no egress rule about these ports)


@dataclass(frozen=True, slots=True)
class Judgement:
    """One node's cell before its example is found: allowed, its status, and who decides it."""

    allowed: bool
    status: CellStatus
    egress_leg: int | None  # index of the sender egress leg deciding the example; None: the receiver's ingress


def _family(addresses: AddressSet, like: AddressSet) -> AddressSet:
    """``addresses`` restricted to the IP families ``like`` has (an IPv4 sender only reaches IPv4 addresses)."""
    return AddressSet(addresses.v4 if like.v4 else IntervalSet(), addresses.v6 if like.v6 else IntervalSet())


def _ports_towards(space: Space, peers: AddressSet) -> IntervalSet:
    ports = IntervalSet()
    for box in space:
        if not box.peers.isdisjoint(peers):
            ports = ports | box.ports
    return ports


def _egress_legs(ctx: CheckContext, source: SourceClass, destinations: AddressSet, protocol: int,
                 ports: IntervalSet) -> tuple[EgressLeg, ...]:
    query = Box(destinations, IntervalSet.single(protocol), ports)
    legs = []
    for sender in source.senders:
        if sender.node_class.filtered:
            # The senders' egress sees their source addresses (node or Pod) as the node-side end: what some of
            # them may send can expose a port, what one of them may not send blocks a required cell.
            node = sender.node_class.representative
            every = ctx.firewalls.allowed_space(node, "egress", query, sender.addresses)
            allowed = ctx.firewalls.allowed_space(node, "egress", query, sender.addresses, some=True) \
                if ctx.firewalls.restricted(node, "egress") else every
        else:
            allowed = every = Space.of(query)
        blocked = Space.of(query) - every
        legs.append(EgressLeg(sender, allowed, blocked, blocked.peers(), blocked.is_empty()))
    return tuple(legs)


@dataclass(frozen=True, slots=True)
class Admitted:
    """The source addresses the receiver's ingress admits (the allowed peers within the source class), and their
    shares that each sender leg sends and that no netmodel firewall sends (``unsent``), found once per row."""

    addresses: AddressSet
    by_leg: tuple[AddressSet, ...]
    unsent: AddressSet


def _judge(required: bool, forbidden: str, local: AddressSet, destination: AddressSet, ingress: IngressView,
           legs: tuple[EgressLeg, ...], blocked_from: AddressSet, admitted: Admitted) -> Judgement:
    """One node's cell: the receiver's ingress and, for sources inside the cluster, the senders' egress.

    ``blocked_from`` and ``admitted`` are the ingress's blocked and allowed peers within the source class, found
    once per row: the node's own share of each is that minus ``local`` (the source's addresses that do cross
    this node's firewall), and whether that share is empty is whether it lies within ``local``: a subset test,
    without building the source class minus ``local`` for each of 5,000 nodes.
    """
    if required:
        if not blocked_from.issubset(local):
            return Judgement(False, CellStatus.BLOCKED, None)
        for i, leg in enumerate(legs):
            if leg.whole:
                continue
            senders = leg.sender.addresses - local
            if senders and not leg.blocked_peers.isdisjoint(_family(destination, senders)):
                return Judgement(False, CellStatus.BLOCKED, i)
        return Judgement(True, CellStatus.OK, None)
    if admitted.addresses.issubset(local):
        return Judgement(False, CellStatus.OK, None)  # nothing admitted crosses the node's firewall
    status = CellStatus.EXPOSED if forbidden else CellStatus.OK
    for i, leg in enumerate(legs):
        if admitted.by_leg[i].issubset(local):
            continue  # none of the leg's admitted senders crosses the node's firewall
        if leg.whole or _passes_both(ingress.allowed, admitted.by_leg[i] - local, leg.allowed, destination):
            return Judgement(True, status, i)
    if not admitted.unsent.issubset(local):
        return Judgement(True, status, None)  # an address no netmodel firewall sends from (outside, unplaced Pods)
    return Judgement(False, CellStatus.OK, None)


def _passes_both(ingress: Space, senders: AddressSet, egress: Space, destination: AddressSet) -> bool:
    """Some port the receiver admits from ``senders`` is also one the senders may send to ``destination``."""
    for family in (AddressSet(senders.v4), AddressSet(IntervalSet(), senders.v6)):
        if family and _ports_towards(ingress, family) & _ports_towards(egress, _family(destination, family)):
            return True
    return False


def class_cells(ctx: CheckContext, node_class: NodeClass,
                sources: dict[bool, list[SourceClass]]) -> list[tuple[list[Node], list[list[Cell]]]]:
    """Every cell of every node in ``node_class``: one firewall evaluation per (role, row, source), plus one
    egress evaluation per sender class for sources inside the cluster.

    Per group of nodes judged together, the group's nodes and its (row, source) cell lists in the order made;
    a list has one cell per node of the group, in its order, unless the source is all of some node's own
    addresses (that node has no such cell)."""
    out: list[tuple[list[Node], list[list[Cell]]]] = []
    probed = probed_health_check_ports(ctx)
    groups: dict[tuple[bool, bool, bool], list[Node]] = {}
    for n in node_class.nodes:
        groups.setdefault((n.is_control_plane, n.serves_load_balancers, pods_masqueraded_to(ctx, n)), []).append(n)
    for (_, _, masqueraded), nodes in groups.items():
        representative = nodes[0]
        destinations = AddressSet.of_networks(ip for n in nodes for ip in n.internal_ips or n.ips)
        receivers: dict[int, _Receivers] = {}  # by source
        cells: list[list[Cell]] = []
        out.append((nodes, cells))
        for row in rows_for(ctx, representative):
            for i, source in enumerate(sources[masqueraded]):
                required, forbidden = expectation(row, source, representative)
                if source.name == SELF:
                    first = Cell(nodes[0], row, source, True, "", True, CellStatus.OK, None, ())
                    cells.append([_moved(first, n) for n in nodes])
                    continue
                ports = judged_ports(ctx, row, forbidden, source, probed)
                if source.addresses.is_empty() or ports.is_empty():
                    continue
                if i not in receivers:
                    receivers[i] = _Receivers(ctx, nodes, source)
                if receivers[i].nodes:
                    cells.append(_row_cells(ctx, representative, receivers[i], row, source, required, forbidden,
                                            ports, destinations))
    return out


class _Receivers:
    """The nodes of a group some address of a source reaches across their firewall, each with its local
    addresses (a source all of whose addresses are the node's own has no cell there); the same for every row."""

    def __init__(self, ctx: CheckContext, nodes: list[Node], source: SourceClass) -> None:
        self.source = source
        self.nodes = [(n, local) for n in nodes
                      if not source.addresses.issubset(local := ctx.local_addresses(n))]
        self._apart: list[bool] | None = None

    def apart(self) -> list[bool]:
        """For each node, whether none of its local addresses is the source's or a sender's: :func:`_judge`
        looks at a node's local addresses only within those, so it judges every such node alike."""
        if self._apart is None:
            involved = AddressSet.union_all([self.source.addresses, *(s.addresses for s in self.source.senders)])
            self._apart = [local.isdisjoint(involved) for _, local in self.nodes]
        return self._apart


def _same_for_every_node(required: bool, legs: tuple[EgressLeg, ...], blocked_from: AddressSet,
                         admitted: AddressSet) -> Judgement | None:
    """The judgement of every node, when :func:`_judge` does not look at the node: a required cell no ingress
    rule blocks within the source and no sender's egress rule is about, or a cell no source address is admitted
    to. Either is ``ok`` and has no example, so each node's cell is the same but for the node."""
    if required and blocked_from.is_empty() and all(leg.whole for leg in legs):
        return Judgement(True, CellStatus.OK, None)
    if not required and admitted.is_empty():
        return Judgement(False, CellStatus.OK, None)
    return None


def _row_cells(ctx: CheckContext, representative: Node, receivers: _Receivers, row: PortRow, source: SourceClass,
               required: bool, forbidden: str, ports: IntervalSet, destinations: AddressSet) -> list[Cell]:
    query = Box(source.addresses, IntervalSet.single(row.protocol), ports)
    allowed = ctx.firewalls.allowed_space(representative, "ingress", query)
    blocked = Space.of(query) - allowed
    ingress = IngressView(allowed, blocked, allowed.peers(), blocked.peers())
    legs = _egress_legs(ctx, source, destinations, row.protocol, ports)
    blocked_from = ingress.blocked_peers & source.addresses
    allowed_from = ingress.allowed_peers & source.addresses
    same = _same_for_every_node(required, legs, blocked_from, allowed_from)
    if same is not None:
        first = Cell(receivers.nodes[0][0], row, source, required, forbidden, same.allowed, same.status, None, ())
        return [_moved(first, n) for n, _ in receivers.nodes]
    sent = AddressSet()
    for leg in legs:
        sent = sent | leg.sender.addresses
    unsent = source.addresses - sent
    admitted = Admitted(allowed_from, tuple(allowed_from & leg.sender.addresses for leg in legs),
                        allowed_from & unsent)
    # Without a sender egress rule about the ports the destination plays no part in the judgement either: the
    # nodes apart from the source then share one.
    apart = receivers.apart() if all(leg.whole for leg in legs) else [False] * len(receivers.nodes)
    apart_judgement: Judgement | None = None
    out: list[Cell] = []
    previous: tuple[Judgement, Cell] | None = None  # nodes of a class agree: reuse the last example when it holds
    for (n, local), alike in zip(receivers.nodes, apart):
        destination = ctx.underlay_addresses(n)
        if alike:
            if apart_judgement is None:
                apart_judgement = _judge(required, forbidden, AddressSet(), destination, ingress, legs,
                                         blocked_from, admitted)
            judgement = apart_judgement
            if previous is not None and previous[0] == judgement and judgement.egress_leg is None:
                # What _reuse finds: the example (an address of the source or a sender) is not this node's own.
                out.append(_moved(previous[1], n))
                continue
        else:
            judgement = _judge(required, forbidden, local, destination, ingress, legs, blocked_from, admitted)
        cell = None
        if previous is not None and (previous[0] is judgement or previous[0] == judgement):
            cell = _reuse(previous[1], n, local, destination, legs, judgement)
        if cell is None:
            cell = _cell(ctx, n, row, source, required, forbidden, source.addresses - local, local, destination,
                         ingress, legs, judgement, unsent)
            previous = (judgement, cell)
        out.append(cell)
    return out


def _reuse(previous: Cell, node: Node, local: AddressSet, destination: AddressSet, legs: tuple[EgressLeg, ...],
           judgement: Judgement) -> Cell | None:
    """The previous node's cell for ``node`` when its example still holds there."""
    if previous.example is None:
        return _moved(previous, node)
    address, port = previous.example
    if local.contains(address):
        return None  # the example is this node's own address: find another
    if judgement.egress_leg is not None:
        leg = legs[judgement.egress_leg]
        space = leg.blocked if judgement.status == CellStatus.BLOCKED else leg.allowed
        target = _family(destination, AddressSet.of_address(address))
        if not any(port in box.ports and not box.peers.isdisjoint(target) for box in space):
            return None
    return _moved(previous, node)


def _moved(cell: Cell, node: Node) -> Cell:
    """``cell`` for another node, its slots set directly: most of the matrix's 60,000 cells are made so, and a
    frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (2.4 µs a cell, this 1.2)."""
    moved = _new_cell(Cell)
    _set_node(moved, node)
    _set_row(moved, cell.row)
    _set_source(moved, cell.source)
    _set_required(moved, cell.required)
    _set_forbidden(moved, cell.forbidden)
    _set_allowed(moved, cell.allowed)
    _set_status(moved, cell.status)
    _set_example(moved, cell.example)
    _set_decisions(moved, cell.decisions)
    _set_egress(moved, cell.egress)
    _set_sender(moved, cell.sender)
    _set_admitted(moved, cell.admitted)
    return moved


_new_cell = object.__new__
(_set_node, _set_row, _set_source, _set_required, _set_forbidden, _set_allowed, _set_status, _set_example,
 _set_decisions, _set_egress, _set_sender, _set_admitted) = (getattr(Cell, name).__set__ for name in (
    "node", "row", "source", "required", "forbidden", "allowed", "status", "example", "decisions", "egress",
    "sender", "admitted"))
# _moved sets every field: a field added to Cell must be added there too.
assert [f.name for f in fields(Cell)] == ["node", "row", "source", "required", "forbidden", "allowed", "status",
                                          "example", "decisions", "egress", "sender", "admitted"]


def _first_in(space: Space, addresses: AddressSet, ports: IntervalSet | None = None) -> tuple[IPAddress, int] | None:
    for box in space:
        common = box.peers & addresses
        usable = box.ports if ports is None else box.ports & ports
        if common and usable:
            address = common.sample(host=True)
            assert address is not None
            return address, usable.first()
    return None


def _sender_of(ctx: CheckContext, leg: EgressLeg, addresses: AddressSet, node: Node) -> tuple[Node, AddressSet]:
    """A sending node (other than ``node``) of the leg with some of ``addresses``, and those addresses."""
    for sender in leg.sender.nodes:
        if sender.name == node.name:
            continue
        own = AddressSet.of_networks(sent_from(ctx, leg.sender.kind, sender)) & addresses
        if own:
            return sender, own
    raise AssertionError("a judged leg has a sender other than the receiver")


def _cell(ctx: CheckContext, node: Node, row: PortRow, source: SourceClass, required: bool, forbidden: str,
          effective: AddressSet, local: AddressSet, destination: AddressSet, ingress: IngressView,
          legs: tuple[EgressLeg, ...], judgement: Judgement, unsent: AddressSet) -> Cell:
    status, is_allowed = judgement.status, judgement.allowed
    bare = Cell(node, row, source, required, forbidden, is_allowed, status, None, ())
    if status == CellStatus.OK:
        return bare
    if judgement.egress_leg is None and status == CellStatus.EXPOSED and source.network is not None:
        return _network_exposure(ctx, node, row, bare, ingress.allowed, effective,
                                 AddressSet.of_networks(source.network.cidrs))
    if judgement.egress_leg is None:
        # An exposure no sender's egress judges comes from an address no netmodel firewall sends from: show one.
        candidates = effective & unsent if status == CellStatus.EXPOSED and legs and effective & unsent else effective
        example = _first_in(ingress.blocked if status == CellStatus.BLOCKED else ingress.allowed, candidates)
        if example is None:
            return bare
        address, port = example
        verdict = ctx.firewalls.decide(node, "ingress", address, row.protocol, port)
        decisions = verdict.denials if status == CellStatus.BLOCKED else verdict.decisions
        sender = _owner(ctx, source, address, node)
        egress = () if status == CellStatus.BLOCKED else _egress_decisions(ctx, sender, node, row.protocol, port, address)
        return replace(bare, example=(address, port), decisions=decisions, egress=egress, sender=sender)
    leg = legs[judgement.egress_leg]
    if status == CellStatus.BLOCKED:
        sender, own = _sender_of(ctx, leg, leg.sender.addresses - local, node)
        target = _first_in(leg.blocked, _family(destination, own))
        assert target is not None
        sent = own.sample(host=True)
        assert sent is not None
        verdict = ctx.firewalls.decide(sender, "egress", target[0], row.protocol, target[1], own)
        return replace(bare, example=(sent, target[1]), egress=verdict.denials, sender=sender)
    # exposed through this leg: a port the receiver admits from the senders and the senders may send
    reachable = ingress.allowed_peers & effective & leg.sender.addresses
    for family in (AddressSet(reachable.v4), AddressSet(IntervalSet(), reachable.v6)):
        if not family:
            continue
        both = _ports_towards(ingress.allowed, family) & _ports_towards(leg.allowed, _family(destination, family))
        example = _first_in(ingress.allowed, family, both)
        if example is None:
            continue
        address, port = example
        sender = _owner(ctx, source, address, node)
        decisions = ctx.firewalls.decide(node, "ingress", address, row.protocol, port).decisions
        egress = _egress_decisions(ctx, sender, node, row.protocol, port, address)
        return replace(bare, example=(address, port), decisions=decisions, egress=egress, sender=sender)
    return bare


def _network_exposure(ctx: CheckContext, node: Node, row: PortRow, bare: Cell, allowed: Space,
                      effective: AddressSet, written: AddressSet) -> Cell:
    """An outside network reaching a port it must not: an example that plainly belongs to it
    (:func:`network_example`: public when the admitted addresses hold public ones), and the part of the network's
    CIDRs (as written) that the rules which let the example in admit."""
    peers = AddressSet()
    for box in allowed:
        peers = peers | box.peers
    address = network_example(peers & effective)
    if address is None:
        return bare
    port = next(box.ports.first() for box in allowed if box.peers.contains(address) and box.ports)
    decisions = ctx.firewalls.decide(node, "ingress", address, row.protocol, port).decisions
    admitted = written
    for d in decisions:  # the rules that let the example in, as written (a default action admits everything)
        if d.rule is not None and d.rule.peers is not None:
            rule_peers = AddressSet()
            for peer in d.rule.peers:
                rule_peers = rule_peers | ctx.firewalls.peer_addresses(peer)
            admitted = admitted & rule_peers
    return replace(bare, example=(address, port), decisions=decisions, admitted=admitted)


def _owner(ctx: CheckContext, source: SourceClass, address: IPAddress, node: Node) -> Node | None:
    """The node whose packets carry ``address`` for this source class (None for outside sources)."""
    for sender in source.senders:
        if not sender.addresses.contains(address):
            continue
        for candidate in sender.nodes:
            if candidate.name != node.name and AddressSet.of_networks(
                    sent_from(ctx, sender.kind, candidate)).contains(address):
                return candidate
    return None


def _egress_decisions(ctx: CheckContext, sender: Node | None, node: Node, protocol: int,
                      port: int, address: IPAddress) -> tuple[Decision, ...]:
    """The sender's egress verdict on the example packet (towards the receiver's address of the same family)."""
    if sender is None:
        return ()
    target = _family(ctx.underlay_addresses(node), AddressSet.of_address(address)).sample()
    if target is None:
        return ()
    return ctx.firewalls.decide(sender, "egress", target, protocol, port, address).decisions


def port_matrix(ctx: CheckContext) -> tuple[Cell, ...]:
    """All cells, in node order, then row order, then source order; computed once per context."""
    return ctx.derived(_all_cells)


def _all_cells(ctx: CheckContext) -> tuple[Cell, ...]:
    sources = {False: source_classes(ctx, False)}
    if ctx.masquerade.rules:
        sources[True] = source_classes(ctx, True)
    by_node: dict[str, list[Cell]] = {n.name: [] for n in ctx.topology.nodes}
    for node_class in ctx.node_classes:
        for nodes, cells in class_cells(ctx, node_class, sources):
            # Each node's cells keep the order they were made in: when every list has a cell for each node of
            # the group, a node's cells are its column of them.
            if all(len(row) == len(nodes) for row in cells):
                for n, column in zip(nodes, zip(*cells)):
                    by_node[n.name].extend(column)
            else:
                for row in cells:
                    for cell in row:
                        by_node[cell.node.name].append(cell)
    return tuple(chain.from_iterable(by_node.values()))
