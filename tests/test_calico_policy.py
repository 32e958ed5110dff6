"""Calico NetworkPolicy, GlobalNetworkPolicy and Tier: reading (located errors), tier and policy order, rule
matching, how Kubernetes NetworkPolicies and the admin tiers sit among Calico tiers; trace and matrix agree.

The expected answers follow the Calico references (docs.tigera.io/calico/latest/reference/resources/tier,
networkpolicy, globalnetworkpolicy) and, where they are silent, projectcalico/calico's Felix (felix/rules/
endpoints.go: a tier is skipped when no policy of it applies, its defaultAction acts when one applies and no rule
decides; felix/calc/policy_sorter.go: order, then name) — docs/reachability.md, "Calico tiers".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.analyze.reach import CompiledCluster, query
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from tests.policykit import allowed, both

BASE = """
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {team: x}}
---
apiVersion: v1
kind: Namespace
metadata: {name: y, labels: {team: y}}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
spec: {podCIDR: 10.244.0.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.2}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a, role: db}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 80}, {containerPort: 81},
                                                  {name: dns, containerPort: 53, protocol: UDP}]}]}
status: {podIP: 10.244.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: b}}
spec: {nodeName: n2, containers: [{name: c, ports: [{name: http, containerPort: 8080}, {containerPort: 80}]}]}
status: {podIP: 10.244.1.12}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: y, labels: {app: c}}
spec: {nodeName: n2, containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 81}]}]}
status: {podIP: 10.244.1.21}
"""

V3 = "apiVersion: projectcalico.org/v3\n"
CRD = "apiVersion: crd.projectcalico.org/v1\n"
NP = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"


def fabric(*docs: str) -> CompiledCluster:
    return CompiledCluster(build_topology(parse_text(BASE + "".join("\n---\n" + d for d in docs), "t.yaml")))


def tier(name: str, order: float | None, action: str | None = None) -> str:
    spec = ", ".join(([f"order: {order}"] if order is not None else [])
                     + ([f"defaultAction: {action}"] if action else []))
    return V3 + f"kind: Tier\nmetadata: {{name: {name}}}\nspec: {{{spec}}}\n"


def gnp(name: str, body: str) -> str:
    return V3 + f"kind: GlobalNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n{body}"


def cnp(name: str, namespace: str, body: str, api: str = V3) -> str:
    return api + f"kind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{body}"


DENY_FROM_Y = """  tier: security
  order: 10
  selector: app == "a"
  types: [Ingress]
  ingress:
  - {action: Deny, source: {namespaceSelector: team == "y"}}
