"""External-to-service checks NM-EXT-001..008, 010 on small inline topologies: exact (object, ID) pairs."""

from checkkit import CLUSTER, COMMON_RULES, CP_RULES, base, findings, firewall, pairs

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
    assert "30100/TCP" in finding.message and "office" in finding.message and "cp-1, w-1, w-2" in finding.message
    assert pairs(base(APP, node_port("a", 30100), firewalls=firewalls()), "NM-EXT") == set()


def test_local_policy_only_needs_endpoint_nodes():
    # Open NodePorts to the office on the workers only: with Local, the app Pod's node is what matters.
    cp_closed = firewall("control-plane", "control-plane",
                         CP_RULES + COMMON_RULES.replace(", {network: office}]}", "]}")) + "---" + firewall(
        "workers", "worker", COMMON_RULES)
    local = base(APP, node_port("a", 30100, "  externalTrafficPolicy: Local"), firewalls=cp_closed)
    cluster = base(APP, node_port("a", 30100), firewalls=cp_closed)
    assert pairs(local, "NM-EXT") == set()
    assert pairs(cluster, "NM-EXT") == {("Service/shop/a", "NM-EXT-003")}


def test_health_check_node_port_from_the_lb_network():
    cluster = CLUSTER + "  - {name: lb, cidrs: [\"10.1.0.0/24\"], uses: []}\n"
    svc = node_port("a", 30100, "  externalTrafficPolicy: Local\n  healthCheckNodePort: 32000").replace(
        "type: NodePort", "type: LoadBalancer")
    lb_rule = '    - {name: hc, action: allow, protocol: TCP, ports: ["32000"], from: [{network: lb}]}\n'
    assert pairs(base(APP, svc, cluster=cluster, firewalls=firewalls()), "NM-EXT") == {
        ("Service/shop/a", "NM-EXT-004")}
    assert pairs(base(APP, svc, cluster=cluster, firewalls=firewalls(INTERNET_TO_CONTROLLER + lb_rule)),
                 "NM-EXT") == set()


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
