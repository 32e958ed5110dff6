"""Cloud firewalls: AWS security groups (`aws ec2 describe-security-groups`) and GCP VPC firewall rules
(`gcloud compute firewall-rules list --format=json`), read by netmodel/model/read_aws_sg.py and
read_gcp_firewall.py and written as Firewall YAML by `netmodel import` (docs/input.md, "Cloud firewalls").

The property tests generate random exports, judge random packets by each cloud's documented semantics on the raw
JSON (an oracle written here, independent of the readers), and require the verdicts of netmodel's firewall
engine on the Firewall YAML `netmodel import` writes to be the same.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netmodel.compile.firewalls import FirewallSet
from netmodel.model.read_aws_sg import import_aws_sg
from netmodel.model.read_gcp_firewall import import_gcp_firewall
from netmodel.report.firewall_yaml import firewall_yaml
from netmodel.sets import parse_address
from tests.checkkit import topology

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "cloud"
AWS = DATA / "aws-security-groups.json"
GCP = DATA / "gcp-firewall-rules.json"

NODE = """
apiVersion: v1
kind: Node
metadata: {name: w-1}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.21}]}
---
apiVersion: v1
kind: Node
metadata: {name: w-2}
spec: {podCIDR: 10.244.2.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.22}]}
"""


def _netmodel(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "netmodel", *argv], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False, timeout=300)


def _verdicts(yaml_text: str, packets: list[tuple[str, str, int, int]]) -> list[bool]:
    """netmodel's verdict on each (direction, far address, protocol, port) at node w-1 under the Firewall."""
    topo = topology(NODE + "---\n" + yaml_text)
    firewalls = FirewallSet(topo)
    node = next(n for n in topo.nodes if n.name == "w-1")
    return [firewalls.decide(node, direction, parse_address(ip), protocol, port).allowed
            for direction, ip, protocol, port in packets]


# -- the command ---------------------------------------------------------------------------------------------------


def test_import_aws_sg_writes_a_firewall_netmodel_reads() -> None:
    run = _netmodel("import", "aws-sg", str(AWS.relative_to(ROOT)), "--groups", "sg-0b0b0b0b0b0b0b002")
    assert run.returncode == 0, run.stderr
    assert "# - tests/data/cloud/aws-security-groups.json:146:25: security group sg-0b0b0b0b0b0b0b002 " \
           "IpPermissions[2] allows from managed prefix list pl-0f00dcafe0f00dcaf" in run.stdout
    assert "ICMP type 8 only" in run.stdout
    assert "- name: sg-0b0b0b0b0b0b0b002-in-1    # tests/data/cloud/aws-security-groups.json:126:17" in run.stdout
    verdicts = _verdicts(run.stdout, [("ingress", "10.0.3.4", 6, 31000),      # NodePorts from the VPC
                                      ("ingress", "203.0.113.9", 6, 31000),   # not from elsewhere
                                      ("ingress", "10.0.0.22", 17, 8472),     # its own group: every node here
                                      ("ingress", "10.0.3.4", 6, 9100),       # prefix list only: no address
                                      ("egress", "192.0.2.1", 6, 443)])
    assert verdicts == [True, False, True, False, True]


def test_import_gcp_firewall_writes_a_firewall_netmodel_reads() -> None:
    run = _netmodel("import", "gcp-firewall", str(GCP.relative_to(ROOT)), "--tags", "k8s-worker")
    assert run.returncode == 0, run.stderr
    assert "legacy-telnet is disabled: not enforced, left out" in run.stdout
    verdicts = _verdicts(run.stdout, [
        ("ingress", "10.130.4.4", 6, 9100),    # deny wins at equal priority 800
        ("ingress", "10.128.4.4", 6, 9100),    # the allow at 800
        ("ingress", "10.130.4.4", 6, 22),      # prod-allow-internal at 65534 (10.130/16 is inside 10.128/9)
        ("ingress", "198.51.100.7", 6, 6443),  # k8s-api-from-office targets the control plane only
        ("ingress", "203.0.113.9", 6, 23),     # legacy-telnet is disabled: the implied deny
        ("egress", "192.0.2.1", 6, 25),        # deny-smtp-out
        ("egress", "192.0.2.1", 6, 587),       # the implied egress allow
    ])
    assert verdicts == [False, True, True, False, False, False, True]