"""
K8S_ALLOW_ALL_INTO_X = NP + "metadata: {name: allow-all, namespace: x}\nspec: {podSelector: {}, ingress: [{}]}\n"


# -- tiers -------------------------------------------------------------------------------------------------------

def test_no_policy_in_any_tier_allows() -> None:
    f = fabric(tier("security", 100))
    assert both(f, "y/c", "x/a", 80) and both(f, "x/a", "y/c", 81)


def test_an_earlier_tier_deny_wins_over_a_kubernetes_allow() -> None:
    f = fabric(tier("security", 100), gnp("deny-y", DENY_FROM_Y), K8S_ALLOW_ALL_INTO_X)
    assert not both(f, "y/c", "x/a", 80)
    assert both(f, "x/a", "x/b", 80)  # security does not apply to b: the Kubernetes policy allows


def test_end_of_tier_denies_what_an_applying_policy_leaves_undecided() -> None:
    # x/b → x/a: the security policy applies to a and decides nothing; the tier's defaultAction is Deny.
    f = fabric(tier("security", 100), gnp("deny-y", DENY_FROM_Y))
    assert not both(f, "x/b", "x/a", 80)
    assert both(f, "x/a", "x/b", 80)  # the policy does not apply to b
    assert both(f, "y/c", "x/a", 80) is False


def test_tier_default_action_pass_hands_on() -> None:
    f = fabric(tier("security", 100, "Pass"), gnp("deny-y", DENY_FROM_Y))
    assert both(f, "x/b", "x/a", 80)  # passed to the end: the profile allows
    assert not both(f, "y/c", "x/a", 80)


def test_pass_rule_skips_the_rest_of_its_tier() -> None:
    body = DENY_FROM_Y.replace("  - {action: Deny", "  - {action: Pass, source: {selector: app == \"b\"}}\n"
                                                     "  - {action: Deny")
    f = fabric(tier("security", 100), gnp("pass-b", body), K8S_ALLOW_ALL_INTO_X)
    assert both(f, "x/b", "x/a", 80)  # passed to default: the Kubernetes policy allows
    body2 = body.replace("Pass", "Allow")
    assert both(fabric(tier("security", 100), gnp("allow-b", body2)), "x/b", "x/a", 80)


def test_tiers_run_by_order_then_name() -> None:
    allow = gnp("allow-y", DENY_FROM_Y.replace("Deny", "Allow").replace("security", "first"))
    deny = gnp("deny-y", DENY_FROM_Y)
    assert both(fabric(tier("first", 50), tier("security", 100), allow, deny), "y/c", "x/a", 80)
    assert not both(fabric(tier("first", 150), tier("security", 100), allow, deny), "y/c", "x/a", 80)
    # equal orders: by tier name ("first" < "security")
    assert both(fabric(tier("first", 100), tier("security", 100), allow, deny), "y/c", "x/a", 80)


def test_a_tier_without_order_is_read_at_the_default_tiers_order() -> None:
    # Calico defaults an omitted order to 1,000,000; ties go by name: "aaa" before "default".
    deny = gnp("deny-y", DENY_FROM_Y.replace("security", "aaa"))
    assert not both(fabric(tier("aaa", None), deny, K8S_ALLOW_ALL_INTO_X), "y/c", "x/a", 80)
    deny_z = gnp("deny-y", DENY_FROM_Y.replace("security", "zzz"))
    assert both(fabric(tier("zzz", None), deny_z, K8S_ALLOW_ALL_INTO_X), "y/c", "x/a", 80)


# -- policy order, Kubernetes NetworkPolicy at order 1000 in the default tier ------------------------------------

def _default_tier_deny(order: str, name: str = "deny-y") -> str:
    return gnp(name, DENY_FROM_Y.replace("  tier: security\n", "").replace("order: 10", f"order: {order}"))


def test_kubernetes_policies_sit_at_order_1000_of_the_default_tier() -> None:
    assert not both(fabric(_default_tier_deny("999"), K8S_ALLOW_ALL_INTO_X), "y/c", "x/a", 80)
    assert both(fabric(_default_tier_deny("1001"), K8S_ALLOW_ALL_INTO_X), "y/c", "x/a", 80)
    # equal order: name, namespace, kind — "allow-all" < "deny-y"
    assert both(fabric(_default_tier_deny("1000"), K8S_ALLOW_ALL_INTO_X), "y/c", "x/a", 80)
    assert not both(fabric(_default_tier_deny("1000", "a-deny"), K8S_ALLOW_ALL_INTO_X), "y/c", "x/a", 80)


def test_policy_without_order_comes_last() -> None:
    deny = gnp("deny-y", DENY_FROM_Y.replace("  order: 10\n", "").replace("  tier: security\n", ""))
    assert both(fabric(deny, K8S_ALLOW_ALL_INTO_X), "y/c", "x/a", 80)


def test_log_decides_nothing() -> None:
    body = DENY_FROM_Y.replace("  - {action: Deny", "  - {action: Log}\n  - {action: Deny")
    assert not both(fabric(tier("security", 100), gnp("log", body)), "y/c", "x/a", 80)


# -- the admin tiers among Calico tiers --------------------------------------------------------------------------

ANP_ALLOW_Y = """apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: allow-y}
spec:
  priority: 5
  subject: {namespaces: {matchLabels: {team: x}}}
  ingress:
  - {name: from-y, action: Allow, from: [{namespaces: {matchLabels: {team: y}}}]}
"""


def test_admin_network_policies_take_the_kube_admin_tier_at_order_1000() -> None:
    assert not both(fabric(tier("security", 500), gnp("deny-y", DENY_FROM_Y), ANP_ALLOW_Y), "y/c", "x/a", 80)
    assert both(fabric(tier("security", 2000), gnp("deny-y", DENY_FROM_Y), ANP_ALLOW_Y), "y/c", "x/a", 80)


# -- rules -------------------------------------------------------------------------------------------------------

def test_namespaced_rule_selectors_stay_in_the_policys_namespace() -> None:
    body = """  selector: app == "a"
  ingress:
  - {action: Allow, source: {selector: has(app)}}
