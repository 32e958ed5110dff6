"""Connectivity matrix at scale: 5,000 Pods and 500 NetworkPolicies (run: python benchmarks/bench_matrix.py).

The layout: 50 namespaces (label team=t0..t4) × 10 Deployments × 10 replicas on 50 nodes; each Deployment has
one ingress policy (from one tier of its namespace, or from a team's namespaces, on a named or numbered port,
some with an endPort range or an ipBlock), and every fifth namespace a default-deny egress that allows DNS and
its own namespace. Prints the time of each stage and the sizes that matter (Pod classes, connections).

``--admin-policies N`` adds N AdminNetworkPolicies (priorities 0..N-1; subjects a team's namespaces or one
Deployment; ingress Deny/Pass/Allow rules with pods, namespaces peers, port numbers and ranges; every third an
egress Deny to a network and an Allow to a zone's nodes) and one BaselineAdminNetworkPolicy.

``--cilium-policies N`` adds N Cilium policies: CiliumNetworkPolicies selecting one Deployment (ingress from a
tier of its namespace or a team's namespaces on numbered or named ports, an ingressDeny of the metrics port from
another tier; every third an egress to its namespace, the DNS Pods and the world on 443) and every tenth a
CiliumClusterwideNetworkPolicy denying a team's namespaces egress to a CIDR without default deny.

``--compare`` times what ``netmodel matrix`` does once the input is loaded — compile the policies, then compute
and write each view of ``--by`` (``group``: the grouped map, the default view; ``workload``/``namespace``/``pod``:
the pairwise rows as ``-f csv`` streams them, to a discarding sink), with the cyclic collector paused as the
command pauses it — on the layout alone and on the layout with the added policies, in one process, each
``--rounds`` times alternating, and prints the fastest CPU time of each and the ratio (issue 13).
"""

from __future__ import annotations

import argparse
import json
import time

from netmodel.analyze.connectivity import connection_blocks, connectivity
from netmodel.analyze.grouped import grouped_json
from netmodel.analyze.reach import CompiledCluster, query
from netmodel.analyze.unevaluated import Unevaluated
from netmodel.cli.matrix import stream_csv
from netmodel.load import parse_text
from netmodel.load.files import paused_gc
from netmodel.model.build import build_topology
from netmodel.model.topology import Topology

TIERS = ("front", "mid", "back")


def layout(namespaces: int, deployments: int, replicas: int, nodes: int) -> str:
    docs: list[dict] = []
    for n in range(nodes):
        docs.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"n{n}", "labels": {"zone": f"z{n % 3}"}},
                     "status": {"addresses": [{"type": "InternalIP", "address": f"10.0.{n // 250}.{n % 250 + 1}"}]}})
    for i in range(namespaces):
        ns = f"ns{i}"
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"team": f"t{i % 5}"}}})
        for d in range(deployments):
            tier = TIERS[d % 3]
            docs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"app{d}", "namespace": ns},
                         "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": f"app{d}"}},
                                  "template": {"metadata": {"labels": {"app": f"app{d}", "tier": tier}},
                                               "spec": {"containers": [{"name": "c", "ports": [
                                                   {"name": "http", "containerPort": 8080 + d % 2},
                                                   {"name": "metrics", "containerPort": 9090}]}]}}}})
            peer: dict = {"podSelector": {"matchLabels": {"tier": TIERS[(d + 2) % 3]}}}
            if d % 4 == 1:
                peer = {"namespaceSelector": {"matchLabels": {"team": f"t{(i + 1) % 5}"}}}
            elif d % 4 == 2:
                peer = {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In",
                                                                    "values": ["t0", "t1"]}]},
                        "podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}}
            ports = [{"port": "http"}] if d % 2 else [{"port": 8080, "endPort": 8081}, {"port": 9090}]
            rules = [{"from": [peer], "ports": ports}]
            if d % 5 == 0:
                rules.append({"from": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/28"]}}]})
            docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"name": f"app{d}-in", "namespace": ns},
                         "spec": {"podSelector": {"matchLabels": {"app": f"app{d}"}}, "ingress": rules}})
        if i % 5 == 0:
            docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"name": "egress", "namespace": ns},
                         "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
                             {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                              "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
                             {"to": [{"podSelector": {}}]}]}})
    return "\n---\n".join(json.dumps(d) for d in docs)


