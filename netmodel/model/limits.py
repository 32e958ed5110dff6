"""How much one input may expand to, checked before anything is expanded or analyzed.

A few characters of input can ask for a billion Pods (``replicas: 1000000000``), and expanding them runs until
the machine runs out of memory; a few megabytes can list millions of rules, peers or ports, each of which the
analysis visits. The limits are far above what Kubernetes supports (its scalability thresholds: 5,000 nodes,
150,000 Pods and 10,000 Services per cluster; the envelope input of benchmarks/ adds 3,000 NetworkPolicies and
2,000 firewall rules), so no real cluster reaches them; an input that does is refused at the value that crosses
one, before any object is built.

The Pod count is an upper bound, taken before Pods are placed: every Pod given, plus each workload's
``replicas`` (``parallelism`` for Jobs and CronJobs), plus one Pod per node for each DaemonSet. The other counts
are taken on the documents as read, before any field is validated, over the kinds netmodel reads
(:func:`check_input_size`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from netmodel.errors import Problem
from netmodel.model.fields import Problems
from netmodel.model.kinds import READ, api_group

if TYPE_CHECKING:
    from netmodel.load.document import Document, Path
    from netmodel.model.objects import Workload

MAX_PODS = 1_000_000
MAX_POLICIES = 50_000  # NetworkPolicy objects
MAX_RULES = 200_000  # NetworkPolicy ingress/egress rules and Firewall rules, together
MAX_PEERS = 500_000  # entries of the from/to lists of those rules, together
MAX_PORTS = 1_000_000  # port entries listed: Service ports, container ports and rule ports, together

_WORKLOAD_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template", "spec"), "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"), "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"), "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"), "Pod": ("spec",),
}


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
            what = f"{workload.kind} {workload.qualified_name}"
            problems.add(f"{what}: the input would expand to more than {MAX_PODS:,} Pods (netmodel's limit; "
                         "Kubernetes supports 150,000 per cluster)",
                         doc.span(("spec", key)) if key else workload.source,
                         f"lower `{key}`" if key else "run the analysis on fewer nodes or workloads")
            return


class _Count:
    """One limited quantity, counted until it crosses its limit; then the problem located at the crossing."""

    def __init__(self, what: str, limit: int, hint: str) -> None:
        self.what, self.limit, self.hint = what, limit, hint
        self.total = 0
        self.problem: Problem | None = None

    def add(self, doc: Document, path: Path, entries: int = 1, is_list: bool = False) -> None:
        """Count ``entries`` more at ``path``: the entries of the list there, or the one value there.

        The problem is located at the list, not at its entry that crosses the limit: finding that entry in a
        JSON text would mean walking up to a million entries one by one.
        """
        if self.problem is not None or entries <= 0:
            return
        if self.total + entries > self.limit:
            where = f" (entry {self.limit - self.total} of this list is one too many)" if is_list else ""
            self.problem = Problem(f"the input lists more than {self.limit:,} {self.what}{where}: netmodel's "
                                   "limit, far above any real cluster", doc.span(path), self.hint)
        self.total += entries


def _get(data: Any, path: Path) -> Any:
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def _list(doc: Document, path: Path, count: _Count | None = None) -> list[Any]:
    """The list at ``path`` (its entries counted), or [] when there is none."""
    value = _get(doc.data, path)
    if not isinstance(value, list):
        return []
    if count is not None:
        count.add(doc, path, len(value), is_list=True)
    return value


def _port_entries(count: _Count, doc: Document, path: Path) -> None:
    """A Firewall rule's ports: a list, or one value; a text entry such as "80,443" counts each port in it."""
    value = _get(doc.data, path)
    entries = value if isinstance(value, list) else [] if value is None else [value]
    count.add(doc, path, sum(entry.count(",") + 1 if isinstance(entry, str) else 1 for entry in entries),
              is_list=isinstance(value, list) and all(not isinstance(entry, str) for entry in entries))


def check_input_size(documents: Iterable[Document]) -> list[Problem]:
    """The problems of an input that lists more policies, rules, peers or ports than netmodel's limits.

    Counted on the documents as read (only lists are measured, nothing is validated or built), so an input with
    millions of rules is refused in time proportional to its rules, at the entry that crosses the limit.
    """
    policies = _Count("NetworkPolicies", MAX_POLICIES, "analyze the cluster in parts (by namespace)")
    rules = _Count("rules (NetworkPolicy and Firewall rules together)", MAX_RULES,
                   "merge rules that differ only in their peers or ports, or analyze the cluster in parts")
    peers = _Count("rule peers (from/to entries)", MAX_PEERS,
                   "use CIDRs or selectors that cover several peers, or analyze the cluster in parts")
    ports = _Count("port entries (Service, container and rule ports together)", MAX_PORTS,
                   'write consecutive ports as a range ("30000-32767", or `endPort`)')
    for doc in documents:
        data = doc.data
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str) \
                or not isinstance(data.get("apiVersion"), str):
            continue
        kind, group = data["kind"], api_group(data["apiVersion"])
        if kind == "NetworkPolicy" and group in READ["NetworkPolicy"]:
            policies.add(doc, ())
            for direction, peer_key in (("ingress", "from"), ("egress", "to")):
                for i, rule in enumerate(_list(doc, ("spec", direction), rules)):
                    if isinstance(rule, dict):
                        _list(doc, ("spec", direction, i, peer_key), peers)
                        _list(doc, ("spec", direction, i, "ports"), ports)
        elif kind == "Firewall" and group == "netmodel.io":
            for direction in ("ingress", "egress"):
                for i, rule in enumerate(_list(doc, ("spec", direction, "rules"), rules)):
                    if isinstance(rule, dict):
                        for end in ("from", "to"):
                            _list(doc, ("spec", direction, "rules", i, end), peers)
                        _port_entries(ports, doc, ("spec", direction, "rules", i, "ports"))
        elif kind == "Service" and group in READ["Service"]:
            _list(doc, ("spec", "ports"), ports)
        elif kind in _WORKLOAD_TEMPLATES and group in READ[kind]:
            # Walked from the Pod spec down, not from the document for each list: an input of 150,000 Pods has
            # as many container lists.
            pod_spec = _WORKLOAD_TEMPLATES[kind]
            spec = _get(data, pod_spec)
            if not isinstance(spec, dict):
                continue
            for key in ("containers", "initContainers"):
                containers = spec.get(key)
                for i, container in enumerate(containers if isinstance(containers, list) else ()):
                    if isinstance(container, dict) and isinstance(listed := container.get("ports"), list):
                        ports.add(doc, (*pod_spec, key, i, "ports"), len(listed), is_list=True)
    return [c.problem for c in (policies, rules, peers, ports) if c.problem is not None]
