"""Checks that need NetworkPolicy semantics (docs/checks.md):

* NM-SVC-008 (error) — Pods isolated for egress cannot reach cluster DNS on port 53 (UDP or TCP) of the DNS
  Service; its other ports (CoreDNS metrics on 9153) are not name lookups and are not judged. With no DNS Service in the layout, a CoreDNS Pod is assumed where kubeadm puts it (namespace
  kube-system, label ``k8s-app: kube-dns``, ports 53 UDP and TCP named ``dns``/``dns-tcp``).
* NM-SVC-009 (warning) — every client of a Service port is denied: no Pod class whose egress and the endpoint's
  ingress both allow it, and no address an ipBlock admits.
* NM-EXT-009 (error) — an Ingress backend's policies (or the controller's egress) block the Pods of the
  controller that serves that Ingress (found as in :mod:`netmodel.compile.ingress`: its class, then the
  controller's Pods that carry traffic).
* NM-POL-001 (warning) — a NetworkPolicy selects no Pod.
* NM-POL-002 (warning) — a peer's selectors match no Pod of namespaces the input describes.
* NM-POL-003 (warning) — a rule's ports can never match (named ports no Pod it could apply to declares).
* NM-POL-004 (info) — a rule is shadowed: a rule of the same or a broader policy allows everything it allows.

Findings are grouped (per policy set, per Service port) so a 5,000-Pod namespace gives one finding, not 5,000.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import islice

from netmodel.analyze.findings import Finding, Severity
from netmodel.analyze.policy.admin_checks import ADMIN_CHECKS
from netmodel.analyze.policy.bits import iter_members
from netmodel.analyze.policy.calico import CalicoTierRule
from netmodel.analyze.policy.calico_checks import CALICO_CHECKS
from netmodel.analyze.policy.cilium import CiliumTierRule
from netmodel.analyze.policy.cilium_checks import CILIUM_CHECKS
from netmodel.analyze.policy.classes import PodClass
from netmodel.analyze.policy.engine import (
    EGRESS,
    INGRESS,
    CompiledRule,
    Peer,
    PolicyEngine,
    PolicyVerdict,
)
from netmodel.analyze.policy.tiers import TierRule
from netmodel.analyze.reach.compiled_cluster import Backend, CompiledCluster, compiled_cluster_of
from netmodel.analyze.unscheduled import pending_clause
from netmodel.compile.context import CheckContext
from netmodel.errors import SourceSpan
from netmodel.model.cilium import CiliumPolicy
from netmodel.model.labels import Labels
from netmodel.model.objects import (
    AdminNetworkPolicy,
    CalicoPolicy,
    Ingress,
    NetworkPolicy,
    Pod,
    PolicyPeer,
    PolicyPort,
    Service,
    ServicePort,
)
from netmodel.model.read_kubernetes import NAMESPACE_NAME_LABEL
from netmodel.sets import ALL_ADDRESSES, protocol_label
from netmodel.sets.ports import TCP, UDP

DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = Labels({"k8s-app": "kube-dns"})
DNS_PORTS = ((UDP, 53, "dns"), (TCP, 53, "dns-tcp"))
DNS_PORT = 53


def _policy_names(policies: tuple[NetworkPolicy, ...] | list[NetworkPolicy]) -> str:
    return ", ".join(p.qualified_name for p in policies)


Decider = NetworkPolicy | AdminNetworkPolicy | CalicoPolicy | CiliumPolicy


def _policies_text(policies: tuple[Decider, ...]) -> str:
    """``NetworkPolicies a/b, c/d`` and/or the admin, Calico and Cilium policies by label."""
    nps = [p for p in policies if isinstance(p, NetworkPolicy)]
    admins = [p.label for p in policies if not isinstance(p, NetworkPolicy)]
    return " and ".join(([f"NetworkPolicies {_policy_names(nps)}"] if nps else []) + admins)


def _deciders(verdict: PolicyVerdict) -> tuple[Decider, ...]:
    """What denied a packet: the admin, Calico or Cilium policy whose rule did, the policies of a Calico tier
    whose end denied it, else the NetworkPolicies and Cilium policies isolating the Pod."""
    if verdict.admin_rule is not None:
        return (verdict.admin_rule.policy,)
    return verdict.tier_end or (verdict.isolating + verdict.cilium_isolating)


def _pods_text(compiled: CompiledCluster, classes: list[PodClass], limit: int = 3) -> str:
    pods = compiled.topology.pods
    count = sum(len(c.pods) for c in classes)
    names = [pods[i].qualified_name for i in islice((i for c in classes for i in c.pods), limit)]
    more = f" and {count - limit} more" if count > limit else ""
    return ", ".join(names) + more


def dns_service(compiled: CompiledCluster) -> Service | None:
    """The cluster DNS Service: ``kube-system/kube-dns``, else a kube-system Service selecting ``k8s-app:
    kube-dns``."""
    t = compiled.topology
    found = t.service_by_key.get((DNS_NAMESPACE, "kube-dns"))
    if found is not None:
        return found
    return next((s for s in t.services if s.namespace == DNS_NAMESPACE and s.selector is not None
                 and s.selector.get("k8s-app") == "kube-dns"), None)


def _dns_blocked_real(compiled: CompiledCluster, cls: PodClass, svc: Service) -> list[str]:
    blocked = []
    for sp in svc.ports:
        if sp.port != DNS_PORT or sp.protocol not in (UDP, TCP):
            continue  # resolvers ask port 53 only; kube-dns also lists CoreDNS metrics (9153)
        backends = [b for b in compiled.backends(svc, sp) if b.port is not None]
        if backends and not any(_egress_allows(compiled, cls, b, sp.protocol) for b in backends):
            blocked.append(f"{protocol_label(sp.protocol)} {sp.port}")
    return blocked


def _egress_allows(compiled: CompiledCluster, cls: PodClass, backend: Backend, protocol: int) -> bool:
    assert backend.port is not None
    engine = compiled.policies
    if backend.pod is not None:
        target = compiled.class_of(backend.pod)
        peer: Peer = target.id if target.subject_to_policy else backend.address
        return engine.verdict(EGRESS, cls.id, peer, target, protocol, backend.port).allowed
    return engine.verdict(EGRESS, cls.id, backend.address, None, protocol, backend.port).allowed


def _rule_reaches_assumed_dns(compiled: CompiledCluster, rule: CompiledRule, protocol: int, name: str) -> bool:
    """Would this egress rule admit a kubeadm-style CoreDNS Pod on (protocol, 53 or its port name)?"""
    ports = rule.rule.ports
    if ports is not None and not any(
            p.protocol == protocol and (p.port is None or p.port == name
                                        or (isinstance(p.port, int) and p.port <= 53 <= (p.end_port or p.port)))
            for p in ports):
        return False
    if rule.rule.peers is None:
        return True
    by_name = compiled.topology.namespace_by_name
    ns_labels = by_name[DNS_NAMESPACE].labels if DNS_NAMESPACE in by_name else \
        Labels({NAMESPACE_NAME_LABEL: DNS_NAMESPACE})
    for peer in rule.rule.peers:
        if peer.ip_block is not None:
            continue  # a CoreDNS Pod IP is unknown here; only selectors can be judged
        if peer.namespace_selector is None and rule.policy.namespace != DNS_NAMESPACE:
            continue
        if peer.namespace_selector is not None and not peer.namespace_selector.matches(ns_labels):
            continue
        if peer.pod_selector is None or peer.pod_selector.matches(DNS_POD_LABELS):
            return True
    return False


def _dns_blocked_assumed(compiled: CompiledCluster, cls: PodClass) -> list[str]:
    rules = compiled.policies.egress_rules(cls.id)
    return [f"{protocol_label(proto)} {port}" for proto, port, name in DNS_PORTS
            if not any(_rule_reaches_assumed_dns(compiled, r, proto, name) for r in rules)]


def check_dns_egress(ctx: CheckContext) -> Iterator[Finding]:
    """NM-SVC-008: Pods whose egress policies cut them off from the cluster DNS (UDP/TCP 53)."""
    compiled = compiled_cluster_of(ctx)
    engine = compiled.policies
    svc = dns_service(compiled)
    groups: dict[tuple[tuple[NetworkPolicy, ...], tuple[CiliumPolicy, ...], tuple[str, ...]], list[PodClass]] = {}
    # Admin tiers can deny DNS to classes no NetworkPolicy isolates; they are judged with the real DNS Service
    # only (the assumed CoreDNS Pods have no class the admin rules could be compiled against).
    admin_egress = engine.tiered(EGRESS) if svc is not None else 0
    for class_id in iter_members(engine.isolated_egress | admin_egress):
        cls = engine.classes.classes[class_id]
        if not cls.addressed:
            continue
        if svc is not None and svc.namespace == cls.namespace and svc.selector and all(
                cls.labels.get(k) == v for k, v in svc.selector.items()):
            continue  # the DNS Pods themselves
        if svc is None and engine.admin_touched(EGRESS, class_id):
            continue
        blocked = _dns_blocked_real(compiled, cls, svc) if svc is not None else _dns_blocked_assumed(compiled, cls)
        if blocked:
            groups.setdefault((engine.isolating(class_id, EGRESS), engine.cilium.default_deny(EGRESS, class_id),
                               tuple(blocked)), []).append(cls)
    target = f"Service {svc.qualified_name}" if svc is not None else \
        "cluster DNS (assumed: kube-system Pods labelled k8s-app=kube-dns)"
    for (policies, cilium, ports), classes in groups.items():
        admins, ending = _admin_deciders(compiled, classes, svc) if svc is not None else ([], [])
        isolating = ([_policy_names(policies)] if policies else []) + [p.label for p in cilium]
        why = " and ".join(
            ([f"are isolated for egress by {' and '.join(isolating)}"] if isolating else [])
            + ([f"are denied by {', '.join(f'{r.policy.label} {r.label}' for r in admins)}"] if admins else [])
            + ([(f"are denied at the end of a Calico tier whose policies apply to them "
                 f"({', '.join(p.label for p in ending)})")] if ending else []))
        yield Finding(
            "NM-SVC-008", Severity.ERROR, "pod-to-service",
            f"Pods {_pods_text(compiled, classes)} {why or 'are isolated for egress'} and cannot "
            f"reach {target} on {' and '.join(ports)}: name lookups fail. "
            + (("Narrow the denying Calico rule, or allow DNS ahead of it (an earlier rule, a lower policy order, "
                "or an earlier tier)" if any(isinstance(r, CalicoTierRule) for r in admins) else
                "Narrow the denying admin rule, or allow DNS ahead of it (an earlier rule or a lower priority "
                "value)") if admins else
               "Add an egress rule allowing UDP and TCP 53 to the DNS Pods in a policy of that tier (protocol UDP "
               "and TCP, destination namespaceSelector projectcalico.org/name == \"kube-system\", selector "
               "k8s-app == \"kube-dns\", ports [53])" if ending and not policies else
               "Add an egress rule allowing UDP and TCP 53 to the DNS Pods (namespaceSelector "
               "kubernetes.io/metadata.name: kube-system, podSelector k8s-app: kube-dns)"),
            tuple(str(p.ref) for p in policies) + tuple(p.ref for p in cilium)
            + tuple(dict.fromkeys(str(r.policy.ref) for r in admins)) + tuple(str(p.ref) for p in ending),
            tuple(p.source for p in policies) + tuple(p.source for p in cilium) + tuple(r.source for r in admins)
            + tuple(p.source for p in ending),
            {"pods": sum(len(c.pods) for c in classes), "ports": list(ports)})


def _admin_deciders(compiled: CompiledCluster, classes: list[PodClass], svc: Service,
                    ) -> tuple[list[TierRule | CalicoTierRule | CiliumTierRule], list[CalicoPolicy]]:
    """What denies some of ``classes`` their DNS lookups: the admin and Calico Deny rules, and the Calico policies
    of a tier whose end (defaultAction Deny) denied them."""
    engine = compiled.policies
    out: dict[TierRule | CalicoTierRule | CiliumTierRule, None] = {}
    ending: dict[int, CalicoPolicy] = {}
    for cls in classes:
        for sp in svc.ports:
            if sp.port != DNS_PORT or sp.protocol not in (UDP, TCP):
                continue
            for b in compiled.backends(svc, sp):
                if b.port is None:
                    continue
                target = compiled.class_of(b.pod) if b.pod is not None else None
                peer = target.id if target is not None and target.subject_to_policy else b.address
                verdict = engine.verdict(EGRESS, cls.id, peer, target, sp.protocol, b.port)
                if not verdict.allowed and verdict.admin_rule is not None:
                    out[verdict.admin_rule] = None
                elif not verdict.allowed:
                    ending.update((id(p), p) for p in verdict.tier_end if isinstance(p, CalicoPolicy))
    return list(out), list(ending.values())


def _has_client(compiled: CompiledCluster, backend_class: PodClass, protocol: int, port: int) -> bool:
    engine = compiled.policies
    if not backend_class.subject_to_policy:
        return True
    if engine.admin_touched(INGRESS, backend_class.id):
        # Through every tier: some Pod class let in whose egress lets it out, or some address let in.
        spaces = engine.ingress_spaces(backend_class) or {}
        if any(space.contains(protocol, port) and engine.verdict(EGRESS, source, backend_class.id, backend_class,
                                                                 protocol, port).allowed
               for source, space in spaces.items()):
            return True
        return engine.address_space(INGRESS, backend_class, ALL_ADDRESSES)[0].contains(protocol, port)
    if not engine.isolating(backend_class.id, INGRESS):
        return True
    for rule in engine.ingress_rules(backend_class.id):
        if not engine.resolve_ports(rule.rule.ports, backend_class).contains(protocol, port):
            continue
        if rule.peer_addresses:
            return True  # nodes or outside clients an ipBlock admits
        for source in iter_members(rule.peer_classes):
            if engine.verdict(EGRESS, source, backend_class.id, backend_class, protocol, port).allowed:
                return True
    return False


# What an NM-SVC-009 finding says of endpoints without a client: its text after the Service port's name (up to
# the unseen-Pods hint), and the objects and sources after the Service's own.
_Unserved = tuple[str, tuple[str, ...], tuple[SourceSpan, ...]]


def _unserved(compiled: CompiledCluster, served: Mapping[tuple[int, int], PodClass], protocol: int,
              has_client: dict[tuple[int, int, int], bool]) -> _Unserved | None:
    """None when some endpoint class of ``served`` (by (class id, targetPort)) has a client on ``protocol``,
    else what the finding says of them."""
    for (_, port), cls in served.items():
        key = (cls.id, protocol, port)
        found = has_client.get(key)
        if found is None:
            found = has_client[key] = _has_client(compiled, cls, protocol, port)
        if found:
            return None
    classes = list({cls.id: cls for cls in served.values()}.values())
    # Told apart by identity: hashing a policy hashes every field of it, rules and spans included.
    policies = list({id(p): p for c in classes for p in compiled.policies.isolating(c.id, INGRESS)}.values())
    cilium = compiled.policies.cilium
    admins: list[AdminNetworkPolicy | CalicoPolicy | CiliumPolicy] = list(dict.fromkeys(
        r.policy for c in classes for tier in compiled.policies.tiers
        if tier.first_match for r in tier.rules(INGRESS, c.id)
        if isinstance(r, (TierRule, CalicoTierRule, CiliumTierRule))))
    admins += dict.fromkeys(p for c in classes for p in cilium.default_deny(INGRESS, c.id) if p not in admins)
    named = ([f"NetworkPolicies {_policy_names(policies)}"] if policies else []) + [p.label for p in admins]
    return (f"{' and '.join(named)} leave its endpoints ({_pods_text(compiled, classes)}) with no allowed client",
            tuple(str(p.ref) for p in policies) + tuple(str(p.ref) for p in admins),
            tuple(p.source for p in policies) + tuple(p.source for p in admins))


def check_service_clients(ctx: CheckContext) -> Iterator[Finding]:
    """NM-SVC-009: Services whose endpoints' ingress policies admit no client at all."""
    compiled = compiled_cluster_of(ctx)
    if not compiled.topology.network_policies and not compiled.topology.admin_policies \
            and not compiled.topology.calico_policies and not compiled.topology.cilium_policies:
        return
    # Whether a class has a client on a port depends on the class alone: answered once per (class, port), not
    # once per endpoint (a Service's endpoints are mostly Pods of one class).
    has_client: dict[tuple[int, int, int], bool] = {}
    # Service ports with equal endpoints share one endpoint_classes mapping (Services sharing a selector): what
    # their findings say is worked out once per mapping (``compiled`` keeps them, so their ids stay theirs).
    unserved: dict[int, _Unserved | None] = {}
    for svc in compiled.topology.services:
        for sp in svc.ports:
            served = compiled.endpoint_classes(svc, sp)
            if not served:
                continue
            if id(served) in unserved:
                found = unserved[id(served)]
            else:
                found = unserved[id(served)] = _unserved(compiled, served, sp.protocol, has_client)
            if found is None:
                continue
            text, objects, sources = found
            yield Finding(
                "NM-SVC-009", Severity.WARNING, "pod-to-service",
                f"Service {svc.qualified_name} port {sp.name or sp.port} ({protocol_label(sp.protocol)}): "
                f"{text}{compiled.topology.unseen_pods_hint(svc.namespace)}. Add an ingress rule for the clients "
                f"that should use it", (str(svc.ref),) + objects, (sp.source,) + sources)