def admin_policies(count: int, namespaces: int, deployments: int) -> str:
    docs: list[dict] = []
    anp = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy"}
    for k in range(count):
        subject: dict = {"namespaces": {"matchLabels": {"team": f"t{k % 5}"}}} if k % 2 else \
            {"pods": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": f"ns{k % namespaces}"}},
                      "podSelector": {"matchLabels": {"app": f"app{k % deployments}"}}}}
        ingress = [
            {"name": "deny-metrics", "action": "Deny", "ports": [{"portNumber": {"port": 9090}}],
             "from": [{"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"tier": TIERS[k % 3]}}}}]},
            {"name": "pass-team", "action": "Pass",
             "from": [{"namespaces": {"matchLabels": {"team": f"t{(k + 1) % 5}"}}}]},
            {"name": "allow-one", "action": "Allow", "ports": [{"portRange": {"start": 8080, "end": 8081}}],
             "from": [{"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": f"ns{k * 7 % namespaces}"}}}]},
        ]
        spec: dict = {"priority": k % 1001, "subject": subject, "ingress": ingress}
        if k % 3 == 0:
            spec["egress"] = [
                {"name": "deny-net", "action": "Deny", "to": [{"networks": [f"192.168.{k % 256}.0/24"]}]},
                {"name": "allow-nodes", "action": "Allow", "to": [{"nodes": {"matchLabels": {"zone": f"z{k % 3}"}}}],
                 "ports": [{"portNumber": {"port": 10250}}]}]
        docs.append({**anp, "metadata": {"name": f"anp{k}"}, "spec": spec})
    if count:
        docs.append({**anp, "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"},
                     "spec": {"subject": {"namespaces": {}}, "ingress": [
                         {"action": "Deny", "from": [{"namespaces": {"matchLabels": {"team": "t4"}}}]}]}})
    return "".join("\n---\n" + json.dumps(d) for d in docs)


def cilium_policies(count: int, namespaces: int, deployments: int) -> str:
    docs: list[dict] = []
    head = {"apiVersion": "cilium.io/v2"}
    for k in range(count):
        if k % 10 == 9:
            docs.append({**head, "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": f"ccnp{k}"},
                         "spec": {"endpointSelector": {"matchLabels": {
                                      "io.cilium.k8s.namespace.labels.team": f"t{k % 5}"}},
                                  "enableDefaultDeny": {"egress": False, "ingress": False},
                                  "egressDeny": [{"toCIDRSet": [{"cidr": f"192.168.{k % 256}.0/24",
                                                                 "except": [f"192.168.{k % 256}.0/28"]}]}]}})
            continue
        ns, app = f"ns{k % namespaces}", f"app{(k // namespaces) % deployments}"
        peer: dict = {"matchLabels": {"tier": TIERS[k % 3]}} if k % 2 else \
            {"matchLabels": {"io.cilium.k8s.namespace.labels.team": f"t{(k + 1) % 5}",
                             "k8s:io.kubernetes.pod.namespace": f"ns{k * 3 % namespaces}"}}
        ports = [{"port": "8080", "endPort": 8081, "protocol": "TCP"}] if k % 2 else [{"port": "http"}]
        spec: dict = {"endpointSelector": {"matchLabels": {"app": app}},
                      "ingress": [{"fromEndpoints": [peer], "toPorts": [{"ports": ports}]}],
                      "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"tier": TIERS[(k + 1) % 3]}}],
                                       "toPorts": [{"ports": [{"port": "9090", "protocol": "TCP"}]}]}]}
        if k % 3 == 0:
            spec["egress"] = [{"toEndpoints": [{}]},
                              {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system",
                                                                "k8s-app": "kube-dns"}}],
                               "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}]}]},
                              {"toEntities": ["world"], "toPorts": [{"ports": [{"port": "443"}]}]}]
        docs.append({**head, "kind": "CiliumNetworkPolicy", "metadata": {"name": f"cnp{k}", "namespace": ns},
                     "spec": spec})
    return "".join("\n---\n" + json.dumps(d) for d in docs)


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    """Run ``fn``; print its wall time and the CPU time of this process meanwhile (steadier on a shared machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    print(f"{label:<34} {time.perf_counter() - start:8.2f} s wall {time.process_time() - cpu:8.2f} s CPU")
    return value


class _Sink:
    """A text sink that keeps only the number of characters written."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        return len(text)