@pytest.mark.parametrize(("argv", "where", "what"), [
    (("aws-sg", "tests/data/cloud/aws-security-groups.json"), "aws-security-groups.json:2:23",
     "the export holds 2 security groups"),
    (("aws-sg", "tests/data/cloud/aws-security-groups.json", "--groups", "sg-0nothere"),
     "aws-security-groups.json:2:23", "no security group 'sg-0nothere'"),
])
def test_import_errors_are_located_and_exit_2(argv: tuple[str, ...], where: str, what: str) -> None:
    run = _netmodel("import", *argv)
    assert run.returncode == 2
    assert f"tests/data/cloud/{where}: error: " in run.stderr and what in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and not run.stdout


def test_errors_inside_an_export_point_at_the_value(tmp_path: Path) -> None:
    rules = json.loads(GCP.read_text(encoding="utf-8"))
    rules[2]["allowed"][0]["IPProtocol"] = "tcpp"
    rules[3]["sourceRanges"][1] = "35.191.0.1/16"
    bad = tmp_path / "rules.json"
    bad.write_text(json.dumps(rules, indent=4), encoding="utf-8")
    run = _netmodel("import", "gcp-firewall", str(bad), "--tags", "k8s-worker,k8s-control-plane")
    assert run.returncode == 2
    lines = bad.read_text(encoding="utf-8").splitlines()
    protocol = next(i for i, line in enumerate(lines, 1) if '"tcpp"' in line)
    cidr = next(i for i, line in enumerate(lines, 1) if "35.191.0.1/16" in line)
    assert f"{bad}:{protocol}:" in run.stderr and "unknown protocol 'tcpp'" in run.stderr, run.stderr
    assert f"{bad}:{cidr}:" in run.stderr and "invalid CIDR '35.191.0.1/16'" in run.stderr, run.stderr
    truncated = tmp_path / "cut.json"
    truncated.write_text(GCP.read_text(encoding="utf-8")[:500], encoding="utf-8")
    run = _netmodel("import", "gcp-firewall", str(truncated))
    assert run.returncode == 2 and f"{truncated}:" in run.stderr and "malformed JSON" in run.stderr


def test_an_unknown_format_is_a_usage_error() -> None:
    run = _netmodel("import", "azure-nsg", str(AWS))
    assert run.returncode == 2 and "unknown import format 'azure-nsg'" in run.stderr


# -- semantics -----------------------------------------------------------------------------------------------------


def test_aws_groups_are_a_union_of_allows_and_members() -> None:
    both = import_aws_sg(AWS.read_text(encoding="utf-8"), "sg.json", ("sg-0c0ffee0c0ffee001", "k8s-workers"))
    assert not both.problems
    assert {r.action for r in both.ingress.rules} == {"allow"} and both.ingress.default_action == "deny"
    assert set(both.members) == {"aws-sg:sg-0c0ffee0c0ffee001", "aws-sg:k8s-control-plane",
                                 "aws-sg:sg-0b0b0b0b0b0b0b002", "aws-sg:k8s-workers"}
    ssh = next(r for r in both.ingress.rules if r.name == "sg-0c0ffee0c0ffee001-in-4")
    assert ssh.peers is not None and [p.member for p in ssh.peers] == ["aws-sg:sg-0ba5710aba5710a03"]