def check_ingress_controller_policies(ctx: CheckContext) -> Iterator[Finding]:
    """NM-EXT-009: NetworkPolicies that keep an Ingress's controller from its backend Pods."""
    compiled = compiled_cluster_of(ctx)
    t = compiled.topology
    if not t.network_policies and not t.admin_policies and not t.calico_policies and not t.cilium_policies:
        return
    for ing in t.ingresses:
        controllers = _controller_pods(ctx, ing)
        if not controllers:
            continue  # NM-EXT-010 says why no controller serves it (its controllers may have no Pods)
        for backend in ing.backends:
            svc = t.service_by_key.get((ing.namespace, backend.service))
            if svc is None:
                continue  # NM-EXT-006 reports it
            sp = next((p for p in svc.ports if p.port == backend.port or (p.name and p.name == backend.port)), None)
            if sp is None:
                continue  # NM-EXT-007 reports it
            blocked = _blocked_controllers(compiled, svc, sp, controllers)
            if blocked:
                policies = tuple(dict.fromkeys(p for _, _, ps in blocked for p in ps))
                pod_name, controller_name, _ = blocked[0]
                yield Finding(
                    "NM-EXT-009", Severity.ERROR, "external-to-service",
                    f"Ingress {ing.qualified_name} → Service {svc.qualified_name} port {backend.port}: "
                    f"{_policies_text(policies)} block the ingress controller (e.g. {controller_name} → "
                    f"{pod_name} on {protocol_label(sp.protocol)}); allow ingress from the controller's namespace and "
                    f"Pods", (str(ing.ref), str(svc.ref)) + tuple(str(p.ref) for p in policies),
                    (backend.source,) + tuple(p.source for p in policies))


