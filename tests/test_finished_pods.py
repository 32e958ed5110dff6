"""Finished Pods (status.phase Succeeded/Failed) hold no address and take no traffic (issue 9, item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main
from netmodel.load import parse_text
from netmodel.model.build import build_topology

# As `kubectl get pods -A -o yaml` shows them: a completed Job Pod and an evicted Pod still carry the address
# they had, which the running Pod `web` now holds; a Job whose only Pod completed.
DUMP = """
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  template:
    metadata: {labels: {job: migrate}}
    spec: {restartPolicy: Never, containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: migrate-7xk2p
  namespace: shop
  labels: {job: migrate}
  ownerReferences: [{apiVersion: batch/v1, kind: Job, name: migrate, uid: a, controller: true}]
spec: {nodeName: node-1, restartPolicy: Never, containers: [{name: c, image: x}]}
status: {phase: Succeeded, podIP: 10.244.0.7}
---
apiVersion: v1
kind: Pod
metadata: {name: old-web, namespace: shop, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
status: {phase: Failed, reason: Evicted, podIP: 10.244.0.8}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
status: {phase: Running, podIP: 10.244.0.8}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop}
spec: {nodeName: node-1, containers: [{name: c, image: x}]}
status: {phase: Running, podIP: 10.244.0.9}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, clusterIP: 10.96.0.20, ports: [{port: 80}]}
"""


def test_finished_pods_are_left_out_with_one_note_and_their_job_is_not_expanded() -> None:
    t = build_topology(parse_text(DUMP, "dump.yaml"))
    assert sorted(p.name for p in t.pods) == ["client", "web"]
    notes = [n for n in t.notes if n.id == "NM-INPUT-010"]
    assert len(notes) == 1 and "2 finished Pod(s)" in notes[0].message
    assert "shop/migrate-7xk2p" in notes[0].message and "shop/old-web" in notes[0].message


def test_check_raises_no_shared_ip_error_for_an_evicted_pod(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "dump.yaml"
    path.write_text(DUMP)
    code = main(["check", str(path), "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f["id"] for f in findings if f["severity"] == "error"] == [] and code == 0
    assert sum(f["id"] == "NM-INPUT-010" for f in findings) == 1


def test_the_service_reaches_only_the_running_pod(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "dump.yaml"
    path.write_text(DUMP)
    main(["query", str(path), "--from", "shop/client", "--to", "service:shop/web", "--port", "80", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert {p["hops"][-1]["location"] for p in data["paths"]} == {"pod:shop/web"}
    capsys.readouterr()
    assert main(["query", str(path), "--from", "shop/client", "--to", "shop/old-web", "--port", "80"]) == 2
    assert "Pod shop/old-web has finished (status.phase Succeeded or Failed)" in capsys.readouterr().err