def test_gcp_rules_follow_priority_then_deny() -> None:
    fw = import_gcp_firewall(GCP.read_text(encoding="utf-8"), "rules.json", ("k8s-worker",))
    assert [r.name for r in fw.ingress.rules][:3] == ["node-exporter-not-from-dev", "node-exporter-from-vpc",
                                                      "k8s-nodes-1"]
    assert "k8s-api-from-office" not in {r.name for r in fw.ingress.rules}
    assert fw.ingress.default_action == "deny" and fw.egress.default_action == "allow"
    disabled = "firewall rule legacy-telnet is disabled: not enforced, left out"
    assert [text for _, text in fw.notes] == [disabled] and not fw.assumptions


# -- property: the oracle on raw JSON and netmodel on the imported YAML agree ------------------------------------

CIDRS = ["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/24", "0.0.0.0/0", "203.0.113.0/24"]
ADDRESSES = ["10.0.0.22", "10.1.2.3", "10.200.0.1", "192.168.0.9", "203.0.113.50", "8.8.8.8"]
PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1}
PORTS = [22, 80, 443, 2379, 6443, 8472, 10250, 31000]


def _in(ip: str, cidrs: list[str]) -> bool:
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(c) for c in cidrs)


port_range = st.tuples(st.sampled_from(PORTS), st.integers(0, 3000)).map(lambda t: (t[0], t[0] + t[1]))
packet = st.tuples(st.sampled_from(["ingress", "egress"]), st.sampled_from(ADDRESSES),
                   st.sampled_from(sorted(PROTOCOLS)), st.sampled_from(PORTS))


@st.composite
def aws_permission(draw: Any) -> dict[str, Any]:
    protocol = draw(st.sampled_from(["tcp", "udp", "-1", "icmp", "6", "17"]))
    p: dict[str, Any] = {"IpProtocol": protocol,
                         "IpRanges": [{"CidrIp": c} for c in draw(st.lists(st.sampled_from(CIDRS), max_size=2))],
                         "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}
    if protocol in ("tcp", "udp", "6", "17"):
        low, high = draw(port_range)
        p.update(FromPort=low, ToPort=min(high, 65535))
    elif protocol == "icmp":
        p.update(FromPort=-1, ToPort=-1)
    return p


def _aws_oracle(groups: list[dict[str, Any]], direction: str, ip: str, protocol: str, port: int) -> bool:
    """Security groups (VPC user guide, "Security group rules"): allowed when any rule of any group allows."""
    key = "IpPermissions" if direction == "ingress" else "IpPermissionsEgress"
    number = PROTOCOLS[protocol]
    for g in groups:
        for p in g[key]:
            proto = {"tcp": 6, "udp": 17, "icmp": 1, "-1": None}.get(p["IpProtocol"], None)
            if p["IpProtocol"] not in ("-1",) and proto is None:
                proto = int(p["IpProtocol"])
            if proto is not None and proto != number:
                continue
            if proto in (6, 17) and not p["FromPort"] <= port <= p["ToPort"]:
                continue
            if _in(ip, [r["CidrIp"] for r in p["IpRanges"]]):
                return True
    return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({"in": st.lists(aws_permission(), max_size=4),
                                       "out": st.lists(aws_permission(), max_size=3)}), min_size=1, max_size=3),
       st.lists(packet, min_size=1, max_size=12))
def test_aws_import_agrees_with_the_security_group_semantics(groups: list[dict[str, Any]],
                                                             packets: list[tuple[str, str, str, int]]) -> None:
    export = {"SecurityGroups": [{"GroupId": f"sg-{i:017x}", "GroupName": f"g{i}", "IpPermissions": g["in"],
                                  "IpPermissionsEgress": g["out"]} for i, g in enumerate(groups)]}
    imported = import_aws_sg(json.dumps(export), "sg.json", tuple(g["GroupId"] for g in export["SecurityGroups"]))
    assert not imported.problems
    yaml_text = firewall_yaml("sg", imported, "test", "test")
    ours = _verdicts(yaml_text, [(d, ip, PROTOCOLS[p], port) for d, ip, p, port in packets])
    oracle = [_aws_oracle(export["SecurityGroups"], d, ip, p, port) for d, ip, p, port in packets]
    assert ours == oracle


