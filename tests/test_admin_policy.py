"""AdminNetworkPolicy and BaselineAdminNetworkPolicy: reading (located errors), tier precedence, traces, matrix.

Precedence as the API reference of kubernetes-sigs/network-policy-api (apis/v1alpha1) states it: ANP by ascending
priority, rules in order, first match decides (Pass: on to NetworkPolicy); then NetworkPolicy; then the BANP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.analyze.checks import CHECKS, CheckContext, run_checks
from netmodel.analyze.policy.checks import POLICY_CHECKS
from netmodel.analyze.reach import CompiledCluster, query
from netmodel.errors import ValidationError
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from tests.conformancekit import cases, flows, pod_matrix
from tests.conformancekit import matrix_allows as matrix_lists
from tests.policykit import both

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
metadata: {name: n1, labels: {zone: a}}
spec: {podCIDR: 10.244.0.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {zone: b}}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.2}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 80}, {containerPort: 81},
                                                  {name: dns, containerPort: 53, protocol: UDP}]}]}
status: {podIP: 10.244.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: b}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080}, {containerPort: 80}]}]}
status: {podIP: 10.244.0.12}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: y, labels: {app: c}}
spec: {nodeName: n1, containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 81}]}]}
status: {podIP: 10.244.0.21}
---
apiVersion: v1
kind: Pod
metadata: {name: h, namespace: y, labels: {app: h}}
spec: {nodeName: n2, hostNetwork: true, containers: [{name: c, ports: [{containerPort: 9100}]}]}
"""

ANP = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
BANP = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\n"
NP = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"


def compiled(*docs: str) -> CompiledCluster:
    return CompiledCluster(build_topology(parse_text(BASE + "".join("\n---\n" + d for d in docs), "t.yaml")))


# -- precedence ------------------------------------------------------------------------------------------------

DENY_X_FROM_Y = ANP + """metadata: {name: deny-y}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {team: x}}}
  ingress:
  - {name: deny-from-y, action: Deny, from: [{namespaces: {matchLabels: {team: y}}}]}
"""

NP_ALLOW_ALL_INTO_X = NP + """metadata: {name: allow-all, namespace: x}
spec: {podSelector: {}, ingress: [{}]}
"""

NP_DENY_INTO_X = NP + """metadata: {name: deny, namespace: x}
spec: {podSelector: {}}
"""


def test_anp_deny_wins_over_a_networkpolicy_allow() -> None:
    f = compiled(DENY_X_FROM_Y, NP_ALLOW_ALL_INTO_X)
    assert not both(f, "y/c", "x/a", 80)
    assert both(f, "x/b", "x/a", 80)


def test_anp_allow_wins_over_networkpolicy_isolation() -> None:
    allow = DENY_X_FROM_Y.replace("Deny", "Allow").replace("deny-y", "allow-y")
    f = compiled(allow, NP_DENY_INTO_X)
    assert both(f, "y/c", "x/a", 80)
    assert not both(f, "x/b", "x/a", 80)  # NetworkPolicy still isolates x for everyone else


def test_pass_hands_over_to_networkpolicy_then_to_the_baseline() -> None:
    passing = DENY_X_FROM_Y.replace("Deny", "Pass").replace("deny-y", "pass-y")
    banp = BANP + """metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - {name: deny-y, action: Deny, from: [{namespaces: {matchLabels: {team: y}}}]}
"""
    assert both(compiled(passing, NP_ALLOW_ALL_INTO_X, banp), "y/c", "x/a", 80)  # NetworkPolicy allows
    assert not both(compiled(passing, banp), "y/c", "x/a", 80)  # no NetworkPolicy: the baseline denies
    assert both(compiled(passing), "y/c", "x/a", 80)  # nothing decides: allowed


def test_a_networkpolicy_selecting_the_pod_hides_the_baseline() -> None:
    banp = BANP + """metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - {action: Allow, from: [{namespaces: {}}]}
"""
    assert not both(compiled(NP_DENY_INTO_X, banp), "y/c", "x/a", 80)  # isolated by NP: the BANP is not reached
    assert both(compiled(banp), "y/c", "x/a", 80)


def test_lower_priority_value_first_and_rules_in_order() -> None:
    low = ANP + """metadata: {name: z-first}
spec:
  priority: 1
  subject: {namespaces: {matchLabels: {team: x}}}
  ingress:
  - {action: Allow, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: c}}}}],
     ports: [{portNumber: {port: 80}}]}
  - {action: Deny, from: [{namespaces: {}}], ports: [{portRange: {start: 80, end: 81}}]}
"""
    high = DENY_X_FROM_Y.replace("priority: 10", "priority: 2")
    f = compiled(low, high)
    assert both(f, "y/c", "x/a", 80)  # z-first's rule 1 (priority 1 beats 2, whatever the names)
    assert not both(f, "y/c", "x/a", 81)  # z-first's rule 2
    assert not both(f, "x/b", "x/a", 80)  # rule 2: every namespace
    assert both(f, "x/b", "x/a", 53, "UDP")  # outside both port sets of z-first; deny-y names y only


