"""Pod classes: Pods that no NetworkPolicy can tell apart, analyzed once per class instead of once per Pod.

Two Pods fall in one class when they share namespace, labels, container ports (name, number, protocol),
hostNetwork, whether they have an address at all, and — because netmodel lets ``ipBlock`` match Pod IPs — the
same membership in every ``ipBlock`` of every policy; with Calico policies, or Cilium selectors naming the account,
also their service account. Selectors and named ports only see those fields, so every policy decision about a Pod is
a decision about its class. The node a Pod runs on is *not* part of the class:
node firewalls are applied per path, on top of class-level policy results.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from netmodel.analyze.policy.bits import bitset, iter_members
from netmodel.analyze.policy.labels import LabelIndex
from netmodel.model.labels import Labels
from netmodel.model.objects import IPBlock, Pod
from netmodel.model.read_kubernetes import NAMESPACE_NAME_LABEL
from netmodel.model.topology import Topology
from netmodel.sets import AddressSet

# (name, number, protocol) of each declared container port, sorted: all a named port or a listener needs.
PortSignature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class PodClass:
    """Pods indistinguishable to NetworkPolicy. ``pods`` are positions in ``topology.pods``."""

    id: int
    namespace: str
    labels: Labels
    ports: PortSignature
    host_network: bool
    addressed: bool  # False for Pending Pods without an IP: they neither send nor receive
    pods: tuple[int, ...]
    # The Pods' service account when a policy could match it (Calico's serviceAccountSelector and serviceAccounts,
    # docs/reachability.md "Calico service accounts"; Cilium's io.cilium.k8s.policy.serviceaccount key); "" when no
    # policy can tell.
    service_account: str = ""

    @property
    def subject_to_policy(self) -> bool:
        """hostNetwork Pods share the node's network namespace, which NetworkPolicy does not govern."""
        return not self.host_network

    def port_numbers(self, name: str, protocol: int) -> list[int]:
        """A named port resolved on this class (by name and protocol), as Kubernetes does per Pod.

        A hostNetwork Pod resolves none: its address is its node's, and the CNIs resolve named ports on the Pods
        they wire (Calico's named-port IP sets hold workload endpoints only; Cilium's named ports are its
        endpoints'), so a rule's named port never matches traffic to a node address (Kubernetes leaves
        NetworkPolicy and hostNetwork Pods undefined; the lab's kernel agrees, tests/emulate/test_emulate.py)."""
        if self.host_network:
            return []
        return [number for n, number, proto in self.ports if n == name and proto == protocol]

    def listens(self, protocol: int, port: int) -> bool:
        """Declared container ports are the listeners; a class declaring none may listen anywhere."""
        return listens_on(self.ports, protocol, port)


def port_signature(pod: Pod) -> PortSignature:
    """The Pod's declared ports as sorted (name, number, protocol) triples: Pods with equal ones resolve
    named ports alike."""
    return tuple(sorted({(p.name, p.port, p.protocol) for p in pod.ports}))


def listens_on(ports: PortSignature, protocol: int, port: int) -> bool:
    """Whether a Pod declaring ``ports`` (a :func:`port_signature`) listens on ``protocol``/``port``.

    The one rule for the engine and the checks: declared containerPorts are the listeners, and a Pod that
    declares none may listen anywhere (containerPort is informational in Kubernetes).

    >>> listens_on((), 6, 8080), listens_on((("http", 80, 6),), 6, 8080), listens_on((("http", 80, 6),), 6, 80)
    (True, False, True)
    """
    if not ports:
        return True
    return any(proto == protocol and number == port for _, number, proto in ports)