@st.composite
def gcp_rule(draw: Any, index: int) -> dict[str, Any]:
    direction = draw(st.sampled_from(["INGRESS", "EGRESS"]))
    entries = []
    for protocol in draw(st.lists(st.sampled_from(["tcp", "udp", "icmp", "all"]), min_size=1, max_size=2,
                                  unique=True)):
        entry: dict[str, Any] = {"IPProtocol": protocol}
        if protocol in ("tcp", "udp") and draw(st.booleans()):
            entry["ports"] = [f"{lo}-{min(hi, 65535)}" if hi > lo else str(lo)
                              for lo, hi in draw(st.lists(port_range, min_size=1, max_size=2))]
        entries.append(entry)
    rule: dict[str, Any] = {"name": f"r{index}", "direction": direction,
                            "priority": draw(st.sampled_from([100, 1000, 1000, 65534])),
                            "allowed" if draw(st.booleans()) else "denied": entries,
                            "disabled": draw(st.sampled_from([False, False, False, True])),
                            "network": "https://www.googleapis.com/compute/v1/projects/p/global/networks/prod"}
    ranges = draw(st.lists(st.sampled_from(CIDRS), max_size=2))
    if ranges:
        rule["sourceRanges" if direction == "INGRESS" else "destinationRanges"] = ranges
    targets = draw(st.lists(st.sampled_from(["web", "db"]), max_size=1))
    if targets:
        rule["targetTags"] = targets
    return rule


def _gcp_matches(rule: dict[str, Any], direction: str, ip: str, protocol: str, port: int) -> bool:
    if rule["direction"] != direction.upper() or rule["disabled"]:
        return False
    if "web" not in rule.get("targetTags", ["web"]):
        return False
    ranges = rule.get("sourceRanges" if direction == "ingress" else "destinationRanges",
                      ["0.0.0.0/0"] if direction == "ingress" else ["0.0.0.0/0", "::/0"])
    if not _in(ip, ranges):
        return False
    for entry in rule.get("allowed", rule.get("denied")):
        if entry["IPProtocol"] not in ("all", protocol):
            continue
        spans = [tuple(int(x) for x in (p.split("-") if "-" in p else (p, p))) for p in entry.get("ports", [])]
        if not spans or any(lo <= port <= hi for lo, hi in spans):
            return True
    return False


def _gcp_oracle(rules: list[dict[str, Any]], direction: str, ip: str, protocol: str, port: int) -> bool:
    """VPC firewall rules (Cloud docs, "VPC firewall rules"): the matching enabled rule of the lowest priority
    number decides, a deny before an allow of the same priority; none: the implied rule (ingress deny, egress
    allow)."""
    matching = [r for r in rules if _gcp_matches(r, direction, ip, protocol, port)]
    if not matching:
        return direction == "egress"
    best = min(matching, key=lambda r: (r["priority"], 0 if "denied" in r else 1))
    return "allowed" in best


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 6).flatmap(lambda n: st.tuples(*[gcp_rule(i) for i in range(n)])),
       st.lists(packet, min_size=1, max_size=12))
def test_gcp_import_agrees_with_the_vpc_firewall_semantics(rules: tuple[dict[str, Any], ...],
                                                           packets: list[tuple[str, str, str, int]]) -> None:
    imported = import_gcp_firewall(json.dumps(list(rules)), "rules.json", ("web",))
    assert not imported.problems
    yaml_text = firewall_yaml("gcp", imported, "test", "test")
    ours = _verdicts(yaml_text, [(d, ip, PROTOCOLS[p], port) for d, ip, p, port in packets])
    oracle = [_gcp_oracle(list(rules), d, ip, p, port) for d, ip, p, port in packets]
    assert ours == oracle


# -- the Firewall import field: groups and tags a layout's Firewalls carry ----------------------------------------

HAND_WRITTEN = ROOT / "topologies" / "cloud-cilium-security-groups.yaml"
IMPORTED = ROOT / "topologies" / "cloud-aws-security-groups"
BROKEN = ROOT / "topologies" / "broken-cloud-aws-etcd-open-to-vpc"


