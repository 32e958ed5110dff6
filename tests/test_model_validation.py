"""Bad input to the model: each problem is located at the offending value, and all of a run come together."""

from __future__ import annotations

import pytest

from netmodel.errors import ValidationError
from netmodel.load import parse_text
from netmodel.model.build import build_topology


def problems_of(text: str) -> list[tuple[int, int, str, str]]:
    with pytest.raises(ValidationError) as err:
        build_topology(parse_text(text, "in.yaml"))
    return [(p.span.line, p.span.column, p.message, p.hint) for p in err.value.problems]


def the_problem(text: str) -> tuple[int, int, str, str]:
    found = problems_of(text)
    assert len(found) == 1, found
    return found[0]


def at(text: str, marker: str) -> tuple[int, int]:
    """(line, column) of the first character of ``marker`` in ``text`` (1-based)."""
    offset = text.index(marker)
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


NODE = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n"

CASES = {
    # name: (document, the text at which the problem must be located, words the message must hold)
    "service type": (("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: Nodeport\n"
                     "  ports: [{port: 80}]\n"), "Nodeport", "unknown value 'Nodeport'"),
    "service port as text": (("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n"
                             "  - port: http\n"), "http", "must be an integer"),
    "targetPort out of range": (("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n"
                                "  - {port: 80, targetPort: 70000}\n"), "70000", "outside 1-65535"),
    "bad port name": (("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n"
                      "  - {port: 80, targetPort: Web_Port}\n"), "Web_Port", "neither a port number"),
    "clusterIP": ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  clusterIP: 10.96.0.300\n",
                  "10.96.0.300", "invalid IP address"),
    "nodePort on ClusterIP": (("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n"
                              "  - {port: 80, nodePort: 30080}\n"), "30080", "has no nodePort"),
    "container protocol": (("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n"
                           "    ports: [{containerPort: 53, protocol: DNS}]\n"), "DNS", "unknown value 'DNS'"),
    "containerPort type": (("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                           "  - name: c\n    ports: [{containerPort: [80]}]\n"), "[80]", "must be an integer"),
    "containers not a list": ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: web\n",
                              "web", "must be a list"),
    "hostNetwork not a bool": (("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: 'yes'\n"
                               "  containers: [{name: c}]\n"), "'yes'", "must be true or false"),
    "pod podIP": (("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n"
                  "status:\n  podIP: 10.0.0.256\n"), "10.0.0.256", "invalid IP address"),
    "node podCIDR": ("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec:\n  podCIDR: 10.244.1.0/33\n",
                     "10.244.1.0/33", "invalid CIDR"),
    "node podCIDR host bits": (("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec:\n"
                               "  podCIDRs: [10.244.1.0/24, 10.244.2.1/24]\n"), "10.244.2.1/24", "host bits"),
    "node taint effect": (("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec:\n"
                          "  taints: [{key: a, effect: NoWay}]\n"), "NoWay", "unknown value 'NoWay'"),
    "selector operator": (("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n"
                          "  podSelector:\n    matchExpressions: [{key: app, operator: Includes, values: [a]}]\n"),
                          "Includes", "unknown value 'Includes'"),
    "In without values": (("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
                          "spec:\n  podSelector:\n    matchExpressions:\n    - {key: app, operator: In}\n"),
                          "{key: app, operator: In}", "needs at least one value"),
    "ipBlock cidr": (("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n"
                     "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/40}\n"),
                     "10.0.0.0/40", "invalid CIDR"),
    "endPort below port": (("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
                           "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 90, endPort: 80}\n"),
                           "80}", "endPort 80 is below port 90"),
    "cni plugin": (("apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n"
                   "  cni: {plugin: calcio}\n"), "calcio", "unknown value 'calcio'"),
    "cni mode": (("apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n"
                 "  cni: {plugin: flannel, mode: ipip}\n"), "ipip", "flannel has no mode 'ipip'"),
    "kube-proxy mode": (("apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n"
                        "  kubeProxy: {mode: userspace}\n"), "userspace", "unknown value 'userspace'"),
    "cluster pod CIDR": (("apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n"
                         "  podCIDRs: [10.244.0.1/16]\n"), "10.244.0.1/16", "host bits set"),
    "node port range": (("apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n"
                        "  nodePortRange: 32767-30000\n"), "32767-30000", "runs backwards"),
    "network uses": (("apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n"
                     "  networks:\n  - {name: office, cidrs: [198.51.100.0/24], uses: [ssh]}\n"), "ssh",
                     "unknown entry point 'ssh'"),
    "cluster unknown field": (("apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n"
                              "  podCIDR: [10.244.0.0/16]\n"), "podCIDR", "unknown field"),
    "firewall unknown field": (NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\n"
                               "spec:\n  nodes: [n1]\n  ingress:\n    defaultAcion: deny\n", "defaultAcion",
                               "unknown field"),
    "firewall action": (NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n"
                        "  nodes: [n1]\n  ingress:\n    rules:\n    - {action: permit}\n", "permit",
                        "unknown value 'permit'"),
    "firewall protocol": (NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\n"
                          "spec:\n  nodes: [n1]\n  ingress:\n    rules:\n    - {action: allow, protocol: GRE}\n",
                          "GRE", "unknown protocol 'GRE'"),
    "firewall port": (NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n"
                      "  nodes: [n1]\n  ingress:\n    rules:\n    - {action: allow, protocol: TCP, "
                      "ports: ['6443', '99999']}\n", "'99999'", "outside 0-65535"),
    "firewall ports without ported protocol": (
        NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n  nodes: [n1]\n"
        "  ingress:\n    rules:\n    - {action: allow, protocol: ICMP, ports: ['8']}\n", "['8']",
        "ports only apply to TCP, UDP and SCTP"),
    "firewall peer cidr": (NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\n"
                           "spec:\n  nodes: [n1]\n  ingress:\n    rules:\n    - action: allow\n      from:\n"
                           "      - cidr: 10.0.0.0/8/8\n", "10.0.0.0/8/8", "invalid CIDR"),
    "firewall peer two kinds": (NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\n"
                                "spec:\n  nodes: [n1]\n  ingress:\n    rules:\n    - action: allow\n      from:\n"
                                "      - {cidr: 10.0.0.0/8, nodes: [n1]}\n", "{cidr: 10.0.0.0/8, nodes: [n1]}",
                                "exactly one of"),
    "firewall missing node": (NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\n"
                              "spec:\n  nodes: [n1, ghost]\n", "ghost", "node 'ghost' does not exist"),
    "firewall missing network": (
        NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n  nodes: [n1]\n"
        "  ingress:\n    rules:\n    - action: allow\n      from:\n      - network: nowhere\n", "network: nowhere",
        "names network 'nowhere'"),
    "firewall rule names a missing node": (
        NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n  nodes: [n1]\n"
        "  ingress:\n    rules:\n    - action: allow\n      from:\n      - nodes: [cp-9]\n", "nodes: [cp-9]",
        "names node 'cp-9'"),
    "firewall destination two kinds": (
        NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n  nodes: [n1]\n"
        "  ingress:\n    rules:\n    - action: allow\n      to:\n      - {node: {}, pods: {}}\n",
        "{node: {}, pods: {}}", "exactly one of node, pods, cidr, cidrs"),
    "firewall destination cidr": (
        NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n  nodes: [n1]\n"
        "  ingress:\n    rules:\n    - action: allow\n      to:\n      - cidr: 10.244.0.0/33\n", "10.244.0.0/33",
        "invalid CIDR"),
    "firewall destination settings": (
        NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n  nodes: [n1]\n"
        "  ingress:\n    rules:\n    - action: allow\n      to:\n      - pods: {all: true}\n", "{all: true}",
        "takes no settings"),
    "firewall destination empty": (
        NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n  nodes: [n1]\n"
        "  ingress:\n    rules:\n    - action: allow\n      to: []\n", "[]", "an empty list matches no packet"),
    "firewall egress source is a peer": (
        NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n  nodes: [n1]\n"
        "  egress:\n    rules:\n    - action: deny\n      from:\n      - network: office\n", "network",
        "from[0].network: unknown field"),
    "firewall destination on egress": (
        NODE + "apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {name: f}\nspec:\n  nodes: [n1]\n"
        "  egress:\n    rules:\n    - action: deny\n      to:\n      - pods: {}\n", "pods",
        "to[0].pods: unknown field"),
    "workload selector mismatch": (("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
                                   "  selector: {matchLabels: {app: x}}\n  template:\n"
                                   "    metadata: {labels: {app: d}}\n    spec:\n      containers: [{name: c}]\n"),
                                   "{matchLabels: {app: x}}", "does not match the Pod template labels"),
    "replicationcontroller selector mismatch": (
        ("apiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc}\nspec:\n  selector: {app: x}\n"
         "  template:\n    metadata: {labels: {app: rc}}\n    spec:\n      containers: [{name: c}]\n"),
        "{app: x}", "does not match the Pod template labels"),
    "replicas negative": (("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: d}\nspec:\n"
                          "  replicas: -1\n  template:\n    spec:\n      containers: [{name: c}]\n"), "-1",
                          "outside 0-None"),
    "duplicate pod": (("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n---\n"
                      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: d}]}\n"),
                      ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n---\n"
                      "apiVersion"), "defined twice (first at in.yaml:1:1)"),
    "missing kind": ("apiVersion: v1\nmetadata: {name: p}\n", "apiVersion", "no `kind`"),
    "missing apiVersion": ("kind: Pod\nmetadata: {name: p}\n", "kind", "Pod has no `apiVersion`"),
    "document is a list": ("- a\n- b\n", "- a", "must be a mapping"),
    "document is a scalar": ("just text\n", "just text", "must be a mapping"),
    "unknown netmodel kind": ("apiVersion: netmodel.io/v1alpha1\nkind: Firewal\nmetadata: {name: f}\n",
                              "Firewal", "netmodel has no kind 'Firewal'"),
    "unknown netmodel apiVersion": ("apiVersion: netmodel.io/v1\nkind: Firewall\nmetadata: {name: f}\n",
                                    "netmodel.io/v1", "unknown netmodel apiVersion"),
    "missing name": ("apiVersion: v1\nkind: Service\nmetadata: {labels: {a: b}}\n", "{labels",
                     "name: is required"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_bad_input_is_reported_at_the_offending_value(name: str) -> None:
    text, marker, words = CASES[name]
    if name == "duplicate pod":
        marker_pos = (6, 1)  # the second Pod's first line
    else:
        marker_pos = at(text, marker)
    line, column, message, hint = the_problem(text)
    assert words in message
    assert (line, column) == marker_pos, message
    assert hint  # every problem says how to fix it


def test_enumerations_are_case_sensitive_with_a_hint() -> None:
    _, _, message, hint = the_problem("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n"
                                      "  type: nodeport\n")
    assert "unknown value 'nodeport'" in message
    assert "'NodePort'" in hint and "case-sensitive" in hint


def test_every_problem_of_a_run_is_reported_together() -> None:
    text = "\n---\n".join(CASES[name][0].split("---\n")[-1] for name in (
        "service type", "clusterIP", "container protocol", "selector operator", "cni plugin", "node podCIDR")
        ).replace("name: s}", "name: s1}", 1)
    # A Pod naming a node no Node declares is no problem (the node is made up), and makes that node known.
    text = NODE + text + "\n---\n" + CASES["firewall missing node"][0].split("---\n")[-1] + "---\n" + \
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p2}\nspec:\n  nodeName: phantom\n  containers: [{name: c}]\n"
    found = problems_of(text)
    messages = " | ".join(m for _, _, m, _ in found)
    for words in ("'Nodeport'", "10.96.0.300", "'DNS'", "'Includes'", "'calcio'", "10.244.1.0/33",
                  "node 'ghost' does not exist"):
        assert words in messages
    assert "phantom" not in messages and len(found) == 7
    # Reported in input order, reference problems after the per-object ones.
    assert [line for line, *_ in found[:6]] == sorted(line for line, *_ in found[:6])