"""
    f = fabric(cnp("from-apps", "x", body))
    assert both(f, "x/b", "x/a", 80)
    assert not both(f, "y/c", "x/a", 80)  # c has the label, in another namespace
    f = fabric(cnp("from-apps", "x", body.replace("has(app)}", "has(app), namespaceSelector: all()}")))
    assert both(f, "y/c", "x/a", 80)


def test_namespaced_policy_selects_only_its_namespace() -> None:
    f = fabric(cnp("deny-all", "y", "  selector: all()\n  types: [Ingress]\n"))
    assert not both(f, "x/a", "y/c", 80)
    assert both(f, "x/a", "x/b", 80)


def test_global_policy_namespace_selector_and_calico_labels() -> None:
    body = """  namespaceSelector: projectcalico.org/name == "x"
  selector: projectcalico.org/orchestrator == "k8s" && pcns.team == "x"
  ingress:
  - {action: Allow, source: {selector: projectcalico.org/namespace == "x"}}
"""
    f = fabric(gnp("x-only", body))
    assert both(f, "x/b", "x/a", 80)
    assert not both(f, "y/c", "x/a", 80)
    assert both(f, "x/a", "y/c", 80)  # y is not selected


def test_global_namespace_selector_matches_no_pod() -> None:
    body = """  selector: app == "a"
  ingress:
  - {action: Allow, source: {namespaceSelector: global()}}
"""
    f = fabric(gnp("hosts-only", body))
    assert not both(f, "x/b", "x/a", 80) and not both(f, "y/c", "x/a", 80)


def test_not_selector_and_nets() -> None:
    body = """  selector: app == "a"
  ingress:
  - {action: Allow, source: {notSelector: app == "c"}}
"""
    f = fabric(gnp("not-c", body))
    assert both(f, "x/b", "x/a", 80) and not both(f, "y/c", "x/a", 80)
    nets = """  selector: app == "a"
  types: [Egress]
  egress:
  - {action: Allow, destination: {nets: [10.244.1.0/24], notNets: [10.244.1.21/32]}}
  - {action: Allow, destination: {nets: [192.0.2.0/24]}}
"""
    f = fabric(gnp("egress-nets", nets))
    assert both(f, "x/a", "x/b", 80) and not both(f, "x/a", "y/c", 80)
    assert allowed(f, "x/a", "ip:192.0.2.7", 443) and not allowed(f, "x/a", "ip:198.51.100.1", 443)


def test_destination_side_of_an_ingress_rule_must_match_the_subject() -> None:
    body = """  selector: has(app)
  namespaceSelector: team == "x"
  ingress:
  - {action: Allow, destination: {selector: app == "b"}}
"""
    f = fabric(gnp("only-into-b", body))
    assert both(f, "x/a", "x/b", 80)
    assert not both(f, "x/b", "x/a", 80)  # the rule is not a's: end of the default tier


def test_ports_ranges_named_ports_not_ports_and_protocols() -> None:
    body = """  selector: app == "a"
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: ["81:90"], notPorts: [85]}}
  - {action: Allow, protocol: TCP, destination: {ports: [http]}}
  - {action: Allow, protocol: UDP, destination: {ports: [dns]}}
  - {action: Allow, protocol: ICMP}
"""
    f = fabric(gnp("ports", body))
    assert both(f, "x/b", "x/a", 81) and both(f, "x/b", "x/a", 80) and not both(f, "x/b", "x/a", 85)
    assert both(f, "x/b", "x/a", 53, "UDP") and not both(f, "x/b", "x/a", 91)
    body2 = """  selector: app == "a"
  ingress:
  - {action: Allow, notProtocol: UDP}
"""
    f = fabric(gnp("not-udp", body2))
    assert both(f, "x/b", "x/a", 81) and not both(f, "x/b", "x/a", 53, "UDP")


def test_named_port_without_protocol_means_every_protocol_of_that_name() -> None:
    body = """  selector: app == "a"
  ingress:
  - {action: Allow, destination: {ports: [dns, http]}}
"""
    f = fabric(gnp("named-any", body))
    assert both(f, "x/b", "x/a", 53, "UDP") and both(f, "x/b", "x/a", 80)
    assert not both(f, "x/b", "x/a", 53) and not both(f, "x/b", "x/a", 81)


def test_egress_named_port_resolves_on_the_destination() -> None:
    body = """  selector: app == "a"
  types: [Egress]
  egress:
  - {action: Allow, protocol: TCP, destination: {ports: [http]}}
