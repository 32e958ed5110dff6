"""Cilium policies as nftables lines for the Pod chains of :mod:`netmodel.emulate.nft`, written from the model alone.

Like the rest of the emulation this is an oracle for the solver, so it asks nothing of the solver's policy
classes: selectors are matched on each Pod's labels as Cilium sees the endpoint (the Pod's labels, its
namespace under ``io.kubernetes.pod.namespace``, the namespace's labels under
``io.cilium.k8s.namespace.labels.``), and peers become addresses (docs/reachability.md, "Cilium policies"):

* deny rules (``ingressDeny``/``egressDeny``) ``drop`` right after the AdminNetworkPolicy chain, before any allow;
* allow rules ``accept`` next to the NetworkPolicy rules;
* the Pod's chain ends in ``drop`` when a NetworkPolicy isolates it or a Cilium rule with a section in that
  direction selects it (``enableDefaultDeny`` false excepted).

Entities: ``all`` every address; ``world`` every address outside the cluster (netmodel.compile.addresses, who
owns an address); ``cluster`` the Pods and the cluster's addresses; ``remote-node`` the nodes; ``kube-apiserver``
the control-plane nodes and Service default/kubernetes's endpoints; the others nothing (``host``: the Pod's own
node is accepted before any rule). CIDRs match outside addresses only.
"""

from __future__ import annotations

from collections.abc import Iterator

from netmodel.compile.addresses import AddressBook
from netmodel.emulate.nft_common import PortLines, pod_addresses, policy_pods
from netmodel.model.cilium import CiliumPolicy, CiliumRule, CiliumSpec
from netmodel.model.cilium_host import endpoint_labels
from netmodel.model.labels import LabelSelector
from netmodel.model.objects import Pod
from netmodel.model.read_cilium import normalize_key
from netmodel.model.topology import Topology
from netmodel.sets import ALL_ADDRESSES, AddressSet, parse_network


def enforced(topology: Topology) -> bool:
    """Cilium enforces the policies when the CNI is Cilium or not said (``other``)."""
    return topology.cluster.cni.plugin in ("cilium", "other")


class CiliumLines:
    """The Cilium rules of one topology, as nftables verdict lines per Pod and direction."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.policies = topology.cilium_policies if enforced(topology) else ()
        book = AddressBook(topology)
        self.cluster = book.cluster
        self.world = ALL_ADDRESSES - book.cluster
        self.nodes = book.node_addresses
        self.labels = {id(p): endpoint_labels(topology, p.namespace, p.labels, p.service_account)
                       for p in policy_pods(topology)}

    def _matching(self, selector: LabelSelector) -> list[Pod]:
        return [p for p in policy_pods(self.topology) if selector.matches(self.labels[id(p)])]

    def _entity(self, name: str) -> AddressSet:
        if name == "all":
            return ALL_ADDRESSES
        if name in ("world", "world-ipv4", "world-ipv6"):
            family = {"world": ALL_ADDRESSES, "world-ipv4": AddressSet.of_networks([parse_network("0.0.0.0/0")]),
                      "world-ipv6": AddressSet.of_networks([parse_network("::/0")])}[name]
            return self.world & family
        if name == "cluster":
            return self.cluster | pod_addresses(policy_pods(self.topology))
        if name == "remote-node":
            return self.nodes
        if name == "kube-apiserver":
            out = AddressSet.of_networks(ip for n in self.topology.nodes if n.is_control_plane for ip in n.ips)
            for s in self.topology.endpoint_slices:
                if s.namespace == "default" and s.service_name == "kubernetes":
                    out = out | AddressSet.of_networks(ip for e in s.endpoints for ip in e.addresses)
            return out
        return AddressSet()

    def peers(self, rule: CiliumRule) -> AddressSet | None:
        """The addresses a rule's peers stand for; None: every peer (no peer field, but ports)."""
        if rule.wildcard:
            return None
        out = AddressSet()
        for sel in rule.endpoints or ():
            out = out | pod_addresses(self._matching(sel))
        for name in rule.entities or ():
            out = out | self._entity(name)
        for cidr in rule.cidrs or ():
            out = out | ((AddressSet.of_networks([cidr.cidr]) - AddressSet.of_networks(cidr.excepts)) & self.world)
        for sel in rule.nodes or ():
            normalized = LabelSelector.of({normalize_key(k): v for k, v in sel.match_labels},
                                          list(sel.match_expressions))
            out = out | AddressSet.of_networks(ip for n in self.topology.nodes if normalized.matches(n.labels)
                                               for ip in n.ips)
        for ref in rule.services or ():
            for svc in self.topology.services:
                if not ref.selects(svc):
                    continue
                if svc.selector:
                    chosen = LabelSelector.of(dict(svc.selector.items()))
                    out = out | pod_addresses([p for p in policy_pods(self.topology) if p.namespace == svc.namespace
                                            and chosen.matches(p.labels)])
                else:
                    for s in self.topology.endpoint_slices:
                        if s.namespace == svc.namespace and s.service_name == svc.name:
                            out = out | (AddressSet.of_networks(ip for e in s.endpoints for ip in e.addresses)
                                         & self.world)
        return out

    def _selecting(self, pod: Pod) -> Iterator[tuple[int, CiliumPolicy, int, CiliumSpec]]:
        labels = self.labels.get(id(pod))
        if labels is None:
            return
        for position, policy in enumerate(self.policies):
            for number, spec in enumerate(policy.specs):
                if spec.endpoint_selector is not None and spec.endpoint_selector.matches(labels):
                    yield position, policy, number, spec

    def touches(self, pod: Pod, direction: str) -> bool:
        """Whether some Cilium rule selects ``pod`` in ``direction``."""
        return any((spec.has_ingress if direction == "ingress" else spec.has_egress)
                   for _, _, _, spec in self._selecting(pod))

    def default_deny(self, pod: Pod, direction: str) -> bool:
        """Whether a Cilium rule puts ``pod`` in default deny for ``direction``."""
        for _, _, _, spec in self._selecting(pod):
            has = spec.has_ingress if direction == "ingress" else spec.has_egress
            deny = spec.default_deny_ingress if direction == "ingress" else spec.default_deny_egress
            if has and deny:
                return True
        return False

    def lines(self, pod: Pod, direction: str, deny: bool, port_lines: PortLines) -> Iterator[str]:
        """The ``drop`` (deny rules) or ``accept`` (allow rules) lines of every Cilium rule selecting ``pod``."""
        field = "saddr" if direction == "ingress" else "daddr"
        verdict = "drop" if deny else "accept"
        for position, _, number, spec in self._selecting(pod):
            for rule in spec.rules:
                if rule.direction != direction or rule.deny != deny:
                    continue
                note = f'comment "cilium {position} spec {number} {rule.section} {rule.index}"'
                yield from port_lines(pod, direction, field, self.peers(rule), rule.ports, verdict, note)


__all__ = ["CiliumLines", "PortLines", "endpoint_labels", "enforced"]
