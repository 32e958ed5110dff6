"""Port matrix checks NM-PORT-001..007 on small inline topologies, and the cells behind them."""

from checkkit import COMMON_RULES, CP_RULES, base, findings, firewall, pairs, topology

from netmodel.analyze.checks import CheckContext
from netmodel.analyze.portmatrix import port_matrix


def firewalls(cp_rules: str = CP_RULES + COMMON_RULES, worker_rules: str = COMMON_RULES) -> str:
    return firewall("control-plane", "control-plane", cp_rules) + "---" + firewall("workers", "worker",
                                                                                   worker_rules)


def test_healthy_base_has_no_port_findings_and_every_required_cell_is_ok():
    assert pairs(base(), "NM-PORT") == set()
    cells = port_matrix(CheckContext(topology(base())))
    assert all(c.status == "ok" for c in cells)
    assert {(c.node.name, c.row.key, c.source.name) for c in cells if c.required and c.source.name != "self"} >= {
        ("cp-1", "apiserver", "workers"), ("cp-1", "apiserver", "pods"), ("cp-1", "apiserver", "network:office"),
        ("w-1", "kubelet", "control-plane"), ("w-1", "nodeports", "pods")}


def test_kubelet_blocked_from_the_control_plane_names_the_default_action():
    worker_rules = COMMON_RULES.replace("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
    [finding] = findings(base(firewalls=firewalls(worker_rules=worker_rules)), "NM-PORT")
    assert finding.id == "NM-PORT-001"
    assert finding.objects == ("Node/w-1", "Node/w-2", "Firewall/workers")
    assert "TCP 10250" in finding.message and "defaultAction deny" in finding.message


def test_etcd_open_to_the_internet_is_exposed_to_every_other_source():
    cp_rules = CP_RULES.replace('{nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}}]}',
                                '{nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}}, '
                                '{network: internet}]}') + COMMON_RULES
    found = findings(base(firewalls=firewalls(cp_rules=cp_rules)), "NM-PORT")
    assert {f.id for f in found} == {"NM-PORT-002", "NM-PORT-008"}
    exposed = [f for f in found if f.id == "NM-PORT-002"]
    assert {f.message.split(" is reachable from ")[1].split(" (e.g.")[0] for f in exposed} == {
        "the worker nodes", "network internet", "network office"}
    assert all("rule 'etcd'" in f.message for f in found)
    # Flannel masquerades Pod traffic to the nodes (--ip-masq): Pods arrive as their worker, whose own finding
    # carries the defect; the Pods' cell says they share it.
    [inherited] = [f for f in found if f.id == "NM-PORT-008"]
    assert inherited.severity.value == "info" and "flannel --ip-masq" in inherited.message


def test_kubelet_and_scheduler_exposure():
    open_kubelet = CP_RULES + COMMON_RULES + (
        '    - {name: oops, action: allow, protocol: TCP, ports: ["10250", "10259"], from: [{network: office}]}\n')
    assert pairs(base(firewalls=firewalls(cp_rules=open_kubelet)), "NM-PORT") == {
        ("Node/cp-1", "NM-PORT-003"), ("Node/cp-1", "NM-PORT-004")}


def test_api_and_node_ports_exposed_to_a_network_not_using_them_are_warnings():
    rules = CP_RULES.replace("{network: office}", "{network: internet}") + COMMON_RULES.replace(
        "{network: office}", "{network: internet}")
    found = findings(base(firewalls=firewalls(cp_rules=rules, worker_rules=COMMON_RULES.replace(
        "{network: office}", "{network: internet}"))), "NM-PORT")
    # The internet's 0.0.0.0/0, as written, still admits the office, so no required flow is lost.
    assert {(f.id, f.severity.value) for f in found} == {("NM-PORT-005", "warning"), ("NM-PORT-006", "warning")}


def test_unfiltered_node_is_an_info_and_only_outside_exposure_is_reported():
    only_cp = firewall("control-plane", "control-plane", CP_RULES + COMMON_RULES)
    found = findings(base(firewalls=only_cp), "NM-PORT")
    reported = {(f.id, f.severity.value, f.message.split(" is reachable from ")[-1].split(" (e.g.")[0])
                for f in found if f.id != "NM-PORT-007"}
    assert reported == {("NM-PORT-003", "error", "network internet"), ("NM-PORT-003", "error", "network office"),
                        ("NM-PORT-006", "warning", "network internet")}
    [info] = [f for f in found if f.id == "NM-PORT-007"]
    assert (info.severity.value, info.objects) == ("info", ("Node/w-1", "Node/w-2"))


def test_external_etcd_egress_is_required():
    external = '  cni: {plugin: flannel, mode: vxlan}\n  controlPlane: {etcd: {external: true, endpoints: ["10.0.5.5:2379"]}}'
    egress_denied = "\n  egress:\n    defaultAction: deny\n    rules: []\n"
    closed = firewall("control-plane", "control-plane", CP_RULES + COMMON_RULES) + egress_denied + "---" + firewall(
        "workers", "worker", COMMON_RULES)
    assert pairs(base().replace("  cni: {plugin: flannel, mode: vxlan}", external), "NM-PORT") == set()
    found = findings(base(firewalls=closed).replace("  cni: {plugin: flannel, mode: vxlan}", external), "NM-PORT")
    etcd = [f for f in found if "10.0.5.5:2379" in f.message]
    assert [(f.id, f.objects) for f in etcd] == [("NM-PORT-001", ("Node/cp-1", "Firewall/control-plane"))]


def test_the_load_balancer_network_probing_health_check_node_ports_is_not_an_exposure():
    # A Local LoadBalancer's healthCheckNodePort must be open to the load balancer (NM-EXT-004), so the same
    # opening is not NM-PORT-006 from that network; any other NodePort it reaches, or another network reaching
    # the health-check port, still is.
    lb_net = "  - {name: lb, cidrs: [\"10.0.100.0/24\"], uses: [api]}\n"
    cluster = base().split("---")[0].replace("  - {name: office", lb_net + "  - {name: office")
    svc = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  healthCheckNodePort: 32100
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 31080}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: w-1, containers: [{name: web, ports: [{containerPort: 8080}]}]}
"""

    def worker_rules(ports: str, peer: str = "{network: lb}") -> str:
        return COMMON_RULES + (f'    - {{name: lb-probes, action: allow, protocol: TCP, ports: [{ports}], '
                               f'from: [{peer}]}}\n')

    def port_findings(rules: str) -> set[str]:
        text = base(svc, firewalls=firewalls(CP_RULES + rules, rules)).replace(base().split("---")[0], cluster)
        # "<network> (<its CIDRs>), of which the rule admits <part> (e.g. ...)": keep the network's name
        return {f.message.split(" (e.g. ")[1].split(")")[0] + " " + f.message.split(" is reachable from ")[1]
                .split(" (")[0] for f in findings(text, "NM-PORT") if f.id == "NM-PORT-006"}

    assert port_findings(worker_rules('"32100"')) == set()
    assert port_findings(worker_rules('"32100-32101"')) == {"10.0.100.1 to port 32101 network lb"}
    assert port_findings(worker_rules('"32100"', "{cidr: 203.0.113.0/24}")) == {
        "203.0.113.1 to port 32100 network internet"}
