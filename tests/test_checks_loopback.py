"""Loopback checks NM-LOOP-001..004 on small inline topologies: exact (object, ID) pairs."""

from checkkit import base, findings, pairs


def pod(name: str, node: str, ports: str, host_network: bool = False, labels: str = "{app: x}",
        containers: str = "") -> str:
    body = containers or f"[{{name: main, ports: {ports}}}]"
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: default, labels: {labels}}}
spec:
  nodeName: {node}
  hostNetwork: {str(host_network).lower()}
  containers: {body}
"""


def test_two_containers_on_one_port_clash_and_name_the_workload():
    deployment = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: prom, namespace: mon}
spec:
  replicas: 2
  selector: {matchLabels: {app: prom}}
  template:
    metadata: {labels: {app: prom}}
    spec:
      containers:
      - {name: prometheus, ports: [{containerPort: 9090}]}
      - {name: reloader, ports: [{containerPort: 9090}]}
"""
    assert pairs(base(deployment), "NM-LOOP") == {("Deployment/mon/prom", "NM-LOOP-001")}
    [finding] = findings(base(deployment), "NM-LOOP-001")
    assert "prometheus and reloader" in finding.message and "9090/TCP" in finding.message
    assert len(finding.sources) == 3  # the Pod template and both container ports


def test_same_port_with_different_protocols_is_no_clash():
    containers = "[{name: a, ports: [{containerPort: 53, protocol: UDP}]}, {name: b, ports: [{containerPort: 53}]}]"
    assert pairs(base(pod("dns", "w-1", "", containers=containers)), "NM-LOOP") == set()


def test_host_ports_clash_only_on_the_same_node():
    same = pod("a", "w-1", "[{containerPort: 80, hostPort: 8080}]") + "---" + pod(
        "b", "w-1", "[{containerPort: 81, hostPort: 8080}]")
    apart = pod("a", "w-1", "[{containerPort: 80, hostPort: 8080}]") + "---" + pod(
        "b", "w-2", "[{containerPort: 81, hostPort: 8080}]")
    assert pairs(base(same), "NM-LOOP") == {("Pod/default/a", "NM-LOOP-002")}
    assert pairs(base(apart), "NM-LOOP") == set()


def test_host_network_pod_clashes_with_a_host_port():
    text = base(pod("a", "w-1", "[{containerPort: 9100}]", host_network=True) + "---"
                + pod("b", "w-1", "[{containerPort: 80, hostPort: 9100}]"))
    assert pairs(text, "NM-LOOP") == {("Pod/default/a", "NM-LOOP-002")}


def test_node_components_clash_per_role():
    kubelet = pod("k", "w-1", "[{containerPort: 10250}]", host_network=True)
    etcd_on_worker = pod("e", "w-1", "[{containerPort: 2379}]", host_network=True)
    etcd_on_cp = pod("e", "cp-1", "[{containerPort: 2379}]", host_network=True)
    vxlan = pod("v", "w-2", "[{containerPort: 8472, protocol: UDP}]", host_network=True)
    assert pairs(base(kubelet), "NM-LOOP") == {("Pod/default/k", "NM-LOOP-003")}
    assert pairs(base(etcd_on_worker), "NM-LOOP") == set()  # etcd runs on control-plane nodes only
    assert pairs(base(etcd_on_cp), "NM-LOOP") == {("Pod/default/e", "NM-LOOP-003")}
    assert pairs(base(vxlan), "NM-LOOP") == {("Pod/default/v", "NM-LOOP-003")}


def test_the_component_itself_is_no_clash():
    apiserver = pod("kube-apiserver-cp-1", "cp-1", "[{containerPort: 6443}]", host_network=True,
                    labels="{component: kube-apiserver}")
    assert pairs(base(apiserver), "NM-LOOP") == set()


def test_host_port_in_node_port_range_is_a_warning():
    text = base(pod("a", "w-1", "[{containerPort: 80, hostPort: 30080}]"))
    [finding] = findings(text, "NM-LOOP")
    assert (finding.id, finding.severity.value, finding.objects[0]) == ("NM-LOOP-004", "warning", "Pod/default/a")
    assert "30080" in finding.message
