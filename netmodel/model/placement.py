"""Pods: which workload owns each given Pod, which Pods workloads make, where each runs, and its addresses.

Rules 4-6 of :mod:`netmodel.model.materialize`:

* A workload expands into Pods ``NAME-0 … NAME-(n-1)`` (``replicas``; ``parallelism`` for Jobs and CronJobs),
  a DaemonSet into one Pod ``NAME-NODE`` per eligible node — unless the input already holds its Pods, found
  through ``ownerReferences`` (Pod → ReplicaSet → Deployment, Pod → Job → CronJob; when the ReplicaSet or Job
  itself is missing, through the name it would have, ``DEPLOYMENT-HASH`` or ``CRONJOB-TIMESTAMP``). A
  ReplicaSet or Job owned by a workload in the input never expands on its own.
* A Pod without ``spec.nodeName`` goes to the next eligible node, round-robin in node order per distinct
  placement constraint. Eligible: schedulable, every ``nodeSelector`` label, one of the required node affinity
  terms, and every NoSchedule/NoExecute taint tolerated. DaemonSet Pods also run on cordoned nodes and tolerate
  the node-condition taints, as the DaemonSet controller arranges. A Pending Pod whose status says the
  cluster's scheduler placed it nowhere (condition ``PodScheduled`` ``False``, as a live cluster's dump shows
  it) is not placed again: it stays Pending with the scheduler's own message. A Pending Pod already on its
  node but with no ``status.podIP`` (its sandbox is being created) has no address yet and is left out too.
* Finished Pods (``status.phase`` Succeeded or Failed) are left out — they hold no address and take no traffic
  — but still count as their workload's given Pods, so a completed Job is not expanded again.
* Pod IPs come from ``status.podIP(s)``; hostNetwork Pods have their node's addresses; other Pods take the next
  free address of each of their node's pod ranges, from the second host address up.

>>> from netmodel.model.labels import Labels
>>> t = Toleration("node-role.kubernetes.io/control-plane", "Exists", "", "NoSchedule")
>>> t.tolerates(Taint("node-role.kubernetes.io/control-plane", "", "NoSchedule"))
True
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from netmodel.model.inventory import Inventory
from netmodel.model.kinds import classify
from netmodel.model.labels import LabelSelector
from netmodel.model.objects import (
    FINISHED_PHASES,
    Node,
    ObjectRef,
    Pod,
    PodTemplate,
    Taint,
    Toleration,
    Workload,
    claimed_host_ports,
    host_ips_overlap,
)
from netmodel.model.topology import Note, Unscheduled
from netmodel.sets import IPAddress, IPNetwork, protocol_label

WorkloadKey = tuple[str, str, str]  # (kind, namespace, name)

# Tolerations the DaemonSet controller adds to every DaemonSet Pod (node conditions and cordoning).
DAEMONSET_TOLERATIONS = tuple(
    Toleration(f"node.kubernetes.io/{key}", "Exists", "", effect)
    for key, effect in (("not-ready", "NoExecute"), ("unreachable", "NoExecute"),
                        ("disk-pressure", "NoSchedule"), ("memory-pressure", "NoSchedule"),
                        ("pid-pressure", "NoSchedule"), ("unschedulable", "NoSchedule"),
                        ("network-unavailable", "NoSchedule"))
)
# The kinds a given object can stand in for: its owner's kind and how its name derives from the owner's.
_INTERMEDIATE = {"ReplicaSet": "Deployment", "Job": "CronJob"}


def eligible(template: PodTemplate, node: Node, daemon: bool = False) -> bool:
    """Whether a Pod of ``template`` may run on ``node`` (``daemon``: as a DaemonSet Pod)."""
    if node.unschedulable and not daemon:
        return False
    tolerations = template.tolerations + (DAEMONSET_TOLERATIONS if daemon else ())
    for taint in node.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not any(t.tolerates(taint) for t in tolerations):
            return False
    for key, value in template.node_selector.items():
        if node.labels.get(key) != value:
            return False
    if template.node_affinity:
        labels = node.labels.with_items({"@metadata.name": node.name})
        if not any(term.matches(labels) for term in template.node_affinity):
            return False
    return True


def _failed_filter(template: PodTemplate, node: Node) -> str:
    """The first scheduling filter ``node`` fails for ``template`` (in :func:`eligible`'s order), worded as
    kube-scheduler words it; "" when it passes."""
    if node.unschedulable:
        return "were unschedulable"
    for taint in node.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not any(t.tolerates(taint) for t in template.tolerations):
            return f"had untolerated taint {{{taint.key}: {taint.value}}}"
    return "didn't match Pod's node affinity/selector"


# kube-scheduler's NodePorts filter, as its FailedScheduling event words a node it rejects
# (pkg/scheduler/framework/plugins/nodeports/node_ports.go, ErrReason).
NO_FREE_PORTS = "didn't have free ports for the requested pod ports"

HostPortClaim = tuple[int, int, str]  # (port, protocol, hostIP)


def host_port_claims(template: PodTemplate) -> list[HostPortClaim]:
    """The host ports a Pod of ``template`` takes on its node (:func:`claimed_host_ports`)."""
    return [(port, cp.protocol, cp.host_ip) for port, cp in claimed_host_ports(template.containers,
                                                                               template.host_network)]


class Scheduler:
    """Round-robin over the eligible nodes of each distinct placement constraint, in node order.

    Eligibility is computed once per constraint (node selector, affinity, tolerations), not once per Pod: the
    thousands of Pods of one workload share it. Pods that take host ports (a hostPort, or hostNetwork) also pass
    kube-scheduler's NodePorts filter: a node where a Pod already holds one of those ports (same protocol,
    overlapping hostIP) is skipped, and a Pod no eligible node has the ports for stays Pending, as in a cluster —
    so two replicas of a hostPort Deployment never land on one node (which NM-LOOP-002 would call a clash) and
    the replicas beyond the nodes stay Pending. The ports of Pods whose node is given are held first.
    """

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self._cursors: dict[tuple[Any, ...], int] = {}
        self._eligible: dict[tuple[Any, ...], list[Node]] = {}
        self._why_not: dict[tuple[Any, ...], str] = {}
        self._held: dict[str, list[HostPortClaim]] = {}  # the host ports held on each node, by node name

    def hold(self, node_name: str, claims: list[HostPortClaim]) -> None:
        """Record that a Pod on ``node_name`` holds these host ports."""
        if claims:
            self._held.setdefault(node_name, []).extend(claims)

    def _ports_free(self, node_name: str, claims: list[HostPortClaim]) -> bool:
        held = self._held.get(node_name, ())
        return not any(port == p and protocol == q and host_ips_overlap(ip, i)
                       for port, protocol, ip in claims for p, q, i in held)

    def eligible_nodes(self, template: PodTemplate, daemon: bool = False) -> list[Node]:
        """The nodes a Pod of ``template`` may run on (``daemon``: placed as a DaemonSet's Pod)."""
        key = (template.node_selector, template.node_affinity, template.tolerations, daemon)
        found = self._eligible.get(key)
        if found is None:
            found = self._eligible[key] = [n for n in self.nodes if eligible(template, n, daemon)]
        return found

    def why_not(self, template: PodTemplate) -> str:
        """Why no node is eligible, as kube-scheduler's FailedScheduling event says it: each node counted under
        the first filter it fails, e.g. ``0/3 nodes are available: 1 node(s) had untolerated taint
        {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector``."""
        key = (template.node_selector, template.node_affinity, template.tolerations)
        if key in self._why_not:
            return self._why_not[key]
        counts: dict[str, int] = {}
        for node in self.nodes:
            why = _failed_filter(template, node)
            counts[why] = counts.get(why, 0) + 1
        parts = ", ".join(f"{n} node(s) {why}" for why, n in sorted(counts.items()))
        text = f"0/{len(self.nodes)} nodes are available" + (f": {parts}" if parts else "")
        if template.node_selector and any("selector" in why for why in counts):
            text += " (nodeSelector " + ", ".join(f"{k}: {v}" for k, v in template.node_selector.items()) + ")"
        self._why_not[key] = text
        return text

    def why_no_ports(self, template: PodTemplate) -> str:
        """Why a Pod of ``template`` fits no node once host ports count: the eligible nodes lack free ports, the
        others fail their first filter (worded as :meth:`why_not`)."""
        eligible_names = {n.name for n in self.eligible_nodes(template)}
        counts: dict[str, int] = {}
        for node in self.nodes:
            why = NO_FREE_PORTS if node.name in eligible_names else _failed_filter(template, node)
            counts[why] = counts.get(why, 0) + 1
        parts = ", ".join(f"{n} node(s) {why}" for why, n in sorted(counts.items()))
        ports = ", ".join(f"{port}/{protocol_label(protocol)}" for port, protocol, _ in host_port_claims(template))
        return f"0/{len(self.nodes)} nodes are available: {parts} (host ports {ports})"

    def place(self, template: PodTemplate) -> Node | None:
        """The node the next Pod of ``template`` lands on (round-robin over the eligible nodes), or None."""
        return self.place_many(template, 1)[0]

    def place_many(self, template: PodTemplate, count: int) -> list[Node | None]:
        """The nodes the next ``count`` Pods of ``template`` land on, in turn (None: no node fits); one
        constraint lookup for a workload's replicas instead of one per Pod."""
        candidates = self.eligible_nodes(template)
        if not candidates:
            return [None] * count
        key = (template.node_selector, template.node_affinity, template.tolerations, False)
        i = self._cursors.get(key, 0)
        n = len(candidates)
        claims = host_port_claims(template)
        if not claims:
            self._cursors[key] = i + count
            return [candidates[(i + k) % n] for k in range(count)]
        out: list[Node | None] = []
        for _ in range(count):  # the next eligible node, in turn, that has the ports free
            node = next((candidates[(i + k) % n] for k in range(n)
                         if self._ports_free(candidates[(i + k) % n].name, claims)), None)
            if node is not None:
                self.hold(node.name, claims)
                i = candidates.index(node) + 1
            out.append(node)
        self._cursors[key] = i
        return out

    def place_daemon(self, template: PodTemplate) -> list[Node]:
        """The eligible nodes a DaemonSet's Pods run on: on the others, host ports another Pod holds keep its Pod
        Pending (the DaemonSet controller's Pods go through kube-scheduler too)."""
        nodes = self.eligible_nodes(template, daemon=True)
        claims = host_port_claims(template)
        if not claims:
            return nodes
        running = []
        for node in nodes:
            if self._ports_free(node.name, claims):
                self.hold(node.name, claims)
                running.append(node)
        return running


# -- owners --------------------------------------------------------------------------------------------------------


def _owner_refs(data: Any) -> list[tuple[str, str]]:
    meta = data.get("metadata") if isinstance(data, dict) else None
    refs = meta.get("ownerReferences") if isinstance(meta, dict) else None
    if not isinstance(refs, list):
        return []
    # An owner is recognized by group and kind: an OpenKruise (apps.kruise.io) StatefulSet is not an apps one. A
    # reference without apiVersion (hand-written input; the API requires it) is taken by kind.
    return [(str(r.get("kind", "")), str(r.get("name", ""))) for r in refs if isinstance(r, dict) and (
        not r.get("apiVersion") or classify(str(r["apiVersion"]), str(r.get("kind", ""))).name == "read")]


def _resolve(refs: list[tuple[str, str]], namespace: str, workloads: set[WorkloadKey],
             controlled: dict[WorkloadKey, WorkloadKey]) -> WorkloadKey | None:
    """The workload in the input that stands behind these owner references, if any: the referenced object
    itself, or the Deployment/CronJob in the input that owns it, or — when the ReplicaSet/Job is missing — the
    Deployment/CronJob whose name it carries minus its last ``-SUFFIX`` (exactly, never a prefix match: the
    ReplicaSet ``web-api-5d8f9`` belongs to ``web-api``, not to ``web``)."""
    for kind, name in refs:
        key = (kind, namespace, name)
        if key in controlled:
            return controlled[key]
        if key in workloads:
            return key
        parent_kind = _INTERMEDIATE.get(kind)
        if parent_kind and "-" in name:
            parent = (parent_kind, namespace, name.rsplit("-", 1)[0])
            if parent in workloads:
                return parent
    return None


def owner_of(data: Any, namespace: str, workloads: set[WorkloadKey],
             controlled: dict[WorkloadKey, WorkloadKey]) -> WorkloadKey | None:
    """The one ownership rule: the workload of the input that owns a given Pod (its document ``data``), or
    None. It becomes :attr:`Pod.owner`, the field everything later reads: ``deployment:NS/NAME`` references
    (:meth:`Topology.workload_pods`), the matrix's workload grouping, suppressions."""
    if not workloads and not controlled:
        return None  # no workload in the input to own it (an input of Pods alone: its references are not read)
    return _resolve(_owner_refs(data), namespace, workloads, controlled)


def controlled_workloads(inv: Inventory) -> dict[WorkloadKey, WorkloadKey]:
    """ReplicaSets and Jobs in the input that a Deployment or CronJob in the input owns → that owner."""
    keys = {(w.kind, w.namespace, w.name) for w, _ in inv.workloads}
    out: dict[WorkloadKey, WorkloadKey] = {}
    for w, doc in inv.workloads:
        if w.kind in _INTERMEDIATE:
            owner = _resolve(_owner_refs(doc.data), w.namespace, keys, {})
            if owner is not None and owner[0] == _INTERMEDIATE[w.kind]:
                out[(w.kind, w.namespace, w.name)] = owner
    return out


# -- placement -----------------------------------------------------------------------------------------------------


def place_pods(inv: Inventory, nodes: list[Node], notes: list[Note]
               ) -> tuple[list[Pod], list[Unscheduled], list[tuple[str, str]]]:
    """Every Pod of the topology, placed on a node and addressed; the Pods that fit no node, left out with the
    reason; and the (namespace, name) of the finished Pods, left out too."""
    scheduler = Scheduler(nodes)
    workload_keys = {(w.kind, w.namespace, w.name) for w, _ in inv.workloads}
    controlled = controlled_workloads(inv)
    given_owners: set[WorkloadKey] = set()
    placed: list[Pod] = []
    unplaced: list[Unscheduled] = []
    finished: list[tuple[str, str]] = []
    starting: list[str] = []
    for pod, template, _ in inv.pods:  # Pods already on their node hold their host ports before any is placed
        if pod.node_name and pod.phase not in FINISHED_PHASES:
            scheduler.hold(pod.node_name, host_port_claims(template))
    for pod, template, doc in inv.pods:
        owner = owner_of(doc.data, pod.namespace, workload_keys, controlled)
        if owner is not None:
            given_owners.add(owner)  # a Job whose Pods all finished is not expanded again
            pod = replace(pod, owner=ObjectRef(*owner))
        if pod.phase in FINISHED_PHASES:
            finished.append((pod.namespace, pod.name))
            continue
        if not pod.node_name and pod.scheduler_refusal:
            # A live cluster's scheduler already tried: its word stands (the Pod has no node and no address).
            unplaced.append(Unscheduled(pod.namespace, pod.name, f"the cluster's scheduler: {pod.scheduler_refusal}",
                                        pod.labels))
            continue
        if pod.node_name and pod.phase == "Pending" and not pod.ips and not pod.host_network:
            # On its node, sandbox not up: the CNI has given it no address yet, so nothing can reach it.
            starting.append(pod.qualified_name)
            unplaced.append(Unscheduled(pod.namespace, pod.name, f"Pending on node {pod.node_name} with no "
                                        "address yet (status.podIP empty)", pod.labels))
            continue
        if not pod.node_name:
            node = scheduler.place(template)
            if node is None:
                why = scheduler.why_not(template) if not scheduler.eligible_nodes(template) \
                    else scheduler.why_no_ports(template)
                unplaced.append(Unscheduled(pod.namespace, pod.name, why, pod.labels))
                continue
            pod = replace(pod, node_name=node.name)
        placed.append(pod)
    addresses = Addresses({n.name: n for n in nodes}, placed)
    placed = [addresses.address(pod) for pod in placed]
    expanded = [w for w, _ in inv.workloads
                if (w.kind, w.namespace, w.name) not in given_owners and (w.kind, w.namespace, w.name) not in controlled]
    names = PodNames(inv, expanded)
    if names.adopted:  # Pods of the input a StatefulSet adopts are its Pods
        placed = [replace(pod, owner=names.adopted[key]) if (key := (pod.namespace, pod.name)) in names.adopted
                  else pod for pod in placed]
    for w in expanded:
        placed.extend(expand(w, scheduler, unplaced, addresses, names))
    names.note(notes)
    if finished:
        shown = ", ".join(f"{ns}/{name}" for ns, name in finished[:5]) + (f" and {len(finished) - 5} more" if len(finished) > 5 else "")
        notes.append(Note("NM-INPUT-010", f"{len(finished)} finished Pod(s) (status.phase Succeeded or Failed) "
                          f"hold no address and take no traffic: left out of every answer ({shown})", (), ()))
    if starting:
        notes.append(Note("NM-INPUT-037", f"{len(starting)} Pod(s) are Pending on their node with no address yet "
                          "(status.phase Pending, no status.podIP: the CNI has not set up their network): left "
                          f"out of every answer until they run ({_first(starting)})", (), ()))
        waiting = set(starting)
        unplaced_elsewhere = [u for u in unplaced if u.qualified_name not in waiting]
    else:
        unplaced_elsewhere = unplaced
    if unplaced_elsewhere:
        notes.append(Note("NM-INPUT-007", f"{len(unplaced_elsewhere)} Pod(s) fit no node and stay Pending without an IP, "
                          f"in no answer: {unscheduled_summary(unplaced_elsewhere)}", (), ()))
    addresses.note(notes)
    return placed, unplaced, finished


def _first(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def unscheduled_summary(pods: Sequence[Unscheduled], shown: int = 3) -> str:
    """The unscheduled Pods grouped by reason, a few named per reason.

    >>> unscheduled_summary([Unscheduled("a", "x-0", "0/1 nodes are available"),
    ...                      Unscheduled("a", "x-1", "0/1 nodes are available")])
    '0/1 nodes are available: a/x-0, a/x-1'
    """
    by_reason: dict[str, list[str]] = {}
    for p in pods:
        by_reason.setdefault(p.reason, []).append(p.qualified_name)
    return "; ".join(f"{reason}: {', '.join(names[:shown])}"
                     + (f" and {len(names) - shown} more" if len(names) > shown else "")
                     for reason, names in by_reason.items())


class PodNames:
    """The names netmodel gives the Pods it makes for workloads, none taken twice in a namespace.

    A StatefulSet's Pods are ``<name>-<ordinal>`` in a cluster, and users name them so (``mysql-0``): they keep
    those names, as do the Pods given in the input. The Pods of every other workload have generated names in a
    cluster (``<deployment>-<template hash>-<random>``, ``<daemonset>-<random>``) that no two objects share;
    netmodel writes them ``<name>-<replica>`` (``<name>-<node>`` for a DaemonSet), which can meet a
    StatefulSet's or a given Pod's name when a Deployment and a StatefulSet share a name. Two Pods of one name
    would be one Pod to every question that names a Pod, so such a Pod is named ``<name>-<kind>-<replica>``
    instead, and a note says so (NM-INPUT-047).

    A Pod of the input can also have a StatefulSet's Pod's name (a StatefulSet that owns Pods of the input is
    not expanded at all: they are its Pods). The API server holds one Pod per name, so the StatefulSet's
    controller either adopts that Pod, when no controller owns it and its labels match the StatefulSet's
    selector (it claims such orphans as its own), or cannot make its Pod of that ordinal: the create is refused
    (AlreadyExists), and under podManagementPolicy OrderedReady, the default, the controller stops there, making
    no later ordinal either (NM-INPUT-048). Either way the input's Pod is the one of that name.
    """

    def __init__(self, inv: Inventory, workloads: Sequence[Workload]) -> None:
        # Without workloads to name, the input's Pods (150,000 in a kubectl dump) need not be gathered.
        given = {(pod.namespace, pod.name): (pod, doc.data) for pod, _, doc in inv.pods} if workloads else {}
        self._taken: set[tuple[str, str]] = set(given)
        self._renamed: list[tuple[Workload, str]] = []  # each renamed workload (once) and the name that clashed
        # Pods of the input a StatefulSet adopts ((namespace, name) -> the StatefulSet), and the StatefulSets
        # that cannot make a Pod (the StatefulSet, the input's Pod in the way, the later ordinals not made).
        self.adopted: dict[tuple[str, str], ObjectRef] = {}
        self._blocked: list[tuple[Workload, Pod, str, list[str]]] = []
        self._stateful: dict[tuple[str, str], list[str]] = {}  # each StatefulSet's (namespace, name) -> its Pods
        for w in workloads:
            if w.kind == "StatefulSet":
                names = self._stateful_names(w, given)
                self._stateful[(w.namespace, w.name)] = names
                self._taken.update((w.namespace, name) for name in names)

    def _stateful_names(self, w: Workload, given: dict[tuple[str, str], tuple[Pod, Any]]) -> list[str]:
        """The Pods StatefulSet ``w`` makes, by name: every ordinal but those a Pod of the input has the name of
        (adopted, or in the way), and under OrderedReady none after one in the way."""
        names: list[str] = []
        stopped_at: tuple[Pod, str, list[str]] | None = None
        for i in range(w.replicas or 0):
            name = f"{w.name}-{i}"
            found = given.get((w.namespace, name))
            if found is None:
                if stopped_at is None:
                    names.append(name)
                else:
                    stopped_at[2].append(name)
                continue
            pod, data = found
            controller = _controller_of(data)
            selector = w.selector if w.selector is not None else LabelSelector.of(w.template.labels)
            if controller is None and selector.matches(pod.labels):
                # Adopted (the controller claims it whatever else happens): the input's Pod is this ordinal's.
                self.adopted[(w.namespace, name)] = w.ref
            elif stopped_at is None:
                why = (f"{controller} controls it" if controller is not None
                       else f"its labels do not match the StatefulSet's selector {selector}")
                blocked: tuple[Pod, str, list[str]] = (pod, why, [])
                self._blocked.append((w, *blocked))
                if w.ordered:
                    stopped_at = blocked
        return names

    def of(self, w: Workload, suffixes: Sequence[object]) -> list[str]:
        """The names of ``w``'s Pods, one per suffix (a replica number, or a DaemonSet's node); a StatefulSet's
        leave out those it does not make (see the class)."""
        if w.kind == "StatefulSet":
            return self._stateful[(w.namespace, w.name)]  # decided in __init__
        names = [f"{w.name}-{x}" for x in suffixes]
        taken = self._taken
        clash = next((name for name in names if (w.namespace, name) in taken), None)
        if clash is not None:  # all of the workload's Pods renamed alike, not only the one that clashed
            self._renamed.append((w, clash))
            names = [f"{w.name}-{w.kind.lower()}-{x}" for x in suffixes]
            for k, name in enumerate(names):
                while (w.namespace, name) in taken:
                    name += "-x"
                names[k] = name
        taken.update((w.namespace, name) for name in names)
        return names

    def note(self, notes: list[Note]) -> None:
        """An NM-INPUT-047 note naming the workloads whose Pods were renamed, if any, and an NM-INPUT-048 note
        for each StatefulSet that cannot make a Pod, located at the StatefulSet and at the Pod in the way."""
        if self._renamed:
            clashes = [f"{w.kind} {w.namespace}/{w.name}: {clash}" for w, clash in self._renamed]
            notes.append(Note("NM-INPUT-047", f"{len(clashes)} workload(s) would give a Pod the name of another "
                              "Pod of its namespace (a StatefulSet's or one in the input): their Pods are named "
                              "<name>-<kind>-<replica> instead, as a cluster gives them names of their own "
                              f"({_first(clashes)})", (), tuple(w.source for w, _ in self._renamed[:5])))
        for w, pod, why, later in self._blocked:
            then = (f"; under podManagementPolicy OrderedReady it makes no later Pod either ({_first(later)})"
                    if later else "")
            notes.append(Note("NM-INPUT-048", f"StatefulSet {w.namespace}/{w.name} cannot create its Pod "
                              f"{pod.name}: the input's Pod {pod.namespace}/{pod.name} has that name and is not "
                              f"the StatefulSet's ({why}), and the API server refuses a second Pod of one name"
                              f"{then}; netmodel keeps the input's Pod",
                              (str(w.ref), str(ObjectRef("Pod", pod.namespace, pod.name))), (w.source, pod.source),
                              "warning"))


def _controller_of(data: Any) -> str | None:
    """``KIND NAME`` of the controller a Pod's ownerReferences name (the entry with ``controller: true``, as
    metav1.GetControllerOf reads them), or None."""
    meta = data.get("metadata") if isinstance(data, dict) else None
    refs = meta.get("ownerReferences") if isinstance(meta, dict) else None
    for r in refs if isinstance(refs, list) else ():
        if isinstance(r, dict) and r.get("controller") is True:
            return f"{r.get('kind', '')} {r.get('name', '')}"
    return None


def expand(w: Workload, scheduler: Scheduler, unplaced: list[Unscheduled], addresses: Addresses,
           pod_names: PodNames) -> Iterator[Pod]:
    """The Pods a workload makes, placed and addressed; the names of those that fit no node go to ``unplaced``."""
    t = w.template
    if w.kind == "DaemonSet":
        eligible_nodes = scheduler.eligible_nodes(t, daemon=True)
        names = pod_names.of(w, [n.name for n in eligible_nodes])
        running = scheduler.place_daemon(t)
        if len(running) < len(eligible_nodes):
            why = scheduler.why_no_ports(t)
            unplaced.extend(Unscheduled(w.namespace, name, why, t.labels)
                            for name, node in zip(names, eligible_nodes, strict=True) if node not in running)
            names = [name for name, node in zip(names, eligible_nodes, strict=True) if node in running]
        nodes = [n.name for n in running]
    else:
        names = pod_names.of(w, range(w.replicas or 0))
        replicas = len(names)  # a StatefulSet may not make them all (PodNames)
        if t.node_name:
            nodes = [t.node_name] * replicas
            for _ in range(replicas):
                scheduler.hold(t.node_name, host_port_claims(t))
        else:
            # One constraint for every replica: either each lands on a node or none does — unless the Pods take
            # host ports, when the replicas beyond the nodes with those ports free stay Pending.
            placed = scheduler.place_many(t, replicas)
            if replicas and placed[0] is None and not scheduler.eligible_nodes(t):
                why = scheduler.why_not(t)
                unplaced.extend(Unscheduled(w.namespace, name, why, t.labels) for name in names)
                return
            if None in placed:
                why = scheduler.why_no_ports(t)
                unplaced.extend(Unscheduled(w.namespace, name, why, t.labels)
                                for name, node in zip(names, placed, strict=True) if node is None)
                names = [name for name, node in zip(names, placed, strict=True) if node is not None]
            nodes = [node.name for node in placed if node is not None]
    if not names:
        return
    # Replicas share everything but their name, node and addresses: the first is made in full, the others as its
    # twins (each Pod made once, with its final addresses: 150,000 Pods at the envelope).
    if t.host_network:
        ips = [addresses.host(node) for node in nodes]
    else:
        ips = addresses.allocate_each(nodes)
    first = Pod(w.namespace, names[0], t.labels, t.annotations, nodes[0], ips[0], t.host_network, t.containers,
                w.ref, t.source, ips_allocated=not t.host_network, service_account=t.service_account)
    yield first
    twin = first.twin
    for k in range(1, len(names)):
        yield twin(names[k], nodes[k], ips[k])


# -- addresses -----------------------------------------------------------------------------------------------------


class _Pool:
    """The free addresses of one node pod range, handed out in order, skipping addresses already taken.

    Addresses are counted as integers and only the one handed out becomes an address object: a range of a
    /16 hands out thousands in a row."""

    __slots__ = ("last", "make", "next", "taken")

    def __init__(self, cidr: IPNetwork, taken: set[int]) -> None:
        self.next = int(cidr.network_address) + 2  # the first host address is usually the CNI gateway
        self.last = int(cidr.broadcast_address) - (1 if cidr.version == 4 else 0)
        self.make = ipaddress.IPv4Address if cidr.version == 4 else ipaddress.IPv6Address
        self.taken = taken  # the addresses of this IP version taken so far, shared by every range of it

    def take(self) -> IPAddress | None:
        n, taken = self.next, self.taken
        while n in taken:
            n += 1
        if n > self.last:
            self.next = n
            return None
        self.next = n + 1
        taken.add(n)
        return self.make(n)


class Addresses:
    """Hands out Pod addresses: hostNetwork Pods have their node's, others the next free address of each of
    their node's pod ranges (skipping every address a Pod of the input holds), counted for the notes."""

    def __init__(self, nodes: dict[str, Node], given: Iterable[Pod]) -> None:
        self.nodes = nodes
        self._taken: dict[int, set[int]] = {4: set(), 6: set()}
        for pod in given:
            if not pod.host_network:
                for ip in pod.ips:
                    self._taken[ip.version].add(int(ip))
        self._pools: dict[IPNetwork, _Pool] = {}  # keyed by range, so nodes that (wrongly) share one share its pool
        self._node_pools: dict[str, list[_Pool]] = {}  # a node's pools, looked up once per node
        self.allocated = self.exhausted = 0

    def _pool(self, cidr: IPNetwork) -> _Pool:
        pool = self._pools.get(cidr)
        if pool is None:
            pool = self._pools[cidr] = _Pool(cidr, self._taken[cidr.version])
        return pool

    def host(self, node_name: str) -> tuple[IPAddress, ...]:
        """A hostNetwork Pod's addresses on ``node_name``."""
        node = self.nodes[node_name]
        return node.internal_ips or node.ips

    def allocate(self, node_name: str) -> tuple[IPAddress, ...]:
        """The next free address of each pod range of ``node_name``."""
        return self.allocate_each([node_name])[0]

    def allocate_each(self, node_names: Sequence[str]) -> list[tuple[IPAddress, ...]]:
        """:meth:`allocate` for each of ``node_names`` in turn (a workload's replicas)."""
        node_pools = self._node_pools
        out: list[tuple[IPAddress, ...]] = []
        exhausted = 0
        for node_name in node_names:
            pools = node_pools.get(node_name)
            if pools is None:
                pools = node_pools[node_name] = [self._pool(cidr) for cidr in self.nodes[node_name].pod_cidrs]
            if len(pools) == 1:  # the usual single-stack node
                ip = pools[0].take()
                if ip is None:
                    exhausted += 1
                    out.append(())
                else:
                    out.append((ip,))
                continue
            ips: list[IPAddress] = []
            for pool in pools:
                ip = pool.take()
                if ip is None:
                    exhausted += 1
                else:
                    ips.append(ip)
            out.append(tuple(ips))
        self.exhausted += exhausted
        self.allocated += len(node_names)
        return out

    def address(self, pod: Pod) -> Pod:
        """``pod`` with its addresses: given ones are left alone."""
        if pod.host_network:
            return replace(pod, ips=self.host(pod.node_name))
        if pod.ips:
            return pod
        return replace(pod, ips=self.allocate(pod.node_name), ips_allocated=True)

    def note(self, notes: list[Note]) -> None:
        """The notes on what was allocated and what could not be."""
        if self.allocated:
            notes.append(Note("NM-INPUT-004", f"{self.allocated} Pod(s) had no status.podIP: addresses allocated "
                              "from their node's pod CIDR", (), ()))
        if self.exhausted:
            notes.append(Note("NM-INPUT-008", f"{self.exhausted} Pod address(es) could not be allocated: the "
                              "node's pod CIDR is full", (), ()))


__all__ = ["DAEMONSET_TOLERATIONS", "Addresses", "Scheduler", "Taint", "eligible", "expand", "owner_of",
           "place_pods", "unscheduled_summary"]
