"""NetworkPolicy v1 rule by rule, on hand-written layouts (namespaces x, y; Pods a, b, c)."""

from __future__ import annotations

import pytest

from netmodel.analyze.reach import CompiledCluster, query
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from tests.policykit import allowed

BASE = """
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: x}}
---
apiVersion: v1
kind: Namespace
metadata: {name: y, labels: {ns: y, env: prod}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {pod: a, tier: web}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}, {containerPort: 81},
                                        {name: dns, containerPort: 53, protocol: UDP},
                                        {containerPort: 9, protocol: SCTP}]}]}
status: {podIP: 10.244.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {pod: b}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}, {containerPort: 80}]}]}
status: {podIP: 10.244.0.12}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: y, labels: {pod: c, tier: db}}
spec: {containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 81}]}]}
status: {podIP: 10.244.0.21}
"""


def compiled(*policies: str) -> CompiledCluster:
    docs = BASE + "".join("\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" + p for p in policies)
    return CompiledCluster(build_topology(parse_text(docs, "t.yaml")))


def test_no_policy_allows_everything() -> None:
    f = compiled()
    assert allowed(f, "y/c", "x/a") and allowed(f, "x/a", "y/c", 81)


def test_ingress_absent_list_and_empty_list_deny_but_one_empty_rule_allows() -> None:
    absent = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}}")
    empty = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: []}")
    everything = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, "
                        "ingress: [{}]}")
    assert not allowed(absent, "x/b", "x/a") and not allowed(empty, "x/b", "x/a")
    assert allowed(everything, "y/c", "x/a")
    assert allowed(absent, "x/a", "x/b")  # b is not selected


def test_empty_pod_selector_selects_the_whole_namespace_only() -> None:
    f = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {}}")
    assert not allowed(f, "y/c", "x/a") and not allowed(f, "y/c", "x/b")
    assert allowed(f, "x/a", "y/c")


def test_policy_types_default_adds_egress_only_with_egress_rules() -> None:
    only_ingress = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {}, ingress: [{}]}")
    with_egress = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {}, egress: "
                         "[{to: [{podSelector: {}}]}]}")
    assert allowed(only_ingress, "x/a", "y/c")
    assert not allowed(with_egress, "x/a", "y/c")
    # Ingress is defaulted in too (and has no rules): a → b passes a's egress but not b's ingress.
    steps = {s.step.value: s.ok for s in query(with_egress, "x/a", "x/b", 80).paths[0].steps}
    assert steps["policy-egress"] and not steps["policy-ingress"]
    # policyTypes written out: Egress only, so ingress stays open
    explicit = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {}, policyTypes: [Egress]}")
    assert allowed(explicit, "y/c", "x/a") and not allowed(explicit, "x/a", "y/c")


def test_pod_selector_alone_means_own_namespace_and_namespace_selector_alone_all_pods() -> None:
    own = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: "
                 "[{from: [{podSelector: {}}]}]}")
    assert allowed(own, "x/b", "x/a") and not allowed(own, "y/c", "x/a")
    other = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: "
                   "[{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]}")
    assert allowed(other, "y/c", "x/a") and not allowed(other, "x/b", "x/a")


def test_both_selectors_in_one_peer_and_but_two_peers_or() -> None:
    conj = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: "
                  "[{from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: b}}}]}]}")
    assert not allowed(conj, "y/c", "x/a") and not allowed(conj, "x/b", "x/a")
    disj = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: "
                  "[{from: [{namespaceSelector: {matchLabels: {ns: y}}}, {podSelector: {matchLabels: {pod: b}}}]}]}")
    assert allowed(disj, "y/c", "x/a") and allowed(disj, "x/b", "x/a")


def test_implicit_namespace_name_label() -> None:
    f = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: "
               "[{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}]}]}")
    assert allowed(f, "y/c", "x/a") and not allowed(f, "x/b", "x/a")


