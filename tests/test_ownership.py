"""One ownership rule (issue 9, item 13): a workload reference takes the Pods the model says it owns, never the
Pods of another workload whose name merely starts with its own (``web`` must not take ``web-api-…``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main
from netmodel.load import parse_text
from netmodel.model.build import build_topology

# Deployment web with its Pod as kubectl prints it (owned through ReplicaSet web-6c4f8), and the ReplicaSet
# web-api-5d8f9 of a Deployment web-api that the input does not hold, with its Pod: the web-api Pod belongs
# to that ReplicaSet, not to web.
LAYOUT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-6c4f8-x2x9q
  namespace: shop
  labels: {app: web}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6c4f8, uid: a, controller: true}]
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-api-5d8f9
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web-api, uid: b, controller: true}]
spec:
  replicas: 1
  selector: {matchLabels: {app: web-api}}
  template:
    metadata: {labels: {app: web-api}}
    spec: {containers: [{name: api, image: api, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-api-5d8f9-k7l2m
  namespace: shop
  labels: {app: web-api}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-api-5d8f9, uid: c, controller: true}]
spec: {containers: [{name: api, image: api, ports: [{containerPort: 80}]}]}
"""


def test_the_model_gives_each_pod_one_owner() -> None:
    t = build_topology(parse_text(LAYOUT, "l.yaml"))
    assert [p.name for p in t.workload_pods("Deployment", "shop", "web")] == ["web-6c4f8-x2x9q"]
    assert [p.name for p in t.workload_pods("ReplicaSet", "shop", "web-api-5d8f9")] == ["web-api-5d8f9-k7l2m"]


@pytest.mark.parametrize(("ref", "pods"), [
    ("deployment:shop/web", {"pod:shop/web-6c4f8-x2x9q"}),
    ("replicaset:shop/web-api-5d8f9", {"pod:shop/web-api-5d8f9-k7l2m"}),
])
def test_query_to_a_workload_reaches_only_its_own_pods(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       ref: str, pods: set[str]) -> None:
    layout = tmp_path / "l.yaml"
    layout.write_text(LAYOUT)
    code = main(["query", str(layout), "--from", "node:node-1", "--to", ref, "--port", "80", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {p["hops"][-1]["location"] for p in data["paths"]} == pods
