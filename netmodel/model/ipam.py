"""Which address range a Pod's IP must fall in: one rule, read by the checks (NM-P2P-005) and documented in
docs/check-semantics.md.

* A node whose ``spec.podCIDR(s)`` the input gives binds its Pods: the node-local IPAM (host-local, as Flannel,
  kubenet and most CNIs use it) hands out addresses from that range only.
* A node whose range netmodel made up (the implicit node, a node only a Pod names, a Node without
  ``spec.podCIDR``) binds nothing: the input never said where its Pods' addresses come from, so a given Pod IP
  is judged against the cluster's pod ranges only.
"""

from __future__ import annotations

from netmodel.model.objects import Cluster, Node
from netmodel.sets import IPNetwork


def pod_ranges_of(cluster: Cluster, node: Node) -> tuple[IPNetwork, ...]:
    """The ranges the IP of a Pod on ``node`` must fall in (see the module docstring)."""
    if node.pod_cidrs and not node.pod_cidrs_allocated:
        return node.pod_cidrs
    return cluster.pod_cidrs


def judged_per_node(node: Node) -> bool:
    """Whether ``node``'s own range binds its Pods (else they are judged against the cluster's ranges)."""
    return bool(node.pod_cidrs) and not node.pod_cidrs_allocated


__all__ = ["judged_per_node", "pod_ranges_of"]
