"""Calico service accounts, network sets and host endpoints: the labels Calico gives endpoints (pcns./pcsa.
prefixes, which no Pod label can forge), selectors matching network sets by address, the sets as outside
networks of queries and the matrix, and what is reported rather than evaluated (NM-INPUT-015 for HostEndpoint,
NM-INPUT-040 for the host-endpoint-only policy fields, NM-INPUT-043 for missing ServiceAccounts).

Sources: projectcalico/calico libcalico-go/lib/backend/syncersv1/updateprocessors/ (rules.go,
workloadendpointprocessor.go, networksetprocessor.go, globalnetworksetprocessor.go), libcalico-go/lib/backend/
k8s/conversion/conversion.go, felix/labelindex/ (label_inheritance_index.go, named_port_index.go);
docs/reachability.md, "Calico service accounts" and "Calico network sets".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from netmodel.analyze.connectivity import connectivity
from netmodel.sets import format_ports
from tests.test_calico_policy import BASE, V3, allowed, cnp, fabric, gnp

ACCOUNTS = """apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: x}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: y, labels: {tier: trusted}}
"""


def gns(name: str, labels: str, nets: str) -> str:
    return V3 + f"kind: GlobalNetworkSet\nmetadata: {{name: {name}, labels: {labels}}}\nspec: {{nets: {nets}}}\n"


def test_a_pod_cannot_forge_the_labels_calico_derives_from_its_namespace_or_account() -> None:
    """workloadendpointprocessor.go drops a Pod's own pcns./pcsa. labels; projectcalico.org/namespace is
    Calico's, not the Pod's."""
    forged = fabric(ACCOUNTS, gnp("trusted-only", """  selector: app == "a"
  types: [Ingress]
  ingress:
  - {action: Allow, source: {selector: pcsa.tier == "trusted"}}
"""))
    assert allowed(forged, "y/c", "x/a") and not allowed(forged, "x/b", "x/a")
    relabelled = fabric(ACCOUNTS, gnp("trusted-only", """  selector: app == "a"
  types: [Ingress]
  ingress:
  - {action: Allow, source: {selector: pcsa.tier == "trusted"}}
"""),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: f, namespace: x, labels: {pcsa.tier: trusted, "
        "projectcalico.org/namespace: y}}\nspec: {nodeName: n1, containers: [{name: c}]}\nstatus: {podIP: 10.244.0.99}\n")
    assert not allowed(relabelled, "x/f", "x/a")


def test_service_account_labels_and_names_select_the_policy_and_its_peers() -> None:
    body = """  serviceAccountSelector: tier == "trusted"
  types: [Egress]
  egress:
  - {action: Allow, destination: {serviceAccounts: {names: [default]}, namespaceSelector: team == "x"}}
"""
    f = fabric(ACCOUNTS, gnp("trusted-egress", body))
    assert allowed(f, "y/c", "x/a") and allowed(f, "y/c", "x/b")  # y's default account is trusted
    assert not allowed(f, "y/c", "ip:192.0.2.1", 443)  # a service-account side names Pods only
    assert allowed(f, "x/a", "y/c")  # x's Pods run as an untrusted account: the policy does not apply


def test_a_missing_service_account_is_read_without_labels_and_said() -> None:
    body = """  selector: app == "a"
  types: [Ingress]
  ingress:
  - {action: Allow, source: {serviceAccounts: {selector: tier == "trusted"}}}
"""
    f = fabric(gnp("p", body))  # no ServiceAccount objects at all
    notes = [n for n in f.topology.notes if n.id == "NM-INPUT-043"]
    assert len(notes) == 1 and "x/default" in notes[0].message and "y/default" in notes[0].message
    assert not allowed(f, "y/c", "x/a")
    with_accounts = fabric(ACCOUNTS, gnp("p", body))
    assert not [n for n in with_accounts.topology.notes if n.id == "NM-INPUT-043"]
    assert allowed(with_accounts, "y/c", "x/a") and not allowed(with_accounts, "x/b", "x/a")
    names_only = fabric(gnp("p", body.replace('selector: tier == "trusted"', "names: [default]")))
    assert not [n for n in names_only.topology.notes if n.id == "NM-INPUT-043"]


def test_workload_templates_carry_their_service_account() -> None:
    deployment = """apiVersion: apps/v1
kind: Deployment
metadata: {name: robot, namespace: y}
spec:
  replicas: 2
  selector: {matchLabels: {app: robot}}
  template:
    metadata: {labels: {app: robot}}
    spec: {serviceAccountName: robot, containers: [{name: c}]}
"""
    body = """  selector: app == "a"
  types: [Ingress]
  ingress:
  - {action: Allow, source: {serviceAccounts: {names: [robot]}}}
"""
    f = fabric(deployment, gnp("robots-only", body))
    robots = [p for p in f.topology.pods if p.namespace == "y" and p.labels.get("app") == "robot"]
    assert len(robots) == 2 and {p.service_account for p in robots} == {"robot"}
    assert allowed(f, f"y/{robots[0].name}", "x/a") and not allowed(f, "y/c", "x/a")


def test_a_namespace_selector_negation_matches_global_network_sets_as_calico_rewrites_it() -> None:
    """rules.go prefixes a rule's namespaceSelector with pcns.: `!has(pcns.env)` holds for a GlobalNetworkSet,
    which carries no namespace labels."""
    body = """  selector: app == "a"
  types: [Egress]
  egress:
  - {action: Allow, destination: {namespaceSelector: "!has(env)"}}
