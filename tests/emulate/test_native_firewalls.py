"""Imported host firewalls in the lab: the iptables-save and nftables files a Firewall imports are loaded by
``iptables-restore`` (iptables-nft), ``ipset restore`` and ``nft -j -f`` inside the node's namespace
(netmodel/emulate/native.py), and the kernel's verdicts are compared with the solver's.

Plan-level tests run anywhere; lab tests need root, `ip`, `nft`, `iptables-nft-restore` and `ipset` and skip with
the reason otherwise.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from netmodel.analyze.reach import CompiledCluster
from netmodel.emulate.errors import EmulateError
from netmodel.emulate.features import KernelFeatures
from netmodel.emulate.host import native_tool_argv
from netmodel.emulate.run import emulate, engine_solver
from netmodel.emulate.translate import translate
from netmodel.load import parse_text
from netmodel.model.build import build_topology, load_topology
from netmodel.model.topology import Topology
from tests.emulate.lab import ALL_FEATURES, LAB_UNAVAILABLE
from tests.fwimport_rulesets import Ruleset, iptables_save, nft_json, rulesets

REPO = Path(__file__).resolve().parents[2]
NATIVE = REPO / "topologies" / "kubeadm-native-firewalls"
BROKEN = REPO / "topologies" / "broken-kubeadm-native-etcd-open"


def _why_no_native_lab() -> str:
    if LAB_UNAVAILABLE:
        return LAB_UNAVAILABLE
    try:
        native_tool_argv("iptables")
        native_tool_argv("ipset")
    except EmulateError as err:
        return str(err)
    return ""


NO_NATIVE_LAB = _why_no_native_lab()
needs_native_lab = pytest.mark.skipif(bool(NO_NATIVE_LAB), reason=NO_NATIVE_LAB or "runnable")


# ---------------------------------------------------------------------------------------- the plan


def test_the_files_are_loaded_by_their_own_tools_and_not_translated() -> None:
    layout = translate(load_topology([str(NATIVE)]), {}, (), ALL_FEATURES)
    plan = layout.plan
    # cp-1 (n0) imports the nft JSON, the workers (n1-n3) the iptables-save file and its ipset
    assert {(n.ns, n.tool) for n in plan.natives} == {("n0", "nft-json")} | {
        (f"n{i}", tool) for i in (1, 2, 3) for tool in ("ipset", "iptables")}
    # no netmodel translation of them: nm_fw is not written for a node whose only Firewall is imported
    assert not [r for r in plan.rulesets if "nm_fw" in r.text]
    worker = next(n.text for n in plan.natives if n.ns == "n1" and n.tool == "iptables")
    assert "-A nm0_0 -i lo -j ACCEPT" in worker  # INPUT as a user chain, renamed
    assert "-p tcp -m set --match-set nm0s0 src -m tcp --dport 10250 -j ACCEPT" in worker
    assert "-j LOG" not in worker and "comment" not in worker and "K8S-NODE" not in worker
    assert next(n.text for n in plan.natives if n.ns == "n1" and n.tool == "ipset") == (
        "create nm0s0 hash:net family inet\nadd nm0s0 10.0.0.11/32\n")
    dispatch = next(r.text for r in plan.rulesets if r.ns == "n1" and "table ip filter" in r.text)
    assert "ip daddr { 10.0.0.21 } jump nm0_0\n    ip daddr { 10.0.0.21 } drop" in dispatch  # INPUT, its policy
    control = json.loads(next(n.text for n in plan.natives if n.ns == "n0"))["nftables"]
    assert {"add": {"table": {"family": "inet", "name": "nmi0t0"}}} in control
    assert not [item for item in control if "log" in json.dumps(item) or "comment" in json.dumps(item)]


HOSTILE_RULES = """\
create evil;x hash:ip family inet
add evil;x 10.0.0.11
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:EVIL}CHAIN - [0:0]
-A INPUT -m comment --comment "x\\"; include \\"/etc/shadow\\"" -j EVIL}CHAIN
-A INPUT -i eth7 -p tcp --dport 22 -j ACCEPT
-A EVIL}CHAIN -m set --match-set evil;x src -j LOG --log-prefix "}{; flush ruleset"
-A EVIL}CHAIN -m set --match-set evil;x src -j REJECT --reject-with tcp-reset
-A EVIL}CHAIN -m string --string "flush ruleset" --algo bm -j ACCEPT
COMMIT
"""
HOSTILE_NFT = {"nftables": [
    {"table": {"family": "inet", "name": "x;flush ruleset", "handle": 1}},
    {"set": {"family": "inet", "table": "x;flush ruleset", "name": "s\"et", "type": "ipv4_addr", "handle": 2,
             "elem": [{"elem": {"val": "10.0.0.11", "comment": "\"; include \"/etc/shadow"}}]}},
    {"chain": {"family": "inet", "table": "x;flush ruleset", "name": "in}put", "handle": 1, "type": "filter",
               "hook": "input", "prio": 0, "policy": "drop"}},
    {"chain": {"family": "inet", "table": "x;flush ruleset", "name": "u\nser", "handle": 3}},
    {"rule": {"family": "inet", "table": "x;flush ruleset", "chain": "in}put", "handle": 4, "comment": "} flush",
              "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth\"0"}},
                       {"jump": {"target": "u\nser"}}]}},
    {"rule": {"family": "inet", "table": "x;flush ruleset", "chain": "u\nser", "handle": 5,
              "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                                  "right": "@s\"et"}},
                       {"log": {"prefix": "\"; flush ruleset"}}, {"reject": None}]}}]}


def _hostile(folder: Path) -> Topology:
    (folder / "w.rules").write_text(HOSTILE_RULES)
    (folder / "cp.json").write_text(json.dumps(HOSTILE_NFT, indent=1))
    text = (NATIVE / "cluster.yaml").read_text() + """
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: cp}
spec:
  nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}
  import: {format: nftables, file: cp.json}
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: workers}
spec:
  nodeSelector: {matchLabels: {node-role.kubernetes.io/worker: ""}}
  import: {format: iptables-save, file: w.rules}
