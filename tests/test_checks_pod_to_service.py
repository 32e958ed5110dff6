"""Pod-to-service checks NM-SVC-001..007 on small inline topologies: exact (object, ID) pairs."""

from checkkit import CLUSTER, base, findings, pairs

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, ports: [{name: http, containerPort: 8080}, {name: dns, containerPort: 53, protocol: UDP}]}]
"""


def service(name: str, selector: str, ports: str, extra: str = "") -> str:
    return f"""
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {selector}
  ports: {ports}
{extra}"""


def test_selector_matching_nothing_is_a_warning_and_matching_something_is_not():
    text = base(WEB, service("web", "{app: web}", "[{port: 80, targetPort: http}]"),
                service("ghost", "{app: gone}", "[{port: 80}]"),
                service("other-ns", "{app: web, tier: x}", "[{port: 80}]"))
    assert pairs(text, "NM-SVC") == {("Service/shop/ghost", "NM-SVC-001"), ("Service/shop/other-ns", "NM-SVC-001")}


def test_target_ports_by_name_number_and_protocol():
    text = base(WEB,
                service("named-missing", "{app: web}", "[{port: 80, targetPort: web-http}]"),
                service("number-undeclared", "{app: web}", "[{port: 80, targetPort: 9000}]"),
                service("wrong-protocol", "{app: web}", "[{port: 53, targetPort: dns, protocol: TCP}]"),
                service("fine", "{app: web}", "[{port: 80, targetPort: 8080}]"))
    severities = {(f.objects[0], f.id, f.severity.value) for f in findings(text, "NM-SVC")}
    assert severities == {("Service/shop/named-missing", "NM-SVC-002", "error"),
                          ("Service/shop/number-undeclared", "NM-SVC-002", "warning"),
                          ("Service/shop/wrong-protocol", "NM-SVC-003", "error")}


def test_cluster_ips_outside_range_and_duplicated():
    text = base(WEB,
                service("a", "{app: web}", "[{port: 80, targetPort: http}]", "  clusterIP: 10.96.5.5"),
                service("b", "{app: web}", "[{port: 81, targetPort: http}]", "  clusterIP: 10.96.5.5"),
                service("c", "{app: web}", "[{port: 82, targetPort: http}]", "  clusterIP: 172.16.0.1"))
    assert pairs(text, "NM-SVC") == {("Service/shop/a", "NM-SVC-005"), ("Service/shop/c", "NM-SVC-004")}


def test_kube_proxy_none_needs_a_replacement():
    none = CLUSTER.replace("  cni:", "  kubeProxy: {mode: none}\n  cni:")
    cilium = CLUSTER.replace("{plugin: flannel, mode: vxlan}", "{plugin: cilium, mode: vxlan, "
                             "kubeProxyReplacement: true}").replace("  cni:", "  kubeProxy: {mode: none}\n  cni:")
    assert pairs(base(cluster=none), "NM-SVC") == {("Cluster/lab", "NM-SVC-006")}
    assert pairs(base(cluster=cilium), "NM-SVC") == set()


def test_cluster_dns_missing_only_matters_with_a_cluster_object():
    assert pairs(base(dns=""), "NM-SVC") == {("Cluster/lab", "NM-SVC-007")}
    plain = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c}]}\n"
    assert pairs(plain, "NM-SVC") == set()
