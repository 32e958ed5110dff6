"""The control-plane/worker port matrix: each node × port row × source class, and what its firewalls do.

Rows are DESIGN.md §1's table with the Cluster's port overrides: on control-plane nodes kube-apiserver, etcd
(unless external), kubelet, kube-scheduler, kube-controller-manager and the NodePort range; on workers kubelet
and the NodePort range. Source classes: ``self``, ``control-plane`` (the other control-plane nodes' InternalIPs),
``workers``, ``pods`` (every pod CIDR) and ``network:NAME`` (the network's own addresses: its CIDRs minus
more specific networks and the cluster, see :class:`AddressBook`).

How a cell is judged (receiving node's ingress firewalls; a node's own traffic and its own Pods' traffic never
cross its firewall, so those addresses are left out of every class, and ``self`` is always allowed):

* **required** cells — ``allowed`` is true only when *every* source address may reach *every* port of the row;
  otherwise ``blocked``, with an example address and port and the rule (or default action) that denies it.
* other cells — ``allowed`` is true when *any* source address reaches *any* port; a cell whose source must not
  reach the port is then ``exposed``, with an example and the rule that admitted it.

Which cells are required or forbidden (:func:`expectation`): apiserver from all nodes, Pods and networks using
``api`` (other networks: NM-PORT-005); etcd from the other control-plane nodes only (NM-PORT-002 for anyone
else); kubelet from the control plane (outside networks: NM-PORT-003; workers and Pods are not judged);
scheduler and controller-manager from the node itself only (NM-PORT-004); NodePorts on workers from all nodes,
Pods and networks using ``nodeports`` (other networks: NM-PORT-006, not counting the ingress controller's own
NodePorts, which are the ingress entry point judged by NM-EXT-008).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from netmodel.analyze.checks.common import example_address
from netmodel.compile.firewalls import Decision
from netmodel.model.objects import Node, OutsideNetwork
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
    from netmodel.analyze.checks.context import CheckContext, NodeClass

SELF = "self"


@dataclass(frozen=True, slots=True)
class PortRow:
    key: str  # apiserver | etcd | kubelet | scheduler | controller-manager | nodeports
    purpose: str
    protocol: int
    ports: IntervalSet

    def describe(self) -> str:
        return f"{self.purpose} ({protocol_label(self.protocol)} {format_ports(self.ports)})"


@dataclass(frozen=True, slots=True)
class SourceClass:
    name: str  # self | control-plane | workers | pods | network:NAME
    addresses: AddressSet
    network: OutsideNetwork | None = None

    def describe(self) -> str:
        return {"self": "the node itself", "control-plane": "the control-plane nodes", "workers": "the worker nodes",
                "pods": "the Pods (pod CIDRs)"}.get(self.name, f"network {self.name.removeprefix('network:')}")


@dataclass(frozen=True, slots=True)
class Cell:
    node: Node
    row: PortRow
    source: SourceClass
    required: bool
    forbidden: str  # the exposure finding ID when this source must not reach the port, else ""
    allowed: bool
    status: str  # ok | blocked | exposed
    example: tuple[IPAddress, int] | None  # a blocked/exposing (address, port)
    decisions: tuple[Decision, ...]  # the firewall verdict on the example packet

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "node": self.node.name, "role": self.node.role, "ports": format_ports(self.row.ports),
            "protocol": protocol_label(self.row.protocol), "purpose": self.row.purpose,
            "source": self.source.name, "required": self.required, "allowed": self.allowed, "status": self.status,
        }
        if self.example is not None:
            out["example"] = f"{self.example[0]} -> {self.example[1]}"
        return out


def rows_for(ctx: CheckContext, node: Node) -> list[PortRow]:
    cluster = ctx.topology.cluster
    ports = cluster.control_plane.ports
    kubelet = PortRow("kubelet", "kubelet API", TCP, IntervalSet.single(ports.kubelet))
    node_ports = PortRow("nodeports", "NodePort Services", TCP, cluster.node_port_range)
    if not node.is_control_plane:
        return [kubelet, node_ports]
    rows = [PortRow("apiserver", "kube-apiserver", TCP, IntervalSet.single(ports.apiserver))]
    if not cluster.control_plane.etcd_external:
        rows.append(PortRow("etcd", "etcd", TCP, ports.etcd))
    rows += [kubelet,
             PortRow("scheduler", "kube-scheduler", TCP, IntervalSet.single(ports.scheduler)),
             PortRow("controller-manager", "kube-controller-manager", TCP,
                     IntervalSet.single(ports.controller_manager)),
             node_ports]
    return rows


def source_classes(ctx: CheckContext) -> list[SourceClass]:
    topo = ctx.topology
    out = [SourceClass(SELF, AddressSet())]
    for name, nodes in (("control-plane", topo.control_plane_nodes), ("workers", topo.worker_nodes)):
        addresses = AddressSet()
        for n in nodes:
            addresses = addresses | ctx.underlay_addresses(n)
        out.append(SourceClass(name, addresses))
    out.append(SourceClass("pods", ctx.addresses.pod_ranges))
    for network in topo.cluster.networks:
        out.append(SourceClass(f"network:{network.name}", ctx.addresses.networks[network.name], network))
    return out


def expectation(row: PortRow, source: SourceClass, node: Node) -> tuple[bool, str]:
    """``(required, exposure finding ID or "")`` for one cell."""
    if source.name == SELF:
        return True, ""
    network = source.network
    internal = network is None
    if row.key == "apiserver":
        if internal or "api" in network.uses:  # type: ignore[union-attr]
            return True, ""
        return False, "NM-PORT-005"
    if row.key == "etcd":
        return (True, "") if source.name == "control-plane" else (False, "NM-PORT-002")
    if row.key == "kubelet":
        if source.name == "control-plane":
            return True, ""
        return (False, "") if internal else (False, "NM-PORT-003")
    if row.key in ("scheduler", "controller-manager"):
        return False, "NM-PORT-004"
    # nodeports
    if internal:
        return (not node.is_control_plane), ""
    if "nodeports" in network.uses:  # type: ignore[union-attr]
        return (not node.is_control_plane), ""
    return False, "NM-PORT-006"


def judged_ports(ctx: CheckContext, row: PortRow, forbidden: str) -> IntervalSet:
    """The ports an exposure cell looks at: the NodePort range minus the ingress controller's NodePorts."""
    if forbidden != "NM-PORT-006":
        return row.ports
    return row.ports - IntervalSet((e.node_port, e.node_port) for e in ctx.ingress_entries if e.via == "service")