"""
    (folder / "layout.yaml").write_text(text)
    return build_topology(parse_text(text, str(folder / "layout.yaml")))


def test_no_name_comment_or_unread_match_of_the_file_reaches_a_loader() -> None:
    """Names, comments, log prefixes and matches netmodel does not read never reach iptables-restore, ipset or
    nft: every chain, set and table gets the lab's own name; a rule netmodel reads as never matching (`-m
    string`) is left out; an interface it reads as true (`-i eth7`, `iifname "eth\\"0"`) is dropped."""
    with tempfile.TemporaryDirectory() as tmp:
        layout = translate(_hostile(Path(tmp)), {}, (), ALL_FEATURES)
    loaded = [n.text for n in layout.plan.natives] + [r.text for r in layout.plan.rulesets]
    for text in loaded:
        for word in ("evil", "EVIL", "shadow", "flush", "string", "eth7", "eth\\\"0", "in}put", "s\\\"et",
                     "u\\nser", "LOG", "REJECT", "reject"):
            assert word not in text, (word, text)
    worker = next(n.text for n in layout.plan.natives if n.tool == "iptables" and n.ns == "n1")
    assert "-A nm0_0 -p tcp --dport 22 -j ACCEPT" in worker
    assert "-A nm0_3 -m set --match-set nm0s0 src -j DROP" in worker
    control = next(n.text for n in layout.plan.natives if n.tool == "nft-json")
    assert '{"jump": {"target": "c1"}}' in control and '"right": "@s0"' in control


# ----------------------------------------------------------------------------------------- the lab


@needs_native_lab
@pytest.mark.parametrize("folder", [NATIVE, BROKEN])
def test_imported_files_agree_with_the_solver_on_every_flow(folder: Path, clean_host: object,
                                                            features: KernelFeatures) -> None:
    report = emulate(load_topology([str(folder)]), "all", features)
    assert len(report.outcomes) > 2000
    assert [o.flow for o in report.disagreements] == []
    kernel = {(o.flow.source, o.flow.destination, o.flow.port): o.kernel for o in report.outcomes}
    # the defect: the control plane's nft ruleset opens etcd to the node subnet, Pods masqueraded into it
    assert kernel[("node:w-1", "ip:10.0.0.11", 2379)] == ("allowed" if folder is BROKEN else "denied")
    assert kernel[("ip:198.51.100.1", "ip:10.0.0.11", 2379)] == "denied"


@needs_native_lab
def test_the_loaded_files_decide_in_the_kernel(clean_host: object, features: KernelFeatures) -> None:
    """Against a solver that knows no firewall, the lab disagrees: what it loaded drops packets."""
    topology = load_topology([str(NATIVE)])
    open_layout = build_topology(parse_text((NATIVE / "cluster.yaml").read_text(), str(NATIVE / "cluster.yaml")))
    report = emulate(topology, "sample:150", features, solver=engine_solver(CompiledCluster(open_layout)))
    wrong = report.disagreements
    assert wrong and all(o.solver == "allowed" and o.kernel in ("denied", "partial") for o in wrong)


