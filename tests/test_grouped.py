"""The grouped connectivity map is exact: its rules, read back through their selectors, give exactly the pairwise
answer (``connectivity(compiled, "pod")``) — on random topologies (Hypothesis), the conformance corpus, the bundled
topologies and NCA's inputs — and ``netmodel matrix`` shows it by default in every format it gives.

The expansion below reads only the JSON a user gets (``fromSelector``/``toSelector``/``allowed`` and
``loopback``) and the Pods' namespace, name, labels and containerPorts; it shares no code with the grouping.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from netmodel.analyze.connectivity import connectivity, group_name
from netmodel.analyze.grouped import grouped_json
from netmodel.analyze.reach import CompiledCluster
from netmodel.load import parse_text
from netmodel.model.build import build_topology, load_topology
from netmodel.model.topology import Topology
from netmodel.sets import ALL_PORTS, IntervalSet, protocol_label
from tests.emulate.strategies import to_yaml, topologies
from tests.test_corpus import NCA_CASES
from tests.test_matrix import LAYOUTS, MASQUERADED
from tests.test_policy_oracle import layout, manifests

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "tests" / "conformance"
Flows = dict[tuple[str, str, str, str], tuple[IntervalSet, bool]]


# -- the expansion (the oracle side) -------------------------------------------------------------------------------
def _label_ok(req: dict, labels: dict[str, str]) -> bool:
    key, op = req["key"], req["operator"]
    if op == "Exists":
        return key in labels
    if op == "In":
        return key in labels and labels[key] in req["values"]
    assert op == "NotIn", op
    return key not in labels or labels[key] not in req["values"]


def _term_matches(term: dict, unit: str, topology: Topology) -> bool:
    if unit.startswith("network:"):
        return term.get("network") == unit[len("network:"):]
    if "network" in term:
        return False
    namespace, _, name = unit.partition("/")
    pod = topology.pods[topology.pod_position[(namespace, name)]]
    ns = term.get("namespaces")
    if ns is not None:
        if "in" in ns and pod.namespace not in ns["in"]:
            return False
        if "notIn" in ns and pod.namespace in ns["notIn"]:
            return False
    if not all(_label_ok(r, dict(pod.labels)) for r in term.get("labels", ())):
        return False
    if "workloads" in term or "pods" in term:
        return group_name(pod, "workload") in term.get("workloads", ()) or unit in term.get("pods", ())
    return True


def _expand(payload: dict, topology: Topology) -> Flows:
    units = [f"{p.namespace}/{p.name}" for p in topology.pods if p.ips] + \
        [f"network:{n.name}" for n in topology.cluster.networks] + \
        [f"network:{s.network_name}" for s in topology.calico_network_sets if s.nets]  # outside networks too
    out: Flows = {}

    def add(src: str, dst: str, protocol: str, via: str, ports: IntervalSet, partial: bool) -> None:
        old, was = out.get((src, dst, protocol, via), (IntervalSet(), False))
        out[(src, dst, protocol, via)] = (old | ports, was or partial)

    for rule in payload["rules"]:
        sources = [u for u in units if any(_term_matches(t, u, topology) for t in rule["fromSelector"])]
        destinations = [u for u in units if any(_term_matches(t, u, topology) for t in rule["toSelector"])]
        assert sources and destinations, rule
        for src in sources:
            for dst in destinations:
                for a in rule["allowed"]:
                    add(src, dst, a["protocol"], a.get("via", ""), _parse_ports(a["ports"]), a["partial"])
    if payload["loopback"]:
        for pod in topology.pods:
            if not pod.ips:
                continue
            unit = f"{pod.namespace}/{pod.name}"
            if not pod.ports:
                for protocol in ("TCP", "UDP", "SCTP"):
                    add(unit, unit, protocol, "", ALL_PORTS, False)
            for p in pod.ports:
                add(unit, unit, protocol_label(p.protocol), "", IntervalSet.single(p.port), False)
    return out


def _parse_ports(text: str) -> IntervalSet:
    if text == "any":
        return ALL_PORTS
    return IntervalSet.of(*((int(a), int(b or a)) for part in text.split(",")
                            for a, _, b in [part.partition("-")]))


def _pairwise(compiled: CompiledCluster) -> Flows:
    out: Flows = {}
    for c in connectivity(compiled, "pod"):
        key = (c.source, c.destination, protocol_label(c.protocol), c.via)
        old, was = out.get(key, (IntervalSet(), False))
        out[key] = (old | c.ports, was or c.partial)
    return out


def test_the_expansion_sees_a_missing_or_widened_rule() -> None:
    """The check can fail: one rule less, or one rule's ports widened, no longer expands to the pairwise set."""
    topology = load_topology([str(ROOT / "topologies" / "plain-manifests")])
    compiled = CompiledCluster(topology)
    payload = grouped_json(compiled)
    want = _pairwise(compiled)
    assert _expand(payload, topology) == want
    assert _expand({**payload, "rules": payload["rules"][1:]}, topology) != want
    wider = [{**payload["rules"][0], "allowed": [{"protocol": "TCP", "ports": "80-81", "partial": False}]}]
    assert _expand({**payload, "rules": wider + payload["rules"][1:]}, topology) != want


