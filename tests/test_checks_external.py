"""External-to-service checks NM-EXT-001..008, 010 on small inline topologies: exact (object, ID) pairs."""

import checkkit
from checkkit import CLUSTER, COMMON_RULES, CP_RULES, base, findings, firewall, pairs, topology

from netmodel.analyze.checks import CheckContext
from netmodel.analyze.portmatrix import port_matrix

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]
"""

CONTROLLER = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress-nginx-controller, namespace: ingress}
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/component: controller}}
  template:
    metadata: {labels: {app.kubernetes.io/component: controller}}
    spec:
      containers: [{name: c, image: "registry.k8s.io/ingress-nginx/controller:v1.10.1",
                    ports: [{name: http, containerPort: 80}, {name: https, containerPort: 443}]}]
---
apiVersion: v1
kind: Service
metadata: {name: ingress-nginx-controller, namespace: ingress}
spec:
  type: LoadBalancer
  selector: {app.kubernetes.io/component: controller}
  ports:
  - {name: http, port: 80, targetPort: http, nodePort: 30080}
  - {name: https, port: 443, targetPort: https, nodePort: 30443}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
"""

INTERNET_TO_CONTROLLER = ('    - {name: lb, action: allow, protocol: TCP, ports: ["30080", "30443"], '
                          'from: [{network: internet}]}\n')


def firewalls(extra_rules: str = INTERNET_TO_CONTROLLER, common: str = COMMON_RULES) -> str:
    return firewall("control-plane", "control-plane", CP_RULES + common + extra_rules) + "---" + firewall(
        "workers", "worker", common + extra_rules)


def node_port(name: str, port: int, extra: str = "") -> str:
    return f"""
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: shop}}
spec:
  type: NodePort
  selector: {{app: app}}
  ports: [{{port: 80, targetPort: http, nodePort: {port}}}]
{extra}"""


def test_node_port_outside_range_and_duplicated():
    text = base(APP, node_port("a", 30100), node_port("b", 30100), node_port("c", 40000),
                firewalls=firewalls())
    assert pairs(text, "NM-EXT") == {("Service/shop/a", "NM-EXT-002"), ("Service/shop/c", "NM-EXT-001")}


def test_node_port_closed_to_a_network_meant_to_use_it():
    closed = COMMON_RULES.replace(", {network: office}]}", "]}")
    text = base(APP, node_port("a", 30100), firewalls=firewalls(common=closed))
    [finding] = findings(text, "NM-EXT")
    assert (finding.id, finding.objects[0]) == ("NM-EXT-003", "Service/shop/a")
    # cp-1 (kubeadm-style: control-plane taint) is not where load balancers send, so only the workers count.
    assert "30100/TCP" in finding.message and "office" in finding.message and "on node w-1, w-2," in finding.message
    assert pairs(base(APP, node_port("a", 30100), firewalls=firewalls()), "NM-EXT") == set()


def test_local_policy_only_needs_endpoint_nodes():
    # Open NodePorts to the office on w-2 only: with Local, the app Pod's node (w-1 or w-2) is what matters.
    closed = COMMON_RULES.replace(", {network: office}]}", "]}")
    w1_closed = firewall("control-plane", "control-plane", CP_RULES + closed) + "---" + firewall(
        "workers", "worker", COMMON_RULES) + "---" + firewall("w-1", "worker", closed).replace(
        'nodeSelector: {matchLabels: {node-role.kubernetes.io/worker: ""}}', "nodes: [w-1]")
    on_w2 = APP.replace("containers:", "nodeName: w-2\n      containers:")
    assert pairs(base(on_w2, node_port("a", 30100, "  externalTrafficPolicy: Local"), firewalls=w1_closed),
                 "NM-EXT") == set()
    assert pairs(base(on_w2, node_port("a", 30100), firewalls=w1_closed), "NM-EXT") == {
        ("Service/shop/a", "NM-EXT-003")}


# kubeadm's control-plane node: the control-plane label, the NoSchedule taint and the load-balancer exclusion label
# (node.kubernetes.io/exclude-from-external-load-balancers), with a firewall written from the Kubernetes "Ports
# and Protocols" page: NodePorts open on the workers only.
CP_CLOSED = firewall("control-plane", "control-plane", CP_RULES + COMMON_RULES.replace(
    ", {network: office}]}", "]}").replace(", {cidr: 10.244.0.0/16}", "")) + "---" + firewall(
    "workers", "worker", COMMON_RULES)


