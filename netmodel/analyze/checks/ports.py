"""The ports requirement: required flows of the port matrix that a firewall blocks, and exposure.

* NM-PORT-001 — a required cell is blocked (and, with external etcd, a control-plane node's egress to an etcd
  endpoint). A blocked NodePort cell whose source is an outside network is reported per Service by NM-EXT-003
  instead, so one defect gives one finding.
* NM-PORT-002..006 — a cell whose source must not reach the port is exposed (see
  :func:`netmodel.analyze.portmatrix.expectation`). On a node no Firewall selects, exposure to Pods and other
  nodes is not reported one by one: NM-PORT-007 (info) says the node filters nothing. Exposure to outside
  networks is always reported.
* NM-PORT-008 (info) — a port reachable from Pods only because the CNI's outbound NAT or ip-masq-agent SNATs
  them to their node (:mod:`netmodel.compile.masquerade`): the Pods inherit the node's firewall rights (Pods on
  a control-plane node reach the other control-plane nodes' etcd). A defect in those rights is the node's own
  cell's finding; this one says the Pods share it.

Cells failing the same way on nodes of one firewall class become one finding naming example nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netmodel.analyze.checks.common import decision_span, describe_decisions, unique_spans
from netmodel.analyze.findings import Finding, Severity
from netmodel.analyze.portmatrix import Cell, CellStatus, PortKind, port_matrix
from netmodel.analyze.portmatrix_sources import SenderKind
from netmodel.compile.cni import routes_pod_cidrs
from netmodel.compile.context import CheckContext, describe_node_list, describe_nodes
from netmodel.compile.firewalls import Decision
from netmodel.errors import SourceSpan
from netmodel.model.objects import Firewall
from netmodel.sets import AddressSet, Box, IntervalSet, format_ports, protocol_label
from netmodel.sets.ports import TCP

REQUIREMENT = "ports"
EXPOSURE = {
    "NM-PORT-002": (Severity.ERROR, ("etcd holds every Secret of the cluster; only the API server and etcd "
                                     "peers may reach it")),
    "NM-PORT-003": (Severity.ERROR, "the kubelet API runs commands in every Pod of the node"),
    "NM-PORT-004": (Severity.ERROR, "the scheduler and controller-manager serve only their own node"),
    "NM-PORT-005": (Severity.WARNING, "the network's `uses` lacks `api`"),
    "NM-PORT-006": (Severity.WARNING, "the network's `uses` lacks `nodeports`"),
}


def _reported_as(cell: Cell, ctx: CheckContext) -> str:
    """The finding ID a failing cell is reported under, or "" when it is not reported on its own."""
    if cell.status == CellStatus.OK:
        return ""  # most cells (one enum lookup, not two: each costs 0.2 us, the matrix has 60,000 cells)
    if cell.status == CellStatus.BLOCKED:
        if cell.row.key == PortKind.NODEPORTS and cell.source.network is not None:
            return ""  # NM-EXT-003 names the Service
        return "NM-PORT-001"
    if cell.status == CellStatus.EXPOSED:
        filtered = ctx.node_class_of[cell.node.name].filtered
        if not filtered and cell.source.network is None:
            return ""  # NM-PORT-007
        if any(sender.kind == SenderKind.MASQUERADED_POD for sender in cell.source.senders):
            return "NM-PORT-008"  # rights the Pods inherit from their node: its own cell carries any defect
        return cell.forbidden
    return ""


def check_port_matrix(ctx: CheckContext) -> Iterator[Finding]:
    """NM-PORT-001..006 from the port matrix."""
    groups: dict[tuple[str, str, str, int, bool, str, int], list[Cell]] = {}
    class_number = {id(c): i for i, c in enumerate(ctx.node_classes)}
    for cell in port_matrix(ctx):
        check_id = _reported_as(cell, ctx)
        if check_id:
            # A block at the senders' egress is a different defect per sending firewall class.
            sending = class_number[id(ctx.node_class_of[cell.sender.name])] \
                if cell.blocked_at == "egress" and cell.sender is not None else -1
            key = (check_id, cell.row.key, cell.source.name,
                   class_number[id(ctx.node_class_of[cell.node.name])], cell.node.is_control_plane,
                   cell.blocked_at, sending)
            groups.setdefault(key, []).append(cell)
    for (check_id, *_), cells in groups.items():
        yield _finding(ctx, check_id, cells, routes_pod_cidrs(ctx.topology.cluster.cni))


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What a port finding about a group of cells quotes: the first cell, the nodes, its example and the
    firewall decisions on it (the receiver's ingress, and sender egress rules that passed it)."""

    first: Cell
    nodes: str  # the group's nodes, as describe_nodes words them
    example: str  # " (e.g. ADDRESS on node N to port P)", or ""
    egress: list[Decision]  # egress rules that passed the example (a default allow is not one)
    why: str  # the decisions, worded
    firewalls: list[Firewall]
    objects: tuple[str, ...]
    sources: tuple[SourceSpan, ...]