def test_equal_priorities_are_taken_by_name_and_reported() -> None:
    deny = DENY_X_FROM_Y
    allow = DENY_X_FROM_Y.replace("Deny", "Allow").replace("deny-y", "allow-y")
    f = compiled(deny, allow)
    assert both(f, "y/c", "x/a", 80)  # allow-y < deny-y by name
    findings = [(x.id, x.objects) for x in run_checks(CheckContext(f.topology), CHECKS + POLICY_CHECKS)
                if x.id == "NM-POL-005"]
    assert findings == [("NM-POL-005", ("AdminNetworkPolicy/allow-y", "AdminNetworkPolicy/deny-y"))]


def test_egress_networks_match_pod_addresses_and_nodes_match_node_addresses() -> None:
    anp = ANP + """metadata: {name: egress}
spec:
  priority: 5
  subject: {pods: {namespaceSelector: {matchLabels: {team: x}}, podSelector: {matchLabels: {app: a}}}}
  egress:
  - {action: Allow, to: [{nodes: {matchLabels: {zone: b}}}], ports: [{portNumber: {port: 9100}}]}
  - {action: Deny, to: [{networks: [10.244.0.16/28, 10.0.0.0/24]}]}
"""
    f = compiled(anp)
    assert not both(f, "x/a", "y/c", 80)  # 10.244.0.21 is inside 10.244.0.16/28: a Pod matched by networks
    assert both(f, "x/a", "x/b", 80)  # 10.244.0.12 is not
    assert both(f, "x/a", "y/h", 9100)  # hostNetwork Pod on n2: the nodes peer
    assert not both(f, "x/a", "y/h", 9101)  # not the Allowed port: networks 10.0.0.0/24 denies it
    assert both(f, "x/b", "y/c", 80)  # x/b is no subject


def test_named_ports_resolve_on_the_destination_pod_whatever_their_protocol() -> None:
    anp = ANP + """metadata: {name: named}
spec:
  priority: 5
  subject: {namespaces: {matchLabels: {team: x}}}
  ingress:
  - {action: Deny, from: [{namespaces: {}}], ports: [{namedPort: http}, {namedPort: dns}]}
"""
    f = compiled(anp)
    assert not both(f, "y/c", "x/a", 80)
    assert both(f, "y/c", "x/a", 81)
    assert not both(f, "y/c", "x/a", 53, "UDP")
    assert not both(f, "y/c", "x/b", 8080) and both(f, "y/c", "x/b", 80)


def test_host_network_pods_are_neither_subjects_nor_pod_peers() -> None:
    anp = ANP + """metadata: {name: all}
spec:
  priority: 5
  subject: {namespaces: {}}
  ingress:
  - {action: Deny, from: [{namespaces: {}}]}
"""
    f = compiled(anp)
    assert both(f, "x/a", "y/h", 9100)  # y/h is hostNetwork: not a subject
    assert both(f, "y/h", "x/a", 80)  # nor a namespaces peer (seen with its node's address)
    assert not both(f, "y/c", "x/a", 80)


# -- traces ----------------------------------------------------------------------------------------------------


def test_the_trace_names_policy_priority_rule_action_and_line() -> None:
    passing = ANP + """metadata: {name: first}
spec:
  priority: 3
  subject: {namespaces: {matchLabels: {team: x}}}
  ingress:
  - {name: hand-over, action: Pass, from: [{namespaces: {matchLabels: {team: y}}}], ports: [{portNumber: {port: 80}}]}
"""
    banp = BANP + """metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - {name: no-y, action: Deny, from: [{namespaces: {matchLabels: {team: y}}}]}
"""
    f = compiled(passing, banp)
    answer = query(f, "y/c", "x/a", 80, "TCP")
    step = answer.paths[0].hops[-1].steps[0]
    assert not step.ok
    text = BASE + "\n---\n" + passing + "\n---\n" + banp
    line = text[:text.index("- {name: no-y")].count("\n") + 1
    pass_line = text[:text.index("- {name: hand-over")].count("\n") + 1
    assert [(d.kind, d.name, d.rule, d.allowed, d.source.line if d.source else 0) for d in step.decisions] == [
        ("AdminNetworkPolicy", "first", "priority 3, ingress rule 1 'hand-over': Pass", True, pass_line),
        ("BaselineAdminNetworkPolicy", "default", "ingress rule 1 'no-y': Deny", False, line)]
    assert "AdminNetworkPolicy first (priority 3) ingress rule 1 'hand-over' passes it" in step.detail
    assert "denied by BaselineAdminNetworkPolicy default ingress rule 1 'no-y' (Deny)" in step.detail


