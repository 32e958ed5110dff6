"""References between objects that must resolve for the input to mean anything.

A Firewall that names a node or an outside network that does not exist would silently filter nothing; these are
errors, located at the name that does not resolve. (A Pod's ``spec.nodeName`` always resolves: a node it names
that no Node object declares is made up with the implicit node's defaults, as every exported Pod names its node.) (A Service that selects no Pod is legal input and a check's business, not an error.)
"""

from __future__ import annotations

from netmodel.model.fields import Problems
from netmodel.model.inventory import Inventory
from netmodel.model.materialize import known_node_names


def _known(names: set[str], what: str) -> str:
    if not names:
        return f"there are no {what}"
    shown = sorted(names)[:10]
    return f"known {what}: {', '.join(shown)}" + (" …" if len(names) > 10 else "")


def check_references(inv: Inventory, problems: Problems) -> None:
    """Record a problem for each firewall node and network that names nothing."""
    # Nodes that Pods name but no Node declares are made up (materialize rule 2), as is node-1 when there is
    # neither; references to them are fine.
    nodes = known_node_names(inv)
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
