"""The port matrix with the senders' egress firewalls: a required flow dropped on its way out of the sending
node is NM-PORT-001 naming the egress rule, and exposure counts only traffic that can leave its sender."""

from checkkit import COMMON_RULES, CP_RULES, base, findings, firewall, pairs, topology

from netmodel.analyze.checks import CheckContext
from netmodel.analyze.portmatrix import port_matrix

CP_LABEL = '{nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}}'
WORKER_LABEL = '{nodeSelector: {matchLabels: {node-role.kubernetes.io/worker: ""}}}'


def with_egress(doc: str, rules: str, default: str = "allow") -> str:
    return doc + f"  egress:\n    defaultAction: {default}\n    rules:\n{rules}\n"


def layout(cp_rules: str = CP_RULES + COMMON_RULES, cp_egress: str = "", worker_egress: str = "") -> str:
    cp = firewall("control-plane", "control-plane", cp_rules)
    workers = firewall("workers", "worker", COMMON_RULES)
    if cp_egress:
        cp = with_egress(cp, cp_egress)
    if worker_egress:
        workers = with_egress(workers, worker_egress)
    return base(firewalls=cp + "---" + workers)


def test_an_egress_rule_that_passes_everything_required_changes_nothing():
    allow_all = "    - {name: anything, action: allow}\n"
    assert pairs(layout(cp_egress=allow_all, worker_egress=allow_all), "NM-PORT") == set()


def test_workers_egress_rule_blocking_the_apiserver_is_a_required_flow_naming_that_rule():
    deny_api = f'    - {{name: no-api, action: deny, protocol: TCP, ports: ["6443"], to: [{CP_LABEL}]}}\n'
    found = findings(layout(worker_egress=deny_api), "NM-PORT")
    # The workers and the Pods running on them both leave through the workers' egress chain.
    assert {(f.id, f.message.split(" is blocked from ")[1].split(" (e.g.")[0]) for f in found} == {
        ("NM-PORT-001", "the worker nodes"), ("NM-PORT-001", "the Pods (pod CIDRs)")}
    for f in found:
        assert "kube-apiserver (TCP 6443) on node cp-1" in f.message
        assert "Firewall workers egress rule 'no-api'" in f.message
        assert "Firewall/workers" in f.objects and f.objects[0] == "Node/cp-1"
        assert any(s.line > 0 for s in f.sources)
    cells = port_matrix(CheckContext(topology(layout(worker_egress=deny_api))))
    [workers_cell] = [c for c in cells if (c.node.name, c.row.key, c.source.name) == ("cp-1", "apiserver",
                                                                                        "workers")]
    assert (workers_cell.status, workers_cell.blocked_at) == ("blocked", "egress")
    assert workers_cell.sender is not None and workers_cell.sender.name in ("w-1", "w-2")
    assert workers_cell.to_json()["decidedBy"] == ["Firewall workers egress rule 'no-api' (deny)"]


def test_control_plane_egress_rule_blocking_kubelet_to_workers():
    deny_kubelet = f'    - {{name: no-kubelet, action: deny, protocol: TCP, ports: ["10250"], to: [{WORKER_LABEL}]}}\n'
    [finding] = findings(layout(cp_egress=deny_kubelet), "NM-PORT")
    assert finding.id == "NM-PORT-001"
    assert finding.objects == ("Node/w-1", "Node/w-2", "Node/cp-1", "Firewall/control-plane")
    assert "kubelet API (TCP 10250) on node w-1, w-2 is blocked from the control-plane nodes" in finding.message
    assert "10.0.0.11 on node cp-1" in finding.message
    assert "Firewall control-plane egress rule 'no-kubelet'" in finding.message


