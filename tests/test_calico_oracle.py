"""Property: the Calico tiers agree with a naive oracle on random Calico policy sets (with Kubernetes
NetworkPolicies mixed in).

The oracle is written from the Calico references (Tier, NetworkPolicy, GlobalNetworkPolicy at
docs.tigera.io/calico/latest/reference/resources/) and Felix's behaviour (docs/reachability.md, "Calico tiers"),
on the raw dicts, per Pod pair and probe, without netmodel's engine: tiers by order then name, skipped when no
policy applies; policies by order (none last) then name/namespace/kind; rules in order; Allow/Deny decide, Pass
leaves the tier, Log is skipped; an applying tier's defaultAction at its end; allow after the last tier. Only the
selector parser is shared (its own truth table is tests/test_calico_selector.py). Checked against the engine per
packet (``verdict``, the trace's path) and over whole classes (``ingress_spaces``/``egress_spaces``, the
matrix's path).
"""

from __future__ import annotations

import ipaddress
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netmodel.analyze.policy import EGRESS, INGRESS, PolicyEngine
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.model.calico_selector import parse
from netmodel.sets.ports import protocol_number

NAMESPACES = ["n0", "n1"]
PROBES = [(80, "TCP"), (81, "TCP"), (8080, "TCP"), (53, "UDP"), (80, "UDP")]
CONTAINER_PORTS = [{"name": "web", "containerPort": 80}, {"name": "web", "containerPort": 8080},
                   {"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"containerPort": 81}]
TIERS = {"t1": (10.0, "Deny"), "t2": (20.0, "Pass"), "default": (1_000_000.0, "Deny")}
SELECTORS = ["", "all()", 'app == "a"', 'app != "a"', "has(tier)", '!has(app)', 'app in {"a", "b"}',
             'tier == "x" || app == "b"', 'projectcalico.org/namespace == "n0"', 'pcns.ns == "n1"']
NS_SELECTORS = ["", "all()", 'ns == "n0"', 'projectcalico.org/name == "n1"', "global()"]
NETS = ["10.244.0.0/24", "10.244.0.10/31", "10.244.0.12/32"]

labels = st.dictionaries(st.sampled_from(["app", "tier"]), st.sampled_from(["a", "b", "x"]), max_size=2)
pod = st.builds(lambda ns, lab, ports: {"namespace": ns, "labels": lab, "ports": ports},
                st.sampled_from(NAMESPACES), labels,
                st.lists(st.sampled_from(CONTAINER_PORTS), max_size=2,
                         unique_by=lambda p: p.get("name", p["containerPort"])))


def _entity(draw: st.DrawFn, destination: bool, protocol: str | None) -> dict:
    out: dict = {}
    if draw(st.integers(0, 2)) == 0:
        out["selector"] = draw(st.sampled_from(SELECTORS))
    if draw(st.integers(0, 3)) == 0:
        out["notSelector"] = draw(st.sampled_from(SELECTORS[2:]))
    if draw(st.integers(0, 3)) == 0:
        out["namespaceSelector"] = draw(st.sampled_from(NS_SELECTORS))
    if draw(st.integers(0, 3)) == 0:
        out["nets"] = draw(st.lists(st.sampled_from(NETS), min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 4)) == 0:
        out["notNets"] = [draw(st.sampled_from(NETS))]
    if destination and protocol is None and draw(st.integers(0, 3)) == 0:
        out["ports"] = [draw(st.sampled_from(["web", "dns"]))]  # named ports need no protocol
    if destination and protocol in ("TCP", "UDP"):
        if draw(st.booleans()):
            out["ports"] = draw(st.lists(st.sampled_from([80, "80:81", "web", "dns", 53]), min_size=1, max_size=2))
        if draw(st.integers(0, 3)) == 0:
            out["notPorts"] = [draw(st.sampled_from([80, 81, "web"]))]
    return {k: v for k, v in out.items() if v != ""}


@st.composite
def calico_rule(draw: st.DrawFn) -> dict:
    rule: dict = {"action": draw(st.sampled_from(["Allow", "Deny", "Pass", "Log", "Allow", "Deny"]))}
    protocol = draw(st.sampled_from([None, "TCP", "UDP", "ICMP"]))
    if protocol:
        rule["protocol"] = protocol
    if draw(st.integers(0, 5)) == 0:
        rule["notProtocol"] = draw(st.sampled_from(["TCP", "UDP"]))
    for side in ("source", "destination"):
        entity = _entity(draw, side == "destination", protocol)
        if entity:
            rule[side] = entity
    return rule


@st.composite
def calico_policy(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(["NetworkPolicy", "GlobalNetworkPolicy"]))
    spec: dict = {"tier": draw(st.sampled_from(["t1", "t1", "t2", "default", "default"]))}
    order = draw(st.sampled_from([None, 1, 5, 999, 1000, 1001]))
    if order is not None:
        spec["order"] = order
    selector = draw(st.sampled_from(SELECTORS + ["", "all()", ""]))  # often every Pod: policies meet
    if selector:
        spec["selector"] = selector
    if kind == "GlobalNetworkPolicy" and draw(st.booleans()):
        spec["namespaceSelector"] = draw(st.sampled_from(NS_SELECTORS[:4]))
    spec["ingress"] = draw(st.lists(calico_rule(), max_size=3))
    spec["egress"] = draw(st.lists(calico_rule(), max_size=3))
    types = draw(st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
    if types is not None:
        spec["types"] = types
    return {"kind": kind, "namespace": draw(st.sampled_from(NAMESPACES)) if kind == "NetworkPolicy" else "",
            "name": draw(st.sampled_from(["p", "q", "r", "s"])), "spec": spec}


np_policy = st.builds(
    lambda ns, app, ing, types: {"namespace": ns, "podSelector": {"matchLabels": {"app": app}} if app else {},
                                 "ingress": ing, "policyTypes": types},
    st.sampled_from(NAMESPACES), st.sampled_from(["", "a", "b"]),
    st.lists(st.builds(lambda p: {"ports": [{"port": p}]}, st.sampled_from([80, 8080])), max_size=2),
    st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]))


# -- the oracle --------------------------------------------------------------------------------------------------

def ip_of(index: int) -> str:
    return f"10.244.0.{index + 10}"


def endpoint_labels(p: dict) -> dict[str, str]:
    out = {"pcns.ns": p["namespace"], "pcns.kubernetes.io/metadata.name": p["namespace"],
           "pcns.projectcalico.org/name": p["namespace"], "projectcalico.org/namespace": p["namespace"],
           "projectcalico.org/orchestrator": "k8s"}
    out.update(p["labels"])
    return out


def namespace_labels(name: str) -> dict[str, str]:
    return {"ns": name, "kubernetes.io/metadata.name": name, "projectcalico.org/name": name}


def sel(text: str | None, labels: dict[str, str]) -> bool:
    return text is None or parse(text).matches(labels)


def types_of(spec: dict) -> list[str]:
    if "types" in spec:
        return [t.lower() for t in spec["types"]]
    if spec["egress"] and not spec["ingress"]:
        return ["egress"]
    return ["ingress", "egress"] if spec["egress"] else ["ingress"]


def applies(policy: dict, p: dict, direction: str) -> bool:
    spec = policy["spec"]
    if direction not in types_of(spec):
        return False
    if policy["namespace"] and policy["namespace"] != p["namespace"]:
        return False
    if not sel(spec.get("namespaceSelector") or None, namespace_labels(p["namespace"])):
        return False
    return sel(spec.get("selector") or None, endpoint_labels(p))


def in_nets(address: str, nets: list[str]) -> bool:
    return any(ipaddress.ip_address(address) in ipaddress.ip_network(n) for n in nets)


def side_matches(policy: dict, entity: dict, p: dict, address: str) -> bool:
    """A rule side against a Pod (every generated peer is a Pod)."""
    if "nets" in entity and not in_nets(address, entity["nets"]):
        return False
    if "notNets" in entity and in_nets(address, entity["notNets"]):
        return False
    scoped = any(k in entity for k in ("selector", "notSelector", "namespaceSelector"))
    if scoped:
        if "namespaceSelector" in entity:
            if not parse(entity["namespaceSelector"]).matches(namespace_labels(p["namespace"]), namespaced=True):
                return False
        elif policy["namespace"] and p["namespace"] != policy["namespace"]:
            return False
    if "selector" in entity and not sel(entity["selector"], endpoint_labels(p)):
        return False
    return not ("notSelector" in entity and sel(entity["notSelector"], endpoint_labels(p)))


def port_number_matches(entry: int | str, dst: dict, number: int, protocol: str) -> bool:
    if isinstance(entry, int):
        return entry == number
    if ":" in entry:
        low, high = entry.split(":")
        return int(low) <= number <= int(high)
    return any(c.get("name") == entry and c["containerPort"] == number and c.get("protocol", "TCP") == protocol
               for c in dst["ports"])


def rule_ports_match(rule: dict, dst: dict, number: int, protocol: str) -> bool:
    if "protocol" in rule and rule["protocol"] != protocol:
        return False
    if rule.get("notProtocol") == protocol:
        return False
    entity = rule.get("destination", {})
    if "ports" in entity and not any(port_number_matches(e, dst, number, protocol) for e in entity["ports"]):
        return False
    return not any(port_number_matches(e, dst, number, protocol) for e in entity.get("notPorts", ()))


def policy_key(policy: dict) -> tuple[float, str]:
    order = policy["spec"].get("order")
    return (math.inf if order is None else float(order)), f"{policy['name']}/{policy['namespace']}/{policy['kind']}"


def decide(calico: list[dict], nps: list[dict], direction: str, at: dict, at_ip: str, other: dict, other_ip: str,
           dst: dict, number: int, protocol: str) -> bool:
    kind = "Ingress" if direction == "ingress" else "Egress"
    for tier in sorted(TIERS, key=lambda t: (TIERS[t][0], t)):
        members = [p for p in calico if p["spec"]["tier"] == tier]
        if tier == "default":
            members += [{"kind": "KubernetesNetworkPolicy", "namespace": n["namespace"], "name": f"np{i}",
                         "k8s": n, "spec": {"order": 1000}} for i, n in enumerate(nps)]
        applying = []
        for p in sorted(members, key=policy_key):
            if "k8s" in p:
                n = p["k8s"]
                if kind in n["policyTypes"] and n["namespace"] == at["namespace"] and all(
                        at["labels"].get(k) == v for k, v in n["podSelector"].get("matchLabels", {}).items()):
                    applying.append(p)
            elif applies(p, at, direction):
                applying.append(p)
        if not applying:
            continue
        passed = False
        for p in applying:
            if "k8s" in p:
                if direction == "ingress" and any(protocol == "TCP" and r["ports"][0]["port"] == number
                                                  for r in p["k8s"]["ingress"]):
                    return True  # the generated Kubernetes rules allow from anywhere to one TCP port
                continue
            for rule in p["spec"][direction]:
                if rule["action"] == "Log":
                    continue
                peer_side, own_side = ("source", "destination") if direction == "ingress" else \
                    ("destination", "source")
                if not side_matches(p, rule.get(peer_side, {}), other, other_ip):
                    continue
                if not side_matches(p, rule.get(own_side, {}), at, at_ip):
                    continue
                if not rule_ports_match(rule, dst, number, protocol):
                    continue
                if rule["action"] == "Pass":
                    passed = True
                    break
                return rule["action"] == "Allow"
            if passed:
                break
        if not passed and TIERS[tier][1] == "Deny":
            return False
    return True


def manifest(pods: list[dict], calico: list[dict], nps: list[dict]) -> str:
    docs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": {"ns": n}}}
                        for n in NAMESPACES]
    for i, p in enumerate(pods):
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"p{i}", "namespace": p["namespace"], "labels": p["labels"]},
                     "spec": {"containers": [{"name": "c", "ports": p["ports"]}]},
                     "status": {"podIP": ip_of(i)}})
    for name, (order, action) in TIERS.items():
        if name != "default":
            docs.append({"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": name},
                         "spec": {"order": order, "defaultAction": action}})
    seen = set()
    for p in calico:
        key = (p["kind"], p["namespace"], p["name"])
        if key in seen:
            continue
        seen.add(key)
        meta = {"name": p["name"], **({"namespace": p["namespace"]} if p["namespace"] else {})}
        docs.append({"apiVersion": "projectcalico.org/v3", "kind": p["kind"], "metadata": meta, "spec": p["spec"]})
    for i, n in enumerate(nps):
        spec = {k: v for k, v in n.items() if k != "namespace"}
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": f"np{i}", "namespace": n["namespace"]}, "spec": spec})
    return "\n---\n".join(json.dumps(d) for d in docs)