def _controller_pods(ctx: CheckContext, ing: Ingress) -> list[Pod]:
    """The addressed data-plane Pods of the controllers serving ``ing``; none when no controller serves it."""
    t = ctx.topology
    found = ctx.ingress_controllers
    serving = found.serving(ing)
    if serving.problem:
        return []
    return [t.pods[i] for c in serving.controllers for i in found.data_plane(found.pods[c]) if t.pods[i].ips]


def _blocked_controllers(compiled: CompiledCluster, svc: Service, sp: ServicePort,
                         controllers: list[Pod],
                         ) -> list[tuple[str, str, tuple[Decider, ...]]]:
    """(backend Pod, controller Pod, isolating policies) for each controller Pod that NetworkPolicy keeps from a
    backend of ``sp``: the backend's ingress, or else the controller's egress, denies it."""
    engine = compiled.policies
    blocked: list[tuple[str, str, tuple[Decider, ...]]] = []
    for b in compiled.backends(svc, sp):
        if b.pod is None or b.port is None:
            continue
        target = compiled.class_of(b.pod)
        for controller in controllers:
            source = compiled.class_of(controller)
            node = compiled.node_of(controller)
            peer: Peer = source.id if source.subject_to_policy else \
                (node.ips[0] if node else controller.ips[0])
            into = engine.verdict(INGRESS, target.id, peer, target, sp.protocol, b.port)
            out = engine.verdict(EGRESS, source.id, target.id if target.subject_to_policy else b.address,
                                 target, sp.protocol, b.port) if source.subject_to_policy else into
            if target.subject_to_policy and not into.allowed:
                blocked.append((b.pod.qualified_name, controller.qualified_name, _deciders(into)))
            elif not out.allowed:
                blocked.append((b.pod.qualified_name, controller.qualified_name, _deciders(out)))
    return blocked


