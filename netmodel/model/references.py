"""References between objects that must resolve for the input to mean anything.

A Firewall that names a node or an outside network that does not exist, or a Pod pinned (``spec.nodeName``) to a
node that does not exist, would silently filter nothing or place a Pod nowhere; these are errors, located at the
name that does not resolve. (A Service that selects no Pod is legal input and a check's business, not an error.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netmodel.model.fields import Problems
from netmodel.model.materialize import IMPLICIT_NODE

if TYPE_CHECKING:
    from netmodel.model.build import Inventory


def _known(names: set[str], what: str) -> str:
    if not names:
        return f"there are no {what}"
    shown = sorted(names)[:10]
    return f"known {what}: {', '.join(shown)}" + (" …" if len(names) > 10 else "")


def check_references(inv: Inventory, problems: Problems) -> None:
    """Record a problem for each firewall node/network and each ``nodeName`` that names nothing."""
    # Without any Node the model makes one implicit node; references to it are fine.
    nodes = {n.name for n in inv.nodes} or {IMPLICIT_NODE}
    networks = {n.name for c, _ in inv.clusters[:1] for n in c.networks}
    node_hint = f"fix the name or add the Node ({_known(nodes, 'nodes')})"
    for fw, doc in inv.firewalls:
        for i, name in enumerate(fw.node_names):
            if name not in nodes:
                problems.add(f"Firewall {fw.name}: spec.nodes[{i}]: node {name!r} does not exist",
                             doc.span(("spec", "nodes", i)), node_hint)
        for chain in (fw.ingress, fw.egress):
            for rule in chain.rules:
                for peer in rule.peers or ():
                    if peer.network and peer.network not in networks:
                        problems.add(f"Firewall {fw.name}: rule {rule.name} names network {peer.network!r}, which "
                                     "the Cluster does not define", peer.source,
                                     "define it under the Cluster's spec.networks, or fix the name "
                                     f"({_known(networks, 'networks')})")
                    for name in peer.nodes:
                        if name not in nodes:
                            problems.add(f"Firewall {fw.name}: rule {rule.name} names node {name!r}, which does "
                                         "not exist", peer.source, node_hint)
    for pod, _, doc in inv.pods:
        if pod.node_name and pod.node_name not in nodes:
            problems.add(f"Pod {pod.namespace}/{pod.name}: spec.nodeName {pod.node_name!r} is not a known node",
                         doc.span(("spec", "nodeName")), node_hint)
    for workload, doc in inv.workloads:
        name = workload.template.node_name
        if name and name not in nodes:
            spec_path = ("spec", "jobTemplate", "spec") if workload.kind == "CronJob" else ("spec",)
            problems.add(f"{workload.kind} {workload.namespace}/{workload.name}: the Pod template's "
                         f"spec.nodeName {name!r} is not a known node",
                         doc.span(spec_path + ("template", "spec", "nodeName")), node_hint)