def _finding(ctx: CheckContext, check_id: str, cells: list[Cell], native_routing: bool = False) -> Finding:
    first = cells[0]
    nodes = describe_nodes([c.node.name for c in cells])
    # Egress rules that passed the example matter (narrowing them also closes the hole); a default allow does not.
    egress = [d for d in first.egress if d.rule is not None]
    sender = f" on node {first.sender.name}" if first.sender is not None and (
        egress or first.blocked_at == "egress") else ""
    example = f" (e.g. {first.example[0]}{sender} to port {first.example[1]})" if first.example else ""
    if check_id == "NM-PORT-001" and first.blocked_at == "egress":
        return _egress_blocked(first, nodes, example)
    evidence = _evidence(cells, nodes, example, egress)
    if check_id == "NM-PORT-001":
        return _ingress_blocked(evidence)
    if check_id == "NM-PORT-008":
        return _inherited(ctx, first, nodes, evidence.why, evidence.objects, evidence.sources)
    return _exposed(check_id, evidence, native_routing)


def _evidence(cells: list[Cell], nodes: str, example: str, egress: list[Decision]) -> _Evidence:
    first = cells[0]
    direction = "ingress"
    if first.decisions:
        why = describe_decisions(first.decisions, direction)
    else:
        why = "no Firewall (the node filters nothing)"
    if egress:
        why += f" and the sending node's {describe_decisions(egress, 'egress')}"
    firewalls = _distinct([d.firewall for d in first.decisions] + [d.firewall for d in egress])
    objects = tuple(dict.fromkeys([f"Node/{c.node.name}" for c in cells[:3]] + [str(f.ref) for f in firewalls]))
    sources = unique_spans([decision_span(d, direction) for d in first.decisions]
                           + [decision_span(d, "egress") for d in egress] + [first.node.source])
    return _Evidence(first, nodes, example, egress, why, firewalls, objects, sources)


def _distinct(firewalls: list[Firewall]) -> list[Firewall]:
    """Each firewall once, in first-seen order, as ``dict.fromkeys`` would keep them, without hashing one: a
    Firewall's hash walks every rule and its source location (0.15 s the first time on 2,000 rules, 3 ms each
    time after). Equal ones are found by comparing with the few kept; firewalls of different names differ at
    their first field."""
    out: list[Firewall] = []
    for firewall in firewalls:
        if not any(firewall is kept or firewall == kept for kept in out):
            out.append(firewall)
    return out


def _ingress_blocked(e: _Evidence) -> Finding:
    """NM-PORT-001 where the receiving node's ingress firewalls drop the required flow."""
    first = e.first
    what, source = first.row.describe(), first.source.describe()
    fix = (f"allow {protocol_label(first.row.protocol)} {format_ports(first.row.ports)} from {source} in "
           f"{', '.join('Firewall ' + f.name for f in e.firewalls) or 'the node firewall'} ingress")
    message = (f"{what} on node {e.nodes} is blocked from {source}{e.example} by {e.why}; this flow is required. "
               f"Fix: {fix}.")
    return Finding("NM-PORT-001", Severity.ERROR, REQUIREMENT, message, e.objects, e.sources)


def _exposed(check_id: str, e: _Evidence, native_routing: bool) -> Finding:
    """NM-PORT-002..006: a source that must not reach the port does."""
    first = e.first
    what, source = first.row.describe(), first.source.describe()
    severity, reason = EXPOSURE[check_id]
    opened = [d for d in first.decisions if d.rule is not None]
    fix = (f"narrow rule {', '.join(repr(d.rule.name) for d in opened if d.rule)} of "
           f"{', '.join('Firewall ' + d.firewall.name for d in opened)}" if opened
           else "add a Firewall (or a deny rule) for these nodes")
    if e.egress:
        fix += " or " + ", ".join(f"egress rule {d.rule.name!r} of Firewall {d.firewall.name}" for d in e.egress
                                  if d.rule)
    part = ""
    network = first.source.network
    if first.admitted is not None and network is not None and \
            first.admitted != AddressSet.of_networks(network.cidrs):
        part = f" ({', '.join(map(str, network.cidrs))}), of which the rule admits {first.admitted}"
    message = (f"{what} on node {e.nodes} is reachable from {source}{part}{e.example}, admitted by {e.why}; "
               f"{reason}. Fix: {fix} so {source} cannot reach it.")
    broad = [d.rule.name for d in opened if d.rule is not None and d.rule.local is None]
    if native_routing and first.source.network is None and broad:
        # Natively routed traffic to Pods crosses the node with Pod addresses, so a rule admitting Pods or nodes
        # on every port is often meant for that forwarded traffic: a node-side end keeps it off the node's ports.
        message += (f" If {', '.join(repr(n) for n in broad)} is there to let traffic through the node to its "
                    "Pods (native routing), add `to: [{pods: {}}]` to it: it then admits only traffic routed "
                    "to the node's Pods.")
    return Finding(check_id, severity, REQUIREMENT, message, e.objects, e.sources)