def test_a_default_deny_egress_blocks_every_required_flow_it_does_not_allow():
    # The workers may send only the overlay: the apiserver and the NodePorts of the other worker are lost.
    vxlan_only = '    - {name: vxlan, action: allow, protocol: UDP, ports: ["8472"]}\n'
    doc = layout().replace(firewall("workers", "worker", COMMON_RULES),
                           with_egress(firewall("workers", "worker", COMMON_RULES), vxlan_only, "deny"))
    found = {(f.objects[0], f.message.split(" (")[0], f.message.split(" is blocked from ")[1].split(" (e.g.")[0])
             for f in findings(doc, "NM-PORT") if f.id == "NM-PORT-001"}
    assert found == {("Node/cp-1", "kube-apiserver", "the worker nodes"),
                     ("Node/cp-1", "kube-apiserver", "the Pods (pod CIDRs)"),
                     ("Node/w-1", "NodePort Services", "the worker nodes"),
                     ("Node/w-1", "NodePort Services", "the Pods (pod CIDRs)")}


def test_egress_that_drops_the_traffic_closes_an_exposure():
    open_etcd = CP_RULES.replace(CP_LABEL + "]}", CP_LABEL + ", " + WORKER_LABEL + "]}") + COMMON_RULES
    exposed = {f.message.split(" is reachable from ")[1].split(" (e.g.")[0]
               for f in findings(layout(cp_rules=open_etcd), "NM-PORT-002")}
    assert exposed == {"the worker nodes"}
    deny_etcd = f'    - {{name: no-etcd, action: deny, protocol: TCP, ports: ["2379-2380"], to: [{CP_LABEL}]}}\n'
    assert findings(layout(cp_rules=open_etcd, worker_egress=deny_etcd), "NM-PORT-002") == []


def test_exposure_through_a_port_both_chains_pass_names_the_egress_rule():
    open_etcd = CP_RULES.replace(CP_LABEL + "]}", CP_LABEL + ", " + WORKER_LABEL + "]}") + COMMON_RULES
    # Egress lets 2380 out by an explicit rule and drops 2379: still exposed, on 2380.
    egress = (f'    - {{name: peer-port, action: allow, protocol: TCP, ports: ["2380"], to: [{CP_LABEL}]}}\n'
              f'    - {{name: client-port, action: deny, protocol: TCP, ports: ["2379"], to: [{CP_LABEL}]}}\n')
    [finding] = findings(layout(cp_rules=open_etcd, worker_egress=egress), "NM-PORT-002")
    assert "to port 2380" in finding.message
    assert "the sending node's Firewall workers egress rule 'peer-port'" in finding.message
    assert finding.objects[-2:] == ("Firewall/control-plane", "Firewall/workers")


def _pods_to_apiserver(doc: str) -> str:
    cells = port_matrix(CheckContext(topology(doc)))
    [cell] = [c for c in cells if (c.node.name, c.row.key, c.source.name) == ("cp-1", "apiserver", "pods")]
    return cell.status


def test_pods_masqueraded_by_ip_masq_agent_arrive_with_their_node_address():
    # The apiserver admits the nodes but not the pod CIDR: Pods are blocked unless they are SNATed to their node,
    # by Flannel's --ip-masq (natOutgoing, its default) or by ip-masq-agent (which decides alone when present).
    nodes_only = CP_RULES.replace(", {cidr: 10.244.0.0/16}", "", 1) + COMMON_RULES
    assert "cni: {plugin: flannel, mode: vxlan}" in layout(cp_rules=nodes_only)
    assert _pods_to_apiserver(layout(cp_rules=nodes_only)) == "ok"
    no_nat = layout(cp_rules=nodes_only).replace("cni: {plugin: flannel, mode: vxlan}",
                                                 "cni: {plugin: flannel, mode: vxlan, natOutgoing: false}")
    assert _pods_to_apiserver(no_nat) == "blocked"
    masquerade = "  masquerade: {nonMasqueradeCIDRs: [10.244.0.0/16]}\n  cni:"
    assert _pods_to_apiserver(layout(cp_rules=nodes_only).replace("  cni:", masquerade, 1)) == "ok"
    # Node addresses inside nonMasqueradeCIDRs: Pods keep their own address.
    kept = "  masquerade: {nonMasqueradeCIDRs: [10.0.0.0/8]}\n  cni:"
    assert _pods_to_apiserver(layout(cp_rules=nodes_only).replace("  cni:", kept, 1)) == "blocked"