def test_a_second_cluster_is_an_error() -> None:
    one = "apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: a}\n"
    line, _, message, _ = the_problem(one + "---\n" + one.replace("name: a", "name: b"))
    assert line == 5 and "second Cluster" in message


def test_unknown_standard_kinds_are_skipped_with_a_note_not_an_error() -> None:
    topo = build_topology(parse_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: x}\n---\n"
                                     "apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\n"
                                     "metadata: {name: r}\n", "in.yaml"))
    assert [(s.kind, s.namespace, s.name) for s in topo.skipped] == [("ConfigMap", "x", "cm"),
                                                                     ("BackendTLSPolicy", "", "r")]
    # The ConfigMap is summed up (no network meaning), the route warned about as not evaluated.
    assert [(n.id, n.severity, n.sources[0].line) for n in topo.notes if n.id in ("NM-INPUT-001", "NM-INPUT-015")] \
        == [("NM-INPUT-001", "info", 1), ("NM-INPUT-015", "warning", 5)]
    assert "does not read Gateway API BackendTLSPolicy objects yet" in topo.notes[1].message


def test_unknown_fields_in_standard_kinds_are_ignored() -> None:
    topo = build_topology(parse_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p, uid: x}\nspec:\n"
                                     "  containers: [{name: c, image: nginx, resources: {}}]\n  dnsPolicy: x\n",
                                     "in.yaml"))
    assert [p.name for p in topo.pods] == ["p"]


