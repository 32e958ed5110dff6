"""Real inputs as they come (issue 9): which objects netmodel reads, how, and what it says about the rest.

Each test runs the CLI the way a user does, on small layouts under tests/kinds/.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from netmodel.cli.main import main

KINDS = Path(__file__).parent / "kinds"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def findings(capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, list[dict]]:
    code, out, err = run(capsys, "check", *paths, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)["findings"]


def at(path: Path, marker: str) -> tuple[int, int]:
    """(line, column) of the last occurrence of ``marker`` in the file (1-based; headers may quote it)."""
    text = path.read_text(encoding="utf-8")
    offset = text.rindex(marker)
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


# -- ipBlock CIDRs with host bits set ------------------------------------------------------------------------------

def test_ipblock_host_bits_are_accepted_with_a_warning_at_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    layout = KINDS / "host-bits.yaml"
    code, found = findings(capsys, str(layout))
    assert code == 0
    warned = sorted((f["sources"][0]["line"], f["sources"][0]["column"], f["severity"], f["objects"][0])
                    for f in found if f["id"] == "NM-INPUT-009")
    assert warned == [(*at(layout, "192.168.1.1/24"), "warning", "NetworkPolicy/shop/from-office"),
                      (*at(layout, "192.168.1.7/30"), "warning", "NetworkPolicy/shop/from-office")]
    messages = " ".join(f["message"] for f in found if f["id"] == "NM-INPUT-009")
    assert "192.168.1.0/24" in messages and "192.168.1.4/30" in messages


@pytest.mark.parametrize(("source", "allowed"), [("192.168.1.20", True),   # inside the network
                                                 ("192.168.1.5", False),   # inside the except's network
                                                 ("192.168.2.5", False)])  # outside
def test_ipblock_host_bits_use_the_network(capsys: pytest.CaptureFixture[str], source: str, allowed: bool) -> None:
    code, out, err = run(capsys, "query", str(KINDS / "host-bits.yaml"), "--from", f"ip:{source}",
                         "--to", "shop/web", "--port", "8080", "--format", "json")
    assert json.loads(out)["allowed"] is allowed, err
    assert code == (0 if allowed else 1)


def test_a_cidr_that_is_not_one_still_fails_the_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((KINDS / "host-bits.yaml").read_text(encoding="utf-8").replace("192.168.1.7/30", "192.168.1.7/33"),
                   encoding="utf-8")
    code, _, err = run(capsys, "check", str(bad))
    assert code == 2 and "192.168.1.7/33" in err and "invalid CIDR" in err


def test_host_bits_stay_an_error_where_kubernetes_rejects_them(capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    # Node podCIDRs are validated strictly (the node IPAM controller writes canonical ranges).
    bad = tmp_path / "node.yaml"
    bad.write_text("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: {podCIDR: 10.244.1.1/24}\n",
                   encoding="utf-8")
    code, _, err = run(capsys, "check", str(bad))
    assert code == 2 and "host bits" in err


# -- raw API lists ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "allowed"), [("web/client", True), ("shop/other", False)])
def test_raw_api_list_items_take_kind_and_api_version_from_the_list(capsys: pytest.CaptureFixture[str],
                                                                    source: str, allowed: bool) -> None:
    # NamespaceList (labels), PodList, NetworkPolicyList items carry neither kind nor apiVersion, as the API
    # returns them; the ServiceList item carries its own.
    code, out, err = run(capsys, "query", str(KINDS / "raw-lists.json"), "--from", source,
                         "--to", "service:shop/api", "--port", "80", "--format", "json")
    answer = json.loads(out)
    assert (answer["allowed"], answer["disposition"]) == \
        (allowed, "delivered" if allowed else "denied-by-policy"), err
    assert code == (0 if allowed else 1)


def test_typed_list_items_keep_their_own_kind(tmp_path: Path) -> None:
    from netmodel.load import read_documents

    dump = tmp_path / "d.yaml"
    dump.write_text("apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n"
                    "- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n"
                    "- {kind: Pod, metadata: {name: c}}\n"
                    "- {apiVersion: example.com/v1, kind: Thing, metadata: {name: d}}\n"
                    "- {kind: Thing, metadata: {name: e}}\n", encoding="utf-8")
    docs = read_documents([str(dump)])
    assert [(d.data.get("apiVersion"), d.data.get("kind")) for d in docs] == [
        ("v1", "Pod"), ("v1", "Pod"), ("v1", "Pod"), ("example.com/v1", "Thing"), (None, "Thing")]
    assert docs[0].span(("metadata", "name")).line == 4


def test_items_of_a_plain_list_must_name_their_kind(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dump = tmp_path / "d.yaml"
    dump.write_text("apiVersion: v1\nkind: List\nitems:\n- metadata: {name: a}\n", encoding="utf-8")
    code, _, err = run(capsys, "check", str(dump))
    assert code == 2 and f"{dump}:4:3" in err and "no `kind`" in err


# -- kind and apiVersion together; every kind accounted for ---------------------------------------------------------

def test_kinds_are_recognized_by_group_and_kind(capsys: pytest.CaptureFixture[str]) -> None:
    layout = KINDS / "mixed-kinds.yaml"
    code, found = findings(capsys, str(layout))
    assert code == 0  # Calico policies without podSelector no longer abort the run
    by_id: dict[str, list[dict]] = {}
    for f in found:
        by_id.setdefault(f["id"], []).append(f)
    # Kinds with no network meaning: ONE info line, counts per kind, every object located.
    [summary] = by_id["NM-INPUT-001"]
    assert summary["severity"] == "info"
    assert summary["message"].endswith("ClusterRole ×1, ConfigMap ×2, PodDisruptionBudget ×1, Secret ×1")
    assert [s["line"] for s in summary["sources"]] == [  # the first object of each kind, in kind order
        at(layout, "kind: ClusterRole")[0] - 1, 2, at(layout, "kind: PodDisruptionBudget")[0] - 1,
        at(layout, "kind: Secret")[0] - 1]
    # Custom resources that make Pods are named as such (the Knative Service: a kind name netmodel reads, in
    # another group).
    creators = {f["objects"][0]: f for f in by_id["NM-INPUT-016"]}
    assert set(creators) == {"Prometheus/monitoring/k8s", "Service/shop/hello"}
    prometheus = creators["Prometheus/monitoring/k8s"]
    assert prometheus["severity"] == "warning" and "its Pods are not in the layout" in prometheus["message"]
    assert "Prometheus Operator" in prometheus["message"] and "Knative" in creators["Service/shop/hello"]["message"]
    assert prometheus["sources"][0]["line"] == at(layout, "kind: Prometheus")[0] - 1
    # Not evaluated: the unknown Widget, located. Both Calico NetworkPolicy groups are read and evaluated
    # (tests/test_calico_policy.py), so neither is listed.
    warned = {f["objects"][0]: f for f in by_id["NM-INPUT-015"]}
    assert set(warned) == {"Widget/shop/gadget"}
    assert all(f["severity"] == "warning" for f in warned.values())
    assert "does not know this kind" in warned["Widget/shop/gadget"]["message"]


def test_knative_service_is_not_read_as_a_service(capsys: pytest.CaptureFixture[str]) -> None:
    from netmodel.model.build import load_topology

    topology = load_topology([str(KINDS / "mixed-kinds.yaml")])
    assert [(s.namespace, s.name) for s in topology.services if s.name == "hello"] == []
    assert [s.category for s in topology.skipped if s.name == "hello"] == ["creates-pods"]
    assert [p.name for p in topology.network_policies] == []
    assert [(p.api_version, p.name) for p in topology.calico_policies] == [
        ("projectcalico.org/v3", "allow-tcp-6379"), ("crd.projectcalico.org/v1", "default.allow-dns")]


def test_every_object_is_read_summed_or_warned(capsys: pytest.CaptureFixture[str]) -> None:
    """No silently skipped input: each skipped object is in the summary line or has a warning of its own."""
    from netmodel.model.build import load_topology

    topology = load_topology([str(KINDS / "mixed-kinds.yaml")])
    summed = {kind for n in topology.notes if n.id == "NM-INPUT-001" for kind in n.objects}
    warned = {n.objects[0] for n in topology.notes if n.id in ("NM-INPUT-015", "NM-INPUT-016")}
    for s in topology.skipped:
        assert (s.kind in summed and s.category == "no-network-meaning") != (s.ref in warned), s


def test_legacy_groups_of_read_kinds_are_still_read(tmp_path: Path) -> None:
    from netmodel.model.build import load_topology

    layout = tmp_path / "old.yaml"
    layout.write_text("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
                      "spec: {podSelector: {}}\n", encoding="utf-8")
    assert [p.name for p in load_topology([str(layout)]).network_policies] == ["np"]


def test_endpoints_are_summed_when_their_service_is_known_else_warned(tmp_path: Path) -> None:
    from netmodel.model.build import load_topology

    layout = tmp_path / "ep.yaml"
    layout.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, "
                      "ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n---\n"
                      "apiVersion: v1\nkind: Endpoints\nmetadata: {name: external}\n", encoding="utf-8")
    topology = load_topology([str(layout)])
    assert [(s.name, s.category) for s in topology.skipped] == [("web", "no-network-meaning"),
                                                                ("external", "not-evaluated")]
    [warning] = [n for n in topology.notes if n.id == "NM-INPUT-015"]
    assert "EndpointSlices" in warning.message and warning.objects == ("Endpoints/default/external",)


# -- answers that objects netmodel does not evaluate could change ---------------------------------------------------

ANTREA = str(KINDS / "antrea-deny.yaml")
NOT_EVALUATED = "not evaluated: NetworkPolicy (crd.antrea.io), answers may differ"


def test_query_says_an_antrea_policy_is_not_evaluated(capsys: pytest.CaptureFixture[str]) -> None:
    from netmodel.report.schemas import validate

    # The Antrea NetworkPolicy drops this flow; netmodel cannot know it, and says so instead of a bare ALLOWED.
    code, out, _ = run(capsys, "query", ANTREA, "--from", "web/client", "--to", "shop/api", "--port", "8080")
    assert code == 0 and "ALLOWED" in out
    assert NOT_EVALUATED in out
    code, out, _ = run(capsys, "query", ANTREA, "--from", "web/client", "--to", "shop/api", "--port", "8080",
                       "--format", "json")
    answer = json.loads(out)
    validate(answer, "query")
    assert answer["notEvaluated"]["message"] == NOT_EVALUATED
    assert answer["notEvaluated"]["objects"] == ["NetworkPolicy/shop/deny-web"]
    assert answer["notEvaluated"]["sources"][0]["line"] == at(KINDS / "antrea-deny.yaml", "apiVersion: crd.antrea.io")[0]


def test_query_between_other_namespaces_is_not_marked(capsys: pytest.CaptureFixture[str]) -> None:
    # A namespaced Antrea policy applies to Pods of its own namespace only: web → data cannot change.
    code, out, _ = run(capsys, "query", ANTREA, "--from", "web/client", "--to", "data/cache", "--port", "6379",
                       "--format", "json")
    assert code == 0 and "notEvaluated" not in json.loads(out)
    code, out, _ = run(capsys, "query", ANTREA, "--from", "web/client", "--to", "data/cache", "--port", "6379")
    assert "not evaluated" not in out


def test_clusterwide_policies_mark_every_answer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    layout = tmp_path / "acnp.yaml"
    layout.write_text((KINDS / "antrea-deny.yaml").read_text(encoding="utf-8").replace(
        "kind: NetworkPolicy\nmetadata: {name: deny-web, namespace: shop}",
        "kind: ClusterNetworkPolicy\nmetadata: {name: deny-web}"), encoding="utf-8")
    code, out, _ = run(capsys, "query", str(layout), "--from", "web/client", "--to", "data/cache", "--port", "6379",
                       "--format", "json")
    assert code == 0 and json.loads(out)["notEvaluated"]["kinds"] == ["ClusterNetworkPolicy (crd.antrea.io)"]


@pytest.mark.parametrize(("api_version", "kind", "scope"), [
    ("security.antrea.tanzu.vmware.com/v1alpha1", "NetworkPolicy", "namespace"),  # Antrea before v1.0
    ("security.antrea.tanzu.vmware.com/v1alpha1", "ClusterNetworkPolicy", "cluster"),
    ("k8s.ovn.org/v1", "EgressFirewall", "namespace"),
    ("network.openshift.io/v1", "EgressNetworkPolicy", "namespace"),
    ("vpcresources.k8s.aws/v1beta1", "SecurityGroupPolicy", "namespace"),
    ("cilium.io/v2", "CiliumEnvoyConfig", "cluster"),
    ("cilium.io/v2", "CiliumLocalRedirectPolicy", "cluster"),
    ("cilium.io/v2", "CiliumEgressGatewayPolicy", "cluster"),
])
def test_other_cnis_filtering_kinds_mark_the_answers_they_could_change(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, api_version: str, kind: str, scope: str) -> None:
    """Kinds by which other CNIs (and Cilium besides its policies) filter or redirect Pod traffic were warned
    about as unknown kinds but marked no answer: a flow they drop was a bare ALLOWED."""
    layout = tmp_path / "other.yaml"
    layout.write_text((KINDS / "antrea-deny.yaml").read_text(encoding="utf-8").replace(
        "apiVersion: crd.antrea.io/v1beta1\nkind: NetworkPolicy", f"apiVersion: {api_version}\nkind: {kind}"),
        encoding="utf-8")
    group = api_version.rpartition("/")[0]
    code, out, _ = run(capsys, "query", str(layout), "--from", "web/client", "--to", "shop/api", "--port", "8080",
                       "--format", "json")
    assert code == 0 and json.loads(out)["notEvaluated"]["kinds"] == [f"{kind} ({group})"]
    code, out, _ = run(capsys, "query", str(layout), "--from", "web/client", "--to", "data/cache", "--port", "6379",
                       "--format", "json")
    assert bool(json.loads(out).get("notEvaluated")) is (scope == "cluster")


def test_matrix_marks_the_rows_it_could_change(capsys: pytest.CaptureFixture[str]) -> None:
    from netmodel.report.schemas import validate

    code, out, _ = run(capsys, "matrix", ANTREA, "--by", "pod", "--format", "json")
    payload = json.loads(out)
    validate(payload, "matrix")
    marked = {(c["from"], c["to"]) for c in payload["connections"] if c.get("notEvaluated")}
    rows = {(c["from"], c["to"]) for c in payload["connections"]}
    assert marked == {r for r in rows if "shop/api" in r}
    assert payload["notEvaluated"]["message"] == NOT_EVALUATED
    code, out, _ = run(capsys, "matrix", ANTREA, "--by", "namespace")
    assert code == 0 and NOT_EVALUATED in out and "may differ: NetworkPolicy (crd.antrea.io)" in out
    code, out, _ = run(capsys, "matrix", ANTREA, "--by", "pod", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {(r["from"], r["to"]) for r in rows if r["notEvaluated"]} == marked


def test_expectations_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    from netmodel.report.schemas import validate

    code, out, _ = run(capsys, "check", ANTREA, "--expect", str(KINDS / "antrea-expect.yaml"), "--format", "json")
    payload = json.loads(out)
    validate(payload, "check")
    results = {(e["to"], bool(e.get("notEvaluated"))) for e in payload["expectations"]}
    assert results == {("shop/api", True), ("data/cache", False)}
    [failed] = [f for f in payload["findings"] if f["id"] == "NM-EXPECT-001"]
    assert failed["message"].endswith(NOT_EVALUATED)
    code, out, _ = run(capsys, "check", ANTREA, "--expect", str(KINDS / "antrea-expect.yaml"))
    out = " ".join(out.split())  # the table wraps long lines
    assert code == 1 and "expectation web/client → shop/api TCP 8080" in out and NOT_EVALUATED in out


def test_the_report_bundle_matrix_carries_the_same_marks() -> None:
    from netmodel.model.build import load_topology
    from netmodel.report.bundle import matrix_payload

    payload = matrix_payload(load_topology([ANTREA]), "pod")
    assert payload["notEvaluated"]["message"] == NOT_EVALUATED
    assert {(c["from"], c["to"]) for c in payload["connections"] if c.get("notEvaluated")} == \
        {(c["from"], c["to"]) for c in payload["connections"] if "shop/api" in (c["from"], c["to"])}


def test_warnings_caused_by_unseen_operator_pods_name_the_custom_resource(
        capsys: pytest.CaptureFixture[str]) -> None:
    _, found = findings(capsys, str(KINDS / "prometheus.yaml"))
    hint = "namespace monitoring has Prometheus monitoring/k8s, whose Pods are not in the layout"
    assert {f["id"] for f in found if hint in f["message"]} == {"NM-SVC-001", "NM-POL-001"}
    assert [f["objects"] for f in found if f["id"] == "NM-INPUT-016"] == [["Prometheus/monitoring/k8s"]]


def test_owner_references_are_recognized_by_group_and_kind(tmp_path: Path) -> None:
    from netmodel.model.build import load_topology

    layout = tmp_path / "owners.yaml"
    owner = "{apiVersion: %s, kind: StatefulSet, name: web, uid: u, controller: true}"
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: shop, labels: {app: web}, "
           "ownerReferences: [%s]}\nspec: {containers: [{name: c}]}\n")
    layout.write_text(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 1\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: c}]}\n---\n"
        + pod % ("web-0", owner % "apps/v1") + "---\n" + pod % ("kruise-web-0", owner % "apps.kruise.io/v1beta1"),
        encoding="utf-8")
    owners = {p.name: p.owner for p in load_topology([str(layout)]).pods}
    assert owners["web-0"] is not None and owners["web-0"].kind == "StatefulSet"
    assert owners["kruise-web-0"] is None


def test_a_known_kind_name_in_an_unknown_group_is_an_unknown_kind(tmp_path: Path) -> None:
    from netmodel.model.build import load_topology

    layout = tmp_path / "other.yaml"
    layout.write_text("apiVersion: example.com/v1\nkind: Pod\nmetadata: {name: p}\nspec: {whatever: 1}\n---\n"
                      "apiVersion: example.com/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec: {rules: []}\n",
                      encoding="utf-8")
    topology = load_topology([str(layout)])
    assert topology.pods == () and topology.network_policies == ()
    assert [(n.objects, "does not know this kind" in n.message) for n in topology.notes if n.id == "NM-INPUT-015"] \
        == [(("Pod/p",), True), (("NetworkPolicy/np",), True)]


def test_the_antrea_case_through_the_installed_entry_point() -> None:
    """`python -m netmodel query` in a subprocess, as a user runs it: ALLOWED, and it says what it did not read."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
    done = subprocess.run([sys.executable, "-m", "netmodel", "query", ANTREA, "--from", "web/client",
                           "--to", "shop/api", "--port", "8080"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "ALLOWED" in done.stdout and NOT_EVALUATED in " ".join(done.stdout.split())
