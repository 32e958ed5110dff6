"""Property: the tiers agree with a naive oracle on random AdminNetworkPolicy/NetworkPolicy/BaselineAdminNetworkPolicy sets.

The oracle is written from the API reference (kubernetes-sigs/network-policy-api apis/v1alpha1) on the raw
dicts, without netmodel's code: per Pod pair and probe it walks the ANPs by priority (then name, netmodel's
documented choice for ties), their rules in order, then the NetworkPolicies, then the BANP. It is checked against
the engine both per packet (``verdict``, the trace's path) and over whole classes (``ingress_spaces`` /
``egress_spaces``, the matrix's path).
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netmodel.analyze.policy import EGRESS, INGRESS, PolicyEngine
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.sets.ports import protocol_number

NAMESPACES = ["n0", "n1"]
PROBES = [(80, "TCP"), (81, "TCP"), (8080, "TCP"), (53, "UDP"), (80, "UDP")]
CONTAINER_PORTS = [{"name": "web", "containerPort": 80}, {"name": "web", "containerPort": 8080},
                   {"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"containerPort": 81}]

labels = st.dictionaries(st.sampled_from(["app", "tier"]), st.sampled_from(["a", "b"]), max_size=2)
ns_selector = st.sampled_from([{}, {"matchLabels": {"ns": "n0"}}, {"matchLabels": {"ns": "n1"}}])
pod_selector = st.builds(lambda ml: {"matchLabels": ml} if ml else {}, labels)
peer = st.one_of(st.builds(lambda s: {"namespaces": s}, ns_selector),
                 st.builds(lambda a, b: {"pods": {"namespaceSelector": a, "podSelector": b}}, ns_selector,
                           pod_selector))
port = st.one_of(
    st.builds(lambda p, proto: {"portNumber": {"port": p, "protocol": proto}}, st.sampled_from([80, 53, 8080]),
              st.sampled_from(["TCP", "UDP"])),
    st.builds(lambda s, e: {"portRange": {"start": s, "end": e}}, st.sampled_from([79, 80]),
              st.sampled_from([81, 8080])),
    st.builds(lambda n: {"namedPort": n}, st.sampled_from(["web", "dns"])))


def rule(actions: list[str], key: str) -> st.SearchStrategy[dict]:
    return st.builds(lambda a, peers, ports: {"action": a, key: peers, **({"ports": ports} if ports else {})},
                     st.sampled_from(actions), st.lists(peer, min_size=1, max_size=2),
                     st.one_of(st.none(), st.lists(port, min_size=1, max_size=2)))


subject = st.one_of(st.builds(lambda s: {"namespaces": s}, ns_selector),
                    st.builds(lambda a, b: {"pods": {"namespaceSelector": a, "podSelector": b}}, ns_selector,
                              pod_selector))
anp = st.builds(lambda prio, subj, ing, eg: {"priority": prio, "subject": subj, "ingress": ing, "egress": eg},
                st.integers(0, 3), subject, st.lists(rule(["Allow", "Deny", "Pass"], "from"), max_size=3),
                st.lists(rule(["Allow", "Deny", "Pass"], "to"), max_size=3))
banp = st.builds(lambda subj, ing, eg: {"subject": subj, "ingress": ing, "egress": eg}, subject,
                 st.lists(rule(["Allow", "Deny"], "from"), max_size=2),
                 st.lists(rule(["Allow", "Deny"], "to"), max_size=2))
np_policy = st.builds(
    lambda ns, sel, ing, types: {"namespace": ns, "podSelector": sel, "ingress": ing, "policyTypes": types},
    st.sampled_from(NAMESPACES), pod_selector,
    st.lists(st.builds(lambda s, p: {"from": [{"podSelector": s}], "ports": [{"port": p}]}, pod_selector,
                       st.sampled_from([80, 8080])), max_size=2),
    st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
pod = st.builds(lambda ns, lab, ports: {"namespace": ns, "labels": lab, "ports": ports},
                st.sampled_from(NAMESPACES), labels,
                st.lists(st.sampled_from(CONTAINER_PORTS), max_size=2, unique_by=lambda p: p.get("name", p["containerPort"])))


# -- the oracle ------------------------------------------------------------------------------------------------


def matches(selector: dict, item: dict) -> bool:
    return all(item.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def selects(subj: dict, p: dict) -> bool:
    ns_labels = {"ns": p["namespace"]}
    if "namespaces" in subj:
        return matches(subj["namespaces"], ns_labels)
    return matches(subj["pods"]["namespaceSelector"], ns_labels) and matches(subj["pods"]["podSelector"],
                                                                            p["labels"])


def port_matches(ports: list[dict] | None, dst: dict, number: int, protocol: str) -> bool:
    if ports is None:
        return True
    for entry in ports:
        if "portNumber" in entry:
            if entry["portNumber"]["port"] == number and entry["portNumber"]["protocol"] == protocol:
                return True
        elif "portRange" in entry:
            r = entry["portRange"]
            if protocol == "TCP" and r["start"] <= number <= r["end"]:
                return True
        elif any(c.get("name") == entry["namedPort"] and c["containerPort"] == number
                 and c.get("protocol", "TCP") == protocol for c in dst["ports"]):
            return True
    return False


def tier_rules(policies: list[dict], direction: str, at: dict) -> list[dict]:
    return [r for p in policies if selects(p["subject"], at) for r in p[direction]]


def decide(anps: list[dict], nps: list[dict], base: dict | None, direction: str, at: dict, other: dict,
           dst: dict, number: int, protocol: str) -> bool:
    key = "from" if direction == "ingress" else "to"
    ordered = sorted(range(len(anps)), key=lambda i: (anps[i]["priority"], f"anp{i}"))
    for r in tier_rules([anps[i] for i in ordered], direction, at):
        if any(selects(p, other) for p in r[key]) and port_matches(r.get("ports"), dst, number, protocol):
            if r["action"] != "Pass":
                return r["action"] == "Allow"
            break
    kind = "Ingress" if direction == "ingress" else "Egress"
    isolating = [p for p in nps if kind in p["policyTypes"] and p["namespace"] == at["namespace"]
                 and matches(p["podSelector"], at["labels"])]
    if isolating:
        if direction == "egress":
            return False  # the generated NetworkPolicies have no egress rules
        return any(other["namespace"] == at["namespace"] and matches(r["from"][0]["podSelector"], other["labels"])
                   and protocol == "TCP" and r["ports"][0]["port"] == number
                   for p in isolating for r in p["ingress"])
    if base is not None:
        for r in tier_rules([base], direction, at):
            if any(selects(p, other) for p in r[key]) and port_matches(r.get("ports"), dst, number, protocol):
                return r["action"] == "Allow"
    return True


def manifest(pods: list[dict], anps: list[dict], nps: list[dict], base: dict | None) -> str:
    docs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": {"ns": n}}}
                        for n in NAMESPACES]
    for i, p in enumerate(pods):
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"p{i}", "namespace": p["namespace"], "labels": p["labels"]},
                     "spec": {"containers": [{"name": "c", "ports": p["ports"]}]},
                     "status": {"podIP": f"10.244.0.{i + 10}"}})
    for i, a in enumerate(anps):
        docs.append({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
                     "metadata": {"name": f"anp{i}"}, "spec": a})
    for i, n in enumerate(nps):
        spec = {k: v for k, v in n.items() if k != "namespace"}
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": f"np{i}", "namespace": n["namespace"]}, "spec": spec})
    if base is not None:
        docs.append({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
                     "metadata": {"name": "default"}, "spec": base})
    return "\n---\n".join(json.dumps(d) for d in docs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pod, min_size=2, max_size=4), st.lists(anp, max_size=3), st.lists(np_policy, max_size=2),
       st.one_of(st.none(), banp))
def test_tiers_agree_with_the_oracle(pods: list[dict], anps: list[dict], nps: list[dict], base: dict | None) -> None:
    topology = build_topology(parse_text(manifest(pods, anps, nps, base), "oracle.yaml"))
    engine = PolicyEngine(topology)
    classes = [engine.classes.class_of(p) for p in topology.pods]
    for i, src in enumerate(pods):
        s = classes[i]
        egress = engine.egress_spaces(s)
        for j, dst in enumerate(pods):
            d = classes[j]
            ingress = engine.ingress_spaces(d)
            for number, protocol in PROBES:
                proto = protocol_number(protocol)
                want_out = decide(anps, nps, base, "egress", src, dst, dst, number, protocol)
                want_in = decide(anps, nps, base, "ingress", dst, src, dst, number, protocol)
                got_out = engine.verdict(EGRESS, s.id, d.id, d, proto, number).allowed
                got_in = engine.verdict(INGRESS, d.id, s.id, d, proto, number).allowed
                assert (got_out, got_in) == (want_out, want_in), (i, j, number, protocol)
                space_out = True if egress is None else egress.get(d.id) is not None and \
                    egress[d.id].contains(proto, number)
                space_in = True if ingress is None else ingress.get(s.id) is not None and \
                    ingress[s.id].contains(proto, number)
                assert (space_out, space_in) == (want_out, want_in), ("spaces", i, j, number, protocol)