# -- policy hygiene ------------------------------------------------------------------------------------------------


def check_policies_select_pods(ctx: CheckContext) -> Iterator[Finding]:
    """NM-POL-001: NetworkPolicies whose podSelector matches no Pod of their namespace."""
    engine = compiled_cluster_of(ctx).policies
    c = engine.classes
    for policy in ctx.topology.network_policies:
        if c.in_namespace.get(policy.namespace, 0) & c.pod_labels.select(policy.pod_selector):
            continue
        pending = ctx.topology.pending_selected(policy.namespace, policy.pod_selector)
        why = (f": {pending_clause(pending)}; the selector is right, let them run" if pending  # the selector is right
               else f"{ctx.topology.unseen_pods_hint(policy.namespace)}; check its labels and namespace")
        yield Finding("NM-POL-001", Severity.WARNING, "pod-to-pod",
                      f"NetworkPolicy {policy.qualified_name} selects no {'running ' if pending else ''}Pod "
                      f"(podSelector {policy.pod_selector} in namespace {policy.namespace}){why}",
                      (str(policy.ref),), (policy.source,))


def _peer_namespaces_and_pods(engine: PolicyEngine, policy: NetworkPolicy, peer: PolicyPeer) -> tuple[int, int]:
    """Classes in the peer's namespaces, and those of them its podSelector matches (Pending Pods count)."""
    c = engine.classes
    namespaces = c.in_namespace.get(policy.namespace, 0) if peer.namespace_selector is None else \
        c.namespace_labels.select(peer.namespace_selector)
    pods = c.pod_labels.everything if peer.pod_selector is None else c.pod_labels.select(peer.pod_selector)
    return namespaces, namespaces & pods


