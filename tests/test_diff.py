"""`netmodel diff`: what a change does to reachability, and the exit code that gates a pull request."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.analyze.diff import diff_cells, diff_findings, diff_flows, mark_exposures
from netmodel.cli.main import main
from netmodel.report.schemas import validate
from netmodel.sets import IntervalSet, format_ports, parse_ports

ROOT = Path(__file__).resolve().parent.parent
HEALTHY = "topologies/calico-ipip-ha.yaml"
BROKEN = "topologies/broken-etcd-internet.yaml"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _diff(capsys, *args: str) -> tuple[int, str]:
    code = main(["diff", *args, "--quiet"])
    return code, capsys.readouterr().out


def test_opening_etcd_to_the_internet_fails_and_names_port_and_rule(capsys):
    code, text = _diff(capsys, HEALTHY, BROKEN)
    assert code == 1
    assert "2379" in text and "etcd-between-control-plane" in text
    code, text = _diff(capsys, HEALTHY, BROKEN, "--format", "json")
    payload = json.loads(text)
    validate(payload, "diff")
    # etcd on cp-1..3 newly open to the workers, the internet, the office and api-lb (3 x 4 cells); the Pods' cells
    # are open in both layouts (Calico masquerades Pods to their node, and control-plane nodes reach etcd).
    assert payload["summary"]["status"] == "fail" and payload["summary"]["newExposures"] == 12
    internet = [c for c in payload["portMatrix"] if c["source"] == "network:internet"]
    assert {(c["node"], c["ports"], c["before"], c["after"]) for c in internet} == {
        (n, "2379-2380", "not-required", "exposed") for n in ("cp-1", "cp-2", "cp-3")}
    rule = internet[0]["decidedBy"][0]
    assert (rule["firewall"], rule["rule"], rule["action"]) == ("control-plane", "etcd-between-control-plane", "allow")
    assert rule["source"]["file"] == BROKEN and rule["source"]["line"] > 0
    assert {f["id"] for f in payload["findings"]["introduced"]} == {"NM-PORT-002"}


def test_the_fix_passes_and_lists_findings_fixed(capsys):
    code, text = _diff(capsys, BROKEN, HEALTHY, "--format", "json")
    payload = json.loads(text)
    assert code == 0 and payload["summary"]["status"] == "pass"
    # The four NM-PORT-002 errors (workers, internet, office, api-lb); the Pods' reach is NM-PORT-008 (info) in both.
    assert len(payload["findings"]["fixed"]) == 4 and not payload["findings"]["introduced"]


def test_no_change_is_an_empty_passing_diff(capsys):
    code, text = _diff(capsys, HEALTHY, HEALTHY, "--format", "json")
    payload = json.loads(text)
    assert code == 0 and payload["portMatrix"] == [] and payload["flows"] == {"by": "workload", "opened": [],
                                                                               "closed": []}


@pytest.mark.parametrize("fmt", ["markdown", "html", "junit", "sarif", "csv", "dot", "table"])
def test_every_format_names_the_port(capsys, fmt):
    code, text = _diff(capsys, HEALTHY, BROKEN, "--format", fmt)
    assert code == 1 and "2379" in text


def _ports(text: str) -> IntervalSet:
    return parse_ports(text)


def test_flows_are_compared_as_port_sets():
    """80 → 80,443 opens 443 only; a new entry through a NodePort opens its port; 8080 → 9090 opens one, closes
    the other; the same ports in another order are no change."""
    old = {("a/x[Deployment]", "b/y[Deployment]", "TCP", ""): (_ports("80"), False),
           ("a/x[Deployment]", "b/z[Deployment]", "TCP", ""): (_ports("8080"), False),
           ("a/x[Deployment]", "b/w[Deployment]", "TCP", ""): (_ports("1-10,20"), False)}
    new = {("a/x[Deployment]", "b/y[Deployment]", "TCP", ""): (_ports("80,443"), False),
           ("a/x[Deployment]", "b/z[Deployment]", "TCP", ""): (_ports("9090"), False),
           ("a/x[Deployment]", "b/w[Deployment]", "TCP", ""): (_ports("20,1-10"), False),
           ("network:internet", "b/y[Deployment]", "TCP", "Service b/y NodePort 30080"): (_ports("443"), False)}
    changes = {(c.change, c.destination, c.via, format_ports(c.ports)) for c in diff_flows(old, new)}
    assert changes == {("opened", "b/y[Deployment]", "", "443"), ("opened", "b/z[Deployment]", "", "9090"),
                       ("closed", "b/z[Deployment]", "", "8080"),
                       ("opened", "b/y[Deployment]", "Service b/y NodePort 30080", "443")}


def test_partial_to_whole_is_an_opening_and_whole_to_partial_a_closing():
    key = ("a/x[Deployment]", "a/x[Deployment]", "TCP", "")
    (opened,) = diff_flows({key: (_ports("80"), True)}, {key: (_ports("80"), False)})
    assert (opened.change, format_ports(opened.ports), opened.partial_before) == ("opened", "80", True)
    (closed,) = diff_flows({key: (_ports("80"), False)}, {key: (_ports("80"), True)})
    assert (closed.change, format_ports(closed.ports)) == ("closed", "80")
    assert diff_flows({key: (_ports("80"), True)}, {key: (_ports("80"), True)}) == ()


def test_findings_match_across_files_and_moved_lines():
    old = [{"id": "NM-SVC-001", "severity": "warning", "objects": ["Service/a/b"],
            "message": "selector matches nothing (old.yaml:10:3)"}]
    new = [{"id": "NM-SVC-001", "severity": "warning", "objects": ["Service/a/b"],
            "message": "selector matches nothing (new.yaml:42:3)"}]
    assert diff_findings(old, new) == ((), ())


def test_a_cell_that_gets_blocked_is_a_change():
    cell = {"node": "w-1", "role": "worker", "ports": "10250", "protocol": "TCP", "purpose": "kubelet API",
            "source": "control-plane", "required": True, "allowed": True, "status": "ok"}
    (change,) = diff_cells([cell], [{**cell, "allowed": False, "status": "blocked"}])
    assert (change.before, change.after, change.new_exposure) == ("ok", "blocked", False)


# -- NetworkPolicy regressions: Online Boutique with and without its policies ---------------------------------

BOUTIQUE = "tests/corpus/online-boutique"
BOUTIQUE_OPEN = "tests/corpus/online-boutique/kubernetes-manifests.yaml"
# Read from the policies (tests/corpus/online-boutique/network-policies): deny-all, then each service admits
# its port from its callers; frontend admits everyone. Denied by the policies, allowed without them:
DENIED = [("loadgenerator", "cartservice", "7070"), ("frontend", "paymentservice", "50051"),
          ("frontend", "emailservice", "8080"), ("frontend", "redis-cart", "6379"),
          ("cartservice", "productcatalogservice", "3550"), ("loadgenerator", "recommendationservice", "8080")]
ALLOWED = [("frontend", "cartservice", "7070"), ("checkoutservice", "cartservice", "7070"),
           ("cartservice", "redis-cart", "6379"), ("loadgenerator", "frontend", "8080")]


def _run(*argv: str) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "netmodel", *argv], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def _pairs(entries) -> set[tuple[str, str, str]]:
    out = set()
    for f in entries:
        if f["from"].startswith("default/") and f["to"].startswith("default/") and f["protocol"] == "TCP":
            out.add((f["from"][8:].split("[")[0], f["to"][8:].split("[")[0], f["ports"]))
    return out


def test_deleting_online_boutiques_policies_fails_and_lists_the_opened_flows():
    code, out, err = _run("diff", BOUTIQUE, BOUTIQUE_OPEN, "--quiet", "--format", "json")
    assert code == 1, err
    payload = json.loads(out)
    validate(payload, "diff")
    assert payload["summary"]["status"] == "fail" and payload["summary"]["newExposures"] == 0
    assert not payload["findings"]["introduced"]  # only the flows fail it
    opened = _pairs(payload["flows"]["opened"])
    assert set(DENIED) <= opened
    assert not set(ALLOWED) & opened
    assert payload["summary"]["flowsOpened"] == payload["summary"]["flowsOpenedNotAccepted"] == len(
        payload["flows"]["opened"]) > len(DENIED)
    assert all(f["accepted"] is None and f["location"]["file"] == BOUTIQUE_OPEN
               for f in payload["flows"]["opened"])
    # Pairs, never Pods: one entry per (workload, workload, protocol, via).
    keys = [(f["from"], f["to"], f["protocol"], f["via"]) for f in payload["flows"]["opened"]]
    assert len(keys) == len(set(keys))


def test_the_table_names_the_opened_flows():
    code, out, _ = _run("diff", BOUTIQUE, BOUTIQUE_OPEN, "--quiet")
    assert code == 1
    assert "## Flows opened" in out
    assert "| default/loadgenerator[Deployment] | default/cartservice[Deployment] | TCP | 7070 |" in out


def test_adding_the_policies_passes_and_lists_the_closed_flows():
    code, out, err = _run("diff", BOUTIQUE_OPEN, BOUTIQUE, "--quiet", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    validate(payload, "diff")
    assert payload["flows"]["opened"] == [] and set(DENIED) <= _pairs(payload["flows"]["closed"])


def test_an_accepted_opening_passes_and_is_still_listed():
    code, out, err = _run("diff", BOUTIQUE, BOUTIQUE_OPEN, "--quiet", "--format", "json", "--allow-opened")
    assert code == 0, err
    payload = json.loads(out)
    validate(payload, "diff")
    assert payload["summary"]["status"] == "pass" and payload["summary"]["flowsOpenedNotAccepted"] == 0
    assert set(DENIED) <= _pairs(payload["flows"]["opened"])
    assert {f["accepted"]["by"] for f in payload["flows"]["opened"]} == {"flag"}


@pytest.mark.parametrize("fmt", ["markdown", "junit", "sarif", "html"])
def test_pull_request_outputs_carry_the_opened_flows(fmt):
    code, out, _ = _run("diff", BOUTIQUE, BOUTIQUE_OPEN, "--quiet", "--format", fmt)
    assert code == 1
    assert "loadgenerator" in out and "7070" in out
    if fmt == "sarif":
        run = json.loads(out)["runs"][0]
        opened = [r for r in run["results"] if r["ruleId"] == "NM-DIFF-001"]
        assert opened and all(not r.get("suppressions") for r in opened)
        assert any("loadgenerator[Deployment] → default/cartservice[Deployment] TCP 7070" in r["message"]["text"]
                   for r in opened)
        loc = opened[0]["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == BOUTIQUE_OPEN and loc["region"]["startLine"] > 0
    if fmt == "junit":
        assert '<failure message="flow opened: default/loadgenerator[Deployment] -&gt; ' \
               'default/cartservice[Deployment] TCP/7070' in out


def _one_more_caller(tmp_path: Path, service: str = "cartservice") -> Path:
    """Online Boutique whose cartservice (or emailservice) policy also admits loadgenerator: exactly one flow
    opens (cartservice 7070, emailservice 8080)."""
    new = tmp_path / "new"
    shutil.copytree(ROOT / BOUTIQUE, new)
    policy = new / "network-policies" / f"network-policy-{service}.yaml"
    text = policy.read_text()
    caller = "    - podSelector:\n        matchLabels:\n          app: checkoutservice\n"
    assert caller in text
    policy.write_text(text.replace(caller, caller + caller.replace("checkoutservice", "loadgenerator")))
    return new


EXPECT = """apiVersion: netmodel.io/v1alpha1
kind: Expectations
metadata: {{name: cart-from-loadgen}}
spec:
  flows:
  - {{from: deployment:default/loadgenerator, to: {to}, port: {port}, allowed: true}}
