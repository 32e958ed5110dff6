"""Small inline topologies for the check tests: a base cluster plus the documents a test adds.

The base is a Flannel VXLAN cluster (cp-1, w-1, w-2) whose firewalls satisfy every requirement, so a test adds
one defect and asserts exactly which (object, check ID) pairs appear.
"""

from __future__ import annotations

from netmodel.analyze.findings import Finding
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.model.topology import Topology
from netmodel.pipeline import check

CLUSTER = """
apiVersion: netmodel.io/v1alpha1
kind: Cluster
metadata: {name: lab}
spec:
  podCIDRs: ["10.244.0.0/16"]
  serviceCIDRs: ["10.96.0.0/12"]
  cni: {plugin: flannel, mode: vxlan}
  networks:
  - {name: internet, cidrs: ["0.0.0.0/0"], uses: [ingress]}
  - {name: office, cidrs: ["198.51.100.0/24"], uses: [api, nodeports, ingress]}
"""

NODES = """
apiVersion: v1
kind: Node
metadata: {name: cp-1, labels: {node-role.kubernetes.io/control-plane: "", os: linux}}
spec: {podCIDR: 10.244.0.0/24, taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]}
status: {addresses: [{type: InternalIP, address: 10.0.0.11}]}
---
apiVersion: v1
kind: Node
metadata: {name: w-1, labels: {node-role.kubernetes.io/worker: "", os: linux}}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.21}]}
---
apiVersion: v1
kind: Node
metadata: {name: w-2, labels: {node-role.kubernetes.io/worker: "", os: linux}}
spec: {podCIDR: 10.244.2.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.22}]}
"""

CP_RULES = """
    - {name: apiserver, action: allow, protocol: TCP, ports: ["6443"],
       from: [{nodeSelector: {matchLabels: {os: linux}}}, {cidr: 10.244.0.0/16}, {network: office}]}
    - {name: etcd, action: allow, protocol: TCP, ports: ["2379-2380"],
       from: [{nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}}]}
"""

COMMON_RULES = """
    - {name: kubelet, action: allow, protocol: TCP, ports: ["10250"],
       from: [{nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}}]}
    - {name: nodeports, action: allow, protocol: TCP, ports: ["30000-32767"],
       from: [{nodeSelector: {matchLabels: {os: linux}}}, {cidr: 10.244.0.0/16}, {network: office}]}
    - {name: vxlan, action: allow, protocol: UDP, ports: ["8472"], from: [{nodeSelector: {matchLabels: {os: linux}}}]}
"""


def firewall(name: str, role: str, rules: str, default: str = "deny") -> str:
    return f"""
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {{name: {name}}}
spec:
  nodeSelector: {{matchLabels: {{node-role.kubernetes.io/{role}: ""}}}}
  ingress:
    defaultAction: {default}
    rules:
{rules}
"""


FIREWALLS = firewall("control-plane", "control-plane", CP_RULES + COMMON_RULES) + "---" + firewall(
    "workers", "worker", COMMON_RULES)

DNS = """
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec:
  clusterIP: 10.96.0.10
  selector: {k8s-app: kube-dns}
  ports: [{name: dns, port: 53, protocol: UDP}]
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  nodeName: w-1
  containers: [{name: coredns, ports: [{name: dns, containerPort: 53, protocol: UDP}]}]
"""


def base(*extra: str, cluster: str = CLUSTER, nodes: str = NODES, firewalls: str = FIREWALLS,
         dns: str = DNS) -> str:
    return "\n---\n".join(d for d in (cluster, nodes, firewalls, dns, *extra) if d.strip())


def topology(text: str) -> Topology:
    return build_topology(parse_text(text, "t.yaml"))


def findings(text: str, prefix: str = "NM-") -> list[Finding]:
    """The findings ``netmodel check`` reports whose ID starts with ``prefix`` (info findings included), from
    the one check pipeline: every check, the NetworkPolicy checks, Expectations, suppressions."""
    return [f for f in check(topology(text)).result.findings if f.id.startswith(prefix)]


def pairs(text: str, prefix: str = "NM-") -> set[tuple[str, str]]:
    """``(first object, ID)`` of every finding whose ID starts with ``prefix``, info findings excluded."""
    return {(f.objects[0] if f.objects else "", f.id) for f in findings(text, prefix) if f.severity.value != "info"}