def check_peers_select_something(ctx: CheckContext) -> Iterator[Finding]:
    """A peer whose namespaces have Pods in the input but none it selects. A namespaceSelector matching no
    namespace with Pods is left alone: the input may simply not describe that namespace (kube-system, say)."""
    engine = compiled_cluster_of(ctx).policies
    for policy in ctx.topology.network_policies:
        for direction, rules in ((INGRESS, policy.ingress), (EGRESS, policy.egress)):
            for index, rule in enumerate(rules):
                for peer in rule.peers or ():
                    if peer.ip_block is not None:
                        continue
                    namespaces, selected = _peer_namespaces_and_pods(engine, policy, peer)
                    if selected or not namespaces:
                        continue
                    hint = ctx.topology.unseen_pods_hint(policy.namespace) if peer.namespace_selector is None else ""
                    parts = [f"namespaceSelector {peer.namespace_selector}" if peer.namespace_selector is not None
                             else f"namespace {policy.namespace}",
                             f"podSelector {peer.pod_selector}" if peer.pod_selector is not None else "every Pod"]
                    yield Finding("NM-POL-002", Severity.WARNING, "pod-to-pod",
                                  f"NetworkPolicy {policy.qualified_name} {direction} rule {index + 1}: "
                                  f"the peer ({', '.join(parts)}) matches no Pod{hint}; fix its labels or remove it",
                                  (str(policy.ref),), (peer.source,))


