"""Defaults, workload expansion, scheduling and address allocation (materialize.py rules 1-8)."""

from __future__ import annotations

import ipaddress

from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.model.objects import Pod
from netmodel.model.topology import Topology


def topo(text: str) -> Topology:
    return build_topology(parse_text(text, "in.yaml"))


def node(name: str, labels: str = "{}", taints: str = "[]", extra: str = "", cidr: str = "") -> str:
    spec = f"  taints: {taints}\n" + (f"  podCIDR: {cidr}\n" if cidr else "") + extra
    return (f"apiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {labels}}}\nspec:\n{spec}"
            f"status: {{addresses: [{{type: InternalIP, address: 10.0.0.{len(name) + ord(name[-1]) % 50}}}]}}\n---\n")


CP_TAINT = "[{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]"
CP_LABELS = "{node-role.kubernetes.io/control-plane: ''}"
NODES = node("cp-1", CP_LABELS, CP_TAINT) + node("w-1", "{zone: a}") + node("w-2", "{zone: b}")


def workload(kind: str, name: str, spec: str = "", template_spec: str = "", api: str = "apps/v1") -> str:
    pod_spec = f"      containers: [{{name: c}}]\n{template_spec}"
    template = f"  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n{pod_spec}"
    if kind == "CronJob":
        template = "  jobTemplate:\n    spec:\n" + "\n".join("    " + line for line in
                                                        (spec + template).splitlines()) + "\n"
        spec = "  schedule: '* * * * *'\n"
    return f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n{spec}{template}---\n"


def pods_of(t: Topology, prefix: str) -> list[tuple[str, str]]:
    return [(p.name, p.node_name) for p in t.pods if p.name.startswith(prefix)]


def test_nothing_given_means_kubeadm_defaults_and_one_implicit_node_each_with_a_note() -> None:
    t = topo("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n")
    assert t.cluster.implicit and [str(c) for c in t.cluster.pod_cidrs] == ["10.244.0.0/16"]
    assert [str(c) for c in t.cluster.service_cidrs] == ["10.96.0.0/12"]
    assert t.cluster.node_port_range.ranges == ((30000, 32767),)
    (n,) = t.nodes
    assert n.implicit and n.name == "node-1" and n.is_control_plane and not n.taints
    assert [str(c) for c in n.pod_cidrs] == ["10.244.0.0/16"]  # one node holds the whole pod range
    assert [str(ip) for ip in t.pods[0].ips] == ["10.244.0.2"]
    assert [note.id for note in t.notes] == ["NM-INPUT-002", "NM-INPUT-035", "NM-INPUT-036", "NM-INPUT-003",
                                            "NM-INPUT-004"]


def pod_at(name: str, namespace: str, ip: str) -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
            f"spec: {{containers: [{{name: c}}]}}\nstatus: {{podIP: {ip}}}\n---\n")


def test_without_a_cluster_the_pod_range_widens_to_the_pod_ips_given() -> None:
    t = topo(pod_at("a", "x", "10.244.0.5") + pod_at("b", "y", "192.168.3.4") + pod_at("c", "y", "fd00::7"))
    assert [str(c) for c in t.cluster.pod_cidrs] == ["10.244.0.0/16", "192.168.0.0/16", "fd00::/64"]
    assert t.nodes[0].pod_cidrs == t.cluster.pod_cidrs
    assert not any(t.nodes[0].internal_ips[0] in cidr for cidr in t.cluster.pod_cidrs)


def test_the_implicit_node_never_takes_an_address_a_pod_has() -> None:
    # 192.168.0.10 is the first candidate for the node; here a Pod holds it. Were the node given it too, the
    # Pod's traffic would look like its own node's and pass every NetworkPolicy.
    t = topo(pod_at("a", "x", "192.168.0.10") + pod_at("b", "y", "172.16.0.10"))
    node_ip = t.nodes[0].internal_ips[0]
    assert str(node_ip) not in {"192.168.0.10", "172.16.0.10"}
    assert not any(node_ip in cidr for cidr in t.cluster.pod_cidrs)


def test_pods_given_inside_the_default_service_range_move_it() -> None:
    t = topo(pod_at("a", "x", "10.96.0.20"))
    assert [str(c) for c in t.cluster.service_cidrs] == ["172.30.0.0/16"]


def test_node_pod_ranges_skip_ranges_other_nodes_hold() -> None:
    t = topo(node("a") + node("b", cidr="10.244.0.0/24") + node("c") + node("d", cidr="10.244.2.0/23"))
    assert {n.name: [str(c) for c in n.pod_cidrs] for n in t.nodes} == {
        "a": ["10.244.1.0/24"], "b": ["10.244.0.0/24"], "c": ["10.244.4.0/24"], "d": ["10.244.2.0/23"]}
    assert any(n.id == "NM-INPUT-006" and "2 node(s)" in n.message for n in t.notes)


