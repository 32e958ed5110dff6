"""Cilium policies: reading (located errors, exit 2), what cannot be judged offline (marked on every answer it
could change), the checks NM-POL-015/016 and NM-INPUT-045/046, the trace's decisions and the DNS check.

The semantics themselves are tested against the documentation's examples in test_conformance_cilium.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.analyze.policy.cilium import CiliumTierRule
from netmodel.analyze.reach import CompiledCluster, query
from netmodel.analyze.unevaluated import Unevaluated
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.model.kinds import classify
from netmodel.model.read_cilium import normalize_key
from netmodel.sets import parse_network

BASE = (Path(__file__).parent / "conformance_cilium" / "base.yaml").read_text()
CNP = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
CCNP = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\n"


def run(tmp_path: Path, policy: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "t.yaml"
    path.write_text(BASE + "\n---\n" + policy)
    return subprocess.run([sys.executable, "-m", "netmodel", *args[:1], str(path), *args[1:]],
                          capture_output=True, text=True, check=False, timeout=300)


def fabric(policy: str) -> CompiledCluster:
    return CompiledCluster(build_topology(parse_text(BASE + "\n---\n" + policy, "t.yaml")))


def test_the_kinds_are_read() -> None:
    assert classify("cilium.io/v2", "CiliumNetworkPolicy").name == "read"
    assert classify("cilium.io/v2", "CiliumClusterwideNetworkPolicy").name == "read"
    assert normalize_key("k8s:app") == "app" and normalize_key("reserved:host") == "reserved:host"


HEAD = CNP + "metadata: {name: p, namespace: prod}\nspec:\n"


@pytest.mark.parametrize(("policy", "marker", "message"), [
    (HEAD + "  ingress: [{}]\n", "  ingress: [{}]", "needs exactly one of endpointSelector and nodeSelector"),
    (HEAD + "  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{}]\n    fromCIDR: [1.2.3.4/32]\n",
     "fromCIDR:", "combines fromEndpoints and fromCIDR"),
    (HEAD + "  endpointSelector: {}\n  egress:\n  - toEntities: [world, galaxy]\n", "galaxy",
     "unknown entity 'galaxy'"),
    (HEAD + "  endpointSelector: {}\n  egress:\n  - toPorts: [{ports: [{port: \"99999\", protocol: TCP}]}]\n",
     "99999", "port 99999 is outside 0-65535"),
    (HEAD + "  endpointSelector: {}\n  egress:\n  - toPorts: [{ports: [{port: \"80\", protocol: ICMPX}]}]\n",
     "ICMPX", "unknown value 'ICMPX'"),
    (HEAD + "  endpointSelector: {}\n  egressDeny:\n  - toFQDNs: [{matchName: example.com}]\n", "toFQDNs",
     "egressDeny rules cannot use toFQDNs"),
    (HEAD + "  nodeSelector: {}\n  ingress: [{}]\n", "nodeSelector", "is for CiliumClusterwideNetworkPolicy only"),
    (HEAD + "  endpointSelector: {}\n  egress:\n  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [192.168.0.0/16]}]\n",
     "192.168", "192.168.0.0/16 is not inside 10.0.0.0/8"),
    (CNP + "metadata: {name: p, namespace: prod}\n", "apiVersion: cilium.io", "has neither spec nor specs"),
])
def test_what_cilium_refuses_is_a_located_error(tmp_path: Path, policy: str, marker: str, message: str) -> None:
    done = run(tmp_path, policy, "check")
    assert done.returncode == 2
    text = (tmp_path / "t.yaml").read_text()
    line = text[:text.index(marker)].count("\n") + 1
    located = [ln for ln in done.stderr.splitlines() if message in ln]
    assert located and located[0].startswith(f"{tmp_path / 't.yaml'}:{line}:"), done.stderr
    assert "Traceback" not in done.stderr


L7 = CNP + """metadata: {name: l7, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  ingress:
  - fromEndpoints: [{matchLabels: {role: frontend}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules: {http: [{method: GET, path: /public}]}
"""


def test_l7_rules_are_marked_on_every_answer_they_could_change(tmp_path: Path) -> None:
    done = run(tmp_path, L7, "query", "--from", "prod/frontend", "--to", "prod/backend", "--port", "80",
               "--format", "json")
    answer = json.loads(done.stdout)
    assert answer["allowed"] is True  # the L4 part is allowed; the HTTP rule is judged at run time
    assert answer["notEvaluated"]["kinds"] == ["CiliumNetworkPolicy (cilium.io)"]
    assert answer["notEvaluated"]["objects"] == ["CiliumNetworkPolicy/prod/l7"]
    # A flow of other namespaces is not marked: a CiliumNetworkPolicy selects Pods of its own namespace only.
    done = run(tmp_path, L7, "query", "--from", "dev/tool", "--to", "dev/frontend", "--port", "8080",
               "--format", "json")
    assert "notEvaluated" not in json.loads(done.stdout) or not json.loads(done.stdout)["notEvaluated"]
    done = run(tmp_path, L7, "check", "--format", "json")
    notes = [f for f in json.loads(done.stdout)["findings"] if f["id"] == "NM-INPUT-045"]
    assert len(notes) == 1 and "toPorts.rules" in notes[0]["message"]


@pytest.mark.parametrize(("rule", "denied_marked"), [
    (L7, False),  # the HTTP rule only narrows port 80 from frontend: other's denial stands
    (L7.replace("      rules:", "      serverNames: [a.example]\n      rules:"), False),
    (L7.replace("    toPorts:", "    fromRequires: [{matchLabels: {env: prod}}]\n    toPorts:"), False),
    (L7.replace("    toPorts:", "    authentication: {mode: required}\n    toPorts:"), False),
    # Read as matching none, a toFQDNs or unmodelled-entity rule may allow what netmodel denies.
    (L7 + "  - fromEntities: [health]\n", True),
    # Ignored, a deny rule's requirement makes netmodel deny more than Cilium: denials may change.
    (L7 + "  ingressDeny:\n  - fromEndpoints: [{matchLabels: {role: other}}]\n"
     "    fromRequires: [{matchLabels: {env: prod}}]\n", True),
])
def test_what_only_narrows_marks_no_denied_answer(tmp_path: Path, rule: str, denied_marked: bool) -> None:
    """An allow rule's L7 and TLS fields, authentication and requirements can only take away from what netmodel
    lets the rule allow (the Star Wars demo's L7 rule: the xwing stays denied whatever the HTTP rule says), so a
    denied answer is certain; allowed answers stay marked."""
    def marks(source: str) -> list[str]:
        done = run(tmp_path, rule, "query", "--from", source, "--to", "prod/backend", "--port", "80",
                   "--format", "json")
        return list((json.loads(done.stdout).get("notEvaluated") or {}).get("kinds", []))
    assert marks("prod/frontend") == ["CiliumNetworkPolicy (cilium.io)"]
    assert bool(marks("prod/other")) is denied_marked


@pytest.mark.parametrize("rule", [
    "  egress:\n  - toFQDNs: [{matchName: api.example.com}]\n",
    "  egress:\n  - toGroups: [{aws: {securityGroupsIds: [sg-1]}}]\n",
    "  ingress:\n  - fromEndpoints: [{matchLabels: {role: frontend}}]\n    fromRequires: [{matchLabels: {env: prod}}]\n",
    "  ingress:\n  - fromEntities: [health]\n",
    "  ingress:\n  - fromEndpoints: [{matchLabels: {io.cilium.k8s.policy.cluster: cluster1}}]\n",
])
def test_what_cannot_be_judged_offline_is_reported(rule: str) -> None:
    f = fabric(CNP + "metadata: {name: p, namespace: prod}\nspec:\n  endpointSelector: {matchLabels: {role: backend}}\n"
               + rule)
    assert [n.id for n in f.topology.notes if n.id == "NM-INPUT-045"] == ["NM-INPUT-045"]
    assert [s.ref for s in Unevaluated.of(f.topology).affecting(["prod"])] == ["CiliumNetworkPolicy/prod/p"]


@pytest.mark.parametrize("key", ["'reserved:health'", "reserved.init", "io.cilium.k8s.policy.cluster"])
def test_a_subject_netmodel_cannot_select_is_reported_at_its_selector(tmp_path: Path, key: str) -> None:
    """An endpointSelector naming a reserved identity (Cilium's examples select `reserved:health`, and
    `reserved.init`, which Cilium reads as reserved:init) or the cluster name selects no Pod netmodel models: the
    warning says why at the selector, the answers its rules could change are marked, and NM-POL-016 does not
    advise checking the labels."""
    policy = CCNP + f"metadata: {{name: p}}\nspec:\n  endpointSelector: {{matchLabels: {{{key}: ''}}}}\n" \
        "  ingress:\n  - fromEntities: [remote-node]\n"
    report = json.loads(run(tmp_path, policy, "check", "--format", "json").stdout)
    said = [f for f in report["findings"] if f["id"] in ("NM-INPUT-045", "NM-POL-016")]
    assert [f["id"] for f in said] == ["NM-INPUT-045"], said
    assert "endpointSelector" in said[0]["message"] and said[0]["sources"][0]["line"] > 1
    f = fabric(policy)
    assert [s.ref for s in Unevaluated.of(f.topology).cluster] == ["CiliumClusterwideNetworkPolicy/p"]


def test_service_account_key_is_the_pods_service_account() -> None:
    """Cilium labels every endpoint io.cilium.k8s.policy.serviceaccount=<spec.serviceAccountName> (cilium/cilium
    pkg/k8s/utils/utils.go, SanitizePodLabels; examples/policies/kubernetes/serviceaccount: luke reaches leia, vader
    does not). Pods without serviceAccountName run as `default`."""
    policy = CNP + """metadata: {name: sa, namespace: prod}
spec:
  endpointSelector: {matchLabels: {io.cilium.k8s.policy.serviceaccount: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {io.cilium.k8s.policy.serviceaccount: api}}]
"""
    accounts = BASE.replace("metadata: {name: backend, namespace: prod, labels: {role: backend}}\nspec:\n",
                            "metadata: {name: backend, namespace: prod, labels: {role: backend}}\nspec:\n"
                            "  serviceAccountName: db\n")
    accounts = accounts.replace("metadata: {name: frontend, namespace: prod, labels: {role: frontend}}\n"
                                "spec: {nodeName: w1,", "metadata: {name: frontend, namespace: prod, labels: "
                                "{role: frontend}}\nspec: {serviceAccountName: api, nodeName: w1,")
    assert accounts.count("serviceAccountName") == 2
    f = CompiledCluster(build_topology(parse_text(accounts + "\n---\n" + policy, "t.yaml")))
    assert not [n for n in f.topology.notes if n.id == "NM-INPUT-045"]
    assert Unevaluated.of(f.topology).affecting(["prod"]) == ()
    assert allowed(f, "prod/frontend", "prod/backend", 80)
    assert not allowed(f, "prod/other", "prod/backend", 80)  # runs as default
    assert allowed(f, "prod/other", "prod/public", 80)  # not selected: runs as default


def test_a_host_policy_is_evaluated_and_its_egress_marked_clusterwide() -> None:
    f = fabric(CCNP + "metadata: {name: host}\nspec:\n  nodeSelector: {}\n  ingress:\n  - fromEntities: [cluster]\n")
    assert Unevaluated.of(f.topology).cluster == ()
    assert allowed(f, "network:partner", "prod/public", 80)  # it selects no Pod: Pod traffic is not the host's
    assert not allowed(f, "network:partner", "node:cp", 10250)
    assert allowed(f, "node:w1", "node:cp", 10250)
    f = fabric(CCNP + "metadata: {name: host}\nspec:\n  nodeSelector: {}\n  egress:\n  - toEntities: [cluster]\n")
    assert [s.ref for s in Unevaluated.of(f.topology).cluster] == ["CiliumClusterwideNetworkPolicy/host"]


def allowed(f: CompiledCluster, src: str, dst: str, port: int) -> bool:
    return query(f, src, dst, port, "TCP").allowed


def test_empty_sections_warn_and_do_not_deny() -> None:
    f = fabric(CNP + "metadata: {name: p, namespace: prod}\nspec:\n  endpointSelector: {matchLabels: {role: backend}}\n"
               "  ingress: []\n")
    assert [n.id for n in f.topology.notes if n.id == "NM-INPUT-046"] == ["NM-INPUT-046"]
    assert allowed(f, "prod/frontend", "prod/backend", 80)
    f = fabric(CNP + "metadata: {name: p, namespace: prod}\nspec:\n  endpointSelector: {matchLabels: {role: backend}}\n"
               "  ingress:\n  - fromEntities: []\n")
    assert not allowed(f, "prod/frontend", "prod/backend", 80)  # an explicitly empty peer list matches nothing


def test_policy_that_selects_nothing_and_a_cni_that_does_not_enforce(tmp_path: Path) -> None:
    policy = CNP + "metadata: {name: p, namespace: prod}\nspec:\n  endpointSelector: {matchLabels: {role: ghost}}\n" \
        "  ingress: [{}]\n"
    ids = [f["id"] for f in json.loads(run(tmp_path, policy, "check", "--format", "json").stdout)["findings"]]
    assert "NM-POL-016" in ids and "NM-POL-015" not in ids
    path = tmp_path / "calico.yaml"
    path.write_text(BASE.replace("plugin: cilium, mode: native, hostFirewall: true", "plugin: calico, mode: bgp") + "\n---\n" + policy)
    done = subprocess.run([sys.executable, "-m", "netmodel", "check", str(path), "--format", "json"],
                          capture_output=True, text=True, check=False, timeout=300)
    ids = [f["id"] for f in json.loads(done.stdout)["findings"]]
    assert "NM-POL-015" in ids and "NM-POL-016" not in ids


DNS_DENIED = CNP + """metadata: {name: lockdown, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: frontend}}
  egress:
  - toEndpoints: [{matchLabels: {role: backend}}]
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: 10.96.0.10
  ports: [{name: dns, port: 53, protocol: UDP, targetPort: 53}, {name: dns-tcp, port: 53, targetPort: 53}]
"""


def test_dns_check_names_the_cilium_policy(tmp_path: Path) -> None:
    findings = json.loads(run(tmp_path, DNS_DENIED, "check", "--format", "json").stdout)["findings"]
    dns = [f for f in findings if f["id"] == "NM-SVC-008"]
    assert len(dns) == 1 and "CiliumNetworkPolicy prod/lockdown" in dns[0]["message"]
    assert "CiliumNetworkPolicy/prod/lockdown" in dns[0]["objects"]


def test_trace_names_rule_action_and_line(tmp_path: Path) -> None:
    policy = CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  ingress:
  - fromEndpoints: [{matchLabels: {role: frontend}}]
  ingressDeny:
  - toPorts: [{ports: [{port: "81", protocol: TCP}]}]
"""
    done = run(tmp_path, policy, "query", "--from", "prod/frontend", "--to", "prod/backend", "--port", "81",
               "--format", "json")
    text = (tmp_path / "t.yaml").read_text()
    line = text[:text.index('  - toPorts: [{ports: [{port: "81"')].count("\n") + 1
    assert done.returncode == 1
    steps = [s for p in json.loads(done.stdout)["paths"] for h in p["hops"] for s in h["steps"]
             if s["step"] == "policy-ingress"]
    assert steps[0]["decisions"] == [{"kind": "CiliumNetworkPolicy", "name": "prod/p", "action": "deny",
                                      "rule": "ingressDeny rule 1: Deny",
                                      "source": {"file": str(tmp_path / "t.yaml"), "line": line, "column": 5}}]
    done = run(tmp_path, policy, "query", "--from", "prod/frontend", "--to", "prod/backend", "--port", "80",
               "--format", "json")
    steps = [s for p in json.loads(done.stdout)["paths"] for h in p["hops"] for s in h["steps"]
             if s["step"] == "policy-ingress"]
    assert steps[0]["decisions"][0]["rule"] == "ingress rule 1: Allow"
    done = run(tmp_path, policy, "query", "--from", "prod/other", "--to", "prod/backend", "--port", "80")
    assert "puts pod:prod/backend in default deny for ingress" in done.stdout


def test_rules_compile_to_classes_and_addresses() -> None:
    f = fabric(CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  egress:
  - toEntities: [world]
  - toCIDR: [10.244.1.0/24, 192.0.2.0/24]
""")
    rules = f.policies.cilium.compiled[f.topology.cilium_policies[0]]
    assert all(isinstance(r, CiliumTierRule) for r in rules)
    world, cidr = rules
    assert world.peer_classes == 0 and not world.peer_addresses.contains(f.topology.nodes[0].ips[0])
    # CIDRs select outside addresses only: the Pod range inside 10.244.1.0/24 is left out.
    assert str(cidr.peer_addresses) == "192.0.2.0/24"


def test_diff_names_the_flows_a_cilium_egress_default_deny_closes() -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "netmodel", "diff", "topologies/cilium-policies.yaml",
                           "topologies/broken-cilium-policy-dns-denied.yaml", "--format", "json"], cwd=root,
                          capture_output=True, text=True, check=False, timeout=600)
    report = json.loads(done.stdout)
    assert report["summary"]["flowsOpened"] == 0
    assert [f["id"] for f in report["findings"]["introduced"]] == ["NM-SVC-008"]
    closed = {(c["from"], c["to"], c["protocol"]) for c in report["flows"]["closed"]}
    # Every boutique workload loses DNS to CoreDNS; nothing else changes.
    assert ("boutique/frontend[Deployment]", "kube-system/coredns[Deployment]", "UDP") in closed
    assert all(src.startswith("boutique/") and dst.startswith("kube-system/coredns") for src, dst, _ in closed)


def test_a_namespaced_policy_never_selects_pods_of_another_namespace() -> None:
    f = fabric(CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {matchLabels: {"k8s:io.kubernetes.pod.namespace": dev}}
  ingress: [{fromEntities: [world]}]
""")
    assert f.policies.cilium.selected[f.topology.cilium_policies[0]] == 0
    assert allowed(f, "prod/frontend", "dev/tool", 8080)


def test_a_service_left_without_clients_names_the_cilium_policy(tmp_path: Path) -> None:
    policy = CNP + "metadata: {name: closed, namespace: prod}\nspec:\n  endpointSelector: {matchLabels: {role: backend}}\n" \
        "  ingress: [{fromEntities: []}]\n"
    findings = json.loads(run(tmp_path, policy, "check", "--format", "json").stdout)["findings"]
    [found] = [f for f in findings if f["id"] == "NM-SVC-009"]
    assert found["message"].startswith("Service prod/backend-svc port http (TCP): CiliumNetworkPolicy prod/closed leave")
    assert found["objects"] == ["Service/prod/backend-svc", "CiliumNetworkPolicy/prod/closed"]


def test_requirements_alone_allow_nothing() -> None:
    f = fabric(CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  ingress:
  - fromRequires: [{matchLabels: {role: frontend}}]
""")
    assert not allowed(f, "prod/frontend", "prod/backend", 80)  # in default deny, and the rule grants nothing
    assert [n.id for n in f.topology.notes if n.id == "NM-INPUT-045"] == ["NM-INPUT-045"]


LOCK_DOWN = CCNP + """metadata: {name: lock-down}
spec:
  nodeSelector: {matchLabels: {type: worker}}
  ingress:
  - toPorts: [{ports: [{port: "22", protocol: TCP}]}]
"""


def test_host_policy_without_the_host_firewall_warns_and_changes_nothing() -> None:
    off = BASE.replace("hostFirewall: true", "hostFirewall: false")
    f = CompiledCluster(build_topology(parse_text(off + "\n---\n" + LOCK_DOWN, "t.yaml")))
    notes = [n for n in f.topology.notes if n.id == "NM-INPUT-041"]
    assert len(notes) == 1 and "host firewall" in notes[0].message and notes[0].severity == "warning"
    assert not any(fw.derived_from for fw in f.topology.firewalls)
    assert query(f, "node:cp", "node:w2", 10250).verdict == "allowed"
    on = fabric(LOCK_DOWN)
    assert not [n for n in on.topology.notes if n.id == "NM-INPUT-041"]
    assert query(on, "node:cp", "node:w2", 10250).verdict == "denied"


def test_host_firewall_is_cilium_only(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(BASE.replace("plugin: cilium, mode: native", "plugin: calico, mode: bgp"))
    done = subprocess.run([sys.executable, "-m", "netmodel", "check", str(path)], capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 2 and "hostFirewall" in done.stderr and "Traceback" not in done.stderr


def test_host_policy_trace_and_port_matrix_name_the_rule(tmp_path: Path) -> None:
    done = run(tmp_path, LOCK_DOWN, "query", "--from", "node:cp", "--to", "node:w2", "--port", "10250",
               "--format", "json")
    text = (tmp_path / "t.yaml").read_text()
    line = text[:text.index("  nodeSelector: {matchLabels: {type: worker}}")].count("\n") + 1
    decisions = [d for p in json.loads(done.stdout)["paths"] for h in p["hops"] for s in h["steps"]
                 if s["step"] == "firewall-ingress" for d in s["decisions"]]
    assert decisions and decisions[0]["name"] == "cilium-host:lock-down" and decisions[0]["action"] == "deny"
    assert "CiliumClusterwideNetworkPolicy/lock-down puts the node in default deny" in decisions[0]["rule"]
    assert decisions[0]["source"]["line"] == line
    done = run(tmp_path, LOCK_DOWN, "query", "--from", "network:partner", "--to", "node:w2", "--port", "22",
               "--format", "json")
    assert done.returncode in (0, 1)
    findings = json.loads(run(tmp_path, LOCK_DOWN, "check", "--format", "json").stdout)["findings"]
    kubelet = [f for f in findings if f["id"] == "NM-PORT-001" and "kubelet" in f["message"]]
    assert kubelet and "cilium-host:lock-down" in kubelet[0]["message"]


def test_a_host_policy_selecting_no_node_is_reported(tmp_path: Path) -> None:
    policy = LOCK_DOWN.replace("type: worker", "type: ghost")
    findings = json.loads(run(tmp_path, policy, "check", "--format", "json").stdout)["findings"]
    assert [f["objects"] for f in findings if f["id"] == "NM-POL-012"] == [["CiliumClusterwideNetworkPolicy/lock-down"]]
    findings = json.loads(run(tmp_path, LOCK_DOWN, "check", "--format", "json").stdout)["findings"]
    assert "NM-POL-012" not in {f["id"] for f in findings}


def test_an_ipblock_over_pods_or_nodes_is_reported_under_cilium_only(tmp_path: Path) -> None:
    policy = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: prod}
spec:
  podSelector: {}
  ingress:
  - from: [{ipBlock: {cidr: 10.244.1.0/24}}, {ipBlock: {cidr: 203.0.113.0/24}}]
---
""" + CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {}
  egress:
  - toCIDR: [10.0.0.21/32]
"""
    findings = json.loads(run(tmp_path, policy, "check", "--format", "json").stdout)["findings"]
    found = sorted((f["objects"][0], f["message"].split(":")[0]) for f in findings if f["id"] == "NM-POL-013")
    assert found == [("CiliumNetworkPolicy/prod/p", "CiliumNetworkPolicy prod/p egress rule 1"),
                     ("NetworkPolicy/prod/np", "NetworkPolicy prod/np ingress rule 1")]
    path = tmp_path / "calico.yaml"
    path.write_text(BASE.replace("plugin: cilium, mode: native, hostFirewall: true", "plugin: calico, mode: bgp")
                    + "\n---\n" + policy)
    done = subprocess.run([sys.executable, "-m", "netmodel", "check", str(path), "--format", "json"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert "NM-POL-013" not in {f["id"] for f in json.loads(done.stdout)["findings"]}


def test_host_policy_icmp_echo_rules_are_judged_at_the_node(tmp_path: Path) -> None:
    echo = LOCK_DOWN + """  - fromEntities: [remote-node]
    icmps:
    - fields: [{type: EchoRequest}]
"""
    def health_echo(policy: str) -> list[str]:
        findings = json.loads(run(tmp_path, policy, "check", "--format", "json").stdout)["findings"]
        return [f["message"] for f in findings if f["id"] == "NM-P2P-008" and "ICMP echo" in f["message"]]

    assert health_echo(LOCK_DOWN)  # Cilium's health echo between nodes is dropped by the default deny
    assert health_echo(echo) == []
    f = fabric(echo)
    w2 = f.topology.node_by_name["w2"]
    assert f.firewalls.decide(w2, "ingress", f.topology.node_by_name["cp"].ips[0], 1, 0).allowed
    assert not f.firewalls.decide(w2, "ingress", parse_network("192.0.2.9").network_address, 1, 0).allowed
    other = fabric(echo.replace("type: EchoRequest", "type: DestinationUnreachable"))
    assert not other.firewalls.decide(w2, "ingress", other.topology.node_by_name["cp"].ips[0], 1, 0).allowed


def test_a_field_cilium_does_not_have_is_reported_not_read_as_absent() -> None:
    """Cilium's own examples/policies/auth/auth.yaml uses `auth:`, a field of a Cilium version that renamed it
    `authentication:`; a misspelt peer (`fromEndpoint:`) would leave a rule with only ports, which allows every
    peer. Neither is silently read as absent: NM-INPUT-045 names the field and the answers are marked."""
    f = fabric(CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  ingress:
  - fromEndpoint: [{matchLabels: {role: frontend}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP, portt: "81"}]
      rulez: {}
  egress:
  - toEndpoints: [{matchLabels: {role: other}}]
    auth: {type: "null"}
""")
    notes = [n.message for n in f.topology.notes if n.id == "NM-INPUT-045"]
    assert len(notes) == 2, notes
    for field in ("spec.ingress[0].fromEndpoint", "spec.ingress[0].toPorts[0].ports[0].portt",
                  "spec.ingress[0].toPorts[0].rulez", "spec.egress[0].auth"):
        assert any(field in n for n in notes), (field, notes)
    assert [s.ref for s in Unevaluated.of(f.topology).affecting(["prod"])] == ["CiliumNetworkPolicy/prod/p"]


def test_a_cidr_group_reference_is_reported_not_refused(tmp_path: Path) -> None:
    """`toCIDRSet: [{cidrGroupRef: NAME}]` is valid Cilium (the addresses of a CiliumCIDRGroup); netmodel does not
    read CiliumCIDRGroup objects, so it reports the entry (NM-INPUT-045, answers marked) and reads it as matching
    no address, instead of refusing the input (exit 2)."""
    policy = CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  egress:
  - toCIDRSet: [{cidrGroupRef: partners}]
"""
    done = run(tmp_path, policy, "check", "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    said = [f for f in json.loads(done.stdout)["findings"] if f["id"] == "NM-INPUT-045"]
    assert len(said) == 1 and "cidrGroupRef" in said[0]["message"]
    f = fabric(policy)
    assert not allowed(f, "prod/backend", "network:partner", 443)  # egress default deny, the group unread
    assert [s.ref for s in Unevaluated.of(f.topology).affecting(["prod"])] == ["CiliumNetworkPolicy/prod/p"]


def test_a_null_peer_field_is_absent_and_an_empty_one_combines() -> None:
    """A peer field written null (`fromEndpoints:` with nothing after it, as a template leaves it) is absent, as
    Go's JSON decoding makes it: the rule with only toPorts allows every peer on those ports (it was read as an
    explicitly empty list, allowing nothing). Cilium refuses two peer fields only when both list something
    (Validate counts len() > 0), so an empty list beside a CIDR list is accepted and adds no peer."""
    null = fabric(CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  ingress:
  - fromEndpoints:
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
""")
    assert allowed(null, "prod/frontend", "prod/backend", 80)
    assert not allowed(null, "prod/frontend", "prod/backend", 81)
    both = fabric(CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  ingress:
  - fromEndpoints: []
    fromCIDR: [198.51.100.0/24]
""")
    assert not allowed(both, "prod/frontend", "prod/backend", 80)
    assert allowed(both, "network:other-net", "prod/backend", 80)


def test_extended_ip_protocols_are_read_not_refused(tmp_path: Path) -> None:
    """Cilium's examples/policies/host/allow-extended-protocols.yaml lists `protocol: VRRP` (extended IP protocols:
    VRRP, IGMP, GRE, IPIP, IPv6, ESP, AH; no ports). netmodel's flows are TCP, UDP and SCTP, so such an entry matches
    none of them, like an `icmps` entry: the input loads and the TCP entries beside it keep their meaning."""
    policy = CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  egress:
  - toPorts:
    - ports:
      - {port: "443", protocol: TCP}
      - {protocol: VRRP}
      - {protocol: IGMP, port: "0"}
"""
    assert run(tmp_path, policy, "check").returncode in (0, 1)
    f = fabric(policy)
    assert allowed(f, "prod/backend", "network:partner", 443)
    assert not allowed(f, "prod/backend", "network:partner", 80)
    bad = run(tmp_path, policy.replace('{protocol: VRRP}', '{protocol: VRRP, port: "112"}'), "check")
    assert bad.returncode == 2 and "VRRP has no ports" in bad.stderr


def test_a_port_name_is_read_case_insensitively() -> None:
    """Cilium lower-cases a named port (pkg/policy/api PortProtocol.Validate: IANA service names are
    case-insensitive), so `port: HTTP` names the container port `http`; netmodel refused it (exit 2)."""
    f = fabric(CNP + """metadata: {name: p, namespace: prod}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  ingress:
  - fromEndpoints: [{matchLabels: {role: frontend}}]
    toPorts: [{ports: [{port: HTTP, protocol: TCP}]}]
""")
    assert allowed(f, "prod/frontend", "prod/backend", 80)
    assert not allowed(f, "prod/frontend", "prod/backend", 81)