"""


def test_one_opened_flow_fails_without_an_expectation(tmp_path):
    new = _one_more_caller(tmp_path)
    code, out, err = _run("diff", BOUTIQUE, str(new), "--quiet", "--format", "json")
    assert code == 1, err
    payload = json.loads(out)
    assert _pairs(payload["flows"]["opened"]) == {("loadgenerator", "cartservice", "7070")}
    assert payload["flows"]["closed"] == []


@pytest.mark.parametrize(("service", "to", "port"), [
    ("cartservice", "deployment:default/cartservice", 7070),
    ("cartservice", "service:default/cartservice", 7070),
    ("emailservice", "deployment:default/emailservice", 8080),
    ("emailservice", "service:default/emailservice", 5000),  # Service port 5000 → targetPort 8080
])
def test_an_expectation_in_new_accepts_the_opening(tmp_path, service, to, port):
    new = _one_more_caller(tmp_path, service)
    (new / "expectations.yaml").write_text(EXPECT.format(to=to, port=port))
    code, out, err = _run("diff", BOUTIQUE, str(new), "--quiet", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    validate(payload, "diff")
    (flow,) = payload["flows"]["opened"]
    assert flow["accepted"]["by"] == "expectation"
    assert flow["accepted"]["source"]["file"].endswith("expectations.yaml")


@pytest.mark.parametrize(("to", "port"), [
    ("deployment:default/frontend", 8080),  # holds, but is another flow
    ("service:default/emailservice", 8080),  # the Service has no port 8080 (its 5000 goes to 8080)
])
def test_an_expectation_of_another_flow_does_not_accept_it(tmp_path, to, port):
    new = _one_more_caller(tmp_path, "emailservice")
    (new / "expectations.yaml").write_text(EXPECT.format(to=to, port=port))
    code, out, err = _run("diff", BOUTIQUE, str(new), "--quiet", "--format", "json")
    payload = json.loads(out)
    assert code == 1, err
    (flow,) = payload["flows"]["opened"]
    assert flow["accepted"] is None and (flow["to"], flow["ports"]) == ("default/emailservice[Deployment]", "8080")


def test_an_expectation_that_does_not_hold_accepts_nothing(tmp_path):
    """Expecting loadgenerator → cartservice allowed where the policy still denies it: NM-EXPECT-001 fails the
    diff, and accepts nothing."""
    new = tmp_path / "new"
    shutil.copytree(ROOT / BOUTIQUE, new)
    (new / "expectations.yaml").write_text(EXPECT.format(to="deployment:default/cartservice", port=7070))
    code, out, _ = _run("diff", BOUTIQUE, str(new), "--quiet", "--format", "json")
    payload = json.loads(out)
    assert code == 1 and {f["id"] for f in payload["findings"]["introduced"]} == {"NM-EXPECT-001"}
    assert payload["flows"]["opened"] == []


# -- outside networks through a NodePort ----------------------------------------------------------------------

GRAFANA = ("  type: NodePort\n  clusterIP: 10.96.30.20\n  selector: {app.kubernetes.io/name: grafana}\n  ports:\n"
           "  - {name: http, port: 80, targetPort: grafana, nodePort: 31000, protocol: TCP}")


def _grafana_was_cluster_ip(tmp_path: Path) -> Path:
    """calico-ipip-ha before its grafana Service became a NodePort (the office may use NodePorts)."""
    text = (ROOT / HEALTHY).read_text()
    assert GRAFANA in text
    old = tmp_path / "old.yaml"
    old.write_text(text.replace(GRAFANA, GRAFANA.replace("NodePort", "ClusterIP").replace(", nodePort: 31000", "")))
    return old


def test_a_new_nodeport_opens_the_flow_from_outside(tmp_path):
    code, out, err = _run("diff", str(_grafana_was_cluster_ip(tmp_path)), HEALTHY, "--quiet", "--format", "json")
    assert code == 1, err
    payload = json.loads(out)
    (flow,) = payload["flows"]["opened"]
    assert (flow["from"], flow["to"], flow["protocol"], flow["ports"], flow["via"]) == (
        "network:office", "monitoring/grafana[Deployment]", "TCP", "3000", "Service monitoring/grafana NodePort 31000")
    assert flow["location"]["file"] == HEALTHY and not flow["exposure"]


@pytest.mark.parametrize(("port", "accepted"), [(31000, True), (31001, False)])
def test_an_expectation_to_a_node_on_the_nodeport_accepts_it(tmp_path, port, accepted):
    new = tmp_path / "new"
    new.mkdir()
    shutil.copy(ROOT / HEALTHY, new / "layout.yaml")
    (new / "expect.yaml").write_text("apiVersion: netmodel.io/v1alpha1\nkind: Expectations\nmetadata: {name: grafana}\nspec:\n"
                     f"  flows:\n  - {{from: network:office, to: node:w-1, port: {port}, allowed: true}}\n")
    code, out, err = _run("diff", str(_grafana_was_cluster_ip(tmp_path)), str(new), "--quiet", "--format", "json")
    payload = json.loads(out)
    (flow,) = payload["flows"]["opened"]
    assert (flow["accepted"] is not None) == accepted
    if accepted:
        assert code == 0, err
        assert not payload["findings"]["introduced"]


def test_an_opening_through_an_exposed_nodeport_is_counted_once():
    cell = {"node": "w-1", "role": "worker", "ports": "30000-32767", "protocol": "TCP", "purpose": "NodePort Services",
            "source": "network:internet", "required": False, "allowed": False, "status": "ok"}
    (change,) = diff_cells([cell], [{**cell, "allowed": True, "status": "exposed"}])
    key = ("network:internet", "shop/web[Deployment]", "TCP", "Service shop/web NodePort 30080")
    other = ("network:office", "shop/web[Deployment]", "TCP", "Service shop/web NodePort 30080")
    flows = diff_flows({}, {key: (_ports("8080"), False), other: (_ports("8080"), False)})
    marked = {f.source: f.exposure for f in mark_exposures(flows, [change])}
    assert marked == {"network:internet": True, "network:office": False}
