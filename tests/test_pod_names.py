"""Pods netmodel makes for workloads never share a name with another Pod of their namespace (NM-INPUT-047).

A Deployment and a StatefulSet may share a name; in a cluster the StatefulSet's Pods are ``<name>-<ordinal>`` and
the Deployment's have generated names. netmodel writes a Deployment's Pods ``<name>-<replica>`` too, so without
care both would be ``mysql-0``, and every question naming ``mysql-0`` would get the other Pod's answer (a false
"no allowed client" warning on the StatefulSet's Service, a query refused for a port the Deployment lacks).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main
from netmodel.model.build import load_topology
from netmodel.model.topology import Note

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


# -- a Pod of the input with a StatefulSet's Pod's name (NM-INPUT-048) ---------------------------------------------
# The API server holds one Pod per name. A Pod of the input that a StatefulSet owns (ownerReferences) is its Pod
# and the StatefulSet is not expanded; one it does not own is either adopted by the StatefulSet controller (no
# controller owns it and its labels match the selector) or stands in the way of the Pod the controller would make.

STATEFULSET_WEB = """---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: web, namespace: blog}}
spec:
  replicas: 3{policy}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web, tier: front}}}}
    spec:
      containers:
      - {{name: web, image: nginx, ports: [{{containerPort: 80}}]}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: blog
  labels: {labels}{owners}
spec:
  containers:
  - {{name: given, image: busybox, ports: [{{containerPort: 9999}}]}}
"""


def _web_layout(tmp_path: Path, labels: str, owners: str = "", policy: str = "") -> Path:
    path = tmp_path / "web.yaml"
    extra = STATEFULSET_WEB.format(labels=labels, owners=f"\n  ownerReferences: {owners}" if owners else "",
                                   policy=f"\n  podManagementPolicy: {policy}" if policy else "")
    path.write_text(LAYOUT.read_text().rstrip("\n") + "\n" + extra)
    return path


def _web_pods(path: Path) -> dict[str, list[tuple[str | None, str]]]:
    """Each blog/web-N Pod of the model: (its owner, its first container's name), one entry per Pod of the name."""
    topology = load_topology([str(path)])
    pods: dict[str, list[tuple[str | None, str]]] = {}
    for pod in topology.pods:
        if pod.namespace == "blog" and pod.name.startswith("web-"):
            pods.setdefault(pod.name, []).append((str(pod.owner) if pod.owner else None, pod.containers[0].name))
    return pods


def _notes(path: Path, note_id: str) -> list[Note]:
    return [n for n in load_topology([str(path)]).notes if n.id == note_id]


def test_a_pod_in_the_statefulsets_way_is_the_only_pod_of_its_name(tmp_path: Path) -> None:
    """Labels its selector does not match: the controller cannot adopt the Pod nor create its own web-1, and under
    OrderedReady (the default) it stops there: no web-2."""
    path = _web_layout(tmp_path, "{app: debug}")
    assert _web_pods(path) == {"web-0": [("StatefulSet/blog/web", "web")], "web-1": [(None, "given")]}
    [note] = _notes(path, "NM-INPUT-048")
    assert note.severity == "warning"
    assert "StatefulSet blog/web cannot create its Pod web-1" in note.message
    assert "do not match the StatefulSet's selector app=web" in note.message
    assert "no later Pod either (web-2)" in note.message
    assert note.objects == ("StatefulSet/blog/web", "Pod/blog/web-1")
    text = path.read_text().splitlines()
    assert [text[s.line] for s in note.sources] == ["kind: StatefulSet", "kind: Pod"]  # each document's start
    assert all(s.line > len(LAYOUT.read_text().splitlines()) for s in note.sources)


def test_under_parallel_pod_management_only_that_ordinal_is_missing(tmp_path: Path) -> None:
    path = _web_layout(tmp_path, "{app: debug}", policy="Parallel")
    assert _web_pods(path) == {"web-0": [("StatefulSet/blog/web", "web")], "web-1": [(None, "given")],
                               "web-2": [("StatefulSet/blog/web", "web")]}
    [note] = _notes(path, "NM-INPUT-048")
    assert "later" not in note.message


def test_a_pod_another_controller_owns_is_in_the_way(tmp_path: Path) -> None:
    path = _web_layout(tmp_path, "{app: web}",
                       owners="[{apiVersion: apps/v1, kind: ReplicaSet, name: other-5d8f9, controller: true}]")
    assert _web_pods(path) == {"web-0": [("StatefulSet/blog/web", "web")], "web-1": [(None, "given")]}
    [note] = _notes(path, "NM-INPUT-048")
    assert "ReplicaSet other-5d8f9 controls it" in note.message


def test_an_orphan_the_selector_matches_is_adopted(tmp_path: Path) -> None:
    """The controller claims it as its web-1 and makes web-0 and web-2; nothing to warn about."""
    path = _web_layout(tmp_path, "{app: web, extra: x}")
    assert _web_pods(path) == {"web-0": [("StatefulSet/blog/web", "web")],
                               "web-1": [("StatefulSet/blog/web", "given")],
                               "web-2": [("StatefulSet/blog/web", "web")]}
    assert not _notes(path, "NM-INPUT-048")


def test_a_pod_the_statefulset_owns_is_its_pod(tmp_path: Path) -> None:
    """As a dump of a live cluster shows them: the StatefulSet is not expanded, its Pods are the input's."""
    path = _web_layout(tmp_path, "{app: debug}",
                       owners="[{apiVersion: apps/v1, kind: StatefulSet, name: web, controller: true}]")
    assert _web_pods(path) == {"web-1": [("StatefulSet/blog/web", "given")]}
    assert not _notes(path, "NM-INPUT-048")


def test_the_check_reports_it_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _web_layout(tmp_path, "{app: debug}")
    assert main(["check", str(path), "--format", "json"]) == 0  # a warning: --fail-on error passes
    findings = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["id"] == "NM-INPUT-048"]
    assert len(findings) == 1
    assert findings[0]["severity"] == "warning"
