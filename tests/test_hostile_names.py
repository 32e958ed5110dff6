"""Hostile names and addresses: refused at load (exit 2, located), and never written into a lab script.

`netmodel emulate` runs as root and writes ``nft -f`` and ``ip -batch`` scripts. These tests feed it the
injection names of the security review (a rule name that closes the comment's quote and ``include``s a file,
one that adds a drop rule) and an IPv6 zone ID with a newline, and check the load refuses each before any
environment check or script; then they render every script for a topology whose names are unusual but
valid and check that none of those names appears in any of them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.emulate import scripts
from netmodel.emulate.features import KernelFeatures
from netmodel.emulate.translate import translate
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from tests.checkkit import CLUSTER, NODES

INCLUDE = 'x"\n include "/etc/shadow"\n #'
DROP = 'x" \n drop comment "'


def _q(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def _emulate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "topology.yaml"
    path.write_text(text)
    return subprocess.run([sys.executable, "-m", "netmodel", "emulate", str(path)], capture_output=True,
                          text=True, timeout=120, check=False)


FIREWALL = """
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {{name: {name}}}
spec:
  nodes: [w-1]
  ingress:
    defaultAction: allow
    rules:
    - {{name: {rule}, action: deny, protocol: TCP, ports: ["22"]}}
"""
POD = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}, labels: {{app: {label}}}}}
spec:
  nodeName: w-1
  containers: [{{name: c, ports: [{{containerPort: 80}}]}}]
status: {{podIP: {ip}}}
"""
NAMESPACE = """
apiVersion: v1
kind: Namespace
metadata: {{name: {name}}}
"""
POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: default}}
spec:
  podSelector: {{}}
  ingress: [{{from: [{{podSelector: {{}}}}]}}]