def test_dual_stack_cluster_gives_nodes_and_pods_both_families() -> None:
    cluster = ("apiVersion: netmodel.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n"
               "  podCIDRs: [10.244.0.0/16, 'fd00:10:244::/56']\n  serviceCIDRs: [10.96.0.0/16, 'fd00:96::/112']\n"
               "---\n")
    t = topo(cluster + node("a") + "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
             "spec: {containers: [{name: c}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
             "spec: {selector: {app: x}, ports: [{port: 80}]}\n")
    assert [str(c) for c in t.nodes[0].pod_cidrs] == ["10.244.0.0/24", "fd00:10:244::/64"]
    assert [str(ip) for ip in t.pods[0].ips] == ["10.244.0.2", "fd00:10:244::2"]
    assert [str(ip) for ip in t.services[0].cluster_ips] == ["10.96.0.11"]  # single-stack, IPv4 first


def test_replicas_get_deterministic_names_and_round_robin_over_untainted_nodes() -> None:
    t = topo(NODES + workload("Deployment", "web", "  replicas: 3\n") + workload("StatefulSet", "db",
                                                                                 "  replicas: 2\n"))
    assert pods_of(t, "web") == [("web-0", "w-1"), ("web-1", "w-2"), ("web-2", "w-1")]
    assert pods_of(t, "db") == [("db-0", "w-2"), ("db-1", "w-1")]  # one cursor per placement constraint
    assert {p.owner.kind for p in t.pods} == {"Deployment", "StatefulSet"}
    assert topo(NODES + workload("Deployment", "web", "  replicas: 3\n")).pods == \
        topo(NODES + workload("Deployment", "web", "  replicas: 3\n")).pods


def test_daemonset_one_pod_per_eligible_node_control_plane_only_with_toleration() -> None:
    plain = topo(NODES + workload("DaemonSet", "agent"))
    assert pods_of(plain, "agent") == [("agent-w-1", "w-1"), ("agent-w-2", "w-2")]
    tolerating = topo(NODES + workload("DaemonSet", "agent", template_spec=(
        "      tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, "
        "effect: NoSchedule}]\n")))
    assert pods_of(tolerating, "agent") == [("agent-cp-1", "cp-1"), ("agent-w-1", "w-1"), ("agent-w-2", "w-2")]
    everything = topo(NODES + workload("DaemonSet", "agent", template_spec="      tolerations: [{operator: "
                                                                           "Exists}]\n"))
    assert len(pods_of(everything, "agent")) == 3


def test_daemonsets_run_on_cordoned_nodes_and_other_pods_do_not() -> None:
    nodes = node("a", extra="  unschedulable: true\n") + node("b")
    t = topo(nodes + workload("DaemonSet", "agent") + workload("Deployment", "web", "  replicas: 2\n"))
    assert pods_of(t, "agent") == [("agent-a", "a"), ("agent-b", "b")]
    assert pods_of(t, "web") == [("web-0", "b"), ("web-1", "b")]


def test_node_selector_and_required_node_affinity() -> None:
    t = topo(NODES + workload("Deployment", "a", "  replicas: 2\n", "      nodeSelector: {zone: b}\n")
             + workload("Deployment", "b", "  replicas: 2\n", (
                 "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
                 "            nodeSelectorTerms:\n            - matchExpressions: [{key: zone, operator: In, "
                 "values: [a]}]\n"))
             + workload("Deployment", "c", "  replicas: 1\n", "      nodeSelector: {zone: mars}\n"))
    assert pods_of(t, "a-") == [("a-0", "w-2"), ("a-1", "w-2")]
    assert pods_of(t, "b-") == [("b-0", "w-1"), ("b-1", "w-1")]
    assert pods_of(t, "c-") == []
    assert any(n.id == "NM-INPUT-007" and "shop/c-0" in n.message for n in t.notes)


def test_jobs_and_cronjobs_expand_to_parallelism_pods() -> None:
    t = topo(NODES + workload("Job", "once", "  parallelism: 2\n", api="batch/v1")
             + workload("CronJob", "nightly", api="batch/v1"))
    assert [name for name, _ in pods_of(t, "once")] == ["once-0", "once-1"]
    assert [name for name, _ in pods_of(t, "nightly")] == ["nightly-0"]


def test_kubectl_dump_pods_are_not_duplicated_by_their_workloads() -> None:
    deployment = workload("Deployment", "web", "  replicas: 3\n")
    rs = ("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-5d8f7\n  namespace: shop\n"
          "  ownerReferences: [{kind: Deployment, name: web}]\nspec:\n  replicas: 2\n"
          "  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c}]}\n---\n")
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-5d8f7-x{i}\n  namespace: shop\n  labels: {{app: web}}\n"
           "  ownerReferences: [{{kind: ReplicaSet, name: web-5d8f7}}]\nspec:\n  nodeName: w-1\n"
           "  containers: [{{name: c}}]\nstatus: {{podIP: 10.244.1.{i}}}\n---\n")
    pods = pod.format(i=7) + pod.format(i=8)
    for text in (NODES + deployment + rs + pods, NODES + deployment + pods):  # with and without the ReplicaSet
        t = topo(text)
        assert [(p.name, str(p.ips[0]), str(p.owner)) for p in t.pods] == [
            ("web-5d8f7-x7", "10.244.1.7", "Deployment/shop/web"),
            ("web-5d8f7-x8", "10.244.1.8", "Deployment/shop/web")]
    # A ReplicaSet owned by a Deployment never expands on its own.
    assert [p.name for p in topo(NODES + deployment + rs).pods] == ["web-0", "web-1", "web-2"]