# -- reading ---------------------------------------------------------------------------------------------------


def problems_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ValidationError) as err:
        build_topology(parse_text(text, "in.yaml"))
    return [(p.span.line, p.message) for p in err.value.problems]


def line_of(text: str, marker: str) -> int:
    return text[:text.index(marker)].count("\n") + 1


BAD = {
    # name: (document, marker of the line the problem is on, words of the message)
    "priority range": (ANP + "metadata: {name: p}\nspec:\n  priority: 1001\n  subject: {namespaces: {}}\n",
                       "priority: 1001", "outside 0-1000"),
    "priority missing": (ANP + "metadata: {name: p}\nspec:\n  subject: {namespaces: {}}\n", "subject",
                         "priority: is required"),
    "two subjects": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject:\n    namespaces: {}\n"
                     "    pods: {namespaceSelector: {}, podSelector: {}}\n", "pods:", "exactly one is allowed"),
    "no subject field": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {}\n", "subject",
                         "needs exactly one of namespaces, pods"),
    "pods without podSelector": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject:\n"
                                 "    pods: {namespaceSelector: {}}\n", "pods:", "podSelector: is required"),
    "unknown action": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n"
                       "  - {action: Reject, from: [{namespaces: {}}]}\n", "- {action", "unknown value 'Reject'"),
    "pass in baseline": (BANP + "metadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  egress:\n"
                         "  - {action: Pass, to: [{namespaces: {}}]}\n", "- {action", "unknown value 'Pass'"),
    "baseline name": (BANP + "metadata: {name: base}\nspec:\n  subject: {namespaces: {}}\n", "metadata:",
                      "must be named `default`"),
    "peer with two fields": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n"
                             "  egress:\n  - action: Deny\n    to:\n    - namespaces: {}\n"
                             "      networks: [10.0.0.0/8]\n", "networks:", "exactly one is allowed"),
    "ingress from networks": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n"
                              "  ingress:\n  - action: Deny\n    from:\n    - networks: [10.0.0.0/8]\n",
                              "networks:", "cannot select networks"),
    "empty from": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n"
                   "  - {action: Deny, from: []}\n", "- {action", "needs at least one peer"),
    "port range order": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n"
                         "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n"
                         "    ports: [{portRange: {start: 90, end: 80}}]\n", "ports:", "not above start"),
    "port kinds": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n"
                   "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n"
                   "    ports: [{portNumber: {port: 80}, namedPort: http}]\n", "ports:", "exactly one is allowed"),
    "named port to networks": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n"
                               "  egress:\n  - action: Deny\n    to: [{networks: [10.0.0.0/8]}]\n"
                               "    ports: [{namedPort: http}]\n", "ports:", "named port cannot be used"),
    "bad cidr": (ANP + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n"
                 "  egress:\n  - action: Deny\n    to: [{networks: [10.0.0.0/33]}]\n", "to:", "invalid CIDR"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_invalid_input_is_located(name: str) -> None:
    text, marker, words = BAD[name]
    found = problems_of(text)
    assert len(found) == 1, found
    line, message = found[0]
    assert words in message
    assert line == line_of(text, marker)


def test_invalid_input_exits_2_with_the_location(tmp_path: Path) -> None:
    text, _, _ = BAD["priority range"]
    path = tmp_path / "anp.yaml"
    path.write_text(text)
    done = subprocess.run([sys.executable, "-m", "netmodel", "check", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert f"{path}:{line_of(text, 'priority: 1001')}:" in done.stderr and "Traceback" not in done.stderr


def test_domain_names_are_reported_not_evaluated() -> None:
    anp = ANP + """metadata: {name: dns}
spec:
  priority: 1
  subject: {namespaces: {}}
  egress:
  - {action: Allow, to: [{domainNames: [example.com]}]}
"""
    f = compiled(anp)
    notes = [n for n in f.topology.notes if n.id == "NM-INPUT-021"]
    assert len(notes) == 1 and "not evaluated" in notes[0].message
    assert both(f, "x/a", "y/c", 80)  # the rule matches nothing; nothing else decides


def test_admin_kinds_are_read_and_cluster_network_policy_is_not() -> None:
    cnp = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: c}\nspec: {}\n"
    f = compiled(DENY_X_FROM_Y, cnp)
    assert [s.kind for s in f.topology.skipped] == ["ClusterNetworkPolicy"]
    assert [p.name for p in f.topology.admin_policies] == ["deny-y"]


# -- the matrix agrees with the trace on the upstream conformance corpus -------------------------------------


def test_matrix_agrees_with_every_conformance_probe() -> None:
    root = Path(__file__).parent / "conformance_anp"
    checked = 0
    for case in cases(root):
        rows = pod_matrix(root, case)
        for flow in flows(root, case):
            assert matrix_lists(rows, flow) is flow["allowed"], (case, flow)
            checked += 1
    assert checked == 289


def test_query_json_carries_the_admin_decision(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(BASE + "\n---\n" + DENY_X_FROM_Y)
    done = subprocess.run([sys.executable, "-m", "netmodel", "query", str(path), "--from", "y/c", "--to", "x/a",
                           "--port", "80", "--format", "json"], capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    steps = [s for p in json.loads(done.stdout)["paths"] for h in p["hops"] for s in h["steps"]
             if s["step"] == "policy-ingress"]
    assert steps[0]["decisions"] == [{"kind": "AdminNetworkPolicy", "name": "deny-y", "action": "deny",
                                      "rule": "priority 10, ingress rule 1 'deny-from-y': Deny",
                                      "source": {"file": str(path), "line": line_of(BASE + "\n---\n" + DENY_X_FROM_Y,
                                                                                    "- {name: deny-from-y"),
                                                 "column": 5}}]


def test_diff_names_the_flows_an_admin_deny_closes() -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "netmodel", "diff", "topologies/admin-policy-tiers.yaml",
                           "topologies/broken-admin-policy-dns-denied.yaml", "--format", "json"], cwd=root,
                          capture_output=True, text=True, check=False)
    report = json.loads(done.stdout)
    assert report["summary"]["flowsOpened"] == 0
    assert [f["id"] for f in report["findings"]["introduced"]] == ["NM-SVC-008"]
    closed = {(c["from"], c["to"], c["protocol"]) for c in report["flows"]["closed"]}
    # Every workload outside kube-system loses DNS to CoreDNS; nothing inside kube-system changes.
    assert ("blog/wordpress[Deployment]", "kube-system/coredns[Deployment]", "UDP") in closed
    assert all(not src.startswith("kube-system/") and dst.startswith("kube-system/") for src, dst, _ in closed)


FIRST_SHAPE = ANP + """metadata: {name: first-shape}
spec:
  priority: 5
  subject: {namespaces: {matchLabels: {team: x}}}
  ingress:
  - name: deny-from-y
    action: Deny
    from:
    - namespaces: {namespaceSelector: {matchLabels: {team: y}}}
    - pods: {namespaces: {namespaceSelector: {matchLabels: {team: y}}}, podSelector: {}}
"""


def test_the_apis_first_peer_shape_is_read() -> None:
    """v0.1.0-v0.1.2 of network-policy-api (the same v1alpha1) wrote a peer's namespaces as a NamespacedPeer
    (`namespaces: {namespaceSelector: S}`, `pods: {namespaces: {namespaceSelector: S}, podSelector: P}`;
    apis/v1alpha1/shared_types.go at v0.1.1); the policy-assistant walkthrough still does. It means S."""
    c = compiled(FIRST_SHAPE)
    assert not query(c, "y/c", "x/a", 80, "TCP").allowed
    assert query(c, "x/b", "x/a", 80, "TCP").allowed
    assert [p.name for p in c.topology.admin_policies] == ["first-shape"]


@pytest.mark.parametrize("field", ["sameLabels", "notSameLabels"])
def test_same_labels_peers_leave_the_policy_out_and_say_so(tmp_path: Path, field: str) -> None:
    """sameLabels/notSameLabels (namespaces relative to the subject's, API v0.1.0-v0.1.2) are not evaluated: the
    policy is left out with NM-INPUT-015, and every answer is marked."""
    policy = FIRST_SHAPE.replace("- namespaces: {namespaceSelector: {matchLabels: {team: y}}}",
                                 f"- namespaces: {{{field}: [team]}}")
    c = compiled(policy)
    assert c.topology.admin_policies == ()
    said = [n for n in c.topology.notes if n.id == "NM-INPUT-015"]
    assert len(said) == 1 and field in said[0].message and "left out" in said[0].message
    path = tmp_path / "t.yaml"
    path.write_text(BASE + "\n---\n" + policy)
    done = subprocess.run([sys.executable, "-m", "netmodel", "query", str(path), "--from", "y/c", "--to", "x/a",
                           "--port", "80", "--format", "json"], capture_output=True, text=True, check=False,
                          timeout=300)
    assert json.loads(done.stdout)["notEvaluated"]["kinds"] == ["AdminNetworkPolicy (policy.networking.k8s.io)"]
