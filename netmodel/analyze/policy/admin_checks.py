"""Checks of AdminNetworkPolicy and BaselineAdminNetworkPolicy objects (docs/checks.md):

* NM-POL-005 (warning) — two AdminNetworkPolicies of one priority can both match a connection: the API leaves
  their order undefined ("the implementation can apply any of the matching policies"), so the answer may differ
  between implementations; netmodel takes them by name.
* NM-POL-006 (warning) — an AdminNetworkPolicy or the BaselineAdminNetworkPolicy selects no Pod.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from netmodel.analyze.findings import Finding, Severity
from netmodel.analyze.policy.tiers import TierRule
from netmodel.analyze.reach.compiled_cluster import compiled_cluster_of
from netmodel.compile.context import CheckContext
from netmodel.model.objects import AdminNetworkPolicy


def _overlap(a: list[TierRule], b: list[TierRule]) -> bool:
    """Some rule of ``a`` and some rule of ``b`` name a common peer (a Pod class or an address)."""
    for x in a:
        for y in b:
            if x.peer_classes & y.peer_classes or x.peer_addresses & y.peer_addresses:
                return True
    return False


def check_equal_priorities(ctx: CheckContext) -> Iterator[Finding]:
    """NM-POL-005: admin policies of equal priority that can match the same connections."""
    tier = compiled_cluster_of(ctx).policies.admin
    by_priority: dict[int, list[AdminNetworkPolicy]] = {}
    for policy in tier.policies:
        by_priority.setdefault(policy.priority or 0, []).append(policy)
    for priority, policies in sorted(by_priority.items()):
        for first, second in combinations(policies, 2):
            shared = tier.selected[first] & tier.selected[second]
            directions = [d for d in ("ingress", "egress") if shared and _overlap(
                [r for r in tier.compiled[first] if r.direction == d],
                [r for r in tier.compiled[second] if r.direction == d])]
            if not directions:
                continue
            yield Finding(
                "NM-POL-005", Severity.WARNING, "pod-to-pod",
                f"AdminNetworkPolicies {first.name} and {second.name} both have priority {priority} and rules "
                f"that can match the same {' and '.join(directions)} connections of the same Pods: the API leaves "
                f"their order undefined (an implementation may apply either), netmodel applies {first.name} first "
                f"(by name). Give them different priorities",
                (str(first.ref), str(second.ref)), (first.source, second.source))


def check_admin_policies_select_pods(ctx: CheckContext) -> Iterator[Finding]:
    """NM-POL-006: an AdminNetworkPolicy or BaselineAdminNetworkPolicy that selects no Pod."""
    engine = compiled_cluster_of(ctx).policies
    for tier in (engine.admin, engine.baseline):
        for policy in tier.policies:
            if tier.selected[policy]:
                continue
            yield Finding(
                "NM-POL-006", Severity.WARNING, "pod-to-pod",
                f"{policy.label} selects no Pod (its subject matches no Pod that is not hostNetwork); check the "
                f"subject's namespace and Pod selectors", (str(policy.ref),), (policy.source,))


ADMIN_CHECKS = (check_equal_priorities, check_admin_policies_select_pods)

__all__ = ["ADMIN_CHECKS", "check_admin_policies_select_pods", "check_equal_priorities"]
