"""Property: the class-based engine agrees with a naive per-Pod-pair oracle on random small topologies.

The oracle below is written straight from the NetworkPolicy API reference, on the raw dicts, without any of
netmodel's code: it loops over every Pod pair, every policy, every rule, every peer.
"""

from __future__ import annotations

import ipaddress
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netmodel.analyze.policy import EGRESS, INGRESS, PolicyEngine
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.sets.ports import protocol_number

KEYS = {"app": ["a", "b"], "tier": ["x", "y"]}
NAMESPACES = ["n0", "n1"]
PROBES = [(80, "TCP"), (81, "TCP"), (8080, "TCP"), (80, "UDP"), (53, "UDP")]

labels = st.dictionaries(st.sampled_from(sorted(KEYS)), st.sampled_from(["a", "b", "x", "y"]), max_size=2)
expression = st.one_of(
    st.builds(lambda k, vs, op: {"key": k, "operator": op, "values": vs},
              st.sampled_from(sorted(KEYS)), st.lists(st.sampled_from(["a", "b", "x", "y"]), min_size=1,
                                                      max_size=2, unique=True), st.sampled_from(["In", "NotIn"])),
    st.builds(lambda k, op: {"key": k, "operator": op}, st.sampled_from(sorted(KEYS)),
              st.sampled_from(["Exists", "DoesNotExist"])))
selector = st.builds(lambda ml, me: {**({"matchLabels": ml} if ml else {}), **({"matchExpressions": me} if me else {})},
                     labels, st.lists(expression, max_size=2))
ip_block = st.sampled_from([
    {"cidr": "10.244.0.0/24"}, {"cidr": "10.244.0.0/24", "except": ["10.244.0.12/30"]},
    {"cidr": "10.244.0.0/28", "except": ["10.244.0.10/31"]}, {"cidr": "10.244.0.16/28"},
    {"cidr": "0.0.0.0/0", "except": ["10.244.0.8/29"]}, {"cidr": "192.168.0.0/16"}])
peer = st.one_of(
    st.builds(lambda s: {"podSelector": s}, selector),
    st.builds(lambda s: {"namespaceSelector": s}, selector),
    st.builds(lambda a, b: {"namespaceSelector": a, "podSelector": b}, selector, selector),
    st.builds(lambda b: {"ipBlock": b}, ip_block))
port = st.one_of(
    st.builds(lambda p, proto: {"port": p, "protocol": proto}, st.sampled_from([80, 81, 53, 8080]),
              st.sampled_from(["TCP", "UDP"])),
    st.builds(lambda p, e: {"port": p, "endPort": e}, st.sampled_from([79, 80]), st.sampled_from([81, 8080])),
    st.builds(lambda n, proto: {"port": n, "protocol": proto}, st.sampled_from(["web", "dns"]),
              st.sampled_from(["TCP", "UDP"])),
    st.builds(lambda proto: {"protocol": proto}, st.sampled_from(["UDP"])))
rule = st.builds(lambda peers, ports: {**({"peers": peers} if peers is not None else {}),
                                       **({"ports": ports} if ports is not None else {})},
                 st.one_of(st.none(), st.lists(peer, max_size=2)), st.one_of(st.none(), st.lists(port, max_size=2)))
policy = st.builds(
    lambda ns, sel, ing, eg, types: {"namespace": ns, "podSelector": sel, "ingress": ing, "egress": eg,
                                     "policyTypes": types},
    st.sampled_from(NAMESPACES), selector, st.one_of(st.none(), st.lists(rule, max_size=2)),
    st.one_of(st.none(), st.lists(rule, max_size=2)),
    st.one_of(st.none(), st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]])))