"""
    f = fabric(gnp("named", body))
    assert both(f, "x/a", "x/b", 8080) and not both(f, "x/a", "x/b", 80)
    assert not both(f, "x/a", "y/c", 80)  # c names no port http


def test_types_default_from_the_rules() -> None:
    egress_only = """  selector: app == "a"
  egress:
  - {action: Deny, destination: {selector: app == "c"}, protocol: TCP}
"""
    f = fabric(cnp("egress-only", "x", egress_only.replace("app == \"c\"", "app == \"b\"")))
    assert both(f, "y/c", "x/a", 80)  # types [Egress]: ingress untouched
    assert not both(f, "x/a", "x/b", 80)


def test_both_api_groups_read_alike() -> None:
    body = "  selector: all()\n  types: [Ingress]\n"
    assert not both(fabric(cnp("deny", "y", body, CRD)), "x/a", "y/c", 80)


# -- traces ------------------------------------------------------------------------------------------------------

def test_trace_names_policy_tier_order_rule_and_line() -> None:
    f = fabric(tier("security", 100), gnp("deny-y", DENY_FROM_Y))
    answer = query(f, "y/c", "x/a", 80, "TCP")
    decisions = [d for p in answer.paths for h in p.hops for s in h.steps for d in s.decisions]
    deny = [d for d in decisions if d.kind == "Calico GlobalNetworkPolicy"]
    assert [(d.name, d.rule, d.allowed) for d in deny] == [("deny-y", "tier security, order 10, ingress rule 1: Deny",
                                                           False)]
    assert deny[0].source is not None and deny[0].source.line > 0
    end = query(f, "x/b", "x/a", 80, "TCP")
    texts = [s.detail for p in end.paths for h in p.hops for s in h.steps]
    assert any("denied at the end of Calico tier security (defaultAction Deny)" in t for t in texts), texts


# -- input -------------------------------------------------------------------------------------------------------

def _check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "in.yaml"
    path.write_text(BASE + "\n---\n" + text)
    return subprocess.run([sys.executable, "-m", "netmodel", "check", str(path)], capture_output=True, text=True,
                          check=False)


def test_a_selector_that_does_not_parse_is_a_located_error(tmp_path: Path) -> None:
    run = _check(tmp_path, gnp("bad", '  selector: app == web\n'))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    line = (tmp_path / "in.yaml").read_text().splitlines().index("  selector: app == web") + 1
    assert f"in.yaml:{line}:13: error" in run.stderr  # where the selector starts
    assert "does not parse at offset 7" in run.stderr and "expected a quoted string after '=='" in run.stderr


@pytest.mark.parametrize(("text", "says"), [
    (gnp("p", "  tier: nosuch\n  selector: all()\n"), "names a tier the input does not define"),
    (gnp("p", "  ingress:\n  - {action: Allow, destination: {ports: [80]}}\n"), "a numeric port or range needs the rule's protocol"),
    (gnp("p", "  ingress:\n  - {action: Drop}\n"), "unknown value 'Drop'"),
    (gnp("p", "  ingress:\n  - {action: Allow, protocol: TCP, destination: {ports: ['90:80']}}\n"), "runs backwards"),
    (gnp("p", "  selector: global()\n"), "global() can only be used"),
    (cnp("p", "x", "  namespaceSelector: all()\n"), "has no namespaceSelector"),
    (tier("default", 5), "order is fixed at 1e+06"),
    (gnp("p", "  types: [Sideways]\n"), "unknown type 'Sideways'"),
])
def test_what_calico_refuses_is_an_error(tmp_path: Path, text: str, says: str) -> None:
    run = _check(tmp_path, text)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert says in run.stderr


def test_fields_netmodel_does_not_evaluate_leave_the_policy_out_and_say_so(tmp_path: Path) -> None:
    body = """  selector: app == "a"
  types: [Ingress]
  ingress:
  - {action: Allow, http: {methods: [GET]}}