# -- random rulesets -------------------------------------------------------------------------------------------

RANDOM_LAYOUT = """\
apiVersion: netmodel.io/v1alpha1
kind: Cluster
metadata: {name: random-import}
spec:
  podCIDRs: ["10.244.0.0/16"]
  serviceCIDRs: ["10.96.0.0/12"]
  cni: {plugin: calico, mode: bgp, natOutgoing: false}
  networks:
  - {name: outside, cidrs: ["203.0.113.0/24", "192.168.0.0/16"], uses: [nodeports]}
---
apiVersion: v1
kind: Node
metadata: {name: w-1, labels: {imported: "yes"}}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.21}]}
---
apiVersion: v1
kind: Node
metadata: {name: w-2}
spec: {podCIDR: 10.244.2.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.22}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: default, labels: {app: a}}
spec:
  nodeName: w-1
  containers:
  - {name: c, image: x, ports: [{containerPort: 80}, {containerPort: 443}, {containerPort: 80, protocol: UDP}]}
status: {podIP: 10.244.1.5, podIPs: [{ip: 10.244.1.5}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: default, labels: {app: b}}
spec:
  nodeName: w-2
  containers:
  - {name: c, image: x, ports: [{containerPort: 80}, {containerPort: 22}]}
status: {podIP: 10.244.2.7, podIPs: [{ip: 10.244.2.7}]}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec:
  type: NodePort
  selector: {app: a}
  ports: [{port: 80, targetPort: 80, nodePort: 30080}]
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: imported}
spec:
  nodeSelector: {matchLabels: {imported: "yes"}}
  import: {format: %s, file: %s}
"""


def _random_layout(folder: Path, fmt: str, rs: Ruleset) -> Topology:
    name, text = ("rules.json", nft_json(rs)) if fmt == "nftables" else ("rules.txt", iptables_save(rs)[0])
    (folder / name).write_text(text)
    layout = RANDOM_LAYOUT % (fmt, name)
    (folder / "layout.yaml").write_text(layout)
    return build_topology(parse_text(layout, str(folder / "layout.yaml")))


@needs_native_lab
@pytest.mark.parametrize("fmt", ["iptables-save", "nftables"])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(rs=rulesets(max_rules=5))
def test_random_imported_rulesets_agree_with_the_solver(fmt: str, rs: Ruleset, clean_host: object,
                                                        features: KernelFeatures) -> None:
    """The property test's random rule lists (tests/fwimport_rulesets.py: jumps, gotos, RETURN, negation,
    conntrack states, -i lo, REJECT, LOG) loaded into a lab on w-1, natively routed Pods on both nodes, a
    NodePort and an outside network: the kernel agrees with the solver on every flow."""
    with tempfile.TemporaryDirectory() as tmp:
        topology = _random_layout(Path(tmp), fmt, rs)
    report = emulate(topology, "all", features)
    assert len(report.outcomes) > 20
    assert [(o.flow.key, o.solver, o.kernel) for o in report.disagreements] == [], iptables_save(rs)[0]


def test_the_lab_needs_the_nft_variant_of_iptables(monkeypatch: pytest.MonkeyPatch) -> None:
    """With only iptables-legacy (or none), a lab importing an iptables file is refused before it is built."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(EmulateError, match="iptables-nft"):
        native_tool_argv("iptables")
    with pytest.raises(EmulateError, match="ipset"):
        native_tool_argv("ipset")


def test_a_ruleset_the_lab_cannot_load_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    """netmodel reads a named set whose `type` is missing (it needs only the elements); the lab, which must
    declare the set to nft, stops with the file named."""
    ruleset = {"nftables": [
        {"table": {"family": "inet", "name": "filter", "handle": 1}},
        {"set": {"family": "inet", "table": "filter", "name": "cp", "handle": 2, "elem": ["10.0.0.11"]}},
        {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter",
                   "hook": "input", "prio": 0, "policy": "drop"}},
        {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 3,
                  "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                                      "right": "@cp"}}, {"accept": None}]}}]}
    (tmp_path / "cp.json").write_text(json.dumps(ruleset, indent=1))
    text = (NATIVE / "cluster.yaml").read_text() + """
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: cp}
spec:
  nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}
  import: {format: nftables, file: cp.json}
"""
    (tmp_path / "layout.yaml").write_text(text)
    topology = build_topology(parse_text(text, str(tmp_path / "layout.yaml")))
    with pytest.raises(EmulateError, match="cp.json: the lab cannot load this ruleset"):
        translate(topology, {}, (), ALL_FEATURES)
