"""The CNI's outbound NAT (Cluster spec.cni.natOutgoing): one rule for the engine, the port matrix and the checks.

The layout is a kubeadm-style Calico cluster (two control-plane nodes, two workers on 10.0.0.0/24) whose node
firewalls are written from the Kubernetes "Ports and Protocols" page: the API server and NodePorts admit the
node subnet (and the office), etcd and the kubelet the control plane. Calico masquerades Pod traffic to the
nodes (IPPool natOutgoing, on by default), so Pods reach 6443 and NodePorts with their node's address and the
layout is healthy; with natOutgoing off, or with Cilium (which leaves node addresses alone), the same firewalls
block the Pods.
"""

from __future__ import annotations

import pytest
from checkkit import base, findings, pairs, topology

from netmodel.analyze.reach import CompiledCluster, Disposition, query
from netmodel.cli.main import main
from netmodel.compile.masquerade import masquerade_of
from netmodel.sets import parse_address


def cluster(cni: str = "{plugin: calico, mode: ipip}", extra: str = "") -> str:
    return f"""
apiVersion: netmodel.io/v1alpha1
kind: Cluster
metadata: {{name: kubeadm}}
spec:
  podCIDRs: ["192.168.0.0/16"]
  serviceCIDRs: ["10.96.0.0/12"]
  cni: {cni}
  networks:
  - {{name: office, cidrs: ["198.51.100.0/24"], uses: [api, nodeports]}}
{extra}"""


def node(name: str, ip: str, cidr: str, control_plane: bool) -> str:
    role = ('{node-role.kubernetes.io/control-plane: "", '
            'node.kubernetes.io/exclude-from-external-load-balancers: ""}') if control_plane else \
        '{node-role.kubernetes.io/worker: ""}'
    taints = "[{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]" if control_plane else "[]"
    return f"""
apiVersion: v1
kind: Node
metadata: {{name: {name}, labels: {role}}}
spec: {{podCIDR: {cidr}, taints: {taints}}}
status: {{addresses: [{{type: InternalIP, address: {ip}}}]}}
"""


NODES = "---".join([node("cp-1", "10.0.0.11", "192.168.0.0/24", True),
                    node("cp-2", "10.0.0.12", "192.168.1.0/24", True),
                    node("w-1", "10.0.0.21", "192.168.2.0/24", False),
                    node("w-2", "10.0.0.22", "192.168.3.0/24", False)])

# From "Ports and Protocols": nothing here names the pod CIDR.
CNI = """
    - {name: bgp, action: allow, protocol: TCP, ports: ["179"], from: [{cidr: 10.0.0.0/24}]}
    - {name: ipip, action: allow, protocol: "4", from: [{cidr: 10.0.0.0/24}]}
    - {name: vxlan, action: allow, protocol: UDP, ports: ["8472"], from: [{cidr: 10.0.0.0/24}]}
"""
FIREWALLS = f"""
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {{name: control-plane}}
spec:
  nodeSelector: {{matchLabels: {{node-role.kubernetes.io/control-plane: ""}}}}
  ingress:
    defaultAction: deny
    rules:
    - {{name: apiserver, action: allow, protocol: TCP, ports: ["6443"], from: [{{cidr: 10.0.0.0/24}}, {{network: office}}]}}
    - {{name: etcd, action: allow, protocol: TCP, ports: ["2379-2380"],
       from: [{{nodeSelector: {{matchLabels: {{node-role.kubernetes.io/control-plane: ""}}}}}}]}}
    - {{name: kubelet, action: allow, protocol: TCP, ports: ["10250"],
       from: [{{nodeSelector: {{matchLabels: {{node-role.kubernetes.io/control-plane: ""}}}}}}]}}
{CNI}---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {{name: workers}}
spec:
  nodeSelector: {{matchLabels: {{node-role.kubernetes.io/worker: ""}}}}
  ingress:
    defaultAction: deny
    rules:
    - {{name: kubelet, action: allow, protocol: TCP, ports: ["10250"],
       from: [{{nodeSelector: {{matchLabels: {{node-role.kubernetes.io/control-plane: ""}}}}}}]}}
    - {{name: nodeports, action: allow, protocol: TCP, ports: ["30000-32767"],
       from: [{{cidr: 10.0.0.0/24}}, {{network: office}}]}}
{CNI}"""

PODS = """
apiVersion: v1
kind: Pod
metadata: {name: web-w1, namespace: shop, labels: {app: web}}
spec:
  nodeName: w-1
  containers: [{name: web, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: agent-cp-2, namespace: kube-system, labels: {app: agent}}
spec:
  nodeName: cp-2
  tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]
  containers: [{name: agent}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
"""


def layout(cni: str = "{plugin: calico, mode: ipip}", extra: str = "") -> str:
    return base(PODS, cluster=cluster(cni, extra), nodes=NODES, firewalls=FIREWALLS)


def port_findings(text: str) -> set[tuple[str, str, str]]:
    """(ID, first object, source named) of every NM-PORT finding."""
    out = set()
    for f in findings(text, "NM-PORT"):
        source = "Pods" if "from the Pods" in f.message or "from Pods" in f.message else "other"
        out.add((f.id, f.objects[0], source))
    return out


