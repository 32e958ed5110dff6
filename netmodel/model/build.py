"""Stage 2: documents → a validated :class:`Topology`.

Reads every document by kind (collecting all problems), then fills in what the input leaves open with documented
defaults (see :mod:`netmodel.model.materialize`), each recorded as a :class:`Note`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from netmodel.errors import Problem, SourceSpan, ValidationError
from netmodel.load.document import Document
from netmodel.model import materialize
from netmodel.model.calico_selector import Selector as CalicoSelector
from netmodel.model.calico_selector import label_keys
from netmodel.model.cilium_host import with_host_policies
from netmodel.model.fields import Problems
from netmodel.model.fwimport import native_format
from netmodel.model.gateway import ROUTE_KINDS
from netmodel.model.inventory import Inventory
from netmodel.model.kinds import (
    CALICO_GROUPS,
    IMPORTED_RULE,
    LEFT_OUT,
    KindClass,
    api_group,
    classify,
    settle_endpoints,
    skipped_notes,
)
from netmodel.model.limits import check_input_size, check_pod_expansion
from netmodel.model.objects import (
    WORKLOAD_KINDS,
    CalicoPolicy,
    Namespace,
    SkippedObject,
    qualified_name,
)
from netmodel.model.pod_makers import RBAC_GROUP, RBAC_KINDS
from netmodel.model.read_admin import read_admin_network_policy
from netmodel.model.read_calico import (
    BUILTIN_TIERS,
    read_calico_policy,
    read_ip_pool,
    read_network_set,
    read_tier,
)
from netmodel.model.read_cilium import read_cilium_policy
from netmodel.model.read_cloud import resolve_members
from netmodel.model.read_gateway import (
    read_gateway,
    read_gateway_class,
    read_reference_grant,
    read_route,
)
from netmodel.model.read_kubernetes import (
    PodsRead,
    read_endpoint_slice,
    read_ingress,
    read_ingress_class,
    read_namespace,
    read_network_policy,
    read_node,
    read_pod,
    read_service,
    read_service_account,
    read_workload,
)
from netmodel.model.read_netmodel import (
    API_VERSION,
    read_cluster,
    read_expectations,
    read_firewalls,
)
from netmodel.model.references import check_references
from netmodel.model.topology import Note, Topology

NETMODEL_KINDS = ("Cluster", "Firewall", "Expectations")
CLUSTER_SCOPED = {"AdminNetworkPolicy", "GlobalNetworkPolicy", "Tier", "GlobalNetworkSet", "BaselineAdminNetworkPolicy", "CiliumClusterwideNetworkPolicy", "Namespace", "Node", "IngressClass", "PersistentVolume", "StorageClass", "PriorityClass",
                  "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "APIService",
                  "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "GatewayClass"}



def _identity(doc: Document, problems: Problems) -> tuple[str, str] | None:
    data = doc.data
    if not isinstance(data, dict):
        problems.add("a document must be a mapping with apiVersion and kind", doc.span(),
                     "write each object as a mapping (`apiVersion: v1`, `kind: Pod`, ...)")
        return None
    kind, api = data.get("kind"), data.get("apiVersion")
    if not isinstance(kind, str) or not kind:
        problems.add("object has no `kind`", doc.span(), "add `kind:` (e.g. Pod, Service, Firewall)")
        return None
    if not isinstance(api, str) or not api:
        problems.add(f"{kind} has no `apiVersion`", doc.span(), "add `apiVersion:` (e.g. v1, apps/v1)")
        return None
    return api, kind


def _skipped(doc: Document, api: str, kind: str, known: KindClass) -> SkippedObject:
    meta = doc.data.get("metadata") if isinstance(doc.data.get("metadata"), dict) else {}
    namespace = str(meta.get("namespace") or ("default" if known.scope == "namespace" else ""))
    if known.name == "no-network-meaning":
        reason = "no network meaning"
    elif known.name == "creates-pods":
        reason = f"its operator ({known.project}) creates Pods, which are not in the layout"
    elif kind == "HostEndpoint" and api_group(api) in CALICO_GROUPS:
        node = doc.data.get("spec", {}).get("node") if isinstance(doc.data.get("spec"), dict) else None
        reason = (f"netmodel does not model Calico host endpoints: the Calico policies that select it (and those "
                  f"with doNotTrack, preDNAT or applyOnForward) filter traffic to, from and through node "
                  f"{node if isinstance(node, str) and node else '(spec.node)'}'s interfaces, and a rule selector "
                  "matching it matches its addresses; neither is evaluated")
    elif known.project:
        reason = f"netmodel does not read {known.project} {kind} objects yet"
    else:
        reason = "netmodel does not know this kind"
    return SkippedObject(api, kind, namespace, str(meta.get("name") or ""), reason, doc.span(), known.name,
                         known.scope, known.project)


def read_inventory(documents: Sequence[Document]) -> tuple[Inventory, Problems]:
    """Read every document into an :class:`Inventory` (objects before defaults), collecting problems;
    repeats read once."""
    inv = Inventory()
    problems = Problems()
    first_of: dict[tuple[str, str, str, str], Document] = {}
    first_namespace: dict[str, Namespace] = {}
    native: list[tuple[Document, str]] = []
    pods_read = PodsRead()  # what the Pods read so far share
    for doc in documents:
        fmt = native_format(doc.data)
        if fmt:
            native.append((doc, fmt))  # a ruleset a Firewall imports (spec.import), not an object
            continue
        ident = _identity(doc, problems)
        if ident is None:
            continue
        api, kind = ident
        if _repeats(doc, api, kind, first_of, problems):
            continue
        if api.startswith("netmodel.io/"):
            if api != API_VERSION:
                problems.add(f"unknown netmodel apiVersion {api!r}", doc.span(("apiVersion",)),
                             f"use apiVersion: {API_VERSION}")
                continue
            if kind == "Cluster":
                inv.clusters.append((read_cluster(doc, problems), doc))
            elif kind == "Firewall":
                firewalls, unmodelled = read_firewalls(doc, problems)
                inv.firewalls.extend((f, doc) for f in firewalls)
                inv.skipped.extend(unmodelled)
            elif kind == "Expectations":
                inv.expectations.append(read_expectations(doc, problems))
            else:
                problems.add(f"netmodel has no kind {kind!r}", doc.span(("kind",)),
                             f"use one of: {', '.join(NETMODEL_KINDS)}")
            continue
        known = classify(api, kind)
        if known.name != "read":
            inv.skipped.append(_skipped(doc, api, kind, known))
            if kind in RBAC_KINDS and api_group(api) == RBAC_GROUP:
                inv.rbac.read(kind, doc.data)
        elif kind == "Namespace":
            namespace = read_namespace(doc, problems)
            if not _namespace_repeats(namespace, first_namespace, problems):
                inv.namespaces.append(namespace)
        elif kind == "Node":
            inv.nodes.append(read_node(doc, problems))
        elif kind == "Pod":
            pod, template, _ = read_pod(doc, problems, pods_read)
            inv.pods.append((pod, template, doc))
        elif kind in WORKLOAD_KINDS:
            workload = read_workload(doc, problems, kind)
            if workload is not None:
                inv.workloads.append((workload, doc))
        elif kind == "Service":
            inv.services.append(read_service(doc, problems))
        elif kind == "EndpointSlice":
            inv.endpoint_slices.append(read_endpoint_slice(doc, problems))
        elif kind == "Ingress":
            inv.ingresses.append(read_ingress(doc, problems))
        elif kind == "IngressClass":
            inv.ingress_classes.append(read_ingress_class(doc, problems))
        elif kind in ("NetworkPolicy", "GlobalNetworkPolicy") and api_group(api) in CALICO_GROUPS:
            if (calico := read_calico_policy(doc, problems, kind, api)) is not None:
                inv.calico_policies.append(calico)
                if calico.unevaluated:
                    inv.skipped.append(_calico_unevaluated(calico, problems))
        elif kind == "Tier":
            if (tier := read_tier(doc, problems)) is not None:
                inv.calico_tiers.append(tier)
        elif kind in ("NetworkSet", "GlobalNetworkSet") and api_group(api) in CALICO_GROUPS:
            if (network_set := read_network_set(doc, problems, kind)) is not None:
                inv.calico_network_sets.append(network_set)
        elif kind == "ServiceAccount":
            inv.service_accounts.append(read_service_account(doc, problems))
        elif kind == "NetworkPolicy":
            inv.network_policies.append(read_network_policy(doc, problems))
        elif kind == "GatewayClass":
            inv.gateway_classes.append(read_gateway_class(doc, problems))
        elif kind == "Gateway":
            inv.gateways.append(read_gateway(doc, problems))
        elif kind in ROUTE_KINDS:
            inv.routes.append(read_route(doc, problems, kind))
        elif kind == "ReferenceGrant":
            inv.reference_grants.append(read_reference_grant(doc, problems))
        elif kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy"):
            if (admin := read_admin_network_policy(doc, problems, kind)) is None:
                pass
            elif admin.unevaluated:
                # Left out, and every answer marked (NM-INPUT-015): its peers depend on what netmodel cannot read.
                inv.skipped.append(SkippedObject(
                    api, kind, "", admin.name, f"uses {', '.join(admin.unevaluated)}, which netmodel does not "
                    "evaluate: the policy is left out", admin.source, "not-evaluated", "cluster", "AdminNetworkPolicy API"))
            else:
                inv.admin_policies.append(admin)
        elif kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
            if (cilium := read_cilium_policy(doc, problems, kind)) is not None:
                inv.cilium_policies.append(cilium)
        elif kind == "IPPool" and (pool := read_ip_pool(doc, problems)) is not None:
            inv.ip_pools.append(pool)
    _resolve_members(inv)
    _check_duplicates(inv, problems)
    _check_calico_tiers(inv, problems)
    _check_service_accounts(inv, problems)
    imported = {os.path.normpath(f.imported) for f, _ in inv.firewalls if f.imported}
    for doc, fmt in native:
        if os.path.normpath(doc.file) not in imported:
            problems.warn("NM-INPUT-030", f"{doc.file} holds an {fmt} ruleset that no Firewall imports: it is not "
                          f"analyzed; add a Firewall with `spec.import: {{format: {fmt}, file: ...}}` and the nodes "
                          "it runs on", doc.file, doc.span())
    return inv, problems


def _calico_unevaluated(policy: CalicoPolicy, problems: Problems) -> SkippedObject:
    """A Calico policy using fields netmodel does not evaluate: warning NM-INPUT-040, and it stays among the
    objects that could change answers (analyze/unevaluated.py), with the scope of its kind."""
    fields = ", ".join(policy.unevaluated)
    problems.notes.append(Note(
        "NM-INPUT-040", f"Calico {policy.kind} {policy.qualified_name} uses {fields}, which netmodel does not "
        "evaluate: the policy is left out and every answer it could change says so", (str(policy.ref),),
        (policy.source,), "warning"))
    known = classify(policy.api_version, policy.kind)
    return SkippedObject(policy.api_version, policy.kind, policy.namespace, policy.name,
                         f"uses {fields}, which netmodel does not evaluate", policy.source, LEFT_OUT,
                         "namespace" if policy.kind == "NetworkPolicy" else "cluster", known.project or "Calico")


def _check_calico_tiers(inv: Inventory, problems: Problems) -> None:
    """Calico creates a policy only in a tier that exists: the built-in ones, or one a Tier object defines."""
    defined = {t.name for t in inv.calico_tiers} | set(BUILTIN_TIERS)
    for policy in inv.calico_policies:
        if policy.tier not in defined:
            problems.add(f"Calico {policy.kind} {policy.qualified_name}: spec.tier {policy.tier!r} names a tier the "
                         "input does not define (Calico refuses a policy in a missing tier, and its order decides "
                         "where the policy applies)", policy.source,
                         f"add the `kind: Tier` object named {policy.tier} (projectcalico.org/v3) with its order")


def _check_service_accounts(inv: Inventory, problems: Problems) -> None:
    """Calico selectors over a service account's labels need the ServiceAccount objects: one the Pods run as but
    the input lacks is read as having no labels (it exists — Kubernetes admits no Pod whose account is missing —
    so its name, and ``projectcalico.org/name``, still match), and NM-INPUT-043 says which answers that could
    change."""
    def by_labels(selector: CalicoSelector | None) -> bool:  # the account's name is known without the object
        return selector is not None and bool(label_keys(selector) - {"projectcalico.org/name"})

    users = [p for p in inv.calico_policies if not p.unevaluated and (
        by_labels(p.service_account_selector)
        or any(e.service_accounts is not None and by_labels(e.service_accounts.selector)
               for rule in p.ingress + p.egress for e in (rule.source_entity, rule.destination_entity)))]
    if not users:
        return
    known = {(a.namespace, a.name) for a in inv.service_accounts}
    used = [(p.namespace, t.service_account, t.source) for p, t, _ in inv.pods] + \
        [(w.namespace, w.template.service_account, w.template.source) for w, _ in inv.workloads]
    missing: dict[tuple[str, str], SourceSpan] = {}
    for namespace, name, source in used:
        if (namespace, name) not in known:
            missing.setdefault((namespace, name), source)
    if not missing:
        return
    names = ", ".join(qualified_name(ns, name) for ns, name in list(missing)[:5]) + \
        (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    problems.notes.append(Note(
        "NM-INPUT-043", f"{len(missing)} ServiceAccount(s) the Pods run as are not in the input ({names}), while "
        f"{users[0].label}{' and others' if len(users) > 1 else ''} select service accounts by their labels: each is "
        "read as having no labels (its name still matches), so an answer involving its Pods could differ if it has "
        "labels; add them (kubectl get serviceaccounts -A -o yaml)",
        tuple(f"ServiceAccount/{qualified_name(ns, name)}" for ns, name in missing), tuple(missing.values()),
        "warning"))


def _resolve_members(inv: Inventory) -> None:
    """Cloud rules that name what instances carry (a security group, a network tag) admit the nodes of the
    Firewalls carrying it; a member no Firewall carries is read as no address, an assumption that marks
    every answer (netmodel/model/read_cloud.py)."""
    if not any(fw.members for fw, _ in inv.firewalls):
        return
    resolved, missing = resolve_members([fw for fw, _ in inv.firewalls])
    inv.firewalls = [(fw, doc) for fw, (_, doc) in zip(resolved, inv.firewalls, strict=True)]
    for owner, member, span in missing:
        kind, name = member.split(":", 1)
        inv.skipped.append(SkippedObject(
            API_VERSION, IMPORTED_RULE, "", owner, f"{span.file}:{span.line}: a rule names {kind} {name}, which no "
            "Firewall of the layout carries (`import: {groups|tags|serviceAccounts: [...]}`): its instances are "
            "read as no address", span, "not-evaluated", "firewall"))


def _repeats(doc: Document, api: str, kind: str, first_of: dict[tuple[str, str, str, str], Document],
             problems: Problems) -> bool:
    """True when ``doc`` repeats an earlier document exactly (same content): it is then read once, with an info
    note, since `kubectl apply` of both leaves one object. A second object of the same name with other content
    stays an error (see `_check_duplicates`)."""
    meta = doc.data.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return False
    key = (api, kind, str(meta.get("namespace") or ""), meta["name"])
    first = first_of.setdefault(key, doc)
    if first is doc or first.data != doc.data:
        return False
    namespace = key[2] or ("" if kind in CLUSTER_SCOPED or api.startswith("netmodel.io/") else "default")
    where = qualified_name(namespace, key[3])
    problems.notes.append(Note("NM-INPUT-014", f"{kind} {where} is given again with the same content (first at "
                               f"{first.span()}): read once", (f"{kind}/{where}",), (doc.span(),)))
    return True


def _namespace_repeats(namespace: Namespace, first_namespace: dict[str, Namespace], problems: Problems) -> bool:
    """True when an earlier Namespace of the same name has the same labels: it is then read once, with an info
    note, whatever else differs (annotations, say). netmodel reads nothing of a Namespace but its name and labels,
    so both documents mean the same to every answer, and bundles applied one after the other often declare their
    Namespace again: sock-shop's manifests-policy/netpol-default-deny.yaml repeats complete-demo.yaml's
    `sock-shop` with an annotation (the pre-1.7 `net.beta.kubernetes.io/network-policy`, which no current
    cluster reads); `kubectl apply` of both leaves one Namespace. Other labels stay an error (which labels a
    namespaceSelector sees would depend on the order of apply: see `_check_duplicates`)."""
    first = first_namespace.setdefault(namespace.name, namespace)
    if first is namespace or first.labels != namespace.labels:
        return False
    problems.notes.append(Note("NM-INPUT-014", f"Namespace {namespace.name} is given again with the same labels "
                               f"(first at {first.source}); its other fields have no network meaning: read once",
                               (f"Namespace/{namespace.name}",), (namespace.source,)))
    return True


def _check_duplicates(inv: Inventory, problems: Problems) -> None:
    seen: dict[tuple[str, str, str], SourceSpan] = {}
    groups: list[tuple[str, list[tuple[str, str, SourceSpan]]]] = [
        ("Cluster", [("", c.name, c.source) for c, _ in inv.clusters]),
        ("Namespace", [("", n.name, n.source) for n in inv.namespaces]),
        ("Node", [("", n.name, n.source) for n in inv.nodes]),
        ("Pod", [(p.namespace, p.name, p.source) for p, _, _ in inv.pods]),
        ("Service", [(s.namespace, s.name, s.source) for s in inv.services]),
        ("NetworkPolicy", [(p.namespace, p.name, p.source) for p in inv.network_policies]),
        ("Firewall", [("", f.name, f.source) for f, _ in inv.firewalls]),
        ("AdminNetworkPolicy", [("", p.name, p.source) for p in inv.admin_policies if not p.baseline]),
        ("Calico NetworkPolicy", [(p.namespace, p.name, p.source) for p in inv.calico_policies
                                  if p.kind == "NetworkPolicy"]),
        ("Calico GlobalNetworkPolicy", [("", p.name, p.source) for p in inv.calico_policies
                                        if p.kind == "GlobalNetworkPolicy"]),
        ("Calico Tier", [("", t.name, t.source) for t in inv.calico_tiers if t.source is not None]),
        ("Calico NetworkSet", [(n.namespace, n.name, n.source) for n in inv.calico_network_sets if n.namespace]),
        ("Calico GlobalNetworkSet", [("", n.name, n.source) for n in inv.calico_network_sets if not n.namespace]),
        ("ServiceAccount", [(a.namespace, a.name, a.source) for a in inv.service_accounts]),
        ("BaselineAdminNetworkPolicy", [("", p.name, p.source) for p in inv.admin_policies if p.baseline]),
        ("CiliumNetworkPolicy", [(p.namespace, p.name, p.source) for p in inv.cilium_policies if p.namespace]),
        ("CiliumClusterwideNetworkPolicy", [("", p.name, p.source) for p in inv.cilium_policies if not p.namespace]),
        ("Ingress", [(i.namespace, i.name, i.source) for i in inv.ingresses]),
        ("GatewayClass", [("", c.name, c.source) for c in inv.gateway_classes]),
        ("Gateway", [(g.namespace, g.name, g.source) for g in inv.gateways]),
        ("ReferenceGrant", [(g.namespace, g.name, g.source) for g in inv.reference_grants]),
    ] + [(kind, [(r.namespace, r.name, r.source) for r in inv.routes if r.kind == kind]) for kind in ROUTE_KINDS
    ] + [(kind, [(w.namespace, w.name, w.source) for w, _ in inv.workloads if w.kind == kind])
         for kind in WORKLOAD_KINDS]
    for kind, entries in groups:
        for namespace, name, source in entries:
            key = (kind, namespace, name)
            if key in seen:
                where = qualified_name(namespace, name)
                problems.add(f"{kind} {where} is defined twice (first at {seen[key]})", source,
                             "remove or rename one of them")
            else:
                seen[key] = source


def build_topology(documents: Sequence[Document]) -> Topology:
    """Validate the documents and fill in defaults; raise :class:`ValidationError` listing every problem."""
    too_large = check_input_size(documents)  # before reading: an input over the limits is not worth validating
    if too_large:
        raise ValidationError(too_large)
    inv, problems = read_inventory(documents)
    for cluster, _ in inv.clusters[1:]:
        problems.add(f"a second Cluster object ({cluster.name}); one topology describes one cluster",
                     cluster.source, "keep one Cluster per topology (analyze clusters separately)")
    # References are checked before any default is filled in, so they are reported with every other problem.
    check_references(inv, problems)
    check_pod_expansion(len(inv.pods), inv.workloads, len(inv.nodes), problems)
    if problems.items:
        raise ValidationError(problems.items)
    inv.skipped = settle_endpoints(inv.skipped, inv.services, inv.endpoint_slices)
    notes: list[Note] = skipped_notes(inv.skipped) + problems.notes
    topology = with_host_policies(materialize.materialize(inv, notes))
    if problems.items:
        raise ValidationError(problems.items)
    return topology


def load_topology(paths: Sequence[str]) -> Topology:
    """Read files/folders/``-`` and build the topology: the stages ``load`` and ``model`` together."""
    from netmodel.load import read_documents
    from netmodel.load.files import paused_gc

    with paused_gc():
        return build_topology(read_documents(paths))


__all__ = ["Inventory", "Problem", "build_topology", "load_topology", "read_inventory"]
