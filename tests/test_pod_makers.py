"""Workloads whose service account RBAC lets create Pods (netmodel/model/pod_makers.py): the warnings about a
selector that matches no Pod in a namespace they may create Pods in say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from netmodel.model.build import load_topology

CONTROLLER = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: ctl, namespace: ops}
spec:
  selector: {matchLabels: {app: ctl}}
  template:
    metadata: {labels: {app: ctl}}
    spec:
      serviceAccountName: ctl
      containers: [{name: c, image: x}]
"""
RBAC = "apiVersion: rbac.authorization.k8s.io/v1\n"


def role(kind: str, rule: str, namespace: str = "") -> str:
    where = f", namespace: {namespace}" if namespace else ""
    return f"{RBAC}kind: {kind}\nmetadata: {{name: r{where}}}\nrules: [{rule}]\n"


def binding(kind: str, ref_kind: str, ref_name: str = "r", namespace: str = "") -> str:
    where = f", namespace: {namespace}" if namespace else ""
    subject = "{kind: ServiceAccount, name: ctl}" if namespace else "{kind: ServiceAccount, name: ctl, namespace: ops}"
    return (f"{RBAC}kind: {kind}\nmetadata: {{name: b{where}}}\n"
            f"roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {ref_kind}, name: {ref_name}}}\n"
            f"subjects: [{subject}]\n")


CREATE = "{apiGroups: [''], resources: [pods], verbs: [get, create]}"


def hint(tmp_path: Path, rbac: list[str], namespace: str) -> str:
    path = tmp_path / "l.yaml"
    path.write_text("---\n".join([CONTROLLER, *rbac]))
    return load_topology([str(path)]).unseen_pods_hint(namespace)


@pytest.mark.parametrize(("rbac", "namespace", "granted_by"), [
    ([role("Role", CREATE, "ops"), binding("RoleBinding", "Role", namespace="ops")], "ops", "Role ops/r"),
    ([binding("ClusterRoleBinding", "ClusterRole", "edit")], "jobs", "ClusterRole edit"),  # a default role
    ([role("ClusterRole", "{apiGroups: ['*'], resources: ['*'], verbs: ['*']}"),
      binding("ClusterRoleBinding", "ClusterRole")], "jobs", "ClusterRole r"),
], ids=["role-in-its-namespace", "default-edit-everywhere", "wildcards"])
def test_a_controller_that_may_create_pods_is_named(tmp_path: Path, rbac: list[str], namespace: str,
                                                      granted_by: str) -> None:
    said = hint(tmp_path, rbac, namespace)
    assert f"Deployment ops/ctl may create Pods in namespace {namespace} ({granted_by})" in said, said


@pytest.mark.parametrize(("rbac", "namespace"), [
    # may only read and delete Pods (Longhorn's longhorn-role)
    ([role("ClusterRole", "{apiGroups: [''], resources: [pods], verbs: [get, delete]}"),
      binding("ClusterRoleBinding", "ClusterRole")], "ops"),
    # pods of another API group (metrics.k8s.io) are not Pods
    ([role("ClusterRole", "{apiGroups: [metrics.k8s.io], resources: [pods], verbs: ['*']}"),
      binding("ClusterRoleBinding", "ClusterRole")], "ops"),
    # a RoleBinding grants in its own namespace only
    ([role("Role", CREATE, "ops"), binding("RoleBinding", "Role", namespace="ops")], "other"),
    # a default role the input redefines is read as written
    ([role("ClusterRole", "{apiGroups: [''], resources: [pods], verbs: [get]}").replace("name: r", "name: edit"),
      binding("ClusterRoleBinding", "ClusterRole", "edit")], "ops"),
], ids=["read-and-delete", "metrics-pods", "other-namespace", "redefined-default"])
def test_no_grant_no_hint(tmp_path: Path, rbac: list[str], namespace: str) -> None:
    assert hint(tmp_path, rbac, namespace) == ""
