"""The checks of docs/checks.md, as one explicit, ordered registry.

Each check is a plain function ``check_x(ctx) -> Iterable[Finding]`` that reads a :class:`CheckContext` and
never changes it. :data:`CHECKS` is the order they run in (and the order findings of equal rank are reported
in); callers may pass their own tuple to :func:`run_checks`. A whole check — these, the NetworkPolicy checks,
Expectations and suppressions — is run by :mod:`netmodel.pipeline`.

Every ID and its severity is listed in docs/checks.md.

>>> [c.__name__ for c in CHECKS][:2]
['check_input_notes', 'check_container_port_clashes']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from netmodel.analyze.checks import (
    external,
    gateway,
    loopback,
    notes,
    pod_to_pod,
    pod_to_service,
    ports,
)
from netmodel.analyze.findings import Finding
from netmodel.compile.context import CheckContext

Check = Callable[[CheckContext], Iterable[Finding]]

CHECKS: tuple[Check, ...] = (
    notes.check_input_notes,
    # loopback
    loopback.check_container_port_clashes,
    loopback.check_host_port_clashes,
    loopback.check_node_component_clashes,
    loopback.check_host_ports_in_node_port_range,
    # pod-to-pod
    pod_to_pod.check_node_pod_cidrs_in_cluster_range,
    pod_to_pod.check_node_pod_cidrs_disjoint,
    pod_to_pod.check_pod_cidrs_vs_service_cidrs,
    pod_to_pod.check_pod_cidrs_vs_nodes_and_networks,
    pod_to_pod.check_pod_ips,
    pod_to_pod.check_masquerade,
    pod_to_pod.check_cni_ports,
    pod_to_pod.check_native_routing,
    pod_to_pod.check_nodes_without_pod_cidr,
    # pod-to-service
    pod_to_service.check_selectors_match,
    pod_to_service.check_target_ports,
    pod_to_service.check_cluster_ips,
    pod_to_service.check_service_proxy,
    pod_to_service.check_cluster_dns,
    # external-to-service
    external.check_node_port_range,
    external.check_node_ports_reachable,
    external.check_health_check_node_ports,
    external.check_load_balancer_source_ranges,
    external.check_ingress_backends,
    external.check_ingress_controller_reachable,
    external.check_ingress_classes,
    *gateway.GATEWAY_CHECKS,
    # ports
    ports.check_port_matrix,
    ports.check_external_etcd,
    ports.check_unfiltered_nodes,
)


def run_checks(ctx: CheckContext, checks: Iterable[Check] = CHECKS) -> list[Finding]:
    """Every finding of every check, in registry order (the result object sorts them for output)."""
    return [finding for check in checks for finding in check(ctx)]


__all__ = ["CHECKS", "Check", "CheckContext", "run_checks"]