def _json(*argv: str) -> tuple[int, dict[str, Any]]:
    run = _netmodel(*argv, "--format", "json")
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout)


def test_imported_security_groups_give_the_verdicts_of_the_same_rules_written_as_firewalls() -> None:
    """cloud-aws-security-groups imports, as describe-security-groups JSON, the rules
    cloud-cilium-security-groups writes as Firewall YAML: the same check verdicts and the same matrix."""
    code_a, hand = _json("check", str(HAND_WRITTEN.relative_to(ROOT)))
    code_b, imported = _json("check", str(IMPORTED.relative_to(ROOT)) + "/")
    assert code_a == code_b == 0
    assert {f["id"] for f in imported["findings"]} == {f["id"] for f in hand["findings"]}
    _, matrix_a = _json("matrix", str(HAND_WRITTEN.relative_to(ROOT)), "--by", "workload")
    _, matrix_b = _json("matrix", str(IMPORTED.relative_to(ROOT)) + "/", "--by", "workload")
    assert matrix_a["connections"] == matrix_b["connections"]


GCP_IMPORTED = ROOT / "topologies" / "cloud-gcp-firewall-rules"


def test_imported_gcp_firewall_rules_give_the_verdicts_of_the_same_rules_written_as_firewalls() -> None:
    """cloud-gcp-firewall-rules imports, as `gcloud compute firewall-rules list --format=json`, the rules
    cloud-cilium-security-groups writes as Firewall YAML (network tags for the security groups): the same
    check verdicts and the same matrix."""
    code_a, hand = _json("check", str(HAND_WRITTEN.relative_to(ROOT)))
    code_b, imported = _json("check", str(GCP_IMPORTED.relative_to(ROOT)) + "/")
    assert code_a == code_b == 0
    assert {f["id"] for f in imported["findings"]} == {f["id"] for f in hand["findings"]}
    _, matrix_a = _json("matrix", str(HAND_WRITTEN.relative_to(ROOT)), "--by", "workload")
    _, matrix_b = _json("matrix", str(GCP_IMPORTED.relative_to(ROOT)) + "/", "--by", "workload")
    assert matrix_a["connections"] == matrix_b["connections"]


def _spans(answer: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("file", "").endswith("firewall-rules.json"):
                found.append(value)
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)
    walk(answer)
    return found


def test_a_decision_by_an_imported_gcp_rule_names_its_line() -> None:
    """etcd between control-plane nodes passes by the rule that names their tag as the source, located at its
    line in the export; a worker's packet to etcd meets the implied ingress deny."""
    lines = (GCP_IMPORTED / "firewall-rules.json").read_text(encoding="utf-8").splitlines()
    named = next(i for i, line in enumerate(lines, 1) if '"name": "cloud-boutique-etcd"' in line)
    start = max(i for i in range(1, named) if lines[i - 1] == "    {")
    end = next(i for i in range(named, len(lines) + 1) if lines[i - 1].startswith("    }"))
    folder = str(GCP_IMPORTED.relative_to(ROOT)) + "/"
    _, allowed = _json("query", folder, "--from", "node:cp-b", "--to", "node:cp-a", "--port", "2379")
    assert allowed["verdict"] == "allowed"
    assert [s for s in _spans(allowed) if start <= s["line"] <= end]
    _, denied = _json("query", folder, "--from", "node:worker-a", "--to", "node:cp-a", "--port", "2379")
    assert denied["verdict"] == "denied"
    assert not [s for s in _spans(denied) if start <= s["line"] <= end]