def test_replication_controller_selector_is_a_plain_label_map() -> None:
    """core/v1 ReplicationControllerSpec.selector is map[string]string (no matchLabels), as the API defines it."""
    topo = build_topology(parse_text("apiVersion: v1\nkind: ReplicationController\nmetadata: {name: nginx}\n"
                                     "spec:\n  replicas: 2\n  selector: {app: nginx}\n  template:\n"
                                     "    metadata: {labels: {app: nginx}}\n"
                                     "    spec: {containers: [{name: nginx, ports: [{containerPort: 80}]}]}\n",
                                     "in.yaml"))
    assert sorted(p.name for p in topo.pods) == ["nginx-0", "nginx-1"]


def test_nca_style_pods_are_read_with_a_warning() -> None:
    """NCA's test inputs write containers without `name` and "no ports" as `ports: {}`. The API server would
    refuse both; netmodel reads them (no name needed for the analysis, no declared ports) and says so at the
    value (NM-INPUT-013, docs/input.md)."""
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  containers:\n"
            "  - ports: {}\n")
    topo = build_topology(parse_text(text, "in.yaml"))
    assert [(c.name, c.ports) for c in topo.pods[0].containers] == [("containers[0]", ())]
    notes = sorted((n.sources[0].line, n.sources[0].column, n.severity, n.objects) for n in topo.notes
                   if n.id == "NM-INPUT-013")
    assert notes == [(6, 5, "warning", ("Pod/x/p",)), (6, 12, "warning", ("Pod/x/p",))]
    # a non-empty mapping is still an error
    assert "must be a list" in the_problem(text.replace("ports: {}", "ports: {containerPort: 80}"))[2]


