"""Pods netmodel makes for workloads never share a name with another Pod of their namespace (NM-INPUT-047).

A Deployment and a StatefulSet may share a name; in a cluster the StatefulSet's Pods are ``<name>-<ordinal>`` and
the Deployment's have generated names. netmodel writes a Deployment's Pods ``<name>-<replica>`` too, so without
care both would be ``mysql-0``, and every question naming ``mysql-0`` would get the other Pod's answer (a false
"no allowed client" warning on the StatefulSet's Service, a query refused for a port the Deployment lacks).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netmodel.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = ROOT / "topologies" / "flannel-vxlan.yaml"  # StatefulSet blog/mysql (mysql-0, TCP 3306), a policy for it

SAME_NAME_DEPLOYMENT = """---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: mysql
  namespace: blog
spec:
  replicas: 2
  selector:
    matchLabels: {app: mysql-tools}
  template:
    metadata:
      labels: {app: mysql-tools}
    spec:
      containers:
      - name: tools
        image: busybox
        ports:
        - {name: admin, containerPort: 9000, protocol: TCP}
"""


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    path = tmp_path / "same-name.yaml"
    path.write_text(LAYOUT.read_text().rstrip("\n") + "\n" + SAME_NAME_DEPLOYMENT)
    return path


def test_the_statefulset_keeps_its_pod_names(layout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", str(layout), "--from", "pod:blog/wordpress-0", "--to", "pod:blog/mysql-0",
                 "--port", "3306", "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert '"allowed": true' in out


def test_the_deployment_pods_get_names_of_their_own_and_a_note(layout: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(layout), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert "NM-SVC-009" not in out  # the StatefulSet's Service keeps its allowed client (wordpress)
    assert "NM-INPUT-047" in out
    assert "Deployment blog/mysql: mysql-0" in out
    code = main(["query", str(layout), "--from", "pod:blog/wordpress-0", "--to", "pod:blog/mysql-deployment-1",
                 "--port", "9000", "--format", "json"])
    assert code in (0, 1)  # the Pod exists under its new name (an unknown Pod is a usage error, exit 2)


def test_without_a_clash_no_pod_is_renamed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(LAYOUT), "--format", "json"]) == 0
    assert "NM-INPUT-047" not in capsys.readouterr().out