"""
    f = fabric(gnp("by-sa", body))
    notes = [n for n in f.topology.notes if n.id == "NM-INPUT-040"]
    assert len(notes) == 1 and "ingress[0].http" in notes[0].message
    assert f.topology.calico_policies == ()
    assert [s.ref for s in f.topology.skipped] == ["GlobalNetworkPolicy/by-sa"]
    path = tmp_path / "in.yaml"
    path.write_text(BASE + "\n---\n" + gnp("by-sa", body))
    run = subprocess.run([sys.executable, "-m", "netmodel", "query", str(path), "--from", "y/c", "--to", "x/a",
                          "--port", "80", "--format", "json"], capture_output=True, text=True, check=False)
    answer = json.loads(run.stdout)
    assert answer["notEvaluated"]["kinds"] == ["GlobalNetworkPolicy (projectcalico.org)"]


def test_evaluated_calico_policies_are_not_listed_as_unevaluated() -> None:
    f = fabric(gnp("deny-y", DENY_FROM_Y.replace("  tier: security\n", "")))
    assert f.topology.skipped == () and len(f.topology.calico_policies) == 1


def test_a_selector_side_matches_no_outside_address_but_not_selector_alone_in_a_global_policy_does() -> None:
    scoped = """  selector: app == "a"
  types: [Egress]
  egress:
  - {action: Allow, destination: {selector: all()}}
"""
    f = fabric(cnp("to-pods", "x", scoped))
    assert both(f, "x/a", "x/b", 80) and not both(f, "x/a", "y/c", 80)
    assert not allowed(f, "x/a", "ip:192.0.2.7", 443)  # a selector names Pods only
    negated = """  selector: app == "a"
  types: [Egress]
  egress:
  - {action: Allow, destination: {notSelector: app == "c"}}
"""
    f = fabric(gnp("not-c", negated))
    assert allowed(f, "x/a", "ip:192.0.2.7", 443) and both(f, "x/a", "x/b", 80)
    assert not both(f, "x/a", "y/c", 80)
    # in a namespaced policy notSelector limits the side to the policy's namespace: no outside address
    f = fabric(cnp("not-c", "x", negated))
    assert not allowed(f, "x/a", "ip:192.0.2.7", 443) and both(f, "x/a", "x/b", 80)


def test_emulate_replays_calico_policies_in_their_tier_chains() -> None:
    """The lab writes the policy's rules into a chain of the default tier (tests/emulate runs it against the
    kernel)."""
    from netmodel.emulate.translate import translate

    f = fabric(gnp("deny-y", DENY_FROM_Y.replace("  tier: security\n", "")))
    rulesets = "".join(r.text for r in translate(f.topology, {}).plan.rulesets)
    assert 'comment "calico 0 ingress 0"' in rulesets


def test_bundled_layouts_diff_names_the_flows_a_tier_lockdown_closes() -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "netmodel", "diff", "topologies/calico-policy-tiers.yaml",
                           "topologies/broken-calico-tier-dns-denied.yaml", "--format", "json"], cwd=root,
                          capture_output=True, text=True, check=False)
    report = json.loads(done.stdout)
    assert report["summary"]["flowsOpened"] == 0
    [finding] = report["findings"]["introduced"]
    assert finding["id"] == "NM-SVC-008" and "platform.lockdown-kube-system (tier platform, order 5)" in \
        finding["message"] and "a lower policy order" in finding["message"]
    closed = {(c["from"], c["to"], c["protocol"]) for c in report["flows"]["closed"]}
    # The global lockdown applies to every Pod, kube-system's own included: all egress into kube-system closes.
    assert ("shop/api[Deployment]", "kube-system/coredns[Deployment]", "UDP") in closed
    assert all(dst.startswith("kube-system/") for _, dst, _ in closed)


DNS = """apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: dns, containerPort: 53, protocol: UDP},
                                                  {name: dns-tcp, containerPort: 53}]}]}
status: {podIP: 10.244.0.53}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec:
  clusterIP: 10.96.0.10
  selector: {k8s-app: kube-dns}
  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
"""


def test_dns_cut_off_at_a_tier_end_names_the_applying_policies() -> None:
    from netmodel.analyze.checks import CheckContext
    from netmodel.analyze.policy.checks import check_dns_egress

    deny = gnp("default-deny", '  namespaceSelector: kubernetes.io/metadata.name != "kube-system"\n'
                               "  types: [Ingress, Egress]\n")
    topology = build_topology(parse_text(BASE + "\n---\n" + DNS + "\n---\n" + deny, "t.yaml"))
    [finding] = list(check_dns_egress(CheckContext(topology)))
    assert "denied at the end of a Calico tier" in finding.message and "default-deny" in finding.message
    assert finding.objects == ("GlobalNetworkPolicy/default-deny",) and finding.sources[0].line > 0
