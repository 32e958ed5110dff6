"""Suppressions by annotation and by baseline: what is silenced, why, and what is an input error."""

from __future__ import annotations

import json

import pytest

from netmodel.analyze.findings import Finding, Severity
from netmodel.analyze.suppress import (
    annotation_suppressions,
    apply_suppressions,
    fingerprint,
    read_baseline,
    write_baseline,
)
from netmodel.errors import SourceSpan, UsageError, ValidationError
from netmodel.model.build import load_topology

LAYOUT = """\
apiVersion: v1
kind: Node
metadata:
  name: cp-1
  labels: {node-role.kubernetes.io/control-plane: ""}
  annotations:
    netmodel.io/skip: |
      NM-PORT-002=etcd is fronted by the office VPN
      NM-PORT-003=lab cluster
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations: {netmodel.io/skip-1: "NM-SVC-002=port named by the sidecar"}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x}]}
"""


def _finding(fid: str, *objects: str, message: str = "m") -> Finding:
    return Finding(fid, Severity.ERROR, "ports", message, objects, (SourceSpan("f.yaml", 3, 1),))


def _topology(tmp_path, text=LAYOUT):
    path = tmp_path / "layout.yaml"
    path.write_text(text)
    return load_topology([str(path)])


def test_annotation_suppresses_only_its_id_on_its_object(tmp_path):
    by_object = annotation_suppressions(_topology(tmp_path))
    findings = [_finding("NM-PORT-002", "Node/cp-1", "Firewall/cp"), _finding("NM-PORT-002", "Node/w-1"),
                _finding("NM-PORT-001", "Node/cp-1")]
    kept, silenced = apply_suppressions(findings, by_object)
    assert kept == findings[1:]
    assert [(s.finding.id, s.suppression.by, s.suppression.object, s.suppression.reason) for s in silenced] == [
        ("NM-PORT-002", "annotation", "Node/cp-1", "etcd is fronted by the office VPN")]
    assert silenced[0].to_json()["suppression"]["source"]["line"] == 1


def test_workload_annotation_covers_its_pods(tmp_path):
    topology = _topology(tmp_path)
    pods = [str(p.ref) for p in topology.pods if p.namespace == "shop"]
    assert len(pods) == 2
    kept, silenced = apply_suppressions([_finding("NM-SVC-002", pods[1])], annotation_suppressions(topology))
    assert kept == [] and silenced[0].suppression.object == "Deployment/shop/web"


@pytest.mark.parametrize("value, expected", [
    ("NM-PORT-002", "has no reason"),
    ("NM-PORT-002=   ", "has no reason"),
    ("PORT-2=why", "is not a finding ID"),
])
def test_a_skip_without_reason_or_with_a_bad_id_is_a_located_error(tmp_path, value, expected):
    text = LAYOUT.replace('"NM-SVC-002=port named by the sidecar"', json.dumps(value))
    with pytest.raises(ValidationError) as err:
        annotation_suppressions(_topology(tmp_path, text))
    problem = err.value.problems[0]
    assert expected in problem.message and problem.span.line == 11 and problem.hint


def test_baseline_round_trip_ignores_known_and_keeps_new(tmp_path):
    known = [_finding("NM-PORT-002", "Node/cp-1", message="etcd open (layout.yaml:171:9)")]
    path = tmp_path / "baseline.json"
    write_baseline(str(path), known)
    baseline = read_baseline(str(path))
    moved = _finding("NM-PORT-002", "Node/cp-1", message="etcd open (layout.yaml:180:9)")
    new = _finding("NM-PORT-002", "Node/cp-2")
    kept, silenced = apply_suppressions([moved, new], {}, baseline)
    assert kept == [new]
    assert silenced[0].suppression.by == "baseline" and str(path) in silenced[0].suppression.reason
    assert fingerprint(moved) == fingerprint(known[0])


@pytest.mark.parametrize("content", ["not json", "[]", '{"netmodelBaseline": 9, "findings": []}'])
def test_a_file_that_is_not_a_baseline_is_a_usage_error(tmp_path, content):
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(UsageError) as err:
        read_baseline(str(path))
    assert err.value.problems[0].hint
