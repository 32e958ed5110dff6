"""Synthetic NetworkPolicy benchmark inputs that both netmodel and a NetworkPolicy analyzer such as np-guard's
network-config-analyzer (NCA) read: three files in ``--out``.

- ``namespaces.yaml``: a ``v1 List`` of Namespaces ``ns-0..``, labelled ``name``/``kubernetes.io/metadata.name``,
  ``env`` (prod, staging, dev in turn) and ``team`` (team-0..team-6 in turn);
- ``workloads.yaml``: a ``v1 List`` of bare Pods (with a ``status.podIP``) and/or ``apps/v1`` Deployments, labelled
  ``app``/``tier``/``version``, each with one container declaring the named ports http 8080, grpc 9000 and
  metrics 9090 (TCP), spread over the namespaces round-robin;
- ``netpols.yaml``: one YAML document per ``networking.k8s.io/v1`` NetworkPolicy, seven kinds in turn: a
  default deny (ingress and egress) of a namespace; ingress from an app of the same namespace on one TCP port;
  ingress from a tier in namespaces with an env label, or from a team's namespaces, on 8080 and 9000; ingress
  from an ipBlock with an except on a port range (endPort); egress to a namespace on DNS (UDP and TCP 53) and to
  the db tier on 5432; egress to an ipBlock on 443; ingress on the named port http with In/NotIn/Exists
  selectors.

The same arguments always give the same files (a seeded ``random.Random``). Run both tools on the output:

    python benchmarks/gen_netpol.py --pods 5000 --policies 500 --out /tmp/p5000
    netmodel matrix /tmp/p5000/namespaces.yaml /tmp/p5000/netpols.yaml /tmp/p5000/workloads.yaml -f csv
    nca --connectivity /tmp/p5000/netpols.yaml -n /tmp/p5000/namespaces.yaml -p /tmp/p5000/workloads.yaml

NCA keeps at most two Pods per workload, so Deployments are written with ``--replicas`` (default 1) replicas.
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeDumper as Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as Dumper  # type: ignore[assignment]

ENVIRONMENTS = ("prod", "staging", "dev")
TIERS = ("web", "api", "db", "cache", "batch")
NAMED_PORTS = (("http", 8080), ("grpc", 9000), ("metrics", 9090))
Object = dict[str, Any]


class Generator:
    def __init__(self, pods: int, policies: int, namespaces: int | None, apps: int | None, kind: str,
                 replicas: int, seed: int) -> None:
        self.pods, self.policies, self.kind, self.replicas = pods, policies, kind, replicas
        self.namespaces = namespaces or max(2, pods // 50)
        self.apps = apps or max(2, pods // 10)
        self.random = random.Random(seed)

    # -- namespaces and workloads ------------------------------------------------------------------------------
    def namespace_objects(self) -> list[Object]:
        return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": f"ns-{n}", "labels": {"kubernetes.io/metadata.name": f"ns-{n}", "name": f"ns-{n}",
                                          "env": ENVIRONMENTS[n % 3], "team": f"team-{n % 7}"}}}
            for n in range(self.namespaces)]

    def workload_kinds(self) -> list[str]:
        deployments = math.ceil(self.pods / self.replicas)
        if self.kind == "pod":
            return ["Pod"] * self.pods
        if self.kind == "deployment":
            return ["Deployment"] * deployments
        bare = self.pods // 2
        return ["Pod"] * bare + ["Deployment"] * math.ceil((self.pods - bare) / self.replicas)

    @staticmethod
    def pod_spec() -> Object:
        return {"containers": [{"name": "main", "image": "example/app:1.0", "ports": [
            {"name": name, "containerPort": number, "protocol": "TCP"} for name, number in NAMED_PORTS]}]}

    def workload_objects(self) -> list[Object]:
        out: list[Object] = []
        for i, kind in enumerate(self.workload_kinds()):
            labels = {"app": f"app-{i % self.apps}", "tier": TIERS[i % len(TIERS)], "version": f"v{i % 3}"}
            namespace = f"ns-{i % self.namespaces}"
            if kind == "Pod":
                address = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
                out.append({"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": f"pod-{i}", "namespace": namespace, "labels": labels},
                            "spec": self.pod_spec(), "status": {"podIP": address}})
                continue
            selector = {"app": labels["app"], "tier": labels["tier"]}
            out.append({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": f"deploy-{i}", "namespace": namespace, "labels": labels},
                        "spec": {"replicas": self.replicas, "selector": {"matchLabels": selector},
                                 "template": {"metadata": {"labels": labels}, "spec": self.pod_spec()}}})
        return out

    # -- policies ----------------------------------------------------------------------------------------------
    def any_namespace(self) -> str:
        return f"ns-{self.random.randrange(self.namespaces)}"

    def any_app(self) -> str:
        return f"app-{self.random.randrange(self.apps)}"

    def cidrs(self) -> tuple[str, str]:
        """A /16 and a /24 inside it."""
        a, b, c = self.random.randrange(1, 223), self.random.randrange(256), self.random.randrange(256)
        return f"{a}.{b}.0.0/16", f"{a}.{b}.{c}.0/24"

    def policy(self, j: int) -> Object:
        rnd = self.random
        namespace, app, other = self.any_namespace(), self.any_app(), self.any_app()
        kind = j % 7
        name: str
        spec: Object
        if kind == 0:
            name, spec = f"default-deny-{j}", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        elif kind == 1:
            port = rnd.choice((8080, 9000, 5432, 6379))
            name, spec = f"allow-same-ns-{j}", {
                "podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": other}}}],
                             "ports": [{"protocol": "TCP", "port": port}]}]}
        elif kind == 2:
            subject, env, tier = rnd.choice(TIERS), rnd.choice(ENVIRONMENTS), rnd.choice(TIERS)
            team = f"team-{rnd.randrange(7)}"
            name, spec = f"allow-from-ns-{j}", {
                "podSelector": {"matchLabels": {"tier": subject}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"env": env}},
                                       "podSelector": {"matchLabels": {"tier": tier}}},
                                      {"namespaceSelector": {"matchLabels": {"team": team}}}],
                             "ports": [{"protocol": "TCP", "port": 8080}, {"protocol": "TCP", "port": 9000}]}]}
        elif kind == 3:
            wide, narrow = self.cidrs()
            low = rnd.choice((3000, 8000, 30000))
            name, spec = f"allow-ipblock-range-{j}", {
                "podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"ipBlock": {"cidr": wide, "except": [narrow]}}],
                             "ports": [{"protocol": "TCP", "port": low, "endPort": low + rnd.randrange(10, 500)}]}]}
        elif kind == 4:
            name, spec = f"egress-dns-db-{j}", {
                "podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"name": self.any_namespace()}}}],
                            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                           {"to": [{"podSelector": {"matchLabels": {"tier": "db"}}}],
                            "ports": [{"protocol": "TCP", "port": 5432}]}]}
        elif kind == 5:
            wide, _ = self.cidrs()
            name, spec = f"egress-ipblock-{j}", {
                "podSelector": {"matchLabels": {"tier": rnd.choice(TIERS)}}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": wide}}], "ports": [{"protocol": "TCP", "port": 443}]}]}
        else:
            name, spec = f"allow-named-port-{j}", {
                "podSelector": {"matchExpressions": [
                    {"key": "app", "operator": "In", "values": [app, other]},
                    {"key": "version", "operator": "NotIn", "values": ["v2"]}]},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{
                    "namespaceSelector": {"matchExpressions": [
                        {"key": "env", "operator": "In", "values": ["prod", "staging"]}]},
                    "podSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}}],
                    "ports": [{"protocol": "TCP", "port": "http"}]}]}
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": name, "namespace": namespace}, "spec": spec}

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)

        def dump(name: str, data: object, many: bool = False) -> None:
            with open(out / name, "w", encoding="utf-8") as f:
                (yaml.dump_all if many else yaml.dump)(data, f, Dumper=Dumper, sort_keys=False)

        dump("namespaces.yaml", {"apiVersion": "v1", "kind": "List", "items": self.namespace_objects()})
        dump("workloads.yaml", {"apiVersion": "v1", "kind": "List", "items": self.workload_objects()})
        dump("netpols.yaml", [self.policy(j) for j in range(self.policies)], many=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, required=True)
    parser.add_argument("--policies", type=int, required=True)
    parser.add_argument("--namespaces", type=int, help="default: max(2, pods // 50)")
    parser.add_argument("--apps", type=int, help="distinct app labels (default: max(2, pods // 10))")
    parser.add_argument("--kind", choices=("pod", "deployment", "mixed"), default="mixed",
                        help="mixed (default): half bare Pods, half Deployments")
    parser.add_argument("--replicas", type=int, default=1, help="replicas per Deployment (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    args = parser.parse_args()
    generator = Generator(args.pods, args.policies, args.namespaces, args.apps, args.kind, args.replicas, args.seed)
    generator.write(args.out)
    print(f"wrote {args.out}: {generator.namespaces} namespaces, {args.pods} Pods, {generator.apps} apps, "
          f"{args.policies} policies")


if __name__ == "__main__":
    main()
