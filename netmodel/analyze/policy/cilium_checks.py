"""Checks of Cilium policies (docs/checks.md):

* NM-POL-015 (warning) — the cluster's CNI is not Cilium, so nothing enforces its CiliumNetworkPolicies and
  CiliumClusterwideNetworkPolicies: netmodel does not evaluate them either.
* NM-POL-016 (warning) — a Cilium policy whose endpointSelector selects no Pod.
* NM-POL-012 (warning) — a host policy (CiliumClusterwideNetworkPolicy with nodeSelector) whose nodeSelector
  selects no node, while Cilium's host firewall enforces host policies.
"""

from __future__ import annotations

from collections.abc import Iterator

from netmodel.analyze.findings import Finding, Severity
from netmodel.analyze.policy.cilium import enforced
from netmodel.analyze.reach.compiled_cluster import compiled_cluster_of
from netmodel.compile.context import CheckContext
from netmodel.model.cilium import CiliumPolicy
from netmodel.model.cilium_host import enforced as host_enforced
from netmodel.model.cilium_host import host_specs, selects


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
        if not enforced(compiled.topology) or cilium.selected.get(policy) or \
                all(s.endpoint_selector is None for s in policy.specs):
            continue
        yield Finding(
            "NM-POL-016", Severity.WARNING, "pod-to-pod",
            f"{policy.label} selects no Pod (its endpointSelector matches no Pod that is not hostNetwork"
            + (f" in namespace {policy.namespace}" if policy.namespace else "")
            + "); check its labels (a CiliumNetworkPolicy selects Pods of its own namespace only)",
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


CILIUM_CHECKS = (check_cilium_enforced, check_cilium_policies_select_pods, check_host_policies_select_nodes)

__all__ = ["CILIUM_CHECKS", "check_cilium_enforced", "check_cilium_policies_select_pods",
           "check_host_policies_select_nodes"]