def test_node_ports_are_not_demanded_on_control_plane_nodes_load_balancers_skip():
    svc = node_port("a", 30100)
    assert pairs(base(APP, svc, firewalls=CP_CLOSED), "NM-") == set()
    # The same with the exclusion label and no taint: the label alone decides.
    labelled = checkkit.NODES.replace('node-role.kubernetes.io/control-plane: "", os: linux}',
                                      'node-role.kubernetes.io/control-plane: "", os: linux, '
                                      'node.kubernetes.io/exclude-from-external-load-balancers: ""}').replace(
        "taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]", "taints: []")
    assert "exclude-from-external" in labelled and "NoSchedule" not in labelled
    assert pairs(base(APP, svc, nodes=labelled, firewalls=CP_CLOSED), "NM-") == set()


def _node_port_cells_required(text: str) -> dict[str, bool]:
    """Whether the port matrix requires the NodePort row from the worker nodes, per node."""
    cells = port_matrix(CheckContext(topology(text)))
    return {c.node.name: c.required for c in cells if (c.row.key, c.source.name) == ("nodeports", "workers")
            or (c.row.key, c.source.name, c.node.name) == ("nodeports", "control-plane", "w-1")}


def test_untainted_control_plane_node_serves_node_ports():
    # A k3s-style server: control-plane label, no taint, no exclusion label. Load balancers send to it, so the
    # NodePort must be open there for the office (NM-EXT-003), and for the cluster's own nodes and Pods (the port
    # matrix's NodePort row, NM-PORT-001): one rule for both.
    untainted = checkkit.NODES.replace(
        "taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]", "taints: []")
    text = base(APP, node_port("a", 30100), nodes=untainted, firewalls=CP_CLOSED)
    ext = [f for f in findings(text, "NM-") if f.id == "NM-EXT-003"]
    assert [f.objects[:2] for f in ext] == [("Service/shop/a", "Node/cp-1")]
    assert _node_port_cells_required(text) == {"cp-1": True, "w-1": True, "w-2": True}
    assert _node_port_cells_required(base(APP, node_port("a", 30100), firewalls=CP_CLOSED)) == {
        "cp-1": False, "w-1": True, "w-2": True}
    # With Pods keeping their addresses (natOutgoing: false), CP_CLOSED (no pod CIDR on cp-1) blocks them there.
    no_nat = text.replace("cni: {plugin: flannel, mode: vxlan}", "cni: {plugin: flannel, mode: vxlan, "
                          "natOutgoing: false}")
    port = {(f.id, f.objects[0]) for f in findings(no_nat, "NM-PORT")}
    assert port == {("NM-PORT-001", "Node/cp-1")}
    # The exclusion label set to "false" keeps a tainted control-plane node in the load balancers' pools.
    kept = checkkit.NODES.replace('node-role.kubernetes.io/control-plane: "", os: linux}',
                                  'node-role.kubernetes.io/control-plane: "", os: linux, '
                                  'node.kubernetes.io/exclude-from-external-load-balancers: "false"}')
    assert ("Service/shop/a", "NM-EXT-003") in pairs(base(APP, node_port("a", 30100), nodes=kept,
                                                          firewalls=CP_CLOSED), "NM-EXT")


def test_health_check_node_port_from_the_lb_network():
    cluster = CLUSTER + "  - {name: lb, cidrs: [\"10.1.0.0/24\"], uses: []}\n"
    svc = node_port("a", 30100, "  externalTrafficPolicy: Local\n  healthCheckNodePort: 32000").replace(
        "type: NodePort", "type: LoadBalancer")
    lb_rule = '    - {name: hc, action: allow, protocol: TCP, ports: ["32000"], from: [{network: lb}]}\n'
    assert pairs(base(APP, svc, cluster=cluster, firewalls=firewalls()), "NM-EXT") == {
        ("Service/shop/a", "NM-EXT-004")}
    assert pairs(base(APP, svc, cluster=cluster, firewalls=firewalls(INTERNET_TO_CONTROLLER + lb_rule)),
                 "NM-EXT") == set()


def test_health_check_node_port_only_where_the_load_balancer_probes():
    # The load balancer probes the nodes in its pool: a kubeadm control-plane node closed to it is no defect.
    cluster = CLUSTER + "  - {name: lb, cidrs: [\"10.1.0.0/24\"], uses: []}\n"
    svc = node_port("a", 30100, "  externalTrafficPolicy: Local\n  healthCheckNodePort: 32000").replace(
        "type: NodePort", "type: LoadBalancer")
    lb_rule = '    - {name: hc, action: allow, protocol: TCP, ports: ["32000"], from: [{network: lb}]}\n'
    workers_only = firewall("control-plane", "control-plane", CP_RULES + COMMON_RULES + INTERNET_TO_CONTROLLER) + \
        "---" + firewall("workers", "worker", COMMON_RULES + INTERNET_TO_CONTROLLER + lb_rule)
    assert pairs(base(APP, svc, cluster=cluster, firewalls=workers_only), "NM-EXT") == set()


