"""The CNI's outbound NAT in the lab: the kernel masquerades Pod traffic to the nodes as the solver says.

A kubeadm-style Flannel VXLAN cluster (VXLAN: this kernel has no ipip module) whose node firewalls admit only the
node subnet on 6443, etcd and the NodePorts. With Flannel's ``--ip-masq`` (``natOutgoing``, its default) a Pod
reaches the API server and another worker's NodePort with its node's address, and a Pod on cp-2 reaches cp-1's
etcd the way cp-2 does; with ``natOutgoing: false`` the same firewalls drop them. Needs root, ``ip`` and ``nft``.
"""

from __future__ import annotations

from pathlib import Path

from netmodel.emulate.features import KernelFeatures
from netmodel.emulate.run import emulate
from netmodel.model.build import load_topology
from tests.emulate.lab import needs_lab

CP = '{node-role.kubernetes.io/control-plane: "", node.kubernetes.io/exclude-from-external-load-balancers: ""}'
TAINT = "[{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]"
FROM_CP = '[{nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}}]'


def layout(cni: str) -> str:
    return f"""
apiVersion: netmodel.io/v1alpha1
kind: Cluster
metadata: {{name: nat}}
spec:
  podCIDRs: ["10.244.0.0/16"]
  serviceCIDRs: ["10.96.0.0/12"]
  cni: {cni}
---
apiVersion: v1
kind: Node
metadata: {{name: cp-1, labels: {CP}}}
spec: {{podCIDR: 10.244.0.0/24, taints: {TAINT}}}
status: {{addresses: [{{type: InternalIP, address: 10.0.0.11}}]}}
---
apiVersion: v1
kind: Node
metadata: {{name: cp-2, labels: {CP}}}
spec: {{podCIDR: 10.244.1.0/24, taints: {TAINT}}}
status: {{addresses: [{{type: InternalIP, address: 10.0.0.12}}]}}
---
apiVersion: v1
kind: Node
metadata: {{name: w-1, labels: {{node-role.kubernetes.io/worker: ""}}}}
spec: {{podCIDR: 10.244.2.0/24}}
status: {{addresses: [{{type: InternalIP, address: 10.0.0.21}}]}}
---
apiVersion: v1
kind: Node
metadata: {{name: w-2, labels: {{node-role.kubernetes.io/worker: ""}}}}
spec: {{podCIDR: 10.244.3.0/24}}
status: {{addresses: [{{type: InternalIP, address: 10.0.0.22}}]}}
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {{name: control-plane}}
spec:
  nodeSelector: {{matchLabels: {{node-role.kubernetes.io/control-plane: ""}}}}
  ingress:
    defaultAction: deny
    rules:
    - {{name: apiserver, action: allow, protocol: TCP, ports: ["6443"], from: [{{cidr: 10.0.0.0/24}}]}}
    - {{name: etcd, action: allow, protocol: TCP, ports: ["2379-2380"], from: {FROM_CP}}}
    - {{name: kubelet, action: allow, protocol: TCP, ports: ["10250"], from: {FROM_CP}}}
    - {{name: vxlan, action: allow, protocol: UDP, ports: ["8472"], from: [{{cidr: 10.0.0.0/24}}]}}
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {{name: workers}}
spec:
  nodeSelector: {{matchLabels: {{node-role.kubernetes.io/worker: ""}}}}
  ingress:
    defaultAction: deny
    rules:
    - {{name: kubelet, action: allow, protocol: TCP, ports: ["10250"], from: {FROM_CP}}}
    - {{name: nodeports, action: allow, protocol: TCP, ports: ["30000-32767"], from: [{{cidr: 10.0.0.0/24}}]}}
    - {{name: vxlan, action: allow, protocol: UDP, ports: ["8472"], from: [{{cidr: 10.0.0.0/24}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: web-w1, namespace: shop, labels: {{app: web}}}}
spec:
  nodeName: w-1
  containers: [{{name: web, ports: [{{containerPort: 8080}}]}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: agent-cp-2, namespace: kube-system, labels: {{app: agent}}}}
spec:
  nodeName: cp-2
  tolerations: [{{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}}]
  containers: [{{name: agent, ports: [{{containerPort: 9100}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: shop}}
spec:
  type: NodePort
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080, nodePort: 30080}}]
"""



def kernel_verdicts(tmp_path: Path, cni: str, features: KernelFeatures) -> dict[tuple[str, str, str], str]:
    path = tmp_path / "nat.yaml"
    path.write_text(layout(cni))
    report = emulate(load_topology([str(path)]), "all", features)
    assert len(report.outcomes) > 50
    assert [o.flow for o in report.disagreements] == []
    return {(o.flow.source, o.flow.destination, str(o.flow.port)): o.kernel for o in report.outcomes}


PROBES = {("pod:shop/web-w1", "ip:10.0.0.11", "6443"),  # the API server, admitted for the node subnet
          ("pod:shop/web-w1", "ip:10.0.0.22", "30080"),  # another worker's NodePort
          ("pod:kube-system/agent-cp-2", "ip:10.0.0.11", "2379")}  # etcd, with cp-2's rights


@needs_lab
def test_flannel_masquerades_pods_to_the_nodes_and_the_solver_agrees(tmp_path: Path, clean_host: object,
                                                                      features: KernelFeatures) -> None:
    verdicts = kernel_verdicts(tmp_path, "{plugin: flannel, mode: vxlan}", features)
    assert {probe: verdicts[probe] for probe in PROBES} == {probe: "allowed" for probe in PROBES}


@needs_lab
def test_without_outbound_nat_the_node_firewalls_drop_the_pods(tmp_path: Path, clean_host: object,
                                                               features: KernelFeatures) -> None:
    verdicts = kernel_verdicts(tmp_path, "{plugin: flannel, mode: vxlan, natOutgoing: false}", features)
    assert {probe: verdicts[probe] for probe in PROBES} == {probe: "denied" for probe in PROBES}