def test_an_object_given_twice_with_the_same_content_is_read_once() -> None:
    """`kubectl apply` of the same object twice leaves one object (NCA's example_workload_resources folder has
    multiple-workloads.yaml repeating deployment.yaml): read once, info NM-INPUT-014 at the repeat. Other
    content under the same name stays an error (the "duplicate pod" case above)."""
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n"
    topo = build_topology(parse_text(pod + "---\n" + pod, "in.yaml"))
    assert [p.name for p in topo.pods] == ["p"]
    repeats = [n for n in topo.notes if n.id == "NM-INPUT-014"]
    assert [(n.severity, n.sources[0].line, n.objects) for n in repeats] == [("info", 6, ("Pod/default/p",))]
    assert "in.yaml:1:1" in repeats[0].message


def test_a_namespace_given_again_with_the_same_labels_is_read_once() -> None:
    """sock-shop's manifests-policy/netpol-default-deny.yaml declares its Namespace again, with an annotation
    complete-demo.yaml's lacks; `kubectl apply` of both leaves one Namespace, and netmodel reads only a Namespace's
    name and labels: read once, info NM-INPUT-014 at the repeat. Other labels stay an error (a namespaceSelector
    would see one set or the other depending on the order of apply)."""
    first = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: a}}\n"
    again = ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {team: a}\n"
             "  annotations: {net.beta.kubernetes.io/network-policy: '{\"ingress\": {\"isolation\": \"DefaultDeny\"}}'}\n")
    topo = build_topology(parse_text(first + "---\n" + again, "in.yaml"))
    assert [n.name for n in topo.namespaces if not n.implicit] == ["shop"]
    repeats = [n for n in topo.notes if n.id == "NM-INPUT-014"]
    assert [(n.severity, n.sources[0].line, n.objects) for n in repeats] == [("info", 5, ("Namespace/shop",))]
    assert "in.yaml:1:1" in repeats[0].message and "same labels" in repeats[0].message
    line, _, message, _ = the_problem(first + "---\n" + again.replace("team: a", "team: b"))
    assert line == 5 and "Namespace shop is defined twice (first at in.yaml:1:1)" in message


