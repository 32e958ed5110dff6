"""Deterministic synthetic clusters for benchmarks: nodes, Pods (via workloads or as explicit Pods), Services,
NetworkPolicies and Firewall rules, written as multi-document YAML or as one JSON ``kind: List``.

The same arguments always give the same bytes (no randomness, no clock), so figures compare across runs.

    python benchmarks/generate.py --nodes 5000 --pods 150000 --services 10000 --policies 3000 \\
        --firewall-rules 2000 --pods-as explicit --format json --out /tmp/full.json
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import yaml

try:
    from yaml import CSafeDumper as Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as Dumper  # type: ignore[assignment]

POD_CIDR = ipaddress.ip_network("10.0.0.0/8")
NODE_NETWORK = ipaddress.ip_network("192.168.0.0/16")
CONTROL_PLANE_NODES = 3
PODS_PER_WORKLOAD = 30
NAMESPACES = 100
CP_LABEL = "node-role.kubernetes.io/control-plane"


def cluster() -> dict[str, Any]:
    return {"apiVersion": "netmodel.io/v1alpha1", "kind": "Cluster", "metadata": {"name": "bench"},
            "spec": {"podCIDRs": [str(POD_CIDR)], "serviceCIDRs": ["172.16.0.0/12"], "nodeCIDRMaskSize": 24,
                     "cni": {"plugin": "calico", "mode": "vxlan"},
                     "networks": [{"name": "internet", "cidrs": ["0.0.0.0/0"], "uses": ["ingress"]},
                                  {"name": "office", "cidrs": ["198.51.100.0/24"],
                                   "uses": ["api", "nodeports", "ingress"]}]}}


def node_name(i: int) -> str:
    return f"cp-{i}" if i < CONTROL_PLANE_NODES else f"node-{i:05d}"


def nodes(count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        control_plane = i < CONTROL_PLANE_NODES
        labels = {"kubernetes.io/hostname": node_name(i), "topology.kubernetes.io/zone": f"zone-{i % 3}"}
        spec: dict[str, Any] = {"podCIDR": str(ipaddress.ip_network((int(POD_CIDR.network_address) + i * 256, 24)))}
        if control_plane:
            labels[CP_LABEL] = ""
            spec["taints"] = [{"key": CP_LABEL, "effect": "NoSchedule"}]
        address = str(NODE_NETWORK.network_address + 10 + i)
        yield {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name(i), "labels": labels},
               "spec": spec, "status": {"addresses": [{"type": "InternalIP", "address": address}]}}


def container(app: str) -> dict[str, Any]:
    return {"name": app, "image": "registry.example/app:1.0",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                      {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]}


def app_of(w: int) -> tuple[str, str]:
    return f"ns-{w % NAMESPACES:03d}", f"app-{w:05d}"


def workloads(pods: int, node_count: int) -> Iterator[dict[str, Any]]:
    """One DaemonSet (a Pod per worker) and Deployments/StatefulSets of 30 replicas for the rest."""
    workers = node_count - CONTROL_PLANE_NODES
    yield {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "node-agent", "namespace": "kube-system"},
           "spec": {"selector": {"matchLabels": {"app": "node-agent"}},
                    "template": {"metadata": {"labels": {"app": "node-agent"}},
                                 "spec": {"hostNetwork": True, "containers": [container("node-agent")]}}}}
    remaining = max(0, pods - workers)
    w = 0
    while remaining > 0:
        replicas = min(PODS_PER_WORKLOAD, remaining)
        namespace, app = app_of(w)
        kind = "StatefulSet" if w % 10 == 0 else "Deployment"
        yield {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": app, "namespace": namespace},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                        "template": {"metadata": {"labels": {"app": app, "tier": f"tier-{w % 4}"}},
                                     "spec": {"containers": [container(app)]}}}}
        remaining -= replicas
        w += 1


def explicit_pods(pods: int, node_count: int) -> Iterator[dict[str, Any]]:
    """Pods as ``kubectl get pods -o json`` shows them: placed, addressed, owned by a ReplicaSet."""
    workers = node_count - CONTROL_PLANE_NODES
    next_host = [2] * node_count
    for p in range(pods):
        w = p // PODS_PER_WORKLOAD
        namespace, app = app_of(w)
        node = CONTROL_PLANE_NODES + p % workers
        ip = ipaddress.ip_address(int(POD_CIDR.network_address) + node * 256 + next_host[node])
        next_host[node] += 1
        yield {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"{app}-7d9f8b6c5-{p % PODS_PER_WORKLOAD:05d}", "namespace": namespace,
                            "labels": {"app": app, "tier": f"tier-{w % 4}", "pod-template-hash": "7d9f8b6c5"},
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                 "name": f"{app}-7d9f8b6c5", "controller": True}]},
               "spec": {"nodeName": node_name(node), "containers": [container(app)]},
               "status": {"phase": "Running", "podIP": str(ip), "podIPs": [{"ip": str(ip)}]}}


def services(count: int, apps: int) -> Iterator[dict[str, Any]]:
    for s in range(count):
        w = s % max(apps, 1)
        namespace, app = app_of(w)
        spec: dict[str, Any] = {"selector": {"app": app},
                                "ports": [{"name": "http", "port": 80, "targetPort": "http"},
                                          {"name": "metrics", "port": 9090, "targetPort": 9090}]}
        if s % 20 == 0:
            spec["type"] = "NodePort"
        yield {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{s:05d}", "namespace": namespace},
               "spec": spec}


def policies(count: int, apps: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        namespace, app = app_of(i % max(apps, 1))
        if i < NAMESPACES:  # one default-deny per namespace first
            yield {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                   "metadata": {"name": "default-deny", "namespace": f"ns-{i:03d}"},
                   "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
            continue
        yield {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": f"allow-{i:05d}", "namespace": namespace},
               "spec": {"podSelector": {"matchLabels": {"app": app}},
                        "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": f"tier-{i % 4}"}}},
                                              {"namespaceSelector": {"matchLabels": {
                                                  "kubernetes.io/metadata.name": f"ns-{(i + 1) % NAMESPACES:03d}"}}}],
                                     "ports": [{"port": "http"}, {"port": 9090, "protocol": "TCP"}]}]}}


def firewalls(rules: int) -> Iterator[dict[str, Any]]:
    """A control-plane and a worker firewall sharing ``rules`` allow rules between them."""
    for name, selector, share in (("control-plane", {"matchLabels": {CP_LABEL: ""}}, rules // 2),
                                  ("workers", {"matchExpressions": [{"key": CP_LABEL, "operator": "DoesNotExist"}]},
                                   rules - rules // 2)):
        body = [{"name": f"{name}-{r}", "action": "allow", "protocol": "TCP" if r % 3 else "UDP",
                 "ports": [str(20000 + r % 40000)],
                 "from": [{"cidr": str(ipaddress.ip_network((int(ipaddress.ip_address("100.64.0.0")) + r * 256, 24)))}]}
                for r in range(share)]
        body.append({"name": "cluster", "action": "allow", "from": [{"cidr": str(NODE_NETWORK)},
                                                                     {"cidr": str(POD_CIDR)}]})
        yield {"apiVersion": "netmodel.io/v1alpha1", "kind": "Firewall", "metadata": {"name": name},
               "spec": {"nodeSelector": selector, "ingress": {"defaultAction": "deny", "rules": body}}}


def topology(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    yield cluster()
    for i in range(NAMESPACES):
        yield {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{i:03d}", "labels": {"team": f"t{i % 7}"}}}
    yield from nodes(args.nodes)
    if args.pods_as == "workloads":
        yield from workloads(args.pods, args.nodes)
    else:
        yield from explicit_pods(args.pods, args.nodes)
    apps = -(-args.pods // PODS_PER_WORKLOAD)
    yield from services(args.services, apps)
    yield from policies(args.policies, apps)
    yield from firewalls(args.firewall_rules)


def write(objects: Iterator[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        # One `kind: List`, as `kubectl get -o json` writes it; one item per line keeps the text diffable.
        out.write('{"apiVersion": "v1", "kind": "List", "items": [\n')
        out.writelines((",\n" if i else "") + json.dumps(obj, separators=(",", ":")) for i, obj in enumerate(objects))
        out.write("\n]}\n")
        return
    if fmt == "yaml-list":
        # One `kind: List` document, as `kubectl get -o yaml` writes it: its items at column 0 under `items:`.
        out.write("apiVersion: v1\nitems:\n")
        out.writelines(yaml.dump([obj], Dumper=Dumper, sort_keys=False, default_flow_style=False) for obj in objects)
        out.write("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
        return
    for obj in objects:
        out.write("---\n")
        out.write(yaml.dump(obj, Dumper=Dumper, sort_keys=False, default_flow_style=False))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=50)
    p.add_argument("--pods", type=int, default=1000)
    p.add_argument("--services", type=int, default=100)
    p.add_argument("--policies", type=int, default=150)
    p.add_argument("--firewall-rules", type=int, default=50)
    p.add_argument("--pods-as", choices=("workloads", "explicit"), default="workloads",
                   help="expand Pods from Deployments/StatefulSets/a DaemonSet, or write every Pod (kubectl dump)")
    p.add_argument("--format", choices=("yaml", "yaml-list", "json"), default="yaml",
                   help="YAML documents, one YAML `kind: List` (kubectl get -o yaml), or a JSON List (-o json)")
    p.add_argument("--out", default="-", help="file to write (default: standard output)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.nodes <= CONTROL_PLANE_NODES:
        raise SystemExit(f"--nodes must exceed {CONTROL_PLANE_NODES} (the control plane)")
    if args.out == "-":
        write(topology(args), args.format, sys.stdout)
    else:
        with open(args.out, "w", encoding="utf-8") as out:
            write(topology(args), args.format, out)


if __name__ == "__main__":
    main()
