"""Where Pod addresses come from, and so which range a Pod's IP must fall in: one rule, read by the checks
(NM-P2P-001/002/005) and documented in docs/check-semantics.md.

* Node-local IPAM (host-local, as Flannel, kubenet and most CNIs use it) hands a node's Pods addresses from the
  node's ``spec.podCIDR(s)`` only, so a range the input gives for a node binds the Pods on it.
* Calico IPAM (``calico-ipam``, the default of most Calico installs) ignores ``spec.podCIDR``: it takes blocks
  (/26 by default) of its IPPools and gives them to nodes on demand, and a node borrows addresses from another
  node's block when its own are used up (https://docs.tigera.io/calico/latest/networking/ipam/get-started-ip-addresses).
  With Calico (``cni.plugin: calico``) or any IPPool in the input, no node range binds: a Pod IP must lie in one
  of the cluster's pod ranges, which include every IPPool's CIDR.
* Cilium's default IPAM, cluster scope (``cluster-pool``), ignores ``spec.podCIDR`` too: the Cilium operator
  gives each node ranges of its own pool and records them in the node's CiliumNode, not the Node
  (https://docs.cilium.io/en/stable/network/concepts/ipam/ : "CIDR Configuration: Cilium" for cluster scope,
  "Kubernetes" only for ``ipam: kubernetes``). With ``cni.plugin: cilium`` no node range binds either; a
  cluster that runs Cilium with ``ipam: kubernetes`` loses only the per-node check NM-P2P-005.
* A range netmodel made up (the implicit node, a node only a Pod names, a Node without ``spec.podCIDR``) binds
  nothing either: the input never said where its Pods' addresses come from.
"""

from __future__ import annotations

from netmodel.model.objects import Node
from netmodel.model.topology import Topology
from netmodel.sets import IPNetwork


def node_ranges_bind(topology: Topology) -> bool:
    """Whether the cluster's IPAM draws Pod addresses from the nodes' ``spec.podCIDR(s)`` (not Calico IPAM, not
    Cilium's cluster-pool IPAM)."""
    return not topology.ip_pools and topology.cluster.cni.plugin not in ("calico", "cilium")


def judged_per_node(topology: Topology, node: Node) -> bool:
    """Whether ``node``'s own range binds its Pods (else they are judged against the cluster's ranges)."""
    return bool(node.pod_cidrs) and not node.pod_cidrs_allocated and node_ranges_bind(topology)


def pod_ranges_of(topology: Topology, node: Node) -> tuple[IPNetwork, ...]:
    """The ranges the IP of a Pod on ``node`` must fall in (see the module docstring)."""
    return node.pod_cidrs if judged_per_node(topology, node) else topology.cluster.pod_cidrs


__all__ = ["judged_per_node", "node_ranges_bind", "pod_ranges_of"]
