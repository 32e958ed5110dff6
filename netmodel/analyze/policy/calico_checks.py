"""Checks of Calico policies (docs/checks.md):

* NM-POL-014 (warning) — a Calico NetworkPolicy or GlobalNetworkPolicy that applies to no Pod: its selector, its
  namespace (or namespaceSelector) and its serviceAccountSelector together match no Pod that is not hostNetwork
  (:func:`netmodel.analyze.policy.calico.subject_selector`). A mistyped label or account name leaves the
  traffic it was written for unfiltered; a policy meant for host endpoints applies to nothing netmodel models.
"""

from __future__ import annotations

from collections.abc import Iterator

from netmodel.analyze.findings import Finding, Severity
from netmodel.analyze.reach.compiled_cluster import compiled_cluster_of
from netmodel.compile.context import CheckContext


def check_calico_policies_apply(ctx: CheckContext) -> Iterator[Finding]:
    """NM-POL-014: a Calico policy that applies to no Pod."""
    compiled = compiled_cluster_of(ctx)
    tiers = compiled.policies.calico
    if tiers is None:
        return
    for policy in compiled.topology.calico_policies:
        if tiers.subjects(policy):
            continue
        parts = ["selector"] + (["namespace"] if policy.namespace else []) + \
            (["namespaceSelector"] if policy.namespace_selector is not None else []) + \
            (["serviceAccountSelector"] if policy.service_account_selector is not None else [])
        yield Finding(
            "NM-POL-014", Severity.WARNING, "pod-to-pod",
            f"{policy.label} applies to no Pod: its {' AND '.join(parts)} match no Pod that is not hostNetwork, "
            "so its rules filter nothing netmodel models (host endpoints are not modelled); check its labels and "
            "names",
            (str(policy.ref),), (policy.source,))


CALICO_CHECKS = (check_calico_policies_apply,)

__all__ = ["CALICO_CHECKS", "check_calico_policies_apply"]
