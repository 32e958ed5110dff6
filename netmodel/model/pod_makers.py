"""Workloads that make Pods at run time, found through RBAC: a controller whose service account may create Pods.

Operators such as Longhorn's longhorn-manager create Pods (instance managers, share managers) and relabel their
own, and the install manifest ships Services and NetworkPolicies that select those Pods; no object of the input
describes them, so a finding that such a selector "matches no Pod" must not only blame its labels. What the input
does say is who may create Pods: a Role or ClusterRole granting ``create`` on ``pods`` (core group), bound to the
ServiceAccount a workload runs as (Kubernetes "Using RBAC Authorization": a RoleBinding grants within its
namespace, a ClusterRoleBinding in every namespace). The RBAC objects stay "no network meaning" for everything
else (NM-INPUT-001); only this hint reads them (:meth:`netmodel.model.topology.Topology.unseen_pods_hint`).

>>> grants_pod_creation([{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}])
True
>>> grants_pod_creation([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "delete"]}])
False
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from netmodel.model.objects import Workload

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
# Kubernetes' default ClusterRoles that let a subject create Pods, used by name without being in the input
# (kubernetes/kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go: cluster-admin has every verb
# on every resource; admin and edit create pods).
BUILTIN_POD_CREATORS = frozenset({"cluster-admin", "admin", "edit"})


def grants_pod_creation(rules: Any) -> bool:
    """Whether RBAC ``rules`` allow creating Pods: a rule of the core group (or ``*``) on ``pods`` (or ``*``) with
    the verb ``create`` (or ``*``). Malformed entries grant nothing (these kinds are not validated)."""
    if not isinstance(rules, list):
        return False
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        if all(_lists(rule.get(key), wanted) for key, wanted in (("apiGroups", {"", "*"}), ("resources", {"pods", "*"}),
                                                                  ("verbs", {"create", "*"}))):
            return True
    return False


def _lists(value: Any, wanted: set[str]) -> bool:
    """Whether ``value`` is a list holding one of ``wanted``."""
    return isinstance(value, list) and any(isinstance(v, str) and v in wanted for v in value)


@dataclass(frozen=True, slots=True)
class PodMaker:
    """A workload that may create Pods in ``namespace`` ("" for every namespace), and the role that lets it."""

    namespace: str
    workload: str  # "Deployment longhorn-system/longhorn-manager"
    role: str  # "Role longhorn-system/longhorn"


@dataclass
class Rbac:
    """The RBAC objects of the input, as far as Pod creation goes."""

    creating_roles: set[tuple[str, str, str]] = field(default_factory=set)  # (kind, namespace, name)
    cluster_roles: set[str] = field(default_factory=set)  # every ClusterRole the input defines, granting or not
    # (binding namespace, "" for a ClusterRoleBinding; roleRef kind; roleRef name; ServiceAccount subjects)
    bindings: list[tuple[str, str, str, list[tuple[str, str]]]] = field(default_factory=list)

    def read(self, kind: str, data: Any) -> None:
        """Take what one Role, ClusterRole, RoleBinding or ClusterRoleBinding document says about Pod creation."""
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        name, namespace = meta.get("name"), meta.get("namespace") or "default"
        if not isinstance(name, str) or not isinstance(namespace, str):
            return
        if kind in ("Role", "ClusterRole"):
            if kind == "ClusterRole":
                self.cluster_roles.add(name)
            if grants_pod_creation(data.get("rules")):
                self.creating_roles.add((kind, namespace if kind == "Role" else "", name))
            return
        ref = data.get("roleRef")
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            return
        where = namespace if kind == "RoleBinding" else ""
        accounts = []
        for s in data.get("subjects") or ():
            if isinstance(s, dict) and s.get("kind") == "ServiceAccount" and isinstance(s.get("name"), str):
                ns = s.get("namespace") or where
                if isinstance(ns, str) and ns:
                    accounts.append((ns, s["name"]))
        self.bindings.append((where, str(ref.get("kind")), ref["name"], accounts))

    def _creates(self, ref_kind: str, ref_name: str, where: str) -> bool:
        """Whether the role a binding refers to lets create Pods (a default ClusterRole the input redefines is
        read as written)."""
        if ref_kind == "ClusterRole":
            return ("ClusterRole", "", ref_name) in self.creating_roles or (
                ref_name in BUILTIN_POD_CREATORS and ref_name not in self.cluster_roles)
        return ref_kind == "Role" and ("Role", where, ref_name) in self.creating_roles

    def pod_makers(self, workloads: Iterable[Workload]) -> tuple[PodMaker, ...]:
        """The workloads whose service account a binding lets create Pods, with where and through which role."""
        grants: dict[tuple[str, str], list[tuple[str, str]]] = {}  # service account → [(scope, role)]
        for where, ref_kind, ref_name, accounts in self.bindings:
            if not self._creates(ref_kind, ref_name, where):
                continue
            role = f"{ref_kind} {where + '/' if ref_kind == 'Role' else ''}{ref_name}"
            for account in accounts:
                grants.setdefault(account, []).append((where, role))
        out: list[PodMaker] = []
        for w in workloads:
            for scope, role in grants.get((w.namespace, w.template.service_account), ()):
                out.append(PodMaker(scope, f"{w.kind} {w.qualified_name}", role))
        return tuple(out)


def makers_in(makers: Sequence[PodMaker], namespace: str) -> list[PodMaker]:
    """The makers that may create Pods in ``namespace``."""
    return [m for m in makers if m.namespace in ("", namespace)]


__all__ = ["BUILTIN_POD_CREATORS", "RBAC_GROUP", "RBAC_KINDS", "PodMaker", "Rbac", "grants_pod_creation",
           "makers_in"]