def test_calico_pods_reach_the_api_server_and_node_ports_with_their_node_address() -> None:
    text = layout()
    assert topology(text).cluster.cni.nat_outgoing == "all"
    assert pairs(text) == set()  # no error, no warning: the firewall admits the node subnet
    # The only port finding is the info that Pods on cp-2 hold cp-2's etcd rights on cp-1.
    [info] = findings(text, "NM-PORT")
    assert (info.id, info.severity.value, info.objects[0]) == ("NM-PORT-008", "info", "Node/cp-1")
    assert "etcd" in info.message and "10.0.0.12 of node cp-2" in info.message
    assert "IPPool natOutgoing" in info.message


@pytest.mark.parametrize("cni", ["{plugin: calico, mode: ipip, natOutgoing: false}",
                                 "{plugin: cilium, mode: vxlan}"])
def test_without_nat_to_nodes_the_same_firewall_blocks_the_pods(cni: str) -> None:
    text = layout(cni)
    blocked = {(i, o) for i, o, source in port_findings(text) if source == "Pods"}
    # One finding per firewall class: the API server on cp-1, cp-2 and the NodePorts on w-1, w-2.
    assert blocked == {("NM-PORT-001", "Node/cp-1"), ("NM-PORT-001", "Node/w-1")}
    messages = {f.message.split(" is blocked")[0] for f in findings(text, "NM-PORT-001") if "the Pods" in f.message}
    assert messages == {"kube-apiserver (TCP 6443) on node cp-1, cp-2",
                        "NodePort Services (TCP 30000-32767) on node w-1, w-2"}
    assert not any(i == "NM-PORT-008" for i, _, _ in port_findings(text))


def test_query_trace_shows_the_snat_step_and_the_node_firewall_sees_the_node() -> None:
    answer = query(CompiledCluster(topology(layout())), "shop/web-w1", "node:cp-1", 6443)
    assert answer.allowed
    steps = [s for s in answer.paths[0].steps]
    snat = next(s for s in steps if s.step.value == "snat")
    assert "192.168.2." in snat.detail and "→ 10.0.0.21" in snat.detail and "IPPool natOutgoing" in snat.detail
    assert "node w-1's firewall rights" in snat.detail
    assert [s.step.value for s in steps].index("snat") < [s.step.value for s in steps].index("firewall-ingress")
    # A NodePort on the other worker: SNATed to w-1, then admitted by the node-subnet rule.
    assert query(CompiledCluster(topology(layout())), "shop/web-w1", "node:w-2", 30080).allowed
    off = query(CompiledCluster(topology(layout("{plugin: calico, mode: ipip, natOutgoing: false}"))), "shop/web-w1",
                "node:cp-1", 6443)
    assert off.disposition is Disposition.DENIED_BY_FIREWALL
    assert not any(s.step.value == "snat" for s in off.paths[0].steps)


def test_defaults_per_plugin_and_under_ip_masq_agent() -> None:
    for plugin, mode, expected in (("calico", "ipip", "all"), ("flannel", "vxlan", "all"),
                                   ("antrea", "geneve", "all"), ("weave", "fastdp", "all"),
                                   ("cilium", "vxlan", "except-nodes")):
        assert topology(layout(f"{{plugin: {plugin}, mode: {mode}}}")).cluster.cni.nat_outgoing == expected
    agent = '  masquerade: {nonMasqueradeCIDRs: ["192.168.0.0/16", "10.0.0.0/8"]}\n'
    topo = topology(layout(extra=agent))
    assert topo.cluster.cni.nat_outgoing == "none"  # ip-masq-agent decides alone
    assert masquerade_of(topo).rule_for(parse_address("10.0.0.11")) is None
    both = topology(layout("{plugin: calico, mode: ipip, natOutgoing: true}", agent))
    rule = masquerade_of(both).rule_for(parse_address("10.0.0.11"))
    assert rule is not None and rule.why.startswith("IPPool natOutgoing")
    cilium = masquerade_of(topology(layout("{plugin: cilium, mode: vxlan}")))
    assert cilium.rule_for(parse_address("10.0.0.11")) is None
    assert cilium.rule_for(parse_address("203.0.113.9")) is not None  # leaving the cluster: masqueraded


def test_an_unknown_value_is_a_located_usage_error(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text(layout("{plugin: calico, mode: ipip, natOutgoing: sometimes}"))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "natOutgoing" in err and "sometimes" in err and f"{path}:" in err and "except-nodes" in err


def test_query_cli_prints_the_snat_step(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "kubeadm.yaml"
    path.write_text(layout())
    assert main(["query", str(path), "--from", "shop/web-w1", "--to", "node:cp-1", "--port", "6443"]) == 0
    out = capsys.readouterr().out
    assert "snat" in out and "10.0.0.21" in out and "IPPool natOutgoing" in out
    path.write_text(layout("{plugin: calico, mode: ipip, natOutgoing: false}"))
    assert main(["query", str(path), "--from", "shop/web-w1", "--to", "node:cp-1", "--port", "6443"]) == 1
    assert "denied-by-firewall" in capsys.readouterr().out