def test_pod_ips_status_kept_host_network_takes_node_ip_and_allocation_skips_taken() -> None:
    text = node("w", cidr="10.244.5.0/24") + (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: given}\nspec: {nodeName: w, containers: [{name: c}]}\n"
        "status: {podIP: 10.244.5.2, podIPs: [{ip: 10.244.5.2}, {ip: 'fd00::5'}]}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: host}\nspec: {nodeName: w, hostNetwork: true, "
        "containers: [{name: c}]}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: new}\nspec: {containers: [{name: c}]}\n")
    t = topo(text)
    ips = {p.name: [str(ip) for ip in p.ips] for p in t.pods}
    assert ips == {"given": ["10.244.5.2", "fd00::5"], "host": [str(t.nodes[0].internal_ips[0])],
                   "new": ["10.244.5.3"]}
    assert [p.ips_allocated for p in t.pods] == [False, False, True]


def test_service_cluster_ips_and_node_ports_are_allocated_around_taken_ones() -> None:
    svc = "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{{spec}}}\n---\n"
    t = topo(svc.format(name="a", ns="x", spec="type: NodePort, ports: [{port: 80, name: a}, {port: 81, name: b, "
                                                 "nodePort: 30000}]")
             + svc.format(name="kube-dns", ns="kube-system", spec="ports: [{port: 53, protocol: UDP}]")
             + svc.format(name="kubernetes", ns="default", spec="ports: [{port: 443}]")
             + svc.format(name="given", ns="x", spec="clusterIP: 10.96.0.11")
             + svc.format(name="headless", ns="x", spec="clusterIP: None")
             + svc.format(name="lb", ns="x", spec="type: LoadBalancer, externalTrafficPolicy: Local, "
                                                  "ports: [{port: 443}]"))
    by_name = {s.name: s for s in t.services}
    assert str(by_name["a"].cluster_ips[0]) == "10.96.0.12"
    assert [p.node_port for p in by_name["a"].ports] == [30001, 30000]
    assert str(by_name["kube-dns"].cluster_ips[0]) == "10.96.0.10"
    assert str(by_name["kubernetes"].cluster_ips[0]) == "10.96.0.1"
    assert not by_name["given"].cluster_ips_allocated
    assert by_name["headless"].headless and not by_name["headless"].cluster_ips
    assert str(by_name["lb"].cluster_ips[0]) == "10.96.0.13"
    assert [p.node_port for p in by_name["lb"].ports] == [30002]
    assert by_name["lb"].health_check_node_port == 30003
    note = next(n for n in t.notes if n.id == "NM-INPUT-005")
    assert "allocated 4 ClusterIP(s) and 3 NodePort(s)" in note.message


def test_namespaces_implicit_and_declared_carry_the_metadata_name_label() -> None:
    t = topo("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: a}}\n---\n"
             "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: other}\nspec: {containers: [{name: c}]}\n"
             "---\napiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec: {containers: [{name: c}]}\n")
    labels = {n.name: dict(n.labels) for n in t.namespaces}
    assert labels == {"shop": {"team": "a", "kubernetes.io/metadata.name": "shop"},
                      "default": {"kubernetes.io/metadata.name": "default"},
                      "other": {"kubernetes.io/metadata.name": "other"}}
    assert [n.implicit for n in t.namespaces] == [False, True, True]


def test_pod_addresses_are_unique_across_many_pods() -> None:
    t = topo(node("a", cidr="10.244.0.0/26") + workload("Deployment", "web", "  replicas: 70\n"))
    ips = [p.ips[0] for p in t.pods if p.ips]
    assert len(ips) == len(set(ips)) == 61  # .2 … .62 of a /26
    assert all(ip in ipaddress.ip_network("10.244.0.0/26") for ip in ips)
    assert any(n.id == "NM-INPUT-008" and "9 Pod address(es)" in n.message for n in t.notes)


def test_a_workloads_replicas_are_twins_of_its_first_pod() -> None:
    """Pod.twin sets each field by name: every field (the derived ``ports`` too) equals what the dataclass's own
    ``replace`` gives, so a field added to Pod but not to twin fails here."""
    import dataclasses

    t = topo(NODES + workload("Deployment", "web", "  replicas: 3\n").replace(
        "[{name: c}]", "[{name: c, ports: [{containerPort: 80}]}]"))
    first, *others = [p for p in t.pods if p.name.startswith("web-")]
    assert len(others) == 2 and [p.port for p in first.ports] == [80]
    for pod in others:
        want = dataclasses.replace(first, name=pod.name, node_name=pod.node_name, ips=pod.ips)
        for f in dataclasses.fields(Pod):
            assert getattr(pod, f.name) == getattr(want, f.name), f.name
        assert pod == want and hash(pod) == hash(want) and repr(pod) == repr(want)
    twin = first.twin("web-9", "w-2", ())
    assert twin == dataclasses.replace(first, name="web-9", node_name="w-2", ips=())
