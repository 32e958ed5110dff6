"""Which CNI a cluster dump shows, when no ``Cluster`` says: read from the CNI's own node agent Pods.

A ``kubectl get ... -o json`` dump of a running cluster holds no object that names its CNI (that lives in the
agent's ConfigMap and on the nodes), but every common plugin runs a hostNetwork DaemonSet whose Pods carry the
labels of its standard install manifest:

=========  ===================================  ====================================================================
plugin     Pod labels (hostNetwork)             where the labels come from
=========  ===================================  ====================================================================
calico     ``k8s-app: calico-node``             projectcalico/calico ``manifests/calico.yaml`` (DaemonSet
                                                ``calico-node`` in kube-system) and the Tigera operator's
                                                ``calico-system/calico-node``
cilium     ``k8s-app: cilium``                  cilium/cilium ``install/kubernetes/cilium/templates/cilium-agent/
                                                daemonset.yaml`` (the agent DaemonSet ``cilium``)
flannel    ``app: flannel`` or                  flannel-io/flannel ``Documentation/kube-flannel.yml``
           ``k8s-app: flannel``                 (``kube-flannel-ds`` in kube-flannel; older releases in kube-system)
=========  ===================================  ====================================================================

Calico and flannel together are Canal (Calico for policy, flannel for the data path and host-local IPAM from
the nodes' ``spec.podCIDR``), read as flannel. Any other mix (Cilium chained behind another plugin, say) is
left unknown. The mode (IP-in-IP or VXLAN, native routing) is in the plugin's configuration, not in any object
such a dump holds: routing stays native, as for an unnamed CNI (``materialize.NATIVE_MODE``), and the note
says so, with the ``Cluster`` line that states the mode (docs/input.md, "Live clusters").
"""

from __future__ import annotations

from dataclasses import dataclass

from netmodel.errors import SourceSpan
from netmodel.model.inventory import Inventory
from netmodel.model.labels import Labels

# plugin -> the (label key, value) pairs any one of which marks its node agent's Pods (module docstring).
AGENT_LABELS: dict[str, tuple[tuple[str, str], ...]] = {
    "calico": (("k8s-app", "calico-node"),),
    "cilium": (("k8s-app", "cilium"),),
    "flannel": (("app", "flannel"), ("k8s-app", "flannel")),
}


@dataclass(frozen=True, slots=True)
class CniEvidence:
    """The node agents a dump shows: ``plugin`` when they name one CNI ("" when none or an unknown mix),
    ``seen`` each plugin with the first object (``Pod/NS/NAME`` or ``DaemonSet/NS/NAME``) that shows it."""

    plugin: str
    seen: tuple[tuple[str, str, SourceSpan], ...]

    def describe(self) -> str:
        """``calico (Pod kube-system/calico-node-x2k9p)``, the objects that show each plugin."""
        return ", ".join(f"{plugin} ({what})" for plugin, what, _ in self.seen)


def _agent_of(labels: Labels, host_network: bool) -> str:
    if not host_network:  # every one of these agents runs in the node's network namespace
        return ""
    for plugin, pairs in AGENT_LABELS.items():
        if any(labels.get(key) == value for key, value in pairs):
            return plugin
    return ""


def infer_cni(inv: Inventory) -> CniEvidence:
    """The CNI the node agent Pods (or DaemonSets) of ``inv`` show; ``plugin`` is "" when they show none or a
    mix netmodel cannot read as one plugin."""
    seen: dict[str, tuple[str, SourceSpan]] = {}
    for pod, _, _ in inv.pods:
        plugin = _agent_of(pod.labels, pod.host_network)
        if plugin and plugin not in seen:
            seen[plugin] = (f"Pod {pod.namespace}/{pod.name}", pod.source)
    for workload, _ in inv.workloads:
        if workload.kind != "DaemonSet":
            continue
        plugin = _agent_of(workload.template.labels, workload.template.host_network)
        if plugin and plugin not in seen:
            seen[plugin] = (f"DaemonSet {workload.namespace}/{workload.name}", workload.source)
    plugins = set(seen)
    if len(plugins) == 1:
        plugin = next(iter(plugins))
    elif plugins == {"calico", "flannel"}:
        plugin = "flannel"  # Canal
    else:
        plugin = ""
    order = sorted(seen)
    return CniEvidence(plugin, tuple((p, seen[p][0], seen[p][1]) for p in order))


__all__ = ["AGENT_LABELS", "CniEvidence", "infer_cni"]