def _named(ports: tuple[PolicyPort, ...] | None) -> bool:
    return ports is not None and all(isinstance(p.port, str) for p in ports)


def check_rules_can_match(ctx: CheckContext) -> Iterator[Finding]:
    """NM-POL-003: rules that can never match: their named ports exist on no Pod they could apply to."""
    compiled = compiled_cluster_of(ctx)
    engine = compiled.policies
    classes = engine.classes.classes
    for policy, policy_rules in engine.rules.items():
        selected = engine.selected[policy]
        for rule in policy_rules:
            if not _named(rule.rule.ports):
                continue
            # Ingress named ports resolve on the selected Pods; egress ones on the peer Pods.
            where = selected if rule.direction == INGRESS else rule.peer_classes
            if not where:
                continue
            if any(engine.resolve_ports(rule.rule.ports, classes[i]) for i in iter_members(where)):
                continue
            names = ", ".join(f"{protocol_label(p.protocol)} {p.port}" for p in rule.rule.ports or ())
            yield Finding("NM-POL-003", Severity.WARNING, "pod-to-pod",
                          f"NetworkPolicy {policy.qualified_name} {rule.label}: no Pod it applies to "
                          f"declares a port named {names}, so the rule never matches; fix the port names",
                          (str(policy.ref),), (rule.rule.source,))


