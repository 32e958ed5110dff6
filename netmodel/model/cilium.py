"""Cilium policies (``cilium.io/v2`` CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy) as typed objects.

The reader is :mod:`netmodel.model.read_cilium`; the engine (:mod:`netmodel.analyze.policy.cilium`) compiles these
against Pod classes. Selectors are kept with Cilium's label keys normalized (the ``k8s:``/``any:`` source prefixes
dropped) and, for a CiliumNetworkPolicy, already scoped to its namespace where Cilium scopes them
(docs/input.md, "Cilium policies").
"""

from __future__ import annotations

from dataclasses import dataclass

from netmodel.errors import SourceSpan
from netmodel.model.labels import LabelSelector
from netmodel.model.objects import PolicyPort, Service
from netmodel.sets import IPNetwork

CNP = "CiliumNetworkPolicy"
CCNP = "CiliumClusterwideNetworkPolicy"

# The label keys Cilium gives every Kubernetes endpoint besides the Pod's own labels (cilium/cilium
# pkg/k8s/utils/utils.go, SanitizePodLabels: the namespace's name and labels, the Pod's spec.serviceAccountName and
# the agent's cluster name, which the input does not give).
NAMESPACE_KEY = "io.kubernetes.pod.namespace"
NAMESPACE_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."
SERVICE_ACCOUNT_KEY = "io.cilium.k8s.policy.serviceaccount"
CLUSTER_KEY = "io.cilium.k8s.policy.cluster"

# fromEntities / toEntities (Cilium "Entities based"); world-ipv4/-ipv6 are world by family.
ENTITIES = ("all", "world", "world-ipv4", "world-ipv6", "cluster", "host", "remote-node", "kube-apiserver",
            "ingress", "init", "health", "unmanaged")


@dataclass(frozen=True, slots=True)
class CiliumCIDR:
    """One fromCIDR/toCIDR entry, or a CIDRSet entry with its ``except`` list."""

    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()


@dataclass(frozen=True, slots=True)
class CiliumServiceRef:
    """One toServices entry: a Service by name (``k8sService``) or by label selector (``k8sServiceSelector``)
    in ``namespace`` ("" = any namespace)."""

    name: str | None
    selector: LabelSelector | None
    namespace: str

    def selects(self, service: Service) -> bool:
        """Whether this entry names ``service``: in its namespace (if it names one), by name or by labels."""
        return (not self.namespace or service.namespace == self.namespace) \
            and (self.name is None or service.name == self.name) \
            and (self.selector is None or self.selector.matches(service.labels))


@dataclass(frozen=True, slots=True)
class CiliumRule:
    """One entry of ``ingress``, ``ingressDeny``, ``egress`` or ``egressDeny``.

    Peer fields are None when absent; an explicitly empty list matches none. A rule with no peer field matches
    every peer on its ports (``wildcard``) when it names ports (toPorts or icmps), and nothing when it names none
    (the empty rule ``{}``: it only puts the endpoint in default deny). ``ports`` None means every port; ``unjudged`` names what in the rule netmodel cannot judge
    offline (L7 rules, toFQDNs, ...): answers the rule could change are marked.
    """

    section: str  # ingress | ingressDeny | egress | egressDeny
    index: int
    spec_index: int | None  # position in specs[], None for spec
    endpoints: tuple[LabelSelector, ...] | None
    entities: tuple[str, ...] | None
    cidrs: tuple[CiliumCIDR, ...] | None
    services: tuple[CiliumServiceRef, ...] | None
    nodes: tuple[LabelSelector, ...] | None
    ports: tuple[PolicyPort, ...] | None
    unjudged: tuple[str, ...]
    wildcard: bool  # no peer field but ports: every peer on those ports (Cilium's L3 wildcard)
    source: SourceSpan
    # The IP protocols (ICMP 1, ICMPv6 58) whose echo request ``icmps`` names; netmodel judges ICMP only at node
    # Firewalls (host policies, model/cilium_host.py): Pod flows are TCP, UDP and SCTP.
    icmp_echo: tuple[int, ...] = ()
    # Whether everything ``unjudged`` can only narrow what netmodel lets the rule allow (an allow rule's L7 rules,
    # TLS and listener fields, authentication, requirements): then no answer netmodel denies can change.
    narrows_only: bool = False

    @property
    def direction(self) -> str:
        """ingress or egress."""
        return "ingress" if self.section.startswith("ingress") else "egress"

    @property
    def deny(self) -> bool:
        """Whether the rule denies (ingressDeny, egressDeny)."""
        return self.section.endswith("Deny")

    @property
    def label(self) -> str:
        """``specs[1].ingressDeny rule 2`` (1-based rule number, as the trace numbers rules)."""
        where = f"specs[{self.spec_index}]." if self.spec_index is not None else ""
        return f"{where}{self.section} rule {self.index + 1}"


@dataclass(frozen=True, slots=True)
class CiliumSpec:
    """One rule of a Cilium policy (``spec`` or an entry of ``specs``): whom it selects and its sections."""

    endpoint_selector: LabelSelector | None  # normalized; a CNP's is scoped to its namespace
    node_selector: LabelSelector | None  # host policy (CiliumClusterwideNetworkPolicy only)
    rules: tuple[CiliumRule, ...]
    default_deny_ingress: bool  # enableDefaultDeny.ingress, defaulted (true when an ingress section has rules)
    default_deny_egress: bool
    has_ingress: bool  # ingress or ingressDeny holds a rule
    has_egress: bool
    source: SourceSpan
    # What in endpointSelector netmodel cannot judge offline (a reserved or cluster-name key): it selects no Pod
    # netmodel models, and NM-INPUT-045 says so at the selector.
    subject_unjudged: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CiliumPolicy:
    """A CiliumNetworkPolicy (``namespace`` set) or CiliumClusterwideNetworkPolicy (``namespace`` "")."""

    kind: str
    namespace: str
    name: str
    specs: tuple[CiliumSpec, ...]
    source: SourceSpan
    priority: None = None  # the tier trace reads it; Cilium policies have no priority

    @property
    def selects_by_service_account(self) -> bool:
        """Whether an endpoint selector of the policy (its subjects' or a rule's peers') names the service account
        key, so that Pods of different accounts must be told apart."""
        selectors = [s.endpoint_selector for s in self.specs if s.endpoint_selector is not None]
        selectors += [sel for s in self.specs for r in s.rules for sel in r.endpoints or ()]
        return any(k == SERVICE_ACCOUNT_KEY for sel in selectors for k, _ in sel.match_labels) or \
            any(r.key == SERVICE_ACCOUNT_KEY for sel in selectors for r in sel.match_expressions)

    @property
    def qualified_name(self) -> str:
        """``NS/NAME`` (``NAME`` for a clusterwide policy)."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def label(self) -> str:
        """``CiliumNetworkPolicy NS/NAME``."""
        return f"{self.kind} {self.qualified_name}"

    @property
    def ref(self) -> str:
        """``KIND/NS/NAME`` (``KIND/NAME`` when clusterwide)."""
        return f"{self.kind}/{self.qualified_name}"


__all__ = ["CCNP", "CLUSTER_KEY", "CNP", "ENTITIES", "NAMESPACE_KEY", "NAMESPACE_LABELS_PREFIX",
           "SERVICE_ACCOUNT_KEY", "CiliumCIDR", "CiliumPolicy", "CiliumRule", "CiliumServiceRef", "CiliumSpec"]