def unique(calico: list[dict]) -> list[dict]:
    out, seen = [], set()
    for p in calico:
        key = (p["kind"], p["namespace"], p["name"])
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pod, min_size=2, max_size=4), st.lists(calico_policy(), min_size=2, max_size=5),
       st.lists(np_policy, max_size=2))
def test_calico_tiers_agree_with_the_oracle(pods: list[dict], calico: list[dict], nps: list[dict]) -> None:
    calico = unique(calico)
    topology = build_topology(parse_text(manifest(pods, calico, nps), "oracle.yaml"))
    assert len(topology.calico_policies) == len(calico)
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
                want_out = decide(calico, nps, "egress", src, ip_of(i), dst, ip_of(j), dst, number, protocol)
                want_in = decide(calico, nps, "ingress", dst, ip_of(j), src, ip_of(i), dst, number, protocol)
                got_out = engine.verdict(EGRESS, s.id, d.id, d, proto, number).allowed
                got_in = engine.verdict(INGRESS, d.id, s.id, d, proto, number).allowed
                assert (got_out, got_in) == (want_out, want_in), (i, j, number, protocol)
                space_out = True if egress is None else egress.get(d.id) is not None and \
                    egress[d.id].contains(proto, number)
                space_in = True if ingress is None else ingress.get(s.id) is not None and \
                    ingress[s.id].contains(proto, number)
                assert (space_out, space_in) == (want_out, want_in), ("spaces", i, j, number, protocol)