class PodClasses:
    """The partition of a topology's Pods into classes, with label indexes over the classes."""

    def __init__(self, topology: Topology, ip_blocks: Iterable[IPBlock] = ()) -> None:
        self.topology = topology
        blocks = list(dict.fromkeys(ip_blocks))
        self.ip_blocks: tuple[IPBlock, ...] = tuple(blocks)
        in_blocks = [self._pods_in(b.addresses) for b in blocks]
        signature: dict[int, list[int]] = {}
        for block_id, pods in enumerate(in_blocks):
            for position in iter_members(pods):
                signature.setdefault(position, []).append(block_id)
        # Calico selectors see a Pod's service account (a label Calico adds, and the account's own labels), and so
        # do Cilium selectors naming io.cilium.k8s.policy.serviceaccount (a label Cilium adds).
        accounts = bool(topology.calico_policies) or \
            any(p.selects_by_service_account for p in topology.cilium_policies)
        # (namespace, labels, ports, hostNetwork, addressed, ipBlocks matching, service account) -> positions;
        # a class's id is the order its first Pod comes in.
        groups: dict[tuple[str, Labels, PortSignature, bool, bool, tuple[int, ...], str], list[int]] = {}
        class_of_pod: list[int] = [0] * len(topology.pods)
        # A workload's Pods come in a run and share their labels and ports objects: a Pod that shares them (and
        # the rest of the key) with the Pod before it joins that Pod's class without its key being built.
        before: Pod | None = None
        before_blocks: list[int] | None = None
        members: list[int] = []
        class_id = 0
        for position, pod in enumerate(topology.pods):
            blocks_in = signature.get(position)
            if before is not None and pod.alike is before.alike \
                    and blocks_in == before_blocks and pod.namespace == before.namespace \
                    and pod.host_network == before.host_network and bool(pod.ips) == bool(before.ips) \
                    and (not accounts or pod.service_account == before.service_account):
                members.append(position)
                class_of_pod[position] = class_id
                continue
            key = (pod.namespace, pod.labels, port_signature(pod), pod.host_network, bool(pod.ips),
                   tuple(blocks_in or ()), pod.service_account if accounts else "")
            found = groups.get(key)
            if found is None:
                found = groups[key] = []
            members = found
            class_id = class_of_pod[found[0]] if found else len(groups) - 1
            members.append(position)
            class_of_pod[position] = class_id
            before, before_blocks = pod, blocks_in
        self.classes: tuple[PodClass, ...] = tuple(
            PodClass(i, key[0], key[1], key[2], key[3], key[4], tuple(positions), key[6])
            for i, (key, positions) in enumerate(groups.items()))
        self.class_of_pod: list[int] = class_of_pod
        # Which classes each ipBlock matches (as a peer), over class ids.
        self._block_classes = {b: bitset({self.class_of_pod[p] for p in iter_members(pods)})
                               for b, pods in zip(blocks, in_blocks)}

    def _pods_in(self, addresses: AddressSet) -> int:
        """Pods (not hostNetwork: those are seen with the node's address) with an address in the set."""
        out = 0
        for family, ranges in ((4, addresses.v4), (6, addresses.v6)):
            keys, positions = self._sorted_ips[family]
            for lo, hi in ranges:
                for i in range(bisect.bisect_left(keys, lo), bisect.bisect_right(keys, hi)):
                    out |= 1 << positions[i]
        return out

    @cached_property
    def _sorted_ips(self) -> dict[int, tuple[list[int], list[int]]]:
        entries: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for position, pod in enumerate(self.topology.pods):
            if not pod.host_network:
                for ip in pod.ips:
                    entries[ip.version].append((int(ip), position))
        out = {}
        for family, items in entries.items():
            items.sort()
            out[family] = ([k for k, _ in items], [p for _, p in items])
        return out

    # -- indexes over classes ----------------------------------------------------------------------------------
    @cached_property
    def pod_labels(self) -> LabelIndex:
        """A label index over the classes' labels."""
        return LabelIndex([c.labels for c in self.classes])

    @cached_property
    def namespace_labels(self) -> LabelIndex:
        """Each class indexed by the labels of its namespace (incl. the implicit metadata.name label)."""
        by_name = self.topology.namespace_by_name
        return LabelIndex([by_name[c.namespace].labels if c.namespace in by_name
                           else Labels({NAMESPACE_NAME_LABEL: c.namespace}) for c in self.classes])

    @cached_property
    def in_namespace(self) -> dict[str, int]:
        """The classes of each namespace, as a bitset by namespace name."""
        out: dict[str, int] = {}
        for c in self.classes:
            out[c.namespace] = out.get(c.namespace, 0) | (1 << c.id)
        return out

    @cached_property
    def policy_subjects(self) -> int:
        """Classes NetworkPolicy applies to and can match as peers: addressed, not hostNetwork."""
        return bitset(c.id for c in self.classes if c.subject_to_policy and c.addressed)

    def block_classes(self, block: IPBlock) -> int:
        """The classes with a Pod inside ``block``, as a bitset."""
        return self._block_classes.get(block, 0)

    def class_of(self, pod: Pod) -> PodClass:
        """The class of ``pod``."""
        return self.classes[self.class_of_pod[self.topology.pod_position[(pod.namespace, pod.name)]]]

    @cached_property
    def class_at(self) -> list[int]:
        """For each position in ``topology.pods``, the id of the class :meth:`class_of` gives that Pod, without
        looking it up by name: its own class, unless another Pod has its namespace and name, since :meth:`class_of`
        finds Pods by name (placement.PodNames names no two Pods of a load alike, NM-INPUT-047 and 048; a topology
        built otherwise may)."""
        pods = self.topology.pods
        position = self.topology.pod_position
        if len(position) == len(pods):
            return self.class_of_pod
        return [self.class_of_pod[position[(p.namespace, p.name)]] for p in pods]