container_ports = st.lists(st.sampled_from([
    {"name": "web", "containerPort": 80}, {"name": "web", "containerPort": 8080},
    {"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"containerPort": 81}]), max_size=2,
    unique_by=lambda p: (p["containerPort"], p.get("protocol", "TCP")))
pod = st.builds(lambda ns, lab, ports: {"namespace": ns, "labels": lab, "ports": ports},
                st.sampled_from(NAMESPACES), labels, container_ports)
layout = st.fixed_dictionaries({
    "namespaces": st.fixed_dictionaries({n: labels for n in NAMESPACES}),
    "pods": st.lists(pod, min_size=1, max_size=5),
    "policies": st.lists(policy, max_size=4)})


# -- the oracle ----------------------------------------------------------------------------------------------------
def o_selects(sel: dict, lab: dict) -> bool:
    if any(lab.get(k) != v for k, v in sel.get("matchLabels", {}).items()):
        return False
    for e in sel.get("matchExpressions", []):
        k, op = e["key"], e["operator"]
        if op == "In" and not (k in lab and lab[k] in e["values"]):
            return False
        if op == "NotIn" and k in lab and lab[k] in e["values"]:
            return False
        if op == "Exists" and k not in lab:
            return False
        if op == "DoesNotExist" and k in lab:
            return False
    return True


def o_types(p: dict) -> list[str]:
    if p["policyTypes"]:
        return p["policyTypes"]
    return ["Ingress"] + (["Egress"] if p["egress"] else [])


def o_peer(p: dict, pe: dict, other: dict, ns_labels: dict) -> bool:
    if "ipBlock" in pe:
        ip = ipaddress.ip_address(other["ip"])
        b = pe["ipBlock"]
        return ip in ipaddress.ip_network(b["cidr"]) and not any(ip in ipaddress.ip_network(x)
                                                                 for x in b.get("except", []))
    if "namespaceSelector" in pe:
        ns_ok = o_selects(pe["namespaceSelector"], {**ns_labels[other["namespace"]],
                                                    "kubernetes.io/metadata.name": other["namespace"]})
    else:
        ns_ok = other["namespace"] == p["namespace"]
    return ns_ok and ("podSelector" not in pe or o_selects(pe["podSelector"], other["labels"]))


def o_port(r: dict, dst: dict, number: int, proto: str) -> bool:
    if not r.get("ports"):
        return True
    for pp in r["ports"]:
        if pp.get("protocol", "TCP") != proto:
            continue
        if "port" not in pp:
            return True
        if isinstance(pp["port"], str):
            if any(c.get("name") == pp["port"] and c.get("protocol", "TCP") == proto and c["containerPort"] == number
                   for c in dst["ports"]):
                return True
        elif pp["port"] <= number <= pp.get("endPort", pp["port"]):
            return True
    return False


def o_direction(data: dict, subject: dict, other: dict, dst: dict, direction: str, number: int, proto: str) -> bool:
    selecting = [p for p in data["policies"] if p["namespace"] == subject["namespace"]
                 and o_selects(p["podSelector"], subject["labels"]) and direction.capitalize() in o_types(p)]
    if not selecting:
        return True
    for p in selecting:
        for r in p[direction] or []:
            peers = r.get("peers")
            if (not peers or any(o_peer(p, pe, other, data["namespaces"]) for pe in peers)) and \
                    o_port(r, dst, number, proto):
                return True
    return False


def oracle(data: dict, src: dict, dst: dict, number: int, proto: str) -> bool:
    return o_direction(data, src, dst, dst, "egress", number, proto) and \
        o_direction(data, dst, src, dst, "ingress", number, proto)


# -- the layout as manifests ---------------------------------------------------------------------------------------
def manifests(data: dict) -> str:
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": lab}}
            for n, lab in data["namespaces"].items()]
    for i, p in enumerate(data["pods"]):
        p["name"], p["ip"] = f"p{i}", f"10.244.0.{10 + i}"
        docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": p["name"], "namespace": p["namespace"],
                                                                      "labels": p["labels"]},
                     "spec": {"containers": [{"name": "c", "ports": p["ports"]}]}, "status": {"podIP": p["ip"]}})
    for i, p in enumerate(data["policies"]):
        spec: dict = {"podSelector": p["podSelector"]}
        for key, peers_key in (("ingress", "from"), ("egress", "to")):
            if p[key] is not None:
                spec[key] = [{**({peers_key: r["peers"]} if "peers" in r else {}),
                              **({"ports": r["ports"]} if "ports" in r else {})} for r in p[key]]
        if p["policyTypes"]:
            spec["policyTypes"] = p["policyTypes"]
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": f"np{i}", "namespace": p["namespace"]}, "spec": spec})
    return "\n---\n".join(json.dumps(d) for d in docs)  # JSON documents are YAML documents


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layout)
def test_engine_agrees_with_the_oracle(data: dict) -> None:
    topology = build_topology(parse_text(manifests(data), "random.yaml"))
    engine = PolicyEngine(topology)
    classes = engine.classes
    pods = {p.name: p for p in topology.pods}
    assert len(pods) == len(data["pods"])
    for src in data["pods"]:
        s = classes.class_of(pods[src["name"]])
        egress = engine.egress_spaces(s)
        for dst in data["pods"]:
            d = classes.class_of(pods[dst["name"]])
            ingress = engine.ingress_spaces(d)
            for number, proto in PROBES:
                want = oracle(data, src, dst, number, proto)
                p = protocol_number(proto)
                single = (engine.verdict(EGRESS, s.id, d.id, d, p, number).allowed
                          and engine.verdict(INGRESS, d.id, s.id, d, p, number).allowed)
                by_class = ((egress is None or (d.id in egress and egress[d.id].contains(p, number)))
                            and (ingress is None or (s.id in ingress and ingress[s.id].contains(p, number))))
                assert single == want, (src["name"], dst["name"], number, proto)
                assert by_class == want, (src["name"], dst["name"], number, proto)