"""


def _layout(*extra: str) -> str:
    return "\n---\n".join([CLUSTER, NODES, *extra])


def _valid(**overrides: str) -> dict[str, str]:
    values = {"fw": "fw", "rule": "ssh", "pod": "a", "pod_ns": "default", "label": "a", "ns": "shop",
              "policy": "p", "ip": "10.244.1.5"}
    values.update(overrides)
    return values


def _document(v: dict[str, str]) -> str:
    return _layout(FIREWALL.format(name=v["fw"], rule=v["rule"]),
                   POD.format(name=v["pod"], namespace=v["pod_ns"], label=v["label"], ip=v["ip"]),
                   NAMESPACE.format(name=v["ns"]), POLICY.format(name=v["policy"]))


# field → (override, the words the message must hold)
HOSTILE = {
    "firewall rule name (include)": ({"rule": _q(INCLUDE)}, "is not a valid DNS-1123 label"),
    "firewall rule name (drop rule)": ({"rule": _q(DROP)}, "is not a valid DNS-1123 label"),
    "Firewall name": ({"fw": _q(INCLUDE)}, "is not a valid DNS-1123 subdomain"),
    "Pod name": ({"pod": _q(INCLUDE)}, "is not a valid DNS-1123 subdomain"),
    "Pod namespace": ({"pod_ns": _q(DROP)}, "is not a valid DNS-1123 label"),
    "Namespace name": ({"ns": _q(INCLUDE)}, "is not a valid DNS-1123 label"),
    "NetworkPolicy name": ({"policy": _q(DROP)}, "is not a valid DNS-1123 subdomain"),
    "label value": ({"label": _q(INCLUDE)}, "is not a valid label value"),
    "IPv6 zone ID": ({"ip": _q("fd00::1%eth0\n include \"/etc/shadow\"")}, "zone ID"),
}


@pytest.mark.parametrize("field", list(HOSTILE))
def test_emulate_refuses_hostile_input_at_load(tmp_path: Path, field: str) -> None:
    override, words = HOSTILE[field]
    proc = _emulate(tmp_path, _document(_valid(**override)))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, proc.stderr  # the hostile value only, nothing else in the layout is wrong
    assert re.match(rf"{re.escape(str(tmp_path / 'topology.yaml'))}:\d+:\d+: error: ", errors[0])
    assert words in errors[0]
    assert "fix:" in proc.stderr


def test_the_valid_layout_the_hostile_ones_derive_from_loads() -> None:
    topology = build_topology(parse_text(_document(_valid()), "valid.yaml"))
    assert [p.name for p in topology.pods] == ["a"]


@pytest.mark.parametrize("where", ["network", "endpoint"])
def test_zone_ids_are_refused_in_cidrs_and_etcd_endpoints(tmp_path: Path, where: str) -> None:
    cluster = CLUSTER.replace('cidrs: ["198.51.100.0/24"]', 'cidrs: ["fd00::/64%eth0"]') if where == "network" \
        else CLUSTER + '  controlPlane: {etcd: {external: true, endpoints: ["[fd00::5%eth0]:2379"]}}\n'
    proc = _emulate(tmp_path, f'{cluster}\n---\n{NODES}')
    assert proc.returncode == 2, proc.stderr
    assert "zone ID" in proc.stderr and "Traceback" not in proc.stderr


def test_zone_ids_are_refused_in_query_references() -> None:
    proc = subprocess.run([sys.executable, "-m", "netmodel", "query", "topologies/flannel-vxlan.yaml",
                           "--from", "ip:fd00::1%eth0", "--to", "node:cp-1", "--port", "22"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "zone ID" in proc.stderr and "Traceback" not in proc.stderr


# Unusual but valid names: nft and ip keywords, dots, digits first. Every one carries the marker "zq",
# which no script the lab writes contains on its own.
UNUSUAL = """
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: zq.include.drop}
spec:
  nodes: [w-1]
  ingress:
    defaultAction: allow
    rules:
    - {name: zq-accept, action: deny, protocol: TCP, ports: ["22"], from: [{network: zq-internet}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: 0zq-table, labels: {zq.io/chain: zq-jump}}
---
apiVersion: v1
kind: Pod
metadata: {name: zq.pod.flush, namespace: 0zq-table, labels: {zq-app: zq.web}}
spec:
  nodeName: w-1
  containers: [{name: zq-c, ports: [{name: zq-http, containerPort: 80}]}]
status: {podIP: 10.244.1.5}
---
apiVersion: v1
kind: Pod
metadata: {name: zq-client, namespace: default, labels: {zq-app: zq-client}}
spec:
  nodeName: w-2
  containers: [{name: zq-c}]
status: {podIP: 10.244.2.5}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: zq.policy.include, namespace: 0zq-table}
spec:
  podSelector: {matchLabels: {zq-app: zq.web}}
  ingress:
  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {zq-app: zq-client}}}]
    ports: [{port: zq-http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: zq-egress, namespace: default}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ports: [{port: zq-http}]}]
---
apiVersion: v1
kind: Service
metadata: {name: zq-svc, namespace: 0zq-table}
spec:
  clusterIP: 10.96.0.50
  selector: {zq-app: zq.web}
  ports: [{name: zq-port, port: 8080, targetPort: zq-http}]
"""


def test_lab_scripts_carry_no_input_text() -> None:
    cluster = CLUSTER.replace("name: internet", "name: zq-internet")
    topology = build_topology(parse_text(f'{cluster}\n---\n{NODES}\n---\n{UNUSUAL}', "unusual.yaml"))
    layout = translate(topology, {}, (), KernelFeatures(*[True] * 8))
    plan = layout.plan
    texts = list(scripts.nft_scripts(plan).values())
    assert any("policy 0 ingress 0" in t for t in texts), "the policy chains were built"
    assert any("firewall 0 ingress rule 0" in t for t in texts), "the firewall chain was built"
    texts += ["\n".join(lines) for lines in scripts.create_phase(plan, lambda ns: f"nm-000000-{ns}").values()]
    texts += ["\n".join(lines) for lines in scripts.configure_phase(plan).values()]
    texts += [" ".join(args) for args in scripts.sysctl_args(plan).values()]
    texts += [ns.name for ns in plan.namespaces]
    texts += [f"{listener.ns} {listener.proto} {listener.ip} {listener.port}" for listener in plan.listeners]
    leaks = [line for text in texts for line in text.splitlines() if "zq" in line]
    assert not leaks, leaks