def test_zero_ports_the_api_server_reads_as_unset_are_read_so() -> None:
    """`nodePort`, `healthCheckNodePort` and a container's `hostPort` are plain int32 fields with omitempty: 0 is
    "not set" (the API server validates them only when non-zero; kubernetes/examples' openshift-origin
    etcd-service.yaml writes `nodePort: 0`); a Service port's `targetPort` of 0 or "" is defaulted to `port`
    (SetDefaults_Service). A cluster accepts all of them, so netmodel must not refuse them."""
    text = ("apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\nspec:\n  type: NodePort\n"
            "  selector: {app: a}\n  ports:\n  - {name: a, port: 80, targetPort: 0, nodePort: 0}\n"
            "  - {name: b, port: 81, targetPort: \"\"}\n---\n"
            "apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: x}\nspec:\n"
            "  selector: {app: a}\n  ports: [{port: 82, nodePort: 0}]\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x, labels: {app: a}}\n"
            "spec: {containers: [{name: c, ports: [{containerPort: 80, hostPort: 0}]}]}\n")
    topo = build_topology(parse_text(text, "in.yaml"))
    services = {s.name: s for s in topo.services}
    assert [(p.port, p.target_port) for p in services["s"].ports] == [(80, 80), (81, 81)]
    assert all(p.node_port is not None for p in services["s"].ports)  # allocated, as for an absent nodePort
    assert [p.node_port for p in services["c"].ports] == [None]
    assert [cp.host_port for c in topo.pods[0].containers for cp in c.ports] == [None]
    # a boolean is still a type error, and a negative port still out of range
    assert "must be an integer" in the_problem(text.replace("hostPort: 0", "hostPort: false"))[2]
    assert "outside 1-65535" in the_problem(text.replace("targetPort: 0", "targetPort: -1"))[2]


POLICY_WITH_EXCEPT = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: x}\n"
                      "spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n"
                      "        cidr: 128.0.0.0/5\n        except: [172.21.0.0/16, 130.1.0.0/16]\n")


def test_an_except_outside_its_cidr_is_read_as_the_difference_with_a_warning() -> None:
    """NCA's withIpBlock2-networkpolicy3.yaml excepts 172.21.0.0/16 from 128.0.0.0/5. The API server refuses an
    except entry that is not inside the cidr; netmodel reads the block as cidr minus except as always (so that
    entry removes nothing) and warns at the entry (NM-INPUT-013). Another IP family stays an error."""
    topo = build_topology(parse_text(POLICY_WITH_EXCEPT, "in.yaml"))
    block = topo.network_policies[0].ingress[0].peers[0].ip_block
    assert [str(n) for n in block.except_] == ["172.21.0.0/16", "130.1.0.0/16"]
    notes = [(n.sources[0].line, n.sources[0].column, n.severity) for n in topo.notes if n.id == "NM-INPUT-013"]
    assert notes == [(10, 18, "warning")]
    assert "removes nothing" in next(n.message for n in topo.notes if n.id == "NM-INPUT-013")
    line, column, message, _ = the_problem(POLICY_WITH_EXCEPT.replace("172.21.0.0/16", "fd00::/64"))
    assert (line, column) == (10, 18) and "is not inside cidr" in message


def test_pods_repeating_a_spec_are_each_read_and_located_on_their_own() -> None:
    """Pods' labels and containers are read once per distinct value (read_kubernetes.PodsRead): values equal by
    ``==`` but read differently (8080 and 8080.0, 1 and true) are not mixed up, and a problem in a repeated value
    is reported at every Pod that has it."""
    def pod(name: str, port: str, label: str) -> str:
        return (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{app: {label}}}\nspec:\n"
                f"  nodeName: n1\n  containers:\n  - name: web\n    ports:\n    - containerPort: {port}\n---\n")
    text = NODE + pod("pa", "8080", "web") + pod("pb", "8080.0", "web") + pod("pc", "8080", "[x]") + \
        pod("pd", "8080.0", "[x]") + pod("pe", "true", "web")
    line = {name: at(text, f"name: {name}\n")[0] for name in ("pb", "pc", "pd", "pe")}
    assert [(line, message.split(":")[0]) for line, _, message, _ in problems_of(text)] == [
        (line["pb"] + 7, "Pod pb"), (line["pc"] + 1, "Pod pc"), (line["pd"] + 1, "Pod pd"), (line["pd"] + 7, "Pod pd"),
        (line["pe"] + 7, "Pod pe")]