def matrix_view(topology: Topology, by: str) -> int:
    """What ``netmodel matrix`` does after loading, for one view: compile, compute and write (the size written)."""
    skipped = Unevaluated.of(topology)
    with paused_gc():  # as the command does
        compiled = CompiledCluster(topology)
        if by == "group":
            return len(repr(grouped_json(compiled, skipped)))
        sink = _Sink()
        stream_csv(connection_blocks(compiled, by), by, skipped, sink)  # type: ignore[arg-type]
        return sink.size


def compare(args: argparse.Namespace) -> None:
    """The layout alone against the layout with the added policies: the fastest CPU time of each stage."""
    base = layout(args.namespaces, args.deployments, args.replicas, args.nodes)
    texts = {"alone": base, "added": base + admin_policies(args.admin_policies, args.namespaces, args.deployments)
             + cilium_policies(args.cilium_policies, args.namespaces, args.deployments)}
    topologies = {name: build_topology(parse_text(text, "bench.yaml")) for name, text in texts.items()}
    best: dict[tuple[str, str], float] = {}
    sizes: dict[tuple[str, str], int] = {}
    for _ in range(args.rounds):
        for name, topology in topologies.items():
            stages = [("compile", lambda t=topology: CompiledCluster(t))]
            stages += [(f"matrix --by {by}", lambda t=topology, by=by: matrix_view(t, by)) for by in args.by]
            for stage, fn in stages:
                cpu = time.process_time()
                value = fn()
                spent = time.process_time() - cpu
                best[(name, stage)] = min(best.get((name, stage), spent), spent)
                if isinstance(value, int):
                    sizes[(name, stage)] = value
    baseline = " (+1 BaselineAdminNetworkPolicy)" if args.admin_policies else ""
    print(f"added: {args.admin_policies} AdminNetworkPolicies{baseline}, {args.cilium_policies} Cilium policies; "
          f"fastest of {args.rounds} (CPU s)")
    for stage in ["compile"] + [f"matrix --by {by}" for by in args.by]:
        alone, added = best[("alone", stage)], best[("added", stage)]
        written = f"  written {sizes[('alone', stage)]:,} / {sizes[('added', stage)]:,} chars" \
            if ("alone", stage) in sizes else ""
        print(f"{stage:<24} alone {alone:7.3f}  added {added:7.3f}  ratio {added / alone:5.2f}{written}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--deployments", type=int, default=10)
    parser.add_argument("--replicas", type=int, default=10)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--admin-policies", type=int, default=0)
    parser.add_argument("--cilium-policies", type=int, default=0)
    parser.add_argument("--by", nargs="+", default=["workload", "namespace", "pod"],
                        choices=["group", "workload", "namespace", "pod"])
    parser.add_argument("--compare", action="store_true",
                        help="time the matrix command's work on the layout alone and with the added policies")
    parser.add_argument("--rounds", type=int, default=1, help="with --compare: rounds, the fastest kept")
    args = parser.parse_args()
    if args.compare:
        compare(args)
        return
    if "group" in args.by:
        parser.error("--by group is timed with --compare")
    text = timed("generate manifests", lambda: layout(args.namespaces, args.deployments, args.replicas, args.nodes)
                 + admin_policies(args.admin_policies, args.namespaces, args.deployments)
                 + cilium_policies(args.cilium_policies, args.namespaces, args.deployments))
    topology = timed("load + validate + expand", lambda: build_topology(parse_text(text, "bench.yaml")))
    compiled = timed("compile policies over Pod classes", lambda: CompiledCluster(topology))
    print(f"{'Pods / policies / Pod classes':<34} {len(topology.pods)} / {len(topology.network_policies)} / "
          f"{len(compiled.policies.classes.classes)}")
    print(f"{'admin policies':<34} {len(topology.admin_policies)}")
    print(f"{'Cilium policies':<34} {len(topology.cilium_policies)}")
    for by in args.by:
        connections = timed(f"matrix --by {by}", lambda by=by: connectivity(compiled, by))
        print(f"{'  connections':<34} {len(connections)}")
    answer = timed("one query (deployment → deployment)",
                   lambda: query(compiled, "deployment:ns1/app0", "deployment:ns1/app2", 8080))
    print(f"{'  verdict':<34} {answer.verdict} over {len(answer.paths)} paths")


if __name__ == "__main__":
    main()