def _inherited(ctx: CheckContext, first: Cell, nodes: str, why: str, objects: tuple[str, ...],
               sources: tuple[SourceSpan, ...]) -> Finding:
    """NM-PORT-008 (info): Pods masqueraded to their node reach a port with the node's address and rights."""
    masquerade = ctx.masquerade
    example = first.example[0] if first.example else None
    receiver = (first.node.internal_ips or first.node.ips)[:1]
    rule = masquerade.rule_for(receiver[0]) if receiver else None
    nat = rule.why.split(":")[0] if rule is not None else masquerade.describe()
    sender = f" (e.g. {example} of node {first.sender.name})" if example and first.sender is not None else ""
    message = (f"{first.row.describe()} on node {nodes} is reachable from Pods on other nodes through their node's "
               f"address{sender}: {nat} SNATs Pod traffic leaving a node to that node, so those Pods have their "
               f"node's firewall rights ({why}) and no node firewall can tell them from the node. If that matters, "
               f"restrict them with NetworkPolicy egress (or turn the masquerading off: Cluster "
               f"spec.cni.natOutgoing / masquerade).")
    return Finding("NM-PORT-008", Severity.INFO, REQUIREMENT, message, objects,
                   unique_spans(list(sources) + ([rule.source] if rule is not None else [])))


def _egress_blocked(first: Cell, nodes: str, example: str) -> Finding:
    """NM-PORT-001 where the sending node's own egress firewall drops the required flow."""
    firewalls = _distinct([d.firewall for d in first.egress])
    sender = first.sender
    assert sender is not None
    objects = tuple(dict.fromkeys([f"Node/{n}" for n in nodes.split(", ")[:3] if " " not in n]
                                  + [f"Node/{sender.name}"] + [str(f.ref) for f in firewalls]))
    sources = unique_spans([decision_span(d, "egress") for d in first.egress] + [sender.source])
    what, source = first.row.describe(), first.source.describe()
    fix = (f"allow {protocol_label(first.row.protocol)} {format_ports(first.row.ports)} to node {nodes} in the "
           f"egress of {', '.join('Firewall ' + f.name for f in firewalls) or 'the sending node'}")
    message = (f"{what} on node {nodes} is blocked from {source}{example} by the sending node's "
               f"{describe_decisions(first.egress, 'egress')}; this flow is required. Fix: {fix}.")
    return Finding("NM-PORT-001", Severity.ERROR, REQUIREMENT, message, objects, sources)


def check_external_etcd(ctx: CheckContext) -> Iterator[Finding]:
    """NM-PORT-001 for external etcd: control-plane nodes must be able to send to every etcd endpoint."""
    cp = ctx.topology.cluster.control_plane
    if not cp.etcd_external:
        return
    for node_class in ctx.node_classes:
        nodes = [n for n in node_class.nodes if n.is_control_plane]
        if not nodes or not node_class.filtered:
            continue
        for address, port in cp.etcd_endpoints:
            query = Box(AddressSet.of_address(address), IntervalSet.single(TCP), IntervalSet.single(port))
            if ctx.firewalls.allowed_space(nodes[0], "egress", query).covers(query):
                continue
            verdict = ctx.firewalls.decide(nodes[0], "egress", address, TCP, port)
            yield Finding(
                "NM-PORT-001", Severity.ERROR, REQUIREMENT,
                f"external etcd {address}:{port} is blocked from control-plane node "
                f"{describe_node_list(nodes)} by {describe_decisions(verdict.denials, 'egress')}; "
                f"the API server cannot store anything. Fix: allow TCP {port} to {address} in the egress of "
                f"{', '.join('Firewall ' + d.firewall.name for d in verdict.denials)}.",
                tuple(f"Node/{n.name}" for n in nodes[:3]) + tuple(str(d.firewall.ref) for d in verdict.denials),
                unique_spans([decision_span(d, "egress") for d in verdict.denials] + [cp.source]))


def check_unfiltered_nodes(ctx: CheckContext) -> Iterator[Finding]:
    """NM-PORT-007 (info): nodes no Firewall selects."""
    nodes = [n for c in ctx.node_classes if not c.filtered for n in c.nodes]
    if not nodes or not ctx.topology.nodes:
        return
    names = {n.name for n in nodes}
    sensitive = sorted({c.row.purpose for c in port_matrix(ctx) if c.node.name in names and c.status == CellStatus.EXPOSED})
    open_text = f"; open to every Pod and node: {', '.join(sensitive)}" if sensitive else ""
    yield Finding(
        "NM-PORT-007", Severity.INFO, REQUIREMENT,
        f"no Firewall selects node {describe_node_list(nodes)}, so it filters nothing{open_text}. "
        f"Add a Firewall for it if its host firewall or security group matters.",
        tuple(f"Node/{n.name}" for n in nodes[:3]), unique_spans([n.source for n in nodes[:3]]))