def test_a_job_s_pods_carry_the_job_name_labels_the_api_server_adds() -> None:
    """The API server labels a Job's Pod template with batch.kubernetes.io/job-name and job-name (its name) when
    the Job is created; a headless Service selecting `job-name: NAME` (GKE samples' fine-tune-l4.yaml, indexed
    Jobs) selects its Pods. A label the template sets itself is kept; manualSelector leaves the template alone."""
    job = ("apiVersion: batch/v1\nkind: Job\nmetadata: {name: finetune, namespace: x}\nspec:\n"
           "  template:\n    metadata: {labels: {app: a}}\n    spec: {containers: [{name: c}]}\n---\n"
           "apiVersion: v1\nkind: Service\nmetadata: {name: headless, namespace: x}\n"
           "spec: {clusterIP: None, selector: {job-name: finetune}, ports: [{port: 80}]}\n")
    topo = build_topology(parse_text(job, "in.yaml"))
    assert dict(topo.pods[0].labels) == {"app": "a", "batch.kubernetes.io/job-name": "finetune",
                                         "job-name": "finetune"}
    kept = build_topology(parse_text(job.replace("{app: a}", "{app: a, job-name: mine}"), "in.yaml"))
    assert kept.pods[0].labels["job-name"] == "mine"
    manual = build_topology(parse_text(job.replace("spec:\n  template:", "spec:\n  manualSelector: true\n"
                                                   "  selector: {matchLabels: {app: a}}\n  template:"), "in.yaml"))
    assert "job-name" not in manual.pods[0].labels


NETWORK_POLICY = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: default}\n"


@pytest.mark.parametrize(("spec", "field"), [
    ("spec:\n  podSelector: {}\n  ingres:\n  - from: [{podSelector: {}}]\n", "spec.ingres"),
    ("spec:\n  podSelector: {}\n  ingress:\n  - froms: [{podSelector: {}}]\n", "spec.ingress[0].froms"),
    ("spec:\n  podSelector: {}\n  egress:\n  - to: [{namespaceSelecter: {}}]\n", "spec.egress[0].to[0].namespaceSelecter"),
    ("spec:\n  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8, exept: [10.1.0.0/16]}}]\n",
     "spec.egress[0].to[0].ipBlock.exept"),
    ("spec:\n  podSelector: {}\n  ingress:\n  - ports: [{port: 80, end_port: 90}]\n", "spec.ingress[0].ports[0].end_port"),
    ("spec:\n  podSelector: {matchLabel: {app: web}}\n", "spec.podSelector.matchLabel"),
    ("spec:\n  podSelector: {matchExpressions: [{key: app, operator: In, value: [web]}]}\n",
     "spec.podSelector.matchExpressions[0].value"),
])
def test_a_field_networkpolicy_does_not_have_is_refused_where_it_is_written(spec: str, field: str) -> None:
    # The API server refuses it (strict field validation); read without it, each of these would change verdicts.
    text = NETWORK_POLICY + spec
    line, column, message, hint = problems_of(text)[0]  # (a peer left with no field is also said to need one)
    assert (line, column) == at(text, field.rsplit(".", 1)[-1].split("[")[0] + ":"), message
    assert message == f"NetworkPolicy np: {field}: unknown field", message
    assert hint.startswith("remove it or use one of: "), hint


def test_every_field_of_networkpolicy_is_read() -> None:
    text = NETWORK_POLICY + """spec:
  podSelector: {matchLabels: {app: web}, matchExpressions: [{key: tier, operator: In, values: [a]}]}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - {podSelector: {}, namespaceSelector: {matchLabels: {team: a}}}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports: [{protocol: TCP, port: 80, endPort: 90}]
  egress:
  - to: [{namespaceSelector: {}}]
    ports: [{port: dns, protocol: UDP}]
"""
    topology = build_topology(parse_text(text, "in.yaml"))
    assert [p.name for p in topology.network_policies] == ["np"]