def test_a_finding_caused_by_an_imported_rule_names_its_line_in_the_export() -> None:
    code, report = _json("check", str(BROKEN.relative_to(ROOT)) + "/")
    assert code == 1
    etcd = [f for f in report["findings"] if f["id"] == "NM-PORT-002"]
    assert {("network vpc" in f["message"]) for f in etcd} >= {True}
    lines = (BROKEN / "security-groups.json").read_text(encoding="utf-8").splitlines()
    rule_line = next(i for i, line in enumerate(lines, 1) if '"FromPort": 2379' in line) - 1
    for finding in etcd:
        assert "sg-0c0c0c0c0c0c0c0c1-in-1" in finding["message"]
        assert {"file": "topologies/broken-cloud-aws-etcd-open-to-vpc/security-groups.json", "line": rule_line,
                "column": 17} in finding["sources"], finding["sources"]


def _layout(tmp_path: Path, export: dict[str, Any] | list[Any], firewalls: str) -> Path:
    (tmp_path / "export.json").write_text(json.dumps(export, indent=4), encoding="utf-8")
    (tmp_path / "layout.yaml").write_text(NODE + "---\n" + firewalls, encoding="utf-8")
    return tmp_path


def test_a_group_no_firewall_carries_is_no_address_and_marks_the_answers(tmp_path: Path) -> None:
    export = json.loads(AWS.read_text(encoding="utf-8"))
    folder = _layout(tmp_path, export, """
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: control-plane}
spec:
  nodes: [w-1]
  import: {format: aws-sg, file: export.json, groups: [k8s-control-plane]}
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: workers}
spec:
  nodes: [w-2]
  import: {format: aws-sg, file: export.json, groups: [sg-0b0b0b0b0b0b0b002]}
""")
    _, report = _json("check", str(folder))
    assumptions = " ".join(f["message"] for f in report["findings"] if f["id"] == "NM-FW-001")
    assert "aws-sg sg-0ba5710aba5710a03, which no Firewall of the layout carries" in assumptions  # the bastion
    assert "managed prefix list pl-0f00dcafe0f00dcaf" in assumptions and "ICMP type 8 only" in assumptions
    assert "NM-INPUT-030" not in {f["id"] for f in report["findings"]}  # the export is imported: no object
    answer = _json("query", str(folder), "--from", "node:w-2", "--to", "node:w-1", "--port", "10250")[1]
    assert answer["verdict"] == "allowed"  # the control-plane group admits everything from the workers' group
    assert "not evaluated" in json.dumps(answer)
    answer = _json("query", str(folder), "--from", "node:w-1", "--to", "node:w-2", "--port", "9100")[1]
    assert answer["verdict"] == "denied"  # only the prefix list admits 9100: no address


def test_gcp_tags_resolve_to_the_nodes_of_the_firewalls_that_carry_them(tmp_path: Path) -> None:
    rules = json.loads(GCP.read_text(encoding="utf-8"))
    folder = _layout(tmp_path, rules, """
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: control-plane}
spec:
  nodes: [w-1]
  import: {format: gcp-firewall, file: export.json, tags: [k8s-control-plane]}
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: workers}
spec:
  nodes: [w-2]
  import: {format: gcp-firewall, file: export.json, tags: [k8s-worker], network: prod}
""")
    _, report = _json("check", str(folder))
    assert "NM-FW-010" in {f["id"] for f in report["findings"]}  # legacy-telnet, disabled
    assert _json("query", str(folder), "--from", "node:w-2", "--to", "node:w-1", "--port", "10250")[1][
        "verdict"] == "allowed"  # k8s-nodes: sourceTags k8s-worker -> w-2
    assert _json("query", str(folder), "--from", "node:w-1", "--to", "node:w-2", "--port", "6443")[1][
        "verdict"] == "denied"   # k8s-api-from-office targets the control plane only; 10.0.0.21 is not internal


def test_import_options_of_the_other_format_are_errors(tmp_path: Path) -> None:
    folder = _layout(tmp_path, json.loads(AWS.read_text(encoding="utf-8")), """
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: fw}
spec:
  nodes: [w-1]
  import: {format: aws-sg, file: export.json, tags: [web]}
""")
    run = _netmodel("check", str(folder))
    assert run.returncode == 2 and "import.tags: unknown field" in run.stderr, run.stderr
    assert f"{folder}/layout.yaml:" in run.stderr