@pytest.mark.parametrize(("expression", "c_allowed", "b_allowed"), [
    ("{key: tier, operator: In, values: [db]}", True, False),
    ("{key: tier, operator: NotIn, values: [db]}", False, True),  # b has no tier: NotIn matches it
    ("{key: tier, operator: Exists}", True, False),
    ("{key: tier, operator: DoesNotExist}", False, True),
])
def test_match_expressions_operators(expression: str, c_allowed: bool, b_allowed: bool) -> None:
    f = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: "
               f"[{{from: [{{namespaceSelector: {{}}, podSelector: {{matchExpressions: [{expression}]}}}}]}}]}}")
    assert allowed(f, "y/c", "x/a") is c_allowed
    assert allowed(f, "x/b", "x/a") is b_allowed


def test_named_port_resolves_on_each_destination_pod() -> None:
    # "http" is 80 on a and 8080 on b: one rule, two numbers.
    f = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {}, ingress: [{ports: [{port: http}]}]}")
    assert allowed(f, "y/c", "x/a", 80) and not allowed(f, "y/c", "x/a", 81)
    assert allowed(f, "y/c", "x/b", 8080) and not allowed(f, "y/c", "x/b", 80)
    # a named port must also match the protocol
    udp = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {}, ingress: [{ports: "
                 "[{port: dns, protocol: TCP}]}]}")
    assert not allowed(udp, "y/c", "x/a", 53, "UDP")


def test_named_port_in_egress_resolves_on_the_peer() -> None:
    f = compiled("metadata: {name: p, namespace: y}\nspec: {podSelector: {}, policyTypes: [Egress], egress: "
               "[{ports: [{port: http}]}]}")
    assert allowed(f, "y/c", "x/b", 8080) and not allowed(f, "y/c", "x/b", 80)
    assert allowed(f, "y/c", "x/a", 80)


def test_end_port_range_and_protocols() -> None:
    f = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: "
               "[{ports: [{port: 80, endPort: 81}, {protocol: UDP, port: 53}, {protocol: SCTP}]}]}")
    assert allowed(f, "y/c", "x/a", 80) and allowed(f, "y/c", "x/a", 81)
    assert allowed(f, "y/c", "x/a", 53, "UDP") and not allowed(f, "y/c", "x/a", 53, "TCP")
    assert allowed(f, "y/c", "x/a", 9, "SCTP")


def test_ip_block_with_except_matches_pod_ips() -> None:
    f = compiled("metadata: {name: p, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: "
               "[{from: [{ipBlock: {cidr: 10.244.0.0/24, except: [10.244.0.20/30]}}]}]}")
    assert allowed(f, "x/b", "x/a")  # 10.244.0.12
    assert not allowed(f, "y/c", "x/a")  # 10.244.0.21 is excepted


def test_both_ends_must_allow() -> None:
    f = compiled("metadata: {name: out, namespace: y}\nspec: {podSelector: {}, policyTypes: [Egress]}",
               "metadata: {name: in, namespace: x}\nspec: {podSelector: {}, ingress: [{}]}")
    assert not allowed(f, "y/c", "x/a")
    answer = query(f, "y/c", "x/a", 80)
    assert [d.name for d in answer.blocked_by] == ["y/out"]


def test_union_of_policies_selecting_a_pod() -> None:
    f = compiled("metadata: {name: one, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: "
               "[{ports: [{port: 80}]}]}",
               "metadata: {name: two, namespace: x}\nspec: {podSelector: {matchLabels: {tier: web}}, ingress: "
               "[{ports: [{port: 81}]}]}")
    assert allowed(f, "y/c", "x/a", 80) and allowed(f, "y/c", "x/a", 81)


def test_host_network_pods_are_not_subject_to_policy() -> None:
    docs = BASE + """
---
apiVersion: v1
kind: Pod
metadata: {name: h, namespace: x, labels: {pod: h}}
spec: {hostNetwork: true, containers: [{name: c, ports: [{containerPort: 9100}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: x}
spec: {podSelector: {}}
"""
    f = CompiledCluster(build_topology(parse_text(docs, "t.yaml")))
    assert allowed(f, "y/c", "x/h", 9100)
    assert query(f, "y/c", "x/h", 9100).paths[0].hops[-1].steps[0].detail.startswith("hostNetwork Pod")