def test_load_balancer_source_ranges_excluding_every_client():
    svc = node_port("a", 30100, '  loadBalancerSourceRanges: ["192.0.2.0/24"]').replace(
        "type: NodePort", "type: LoadBalancer")
    good = svc.replace("192.0.2.0/24", "198.51.100.0/25")
    assert pairs(base(APP, svc, firewalls=firewalls()), "NM-EXT") == {("Service/shop/a", "NM-EXT-005")}
    assert pairs(base(APP, good, firewalls=firewalls()), "NM-EXT") == set()


def ingress(backends: str, class_name: str = "nginx") -> str:
    return f"""
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: front, namespace: shop}}
spec:
  ingressClassName: {class_name}
  rules:
  - host: shop.example.com
    http:
      paths: {backends}
"""


def backend(path: str, service: str, port: str) -> str:
    return f"{{path: {path}, pathType: Prefix, backend: {{service: {{name: {service}, port: {port}}}}}}}"


def test_ingress_backends_missing_service_or_port():
    paths = "[" + ", ".join([backend("/a", "a", "{number: 80}"), backend("/b", "nope", "{number: 80}"),
                             backend("/c", "a", "{name: grpc}")]) + "]"
    text = base(APP, CONTROLLER, node_port("a", 30100), ingress(paths), firewalls=firewalls())
    assert pairs(text, "NM-EXT") == {("Ingress/shop/front", "NM-EXT-006"), ("Ingress/shop/front", "NM-EXT-007")}
    [missing] = findings(text, "NM-EXT-006")
    assert "nope" in missing.message


def test_ingress_controller_unreachable_from_the_internet():
    paths = "[" + backend("/", "a", "{number: 80}") + "]"
    healthy = base(APP, CONTROLLER, node_port("a", 30100), ingress(paths), firewalls=firewalls())
    closed = base(APP, CONTROLLER, node_port("a", 30100), ingress(paths), firewalls=firewalls(""))
    assert pairs(healthy, "NM-EXT") == set()
    found = findings(closed, "NM-EXT-008")
    assert sorted((f.objects[1], "port 80" in f.message) for f in found) == [
        ("network:internet", False), ("network:internet", True)]


def test_ingress_class_missing_or_no_controller():
    paths = "[" + backend("/", "a", "{number: 80}") + "]"
    wrong_class = base(APP, CONTROLLER, node_port("a", 30100), ingress(paths, "traefik"), firewalls=firewalls())
    no_controller = base(APP, node_port("a", 30100), ingress(paths), firewalls=firewalls())
    assert pairs(wrong_class, "NM-EXT") == {("Ingress/shop/front", "NM-EXT-010")}
    assert pairs(no_controller, "NM-EXT") == {("Ingress/shop/front", "NM-EXT-010")}


def test_load_balancer_address_of_a_node_is_an_ingress_entry():
    # K3s ServiceLB publishes the nodes' own addresses in status.loadBalancer.ingress; packets to such an address
    # on the Service's port are captured by kube-proxy (or bound by ServiceLB's hostPort Pods) and reach the
    # controller, so those nodes' port 80/443 is an entry besides the nodePorts.
    paths = "[" + backend("/", "a", "{number: 80}") + "]"
    status = "status: {loadBalancer: {ingress: [{ip: 10.0.0.21}, {ip: 10.0.0.22}]}}\n"
    on_nodes = CONTROLLER.replace("nodePort: 30443}\n", "nodePort: 30443}\n" + status)
    web = '    - {name: web, action: allow, protocol: TCP, ports: ["80", "443"], from: [{network: internet}]}\n'
    assert pairs(base(APP, on_nodes, node_port("a", 30100), ingress(paths), firewalls=firewalls(web)),
                 "NM-EXT") == set()
    # The same firewall without the status: port 80/443 of a node is no way in, the nodePorts are closed.
    closed = findings(base(APP, CONTROLLER, node_port("a", 30100), ingress(paths), firewalls=firewalls(web)),
                      "NM-EXT-008")
    assert sorted(f.message.split("(uses: ingress): ")[1].split(" is closed")[0] for f in closed) == [
        "nodePort 30080 of Service/ingress/ingress-nginx-controller",
        "nodePort 30443 of Service/ingress/ingress-nginx-controller"]
    # With the status but a firewall that admits neither: both entries are named as closed.
    shut = findings(base(APP, on_nodes, node_port("a", 30100), ingress(paths), firewalls=firewalls("")),
                    "NM-EXT-008")
    assert len(shut) == 2