"""
    f = fabric(gns("partners", "{kind: partner}", "[192.0.2.0/24]"), cnp("out", "x", body))
    assert allowed(f, "x/a", "ip:192.0.2.9", 443) and allowed(f, "x/a", "y/c")
    assert not allowed(f, "x/a", "ip:198.51.100.9", 443)


def test_network_sets_are_outside_networks_of_the_matrix_and_of_queries(tmp_path: Path) -> None:
    body = """  selector: app == "a"
  types: [Egress]
  egress:
  - {action: Allow, protocol: TCP, destination: {selector: kind == "partner", ports: [443]}}
"""
    f = fabric(gns("partners", "{kind: partner}", "[192.0.2.0/24]"), gnp("out", body))
    assert f.outside_networks["globalnetworkset:partners"]
    rows = [c for c in connectivity(f, by="pod") if c.destination == "network:globalnetworkset:partners"]
    assert {(c.source, format_ports(c.ports), c.partial) for c in rows if c.source == "x/a"} == {("x/a", "443", False)}
    assert allowed(f, "x/a", "network:globalnetworkset:partners", 443)
    assert not allowed(f, "x/a", "network:globalnetworkset:partners", 80)
    path = tmp_path / "in.yaml"
    path.write_text(BASE + "\n---\n" + gns("partners", "{kind: partner}", "[192.0.2.0/24]"))
    run = subprocess.run([sys.executable, "-m", "netmodel", "query", str(path), "--from", "x/a", "--to",
                          "network:globalnetworkset:partner", "--port", "443"], capture_output=True, text=True, check=False)
    assert run.returncode == 2 and "globalnetworkset:partners" in run.stderr and "Traceback" not in run.stderr


def test_network_set_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(BASE + "\n---\n" + gns("bad", "{}", "[300.0.0.0/8]") + "---\n" + gns("twice", "{}", "[10.0.0.0/8]")
                    + "---\n" + gns("twice", "{a: b}", "[10.0.0.0/8]"))
    run = subprocess.run([sys.executable, "-m", "netmodel", "check", str(path)], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "in.yaml:" in run.stderr and "300.0.0.0/8" in run.stderr and "defined twice" in run.stderr


def test_host_endpoints_and_host_only_policy_fields_are_reported_on_every_answer(tmp_path: Path) -> None:
    hep = V3 + "kind: HostEndpoint\nmetadata: {name: n1-eth0, labels: {host: n1}}\nspec: {node: n1, " \
        "interfaceName: eth0, expectedIPs: [10.0.0.1]}\n"
    pre_dnat = gnp("protect-hosts", """  selector: host == "n1"
  preDNAT: true
  applyOnForward: true
  types: [Ingress]
  ingress:
  - {action: Deny, source: {nets: [192.0.2.0/24]}}
""")
    path = tmp_path / "in.yaml"
    path.write_text(BASE + "\n---\n" + hep + "---\n" + pre_dnat)
    run = subprocess.run([sys.executable, "-m", "netmodel", "check", str(path), "--format", "json"],
                         capture_output=True, text=True, check=False)
    findings = json.loads(run.stdout)["findings"]
    host = [f for f in findings if f["id"] == "NM-INPUT-015" and "HostEndpoint" in f["message"]]
    assert len(host) == 1 and "host endpoints" in host[0]["message"] and "node n1" in host[0]["message"]
    assert "every query, matrix and --expect answer says so" in host[0]["message"]
    fields = [f for f in findings if f["id"] == "NM-INPUT-040"]
    assert len(fields) == 1 and "spec.preDNAT (host endpoints)" in fields[0]["message"]
    assert "spec.applyOnForward (host endpoints)" in fields[0]["message"]
    run = subprocess.run([sys.executable, "-m", "netmodel", "query", str(path), "--from", "y/c", "--to", "x/a",
                          "--port", "80", "--format", "json"], capture_output=True, text=True, check=False)
    kinds = json.loads(run.stdout)["notEvaluated"]["kinds"]
    assert "HostEndpoint (projectcalico.org)" in kinds and "GlobalNetworkPolicy (projectcalico.org)" in kinds


def test_a_policy_applying_to_no_pod_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(BASE + "\n---\n" + ACCOUNTS + "---\n" + gnp("typo", """  serviceAccountSelector: tier == "trustd"
  types: [Ingress]
  ingress:
  - {action: Deny}
""") + "---\n" + gnp("fine", """  serviceAccountSelector: tier == "trusted"
  types: [Ingress]
  ingress:
  - {action: Allow}
"""))
    run = subprocess.run([sys.executable, "-m", "netmodel", "check", str(path), "--format", "json"],
                         capture_output=True, text=True, check=False)
    found = [f for f in json.loads(run.stdout)["findings"] if f["id"] == "NM-POL-014"]
    assert len(found) == 1 and "GlobalNetworkPolicy typo" in found[0]["message"], found
    assert "selector AND serviceAccountSelector" in found[0]["message"]
