"""Hypothesis strategies for small, valid, random topologies that the emulator can build.

`topologies()` draws one layout as a list of Kubernetes-style documents (dicts); `to_yaml` renders it as the
multi-document YAML a user would write, so a failing example prints as a file `netmodel check` reads.

What varies, and why it is kept small:

* a Cluster whose CNI the lab builds in this kernel (VXLAN or native routing: flannel vxlan, calico
  vxlan/bgp, cilium vxlan/native), kube-proxy iptables, 1-2 outside networks;
* 2-3 Nodes (10.0.0.11.., pod ranges 10.244.<i>.0/24) with labels from a small pool, the first sometimes a
  control-plane node (it then serves the apiserver, etcd, scheduler and controller-manager ports);
* 2-3 namespaces and 3-6 Pods with labels from small pools, so selectors match some objects and miss others;
  each Pod pinned to a node with ``status.podIP`` in that node's range, serving 1-3 TCP/UDP ports, some named;
* 0-2 Services (ClusterIP or NodePort, numeric or named targetPort, externalTrafficPolicy Cluster/Local);
* 0-4 NetworkPolicies (podSelector, namespaceSelector, matchExpressions, ipBlock with except, numeric, named
  and endPort ports, policyTypes), ipBlocks drawn from the lab's own ranges so they matter;
* 0-2 Firewalls (nodeSelector or node names; ordered allow/deny rules on TCP/UDP/any, port lists and ranges,
  peers as CIDRs, networks or node selectors; default actions; stateful or not), with the tunnel and
  NodePort ports in the pools so a rule can open or break the data path; with ``node_side=True`` rules may
  also name the node's own end (``to`` on ingress, ``from`` on egress: node, pods, CIDRs);
* with ``calico=True``, 0-2 Calico Tiers and 1-4 Calico NetworkPolicies/GlobalNetworkPolicies, the Pods'
  service accounts (labelled ServiceAccounts) and 0-2 NetworkSets/GlobalNetworkSets: orders tying
  with the Kubernetes policies' 1000, selectors and namespace selectors in Calico's language (including the
  labels Calico adds), Allow/Deny/Pass/Log, protocol/notProtocol (ICMP too), nets/notNets from the lab's ranges,
  ports/notPorts with numbers, ranges and names.

Pools are small on purpose: every label value and port appears on several objects, which is where selector
and port-matching mistakes show.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import strategies as st

Doc = dict[str, Any]

CNIS = [("flannel", "vxlan"), ("calico", "vxlan"), ("calico", "bgp"), ("cilium", "vxlan"),
        ("cilium", "native")]
NODE_LABELS = {"zone": ["a", "b"], "pool": ["web", "db"]}
NAMESPACE_LABELS = {"team": ["red", "blue"], "env": ["dev", "prod"]}
POD_LABELS = {"app": ["a", "b", "c"], "tier": ["fe", "be"]}
NETWORKS = {"office": ["198.51.100.0/24"], "partner": ["203.0.113.0/24"],
            "lab": ["192.0.2.0/25", "192.0.2.128/26"]}
ENTRY_POINTS = ["api", "nodeports", "ingress"]
# (containerPort, protocol): TCP 53 and UDP 53 together exercise per-protocol matching.
CONTAINER_PORTS = [(80, "TCP"), (81, "TCP"), (8080, "TCP"), (53, "UDP"), (53, "TCP"), (5353, "UDP")]
PORT_NAMES = ["web", "dns", "alt", "metrics"]
SERVICE_PORTS = [80, 8080, 53, 9000]
IP_BLOCKS: list[Doc] = [
    {"cidr": "10.244.0.0/16"}, {"cidr": "10.244.1.0/24"}, {"cidr": "10.244.0.0/16", "except": ["10.244.1.0/24"]},
    {"cidr": "10.244.0.0/23", "except": ["10.244.0.8/29"]}, {"cidr": "10.0.0.0/24"}, {"cidr": "10.0.0.12/32"},
    {"cidr": "0.0.0.0/0", "except": ["10.244.0.0/16"]}, {"cidr": "198.51.100.0/24"},
    {"cidr": "192.0.2.0/24", "except": ["192.0.2.128/26"]}]
FIREWALL_PORTS = ["80", "53", "8472", "4789", "179", "10250", "8080-8081", "30000-32767", "1-1024"]
LOCAL_CIDRS = ["10.0.0.11/32", "10.244.1.0/24", "10.0.0.0/24"]
FIREWALL_CIDRS = ["10.0.0.0/24", "10.0.0.11/32", "10.244.0.0/16", "198.51.100.0/24", "192.0.2.0/24",
                  "0.0.0.0/0"]


def node_ip(index: int) -> str:
    return f"10.0.0.{11 + index}"


# ------------------------------------------------------------------------------------------- labels


def _labels(pool: dict[str, list[str]], min_size: int = 0) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(st.sampled_from(sorted(pool)), st.sampled_from(sorted({v for vs in pool.values()
                                                                                  for v in vs})),
                           min_size=min_size, max_size=len(pool)).map(
        lambda d: {k: v if v in pool[k] else pool[k][0] for k, v in d.items()})


def _expression(pool: dict[str, list[str]]) -> st.SearchStrategy[Doc]:
    keys = sorted(pool)
    values = sorted({v for vs in pool.values() for v in vs})
    return st.one_of(
        st.builds(lambda k, vs, op: {"key": k, "operator": op, "values": vs}, st.sampled_from(keys),
                  st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True),
                  st.sampled_from(["In", "NotIn"])),
        st.builds(lambda k, op: {"key": k, "operator": op}, st.sampled_from(keys),
                  st.sampled_from(["Exists", "DoesNotExist"])))


def selectors(pool: dict[str, list[str]]) -> st.SearchStrategy[Doc]:
    """A label selector: matchLabels and/or matchExpressions over ``pool``; ``{}`` selects everything."""
    return st.builds(lambda ml, me: {**({"matchLabels": ml} if ml else {}),
                                     **({"matchExpressions": me} if me else {})},
                     _labels(pool), st.lists(_expression(pool), max_size=2))


# ------------------------------------------------------------------------------------ cluster and nodes


@st.composite
def _cluster(draw: st.DrawFn, networks: list[str]) -> Doc:
    plugin, mode = draw(st.sampled_from(CNIS))
    return {
        "apiVersion": "netmodel.io/v1alpha1", "kind": "Cluster", "metadata": {"name": "random"},
        "spec": {
            "podCIDRs": ["10.244.0.0/16"], "serviceCIDRs": ["10.96.0.0/12"], "nodeCIDRMaskSize": 24,
            "nodePortRange": "30000-32767",
            "cni": {"plugin": plugin, "mode": mode, "encryption": "none"},
            "kubeProxy": {"mode": "iptables", "masqueradeAll": draw(st.sampled_from([False, False, True]))},
            "networks": [{"name": n, "cidrs": NETWORKS[n],
                          "uses": draw(st.lists(st.sampled_from(ENTRY_POINTS), unique=True, max_size=2))}
                         for n in networks],
        },
    }


def _node(index: int, labels: dict[str, str], control_plane: bool) -> Doc:
    name = f"node-{index}"
    all_labels = {"kubernetes.io/hostname": name, **labels}
    if control_plane:
        all_labels["node-role.kubernetes.io/control-plane"] = ""
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": all_labels},
            "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
            "status": {"addresses": [{"type": "InternalIP", "address": node_ip(index)},
                                     {"type": "Hostname", "address": name}]}}


# ---------------------------------------------------------------------------------------- Pods, Services


@st.composite
def _container_ports(draw: st.DrawFn) -> list[Doc]:
    chosen = draw(st.lists(st.sampled_from(CONTAINER_PORTS), min_size=1, max_size=3, unique=True))
    names = draw(st.lists(st.sampled_from(PORT_NAMES), min_size=len(chosen), max_size=len(chosen), unique=True))
    out = []
    for (number, protocol), name in zip(chosen, names, strict=True):
        port: Doc = {"containerPort": number, "protocol": protocol}
        if draw(st.booleans()):
            port["name"] = name
        out.append(port)
    return out


@st.composite
def _pod(draw: st.DrawFn, index: int, namespaces: list[str], nodes: int) -> Doc:
    node = draw(st.integers(0, nodes - 1))
    ip = f"10.244.{node}.{10 + index}"
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"pod-{index}", "namespace": draw(st.sampled_from(namespaces)),
                         "labels": draw(_labels(POD_LABELS, min_size=1))},
            "spec": {"nodeName": f"node-{node}",
                     "containers": [{"name": "c", "image": "agnhost", "ports": draw(_container_ports())}]},
            "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}


@st.composite
def _service(draw: st.DrawFn, index: int, namespaces: list[str]) -> Doc:
    kind = draw(st.sampled_from(["ClusterIP", "NodePort"]))
    ports = []
    used: set[tuple[int, str]] = set()
    for j in range(draw(st.integers(1, 2))):
        number, protocol = draw(st.sampled_from(SERVICE_PORTS)), draw(st.sampled_from(["TCP", "UDP"]))
        if (number, protocol) in used:
            continue
        used.add((number, protocol))
        target: int | str = draw(st.one_of(st.sampled_from(sorted({n for n, _ in CONTAINER_PORTS})),
                                           st.sampled_from(PORT_NAMES)))
        port: Doc = {"name": f"p{j}", "port": number, "targetPort": target, "protocol": protocol}
        if kind == "NodePort":
            port["nodePort"] = 30000 + 10 * index + j
        ports.append(port)
    spec: Doc = {"type": kind, "clusterIP": f"10.96.0.{11 + index}",
                 "selector": draw(_labels(POD_LABELS, min_size=1)), "ports": ports}
    if kind == "NodePort":
        spec["externalTrafficPolicy"] = draw(st.sampled_from(["Cluster", "Local"]))
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": f"svc-{index}", "namespace": draw(st.sampled_from(namespaces))}, "spec": spec}


# ------------------------------------------------------------------------------------- NetworkPolicies


def _policy_peer() -> st.SearchStrategy[Doc]:
    return st.one_of(
        st.builds(lambda s: {"podSelector": s}, selectors(POD_LABELS)),
        st.builds(lambda s: {"namespaceSelector": s}, selectors(NAMESPACE_LABELS)),
        st.builds(lambda a, b: {"namespaceSelector": a, "podSelector": b}, selectors(NAMESPACE_LABELS),
                  selectors(POD_LABELS)),
        st.builds(lambda b: {"ipBlock": b}, st.sampled_from(IP_BLOCKS)))


def _policy_port() -> st.SearchStrategy[Doc]:
    protocols = st.sampled_from(["TCP", "UDP"])
    return st.one_of(
        st.builds(lambda p, proto: {"port": p, "protocol": proto},
                  st.sampled_from(sorted({n for n, _ in CONTAINER_PORTS} | {9000})), protocols),
        st.builds(lambda p, e, proto: {"port": p, "endPort": e, "protocol": proto}, st.sampled_from([53, 79, 80]),
                  st.sampled_from([81, 8080]), protocols),
        st.builds(lambda n, proto: {"port": n, "protocol": proto}, st.sampled_from(PORT_NAMES), protocols),
        st.builds(lambda proto: {"protocol": proto}, protocols))


def _policy_rules(peer_key: str) -> st.SearchStrategy[list[Doc] | None]:
    rule = st.builds(lambda peers, ports: {**({peer_key: peers} if peers is not None else {}),
                                           **({"ports": ports} if ports is not None else {})},
                     st.one_of(st.none(), st.lists(_policy_peer(), min_size=1, max_size=2)),
                     st.one_of(st.none(), st.lists(_policy_port(), min_size=1, max_size=2)))
    return st.one_of(st.none(), st.lists(rule, max_size=2))


@st.composite
def _network_policy(draw: st.DrawFn, index: int, namespaces: list[str]) -> Doc:
    spec: Doc = {"podSelector": draw(selectors(POD_LABELS))}
    ingress, egress = draw(_policy_rules("from")), draw(_policy_rules("to"))
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    types = draw(st.one_of(st.none(), st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]])))
    if types is not None:
        spec["policyTypes"] = types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"np-{index}", "namespace": draw(st.sampled_from(namespaces))}, "spec": spec}


# ------------------------------------------------------------------------------------ Calico policies

CALICO_SELECTORS = ['app == "a"', 'app != "b"', "has(tier)", "!has(tier)", 'tier in {"fe", "be"}',
                    'app == "a" || tier == "be"', "all()", 'projectcalico.org/namespace == "ns-0"',
                    'pcns.team == "red"', 'app not in {"a", "c"} && has(app)']
CALICO_NAMESPACE_SELECTORS = ['team == "red"', 'env != "prod"', 'projectcalico.org/name == "ns-1"', "all()",
                              "has(env)"]
CALICO_NETS = ["10.244.0.0/16", "10.244.1.0/24", "10.244.0.0/23", "10.244.0.8/29", "10.0.0.0/24", "10.0.0.12/32",
               "0.0.0.0/0", "198.51.100.0/24", "192.0.2.0/24"]
CALICO_PORTS: list[int | str] = [53, 80, 81, 8080, "79:81", "53:8080", *PORT_NAMES]
# Service accounts and network sets (docs/reachability.md, "Calico service accounts", "Calico network sets"):
# accounts by name and by label; sets whose nets cover Pods (matched by address) or outside hosts.
CALICO_ACCOUNTS = ["default", "sa-a", "sa-b"]
CALICO_ACCOUNT_SELECTORS = ['tier == "x"', '!has(tier)', 'projectcalico.org/name == "sa-a"', "all()"]
CALICO_SET_SELECTORS = ['role == "ext"', 'role in {"ext", "db"}', "!has(role)"]


@st.composite
def _calico_entity(draw: st.DrawFn, destination: bool, protocol: str | None) -> Doc:
    entity: Doc = {}
    for key, pool in (("nets", CALICO_NETS), ("notNets", CALICO_NETS)):
        if draw(st.integers(0, 3)) == 0:
            entity[key] = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
    for key, pool in (("selector", CALICO_SELECTORS), ("notSelector", CALICO_SELECTORS),
                      ("namespaceSelector", CALICO_NAMESPACE_SELECTORS)):
        if draw(st.integers(0, 3)) == 0:
            entity[key] = draw(st.sampled_from(pool))
    if draw(st.integers(0, 3)) == 0:
        accounts: Doc = {}
        if draw(st.booleans()):
            accounts["names"] = draw(st.lists(st.sampled_from(CALICO_ACCOUNTS), min_size=1, max_size=2, unique=True))
        if not accounts or draw(st.booleans()):
            accounts["selector"] = draw(st.sampled_from(CALICO_ACCOUNT_SELECTORS))
        entity["serviceAccounts"] = accounts
    if draw(st.integers(0, 3)) == 0:
        key = "selector" if "selector" not in entity or draw(st.booleans()) else "notSelector"
        entity[key] = draw(st.sampled_from(CALICO_SET_SELECTORS))
        if draw(st.booleans()):
            entity["namespaceSelector"] = draw(st.sampled_from(["global()", *CALICO_NAMESPACE_SELECTORS]))
    if destination:
        # numbers and ranges need the rule's protocol to be TCP/UDP (Calico's validation); names never do
        ports = [] if protocol == "ICMP" else [p for p in CALICO_PORTS if protocol in ("TCP", "UDP")
                                                  or isinstance(p, str) and ":" not in p]
        for key in ("ports", "notPorts"):
            if ports and draw(st.integers(0, 2)) == 0:
                entity[key] = draw(st.lists(st.sampled_from(ports), min_size=1, max_size=2, unique=True))
    return entity


@st.composite
def _calico_rule(draw: st.DrawFn) -> Doc:
    rule: Doc = {"action": draw(st.sampled_from(["Allow", "Allow", "Deny", "Pass", "Log"]))}
    protocol = draw(st.sampled_from([None, None, "TCP", "UDP", "ICMP"]))
    if protocol is not None:
        rule["protocol"] = protocol
    if draw(st.integers(0, 4)) == 0:
        rule["notProtocol"] = draw(st.sampled_from(["TCP", "UDP"]))
    for key in ("source", "destination"):
        entity = draw(_calico_entity(key == "destination", protocol))
        if entity:
            rule[key] = entity
    return rule


@st.composite
def _calico_policy(draw: st.DrawFn, index: int, namespaces: list[str], tiers: list[str]) -> Doc:
    tier = draw(st.sampled_from(["default", *tiers]))
    namespaced = draw(st.booleans())
    spec: Doc = {"tier": tier, "selector": draw(st.sampled_from(CALICO_SELECTORS))}
    order = draw(st.sampled_from([None, 10, 1000, 1000, 2000]))  # 1000: the Kubernetes policies' order
    if order is not None:
        spec["order"] = order
    if not namespaced and draw(st.booleans()):
        spec["namespaceSelector"] = draw(st.sampled_from(CALICO_NAMESPACE_SELECTORS))
    if draw(st.integers(0, 3)) == 0:
        spec["serviceAccountSelector"] = draw(st.sampled_from(CALICO_ACCOUNT_SELECTORS))
    for direction in ("ingress", "egress"):
        if draw(st.integers(0, 2)) > 0:
            spec[direction] = draw(st.lists(_calico_rule(), min_size=1, max_size=3))
    types = draw(st.one_of(st.none(), st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]])))
    if types is not None:
        spec["types"] = types
    metadata: Doc = {"name": f"{tier}.cp-{index}" if tier != "default" else f"cp-{index}"}
    if namespaced:
        metadata["namespace"] = draw(st.sampled_from(namespaces))
    return {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy" if namespaced else "GlobalNetworkPolicy",
            "metadata": metadata, "spec": spec}


@st.composite
def calico_documents(draw: st.DrawFn, namespaces: list[str]) -> list[Doc]:
    """0-2 Tiers (orders around the kube-admin tier's 1,000 and the default tier's 1,000,000, defaultAction Deny or
    Pass) and 1-4 Calico NetworkPolicies/GlobalNetworkPolicies in them, with every rule shape the lab replays."""
    tiers = draw(st.lists(st.sampled_from(["security", "platform"]), unique=True, max_size=2))
    docs: list[Doc] = [{"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": name},
                        "spec": {"order": draw(st.sampled_from([100, 1000, 5000, 2_000_000])),
                                 "defaultAction": draw(st.sampled_from(["Deny", "Pass"]))}} for name in tiers]
    docs += [draw(_calico_policy(i, namespaces, tiers)) for i in range(draw(st.integers(1, 4)))]
    docs += [{"apiVersion": "v1", "kind": "ServiceAccount",
              "metadata": {"name": name, "namespace": namespace, "labels": draw(_labels({"tier": ["x", "y"]}))}}
             for namespace in namespaces for name in CALICO_ACCOUNTS]
    for i in range(draw(st.integers(0, 2))):
        namespace = draw(st.sampled_from(["", *namespaces]))
        docs.append({"apiVersion": "projectcalico.org/v3", "kind": "NetworkSet" if namespace else "GlobalNetworkSet",
                     "metadata": {"name": f"set-{i}", **({"namespace": namespace} if namespace else {}),
                                  "labels": draw(_labels({"role": ["ext", "db"]}))},
                     "spec": {"nets": draw(st.lists(st.sampled_from(CALICO_NETS), min_size=1, max_size=2,
                                                    unique=True))}})
    return docs


# ------------------------------------------------------------------------------------------- Firewalls


def _firewall_peer(networks: list[str]) -> st.SearchStrategy[Doc]:
    return st.one_of(
        st.builds(lambda c: {"cidr": c}, st.sampled_from(FIREWALL_CIDRS)),
        st.builds(lambda n: {"network": n}, st.sampled_from(networks)),
        st.builds(lambda s: {"nodeSelector": s}, selectors(NODE_LABELS)))


def _firewall_local() -> st.SearchStrategy[Doc]:
    return st.one_of(st.just({"node": {}}), st.just({"pods": {}}),
                     st.builds(lambda c: {"cidr": c}, st.sampled_from(LOCAL_CIDRS)))


@st.composite
def _firewall_rule(draw: st.DrawFn, index: int, peer_key: str, networks: list[str],
                   node_side: bool = False) -> Doc:
    rule: Doc = {"name": f"r{index}", "action": draw(st.sampled_from(["allow", "allow", "deny"])),
                 "protocol": draw(st.sampled_from(["TCP", "UDP", "any"]))}
    if draw(st.booleans()):
        rule["ports"] = draw(st.lists(st.sampled_from(FIREWALL_PORTS), min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        rule[peer_key] = draw(st.lists(_firewall_peer(networks), min_size=1, max_size=2))
    if node_side and draw(st.booleans()):
        rule["from" if peer_key == "to" else "to"] = draw(st.lists(_firewall_local(), min_size=1, max_size=2))
    return rule


@st.composite
def _firewall_chain(draw: st.DrawFn, peer_key: str, networks: list[str], node_side: bool = False) -> Doc:
    count = draw(st.integers(0, 4))
    return {"defaultAction": draw(st.sampled_from(["allow", "deny"])),
            "rules": [draw(_firewall_rule(i, peer_key, networks, node_side)) for i in range(count)]}


@st.composite
def _firewall(draw: st.DrawFn, index: int, nodes: int, networks: list[str], stateless: bool,
              node_side: bool = False) -> Doc:
    spec: Doc = {}
    if draw(st.booleans()):
        spec["nodeSelector"] = draw(selectors(NODE_LABELS))
    else:
        spec["nodes"] = draw(st.lists(st.sampled_from([f"node-{i}" for i in range(nodes)]), min_size=1,
                                      max_size=nodes, unique=True))
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        if draw(st.integers(0, 3)) > 0:  # an omitted direction filters nothing
            spec[direction] = draw(_firewall_chain(peer_key, networks, node_side))
    spec["stateful"] = draw(st.sampled_from([True, True, False])) if stateless else True
    return {"apiVersion": "netmodel.io/v1alpha1", "kind": "Firewall", "metadata": {"name": f"fw-{index}"},
            "spec": spec}


# ---------------------------------------------------------------------------------------------- layout


@st.composite
def topologies(draw: st.DrawFn, stateless_firewalls: bool = True, node_side: bool = False,
               calico: bool = False) -> list[Doc]:
    """One small random layout, as documents in the order a user would write them.

    ``stateless_firewalls=False`` makes every Firewall stateful; ``node_side=True`` lets Firewall rules name
    the node's own end; ``calico=True`` adds Calico Tiers and policies (:func:`calico_documents`). The defaults
    keep the draws, and so the CI examples, of the layouts without them.
    """
    networks = sorted(draw(st.lists(st.sampled_from(sorted(NETWORKS)), min_size=1, max_size=2, unique=True)))
    node_count = draw(st.integers(2, 3))
    control_plane = draw(st.booleans())
    namespaces = [f"ns-{i}" for i in range(draw(st.integers(2, 3)))]
    docs: list[Doc] = [draw(_cluster(networks))]
    docs += [_node(i, draw(_labels(NODE_LABELS, min_size=1)), control_plane and i == 0)
             for i in range(node_count)]
    docs += [{"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": n, "labels": {"kubernetes.io/metadata.name": n,
                                                 **draw(_labels(NAMESPACE_LABELS))}}} for n in namespaces]
    docs += [draw(_pod(i, namespaces, node_count)) for i in range(draw(st.integers(3, 6)))]
    docs += [draw(_service(i, namespaces)) for i in range(draw(st.integers(0, 2)))]
    docs += [draw(_network_policy(i, namespaces)) for i in range(draw(st.integers(0, 4)))]
    docs += [draw(_firewall(i, node_count, networks, stateless_firewalls, node_side))
             for i in range(draw(st.integers(0, 2)))]
    if calico:
        docs += draw(calico_documents(namespaces))
        for doc in docs:  # the Pods' service accounts, drawn last so the draws before stay those of the CI
            if doc["kind"] == "Pod":
                doc["spec"]["serviceAccountName"] = draw(st.sampled_from(CALICO_ACCOUNTS))
    return docs


def to_yaml(docs: list[Doc]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=None, width=110)