def assert_exact(topology: Topology) -> dict:
    compiled = CompiledCluster(topology)
    payload = json.loads(json.dumps(grouped_json(compiled)))  # what a user reads
    want = _pairwise(compiled)
    got = _expand(payload, topology)
    missing = sorted(k for k in want if k not in got)
    extra = sorted(k for k in got if k not in want)
    differ = sorted(k for k in want if k in got and got[k] != want[k])
    assert (missing[:5], extra[:5], differ[:5]) == ([], [], []), payload["rules"]
    return payload


# -- random topologies ---------------------------------------------------------------------------------------------
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layout)
def test_grouped_map_is_exact_on_random_policy_layouts(data: dict) -> None:
    assert_exact(build_topology(parse_text(manifests(data), "random.yaml")))


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(topologies(node_side=True))
def test_grouped_map_is_exact_on_random_clusters(docs: list) -> None:
    """Nodes, firewalls (stateful and stateless), Services with NodePorts, outside networks."""
    assert_exact(build_topology(parse_text(to_yaml(docs), "random.yaml")))


# -- corpora -------------------------------------------------------------------------------------------------------
CONFORMANCE_CASES = sorted(p.name for p in CONFORMANCE.iterdir() if (p / "policy.yaml").is_file())


@pytest.mark.parametrize("case", CONFORMANCE_CASES)
def test_grouped_map_is_exact_on_the_conformance_corpus(case: str) -> None:
    assert_exact(load_topology([str(CONFORMANCE / "base.yaml"), str(CONFORMANCE / case / "policy.yaml")]))


CILIUM = ROOT / "tests" / "conformance_cilium"
CILIUM_CASES = sorted(p.name for p in CILIUM.iterdir() if (p / "policy.yaml").is_file())


@pytest.mark.parametrize("case", CILIUM_CASES)
def test_grouped_map_is_exact_on_the_cilium_corpus(case: str) -> None:
    """Cilium rules live in their own tier and in the NetworkPolicy tier: classes they tell apart stay apart."""
    assert_exact(load_topology([str(CILIUM / "base.yaml"), str(CILIUM / case / "policy.yaml")]))


@pytest.mark.parametrize("paths", list(NCA_CASES.values()), ids=list(NCA_CASES))
def test_grouped_map_is_exact_on_nca_inputs(paths: tuple[Path, ...]) -> None:
    assert_exact(load_topology([str(p) for p in paths]))


BUNDLED = sorted(p for p in (ROOT / "topologies").iterdir() if p.suffix in (".yaml", ".json") or p.is_dir())


