"""How much one input may expand to, checked before anything is expanded.

A few characters of input can ask for a billion Pods (``replicas: 1000000000``), and expanding them runs until
the machine runs out of memory. The limit is far above what Kubernetes supports (its scalability envelope is
150,000 Pods and 5,000 nodes per cluster), so no real cluster reaches it; an input that does is refused at the
field that crosses it, before any Pod is made.

The count is an upper bound, taken before Pods are placed: every Pod given, plus each workload's ``replicas``
(``parallelism`` for Jobs and CronJobs), plus one Pod per node for each DaemonSet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from netmodel.model.fields import Problems

if TYPE_CHECKING:
    from netmodel.load.document import Document
    from netmodel.model.objects import Workload

MAX_PODS = 1_000_000


def check_pod_expansion(given_pods: int, workloads: Sequence[tuple[Workload, Document]], nodes: int,
                        problems: Problems) -> None:
    """Record a problem at the workload whose Pods take the input past `MAX_PODS`."""
    total = given_pods
    for workload, doc in workloads:
        if workload.kind == "DaemonSet":
            total += max(nodes, 1)
            key = None
        else:
            total += workload.replicas or 0
            key = "parallelism" if workload.kind in ("Job", "CronJob") else "replicas"
        if total > MAX_PODS:
            what = f"{workload.kind} {workload.namespace}/{workload.name}"
            problems.add(f"{what}: the input would expand to more than {MAX_PODS:,} Pods (netmodel's limit; "
                         "Kubernetes supports 150,000 per cluster)",
                         doc.span(("spec", key)) if key else workload.source,
                         f"lower `{key}`" if key else "run the analysis on fewer nodes or workloads")
            return
