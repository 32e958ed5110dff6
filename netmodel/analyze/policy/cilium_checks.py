"""Checks of Cilium policies (docs/checks.md):

* NM-POL-015 (warning) — the cluster's CNI is not Cilium, so nothing enforces its CiliumNetworkPolicies and
  CiliumClusterwideNetworkPolicies: netmodel does not evaluate them either.
* NM-POL-016 (warning) — a Cilium policy whose endpointSelector selects no Pod.
* NM-POL-012 (warning) — a host policy (CiliumClusterwideNetworkPolicy with nodeSelector) whose nodeSelector
  selects no node, while Cilium's host firewall enforces host policies.
* NM-POL-013 (warning) — in a Cilium cluster, a NetworkPolicy ``ipBlock`` or a Cilium CIDR rule that covers Pod or
  node addresses: Cilium's CIDR rules never match those (docs/reachability.md, "Cilium policies"), so the rule
  does nothing for them.
"""

from __future__ import annotations

from collections.abc import Iterator

from netmodel.analyze.findings import Finding, Severity
from netmodel.analyze.policy.cilium import cidrs_outside_only, enforced
from netmodel.analyze.reach.compiled_cluster import compiled_cluster_of
from netmodel.compile.context import CheckContext
from netmodel.errors import SourceSpan
from netmodel.model.cilium import CiliumPolicy
from netmodel.model.cilium_host import enforced as host_enforced
from netmodel.model.cilium_host import host_specs, selects
from netmodel.sets import AddressSet


def check_cilium_enforced(ctx: CheckContext) -> Iterator[Finding]:
    """NM-POL-015: Cilium policies in a cluster whose CNI is not Cilium."""
    t = compiled_cluster_of(ctx).topology
    if not t.cilium_policies or enforced(t):
        return
    yield Finding(
        "NM-POL-015", Severity.WARNING, "pod-to-pod",
        f"the Cluster's CNI is {t.cluster.cni.plugin}, which does not enforce Cilium policies: "
        f"{len(t.cilium_policies)} CiliumNetworkPolicy/CiliumClusterwideNetworkPolicy object(s) are not evaluated "
        f"({', '.join(p.label for p in t.cilium_policies[:3])}{', ...' if len(t.cilium_policies) > 3 else ''}). "
        "Set cni.plugin: cilium in the Cluster if Cilium runs here, or remove them",
        tuple(p.ref for p in t.cilium_policies), tuple(p.source for p in t.cilium_policies)
        + (t.cluster.cni.source,))


def check_cilium_policies_select_pods(ctx: CheckContext) -> Iterator[Finding]:
    """NM-POL-016: a Cilium policy that selects no Pod."""
    compiled = compiled_cluster_of(ctx)
    cilium = compiled.policies.cilium
    for policy in compiled.topology.cilium_policies:
        # A subject naming a key netmodel has no value for (a reserved identity, a cluster name) is NM-INPUT-045's.
        if not enforced(compiled.topology) or cilium.selected.get(policy) or \
                all(s.endpoint_selector is None or s.subject_unjudged for s in policy.specs):
            continue
        yield Finding(
            "NM-POL-016", Severity.WARNING, "pod-to-pod",
            f"{policy.label} selects no Pod (its endpointSelector matches no Pod that is not hostNetwork"
            + (f" in namespace {policy.namespace}); check its labels (a CiliumNetworkPolicy selects Pods of its own "
               "namespace only)" if policy.namespace else "); check its labels"),
            (policy.ref,), (policy.source,))


def check_host_policies_select_nodes(ctx: CheckContext) -> Iterator[Finding]:
    """NM-POL-012: a host policy whose nodeSelector selects no node (it protects nothing)."""
    t = ctx.topology
    if not host_enforced(t):
        return  # NM-INPUT-041 says they do nothing
    selecting: dict[CiliumPolicy, bool] = {}
    for policy, spec in host_specs(t):
        selecting[policy] = selecting.get(policy, False) or any(selects(spec, n) for n in t.nodes)
    for policy, some in selecting.items():
        if some:
            continue
        yield Finding(
            "NM-POL-012", Severity.WARNING, "ports",
            f"{policy.label} is a host policy whose nodeSelector selects no node, so it filters nothing; check the "
            "node labels it names (a nodeSelector matches the Node's metadata.labels)",
            (policy.ref,), (policy.source,))


def check_cidrs_covering_the_cluster(ctx: CheckContext) -> Iterator[Finding]:
    """NM-POL-013: an ipBlock or Cilium CIDR rule over Pod or node addresses, which Cilium's CIDR rules never
    match."""
    t = ctx.topology
    if not cidrs_outside_only(t):
        return
    book = ctx.addresses
    inside = {"Pod addresses": book.pod_ranges | AddressSet.of_networks(
        ip for p in t.pods if not p.host_network for ip in p.ips), "node addresses": book.node_addresses}
    written: list[tuple[str, str, str, AddressSet, SourceSpan]] = []
    for np in t.network_policies:
        for direction, rules in (("ingress", np.ingress), ("egress", np.egress)):
            for i, np_rule in enumerate(rules):
                for peer in np_rule.peers or ():
                    if peer.ip_block is not None:
                        written.append((f"NetworkPolicy {np.qualified_name} {direction} rule {i + 1}", str(np.ref),
                                        f"ipBlock {peer.ip_block.cidr}", peer.ip_block.addresses, peer.source))
    for policy in t.cilium_policies:
        for spec in policy.specs:
            for rule in spec.rules:
                for cidr in rule.cidrs or ():
                    block = AddressSet.of_networks([cidr.cidr]) - AddressSet.of_networks(cidr.excepts)
                    written.append((f"{policy.label} {rule.label}", policy.ref, f"CIDR {cidr.cidr}", block,
                                    rule.source))
    for where, ref, what, block, span in written:
        covered = [name for name, addresses in inside.items() if not block.isdisjoint(addresses)]
        if not covered:
            continue
        yield Finding(
            "NM-POL-013", Severity.WARNING, "pod-to-pod",
            f"{where}: {what} covers {' and '.join(covered)}, which Cilium's CIDR rules never match (an ipBlock is "
            "one too), so it allows or denies none of them. Select Pods with podSelector/namespaceSelector (Cilium: "
            "fromEndpoints/toEndpoints, or the entities cluster, host, remote-node)", (ref,), (span,))


CILIUM_CHECKS = (check_cilium_enforced, check_cilium_policies_select_pods, check_host_policies_select_nodes,
                 check_cidrs_covering_the_cluster)

__all__ = ["CILIUM_CHECKS", "check_cidrs_covering_the_cluster", "check_cilium_enforced",
           "check_cilium_policies_select_pods", "check_host_policies_select_nodes"]