def _first_in(space: Space, addresses: AddressSet) -> tuple[IPAddress, int, int] | None:
    for box in space:
        common = box.peers & addresses
        if common:
            address = example_address(common)
            assert address is not None
            return address, box.protocols.first(), box.ports.first()
    return None


def class_cells(ctx: CheckContext, node_class: NodeClass) -> list[Cell]:
    """Every cell of every node in ``node_class``: one firewall evaluation per (role, row, source)."""
    cells: list[Cell] = []
    sources = source_classes(ctx)
    by_role: dict[bool, list[Node]] = {}
    for n in node_class.nodes:
        by_role.setdefault(n.is_control_plane, []).append(n)
    for nodes in by_role.values():
        representative = nodes[0]
        for row in rows_for(ctx, representative):
            for source in sources:
                required, forbidden = expectation(row, source, representative)
                if source.name == SELF:
                    cells.extend(Cell(n, row, source, True, "", True, "ok", None, ()) for n in nodes)
                    continue
                ports = judged_ports(ctx, row, forbidden)
                if source.addresses.is_empty() or ports.is_empty():
                    continue
                query = Box(source.addresses, IntervalSet.single(row.protocol), ports)
                allowed = ctx.firewalls.allowed_space(representative, "ingress", query)
                blocked = Space.of(query) - allowed
                blocked_peers, allowed_peers = blocked.peers(), allowed.peers()
                shared: list[Cell] = []  # the last fully judged cell: its example serves the next nodes
                for n in nodes:
                    local = ctx.local_addresses(n)
                    effective = source.addresses - local
                    if effective.is_empty():
                        continue
                    cell = _reuse(shared, n, local, required, effective, blocked_peers, allowed_peers, forbidden)
                    if cell is None:
                        cell = _cell(ctx, n, row, source, required, forbidden, effective, blocked, allowed,
                                     blocked_peers, allowed_peers)
                        shared[:] = [cell]
                    cells.append(cell)
    return cells


def _status(required: bool, forbidden: str, effective: AddressSet, blocked_peers: AddressSet,
            allowed_peers: AddressSet) -> tuple[bool, str]:
    if required:
        is_allowed = (blocked_peers & effective).is_empty()
        return is_allowed, "ok" if is_allowed else "blocked"
    is_allowed = not (allowed_peers & effective).is_empty()
    return is_allowed, "exposed" if is_allowed and forbidden else "ok"


def _reuse(shared: list[Cell], node: Node, local: AddressSet, required: bool, effective: AddressSet,
           blocked_peers: AddressSet, allowed_peers: AddressSet, forbidden: str) -> Cell | None:
    """The previous node's cell for ``node`` when the status and example still hold (nodes of a class agree)."""
    if not shared:
        return None
    previous = shared[0]
    is_allowed, status = _status(required, forbidden, effective, blocked_peers, allowed_peers)
    if status != previous.status or is_allowed != previous.allowed:
        return None
    if previous.example is not None and local.contains(previous.example[0]):
        return None  # the example is this node's own address: find another
    return replace(previous, node=node)


def _cell(ctx: CheckContext, node: Node, row: PortRow, source: SourceClass, required: bool, forbidden: str,
          effective: AddressSet, blocked: Space, allowed: Space, blocked_peers: AddressSet,
          allowed_peers: AddressSet) -> Cell:
    is_allowed, status = _status(required, forbidden, effective, blocked_peers, allowed_peers)
    example = None
    if status == "blocked":
        example = _first_in(blocked, effective)
    elif status == "exposed":
        example = _first_in(allowed, effective)
    if example is None:
        return Cell(node, row, source, required, forbidden, is_allowed, status, None, ())
    address, protocol, port = example
    verdict = ctx.firewalls.decide(node, "ingress", address, protocol, port)
    decisions = verdict.denials if status == "blocked" else verdict.decisions
    return Cell(node, row, source, required, forbidden, is_allowed, status, (address, port), decisions)


def port_matrix(ctx: CheckContext) -> tuple[Cell, ...]:
    """All cells, in node order, then row order, then source order."""
    order = {n.name: i for i, n in enumerate(ctx.topology.nodes)}
    cells = [c for node_class in ctx.node_classes for c in class_cells(ctx, node_class)]
    position = {id(c): i for i, c in enumerate(cells)}
    return tuple(sorted(cells, key=lambda c: (order[c.node.name], position[id(c)])))