@pytest.mark.parametrize("layout_", LAYOUTS + [MASQUERADED] + BUNDLED,
                         ids=lambda p: p.name if isinstance(p, Path) else "+".join(x.name for x in p))
def test_grouped_map_is_exact_on_the_bundled_layouts(layout_: Path | tuple[Path, ...]) -> None:
    paths = layout_ if isinstance(layout_, tuple) else (layout_,)
    assert_exact(load_topology([str(p) for p in paths]))


# -- what the rules say --------------------------------------------------------------------------------------------
def test_guestbook_reads_as_three_rules_in_its_labels() -> None:
    payload = assert_exact(load_topology([str(ROOT / "topologies" / "plain-manifests")]))
    lines = {(r["from"], r["to"], r["connections"]) for r in payload["rules"]}
    assert lines == {("all Pods", "app!=redis", "TCP 80"),
                     ("app!=redis", "app=redis", "TCP 6379"),
                     ("role=follower", "role=leader", "TCP 6379")}
    assert payload["loopback"] is True  # a follower reaches itself on 6379, which no rule gives


# -- the command ---------------------------------------------------------------------------------------------------
def _netmodel(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netmodel", *argv], capture_output=True, text=True, cwd=ROOT,
                          check=False)


def test_matrix_shows_the_grouped_map_by_default() -> None:
    done = _netmodel("matrix", "topologies/plain-manifests")
    assert done.returncode == 0, done.stderr
    assert "allowed connections, grouped (3 rules" in done.stdout
    assert "role=follower" in done.stdout and "TCP 6379" in done.stdout
    assert any("each Pod" in line and "itself" in line for line in done.stdout.splitlines())


def test_matrix_grouped_json_csv_markdown() -> None:
    as_json = json.loads(_netmodel("matrix", "topologies/plain-manifests", "-f", "json").stdout)
    assert as_json["by"] == "group" and len(as_json["rules"]) == 3
    from netmodel.report.schemas import validate

    validate(as_json, "matrix")
    rows = list(csv.DictReader(io.StringIO(_netmodel("matrix", "topologies/plain-manifests", "-f", "csv").stdout)))
    assert {(r["from"], r["to"], r["connections"]) for r in rows} >= {("role=follower", "role=leader", "TCP 6379")}
    assert rows[-1]["from"] == "each Pod" and rows[-1]["to"] == "itself"
    markdown = _netmodel("matrix", "topologies/plain-manifests", "-f", "markdown").stdout
    assert "| role=follower | role=leader | TCP 6379 |" in markdown


def test_matrix_by_pod_stays_pairwise() -> None:
    rows = list(csv.DictReader(io.StringIO(
        _netmodel("matrix", "topologies/plain-manifests", "--by", "pod", "-f", "csv").stdout)))
    assert len(rows) == 32 and rows[0].keys() >= {"from", "to", "protocol", "ports"}


def test_the_grouped_table_folds_and_points_to_csv_and_json() -> None:
    from rich.console import Console

    from netmodel.cli.matrix import render_grouped_table

    payload = grouped_json(CompiledCluster(load_topology([str(ROOT / "tests" / "corpus" / "online-boutique")])))
    buffer = io.StringIO()
    render_grouped_table(payload, Console(file=buffer, width=200, no_color=True), limit=4)
    out = buffer.getvalue()
    total = len(payload["rules"]) + 1  # and the loopback line
    assert f"… {total - 4:,} more rules not shown (the first 4 of {total:,}); --format csv or --format json " \
           "lists them all." in out
    assert sum(1 for line in out.splitlines() if "app" in line and "TCP" in line) == 4


@pytest.mark.parametrize("module", ["netmodel.analyze.grouped", "netmodel.analyze.group_terms"])
def test_docstring_examples(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import doctest
    import importlib

    monkeypatch.chdir(ROOT)  # the examples name topologies/ relative to the repository
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