def _covers(engine: PolicyEngine, broad: CompiledRule, narrow: CompiledRule, destinations: int) -> bool:
    if narrow.peer_classes & ~broad.peer_classes or not narrow.peer_addresses <= broad.peer_addresses:
        return False
    if broad.rule.ports is None:
        return True
    classes = engine.classes.classes
    if narrow.peer_addresses and not engine.resolve_ports(narrow.rule.ports, None).issubset(
            engine.resolve_ports(broad.rule.ports, None)):
        return False
    return all(engine.resolve_ports(narrow.rule.ports, classes[i]).issubset(
        engine.resolve_ports(broad.rule.ports, classes[i])) for i in iter_members(destinations))


def check_shadowed_rules(ctx: CheckContext) -> Iterator[Finding]:
    """NM-POL-004: rules shadowed by a rule of the same (or a broader) policy that already allows all they
    allow."""
    engine = compiled_cluster_of(ctx).policies
    # By identity: hashing a policy would look up every source span in it, reading its document again (for
    # thousands of policies whose locations no finding shows).
    order = {id(p): i for i, p in enumerate(ctx.topology.network_policies)}
    by_namespace: dict[tuple[str, str], list[CompiledRule]] = {}
    for policy, policy_rules in engine.rules.items():
        for rule in policy_rules:
            by_namespace.setdefault((policy.namespace, rule.direction), []).append(rule)
    for rules in by_namespace.values():
        for narrow in rules:
            selected = engine.selected[narrow.policy]
            if not selected or (not narrow.peer_classes and not narrow.peer_addresses):
                continue
            for broad in rules:
                if broad is narrow or selected & ~engine.selected[broad.policy]:
                    continue
                destinations = selected if narrow.direction == INGRESS else narrow.peer_classes
                if not _covers(engine, broad, narrow, destinations):
                    continue
                mutual = _covers(engine, narrow, broad, destinations) and \
                    engine.selected[broad.policy] == selected
                if mutual and (order[id(broad.policy)], broad.index) > (order[id(narrow.policy)], narrow.index):
                    continue  # identical rules: report only the later one
                spans: tuple[SourceSpan, ...] = (narrow.rule.source, broad.rule.source)
                yield Finding("NM-POL-004", Severity.INFO, "pod-to-pod",
                              f"NetworkPolicy {narrow.policy.qualified_name} {narrow.label} is "
                              f"shadowed by {broad.policy.qualified_name} {broad.label}, which "
                              f"allows everything it allows for the same Pods; remove or narrow one",
                              (str(narrow.policy.ref), str(broad.policy.ref)), spans)
                break


POLICY_CHECKS = (
    check_dns_egress,
    check_service_clients,
    check_ingress_controller_policies,
    check_policies_select_pods,
    check_peers_select_something,
    check_rules_can_match,
    check_shadowed_rules,
) + ADMIN_CHECKS + CILIUM_CHECKS + CALICO_CHECKS
