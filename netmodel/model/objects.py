"""The typed, validated, immutable resources of a topology.

Every value here has been checked once, at validation: CIDRs are networks, ports are integers in range,
protocols are IP protocol numbers, selectors are :class:`LabelSelector`. Nothing downstream re-parses strings.
Each object keeps the :class:`SourceSpan` it came from so findings can point at the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from netmodel.errors import SourceSpan
from netmodel.model.calico_selector import Selector
from netmodel.model.labels import NO_LABELS, Labels, LabelSelector
from netmodel.sets import AddressSet, IntervalSet, IPAddress, IPNetwork

NOWHERE = SourceSpan("<default>", 0, 0)


def qualified_name(namespace: str, name: str) -> str:
    """How messages and references name an object: ``NAMESPACE/NAME`` (``NAME`` without one).

    >>> qualified_name("shop", "web-0"), qualified_name("", "cp-1")
    ('shop/web-0', 'cp-1')
    """
    return f"{namespace}/{name}" if namespace else name


class _NamespacedFields(Protocol):
    @property
    def namespace(self) -> str: ...

    @property
    def name(self) -> str: ...


class Namespaced:
    """Gives an object with ``namespace`` and ``name`` its :attr:`qualified_name`."""

    __slots__ = ()

    @property
    def qualified_name(self: _NamespacedFields) -> str:
        """``NAMESPACE/NAME``, as ``kubectl`` and the messages of every check write it."""
        return qualified_name(self.namespace, self.name)


@dataclass(frozen=True, slots=True, order=True)
class ObjectRef(Namespaced):
    """Names an object: ``Pod/shop/web-0``, ``Node/cp-1``."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        # qualified_name written out: references are printed about half a million times at the envelope.
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


# -- nodes ---------------------------------------------------------------------------------------------------------

CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
# Well-known label: cloud load balancers (the service controller of kubernetes/cloud-provider) leave such nodes out
# of their backend pools; kubeadm sets it on every control-plane node it creates.
EXCLUDE_FROM_LOAD_BALANCERS = "node.kubernetes.io/exclude-from-external-load-balancers"
# The Cluster Autoscaler's taint on a node it is draining; the service controller drops such nodes too.
TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler"


@dataclass(frozen=True, slots=True)
class Taint:
    """A node taint: Pods without a matching toleration are kept off (NoSchedule) or evicted (NoExecute)."""

    key: str
    value: str
    effect: str  # NoSchedule | PreferNoSchedule | NoExecute


@dataclass(frozen=True, slots=True)
class NodeAddress:
    """One entry of a Node's ``status.addresses``."""

    type: str  # InternalIP | ExternalIP | Hostname | ...
    address: IPAddress


@dataclass(frozen=True, slots=True)
class Node:
    """A Kubernetes Node: its labels, pod CIDRs, taints and addresses (``implicit`` when netmodel made it
    up)."""

    name: str
    labels: Labels
    pod_cidrs: tuple[IPNetwork, ...]
    taints: tuple[Taint, ...]
    addresses: tuple[NodeAddress, ...]
    unschedulable: bool
    source: SourceSpan
    implicit: bool = False  # made up: the input had no Node, or no Node of a name a Pod's spec.nodeName gives
    annotations: Labels = NO_LABELS  # read for netmodel.io/skip suppressions
    pod_cidrs_allocated: bool = False  # netmodel chose pod_cidrs (the input gave no spec.podCIDR(s))
    # Whether the node carries a control-plane (or legacy master) role label: derived from ``labels`` once (the
    # checks and the port matrix ask over 100,000 times at 5,000 nodes), not an argument, and left out of
    # equality, hashing and repr.
    is_control_plane: bool = field(init=False, repr=False, compare=False)
    # Every address of the node in the order given, and its InternalIP addresses: derived from ``addresses`` once
    # (60,000 questions per envelope check), like is_control_plane.
    ips: tuple[IPAddress, ...] = field(init=False, repr=False, compare=False)
    internal_ips: tuple[IPAddress, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        labels = self.labels
        object.__setattr__(self, "is_control_plane", any(label in labels for label in CONTROL_PLANE_LABELS))
        object.__setattr__(self, "ips", tuple(a.address for a in self.addresses))
        object.__setattr__(self, "internal_ips", tuple(a.address for a in self.addresses if a.type == "InternalIP"))

    @property
    def ref(self) -> ObjectRef:
        """``Node/NAME``."""
        return ObjectRef("Node", "", self.name)

    @property
    def role(self) -> str:
        """``control-plane`` or ``worker``."""
        return "control-plane" if self.is_control_plane else "worker"

    @property
    def serves_load_balancers(self) -> bool:
        """Whether load balancers send to this node, so networks that use NodePorts must reach it there.

        The one rule for the port matrix's NodePort row and NM-EXT-003/004 (docs/check-semantics.md). kube-proxy
        opens NodePorts on every node; what must be reachable is what a load balancer (or a client told where
        the NodePorts are) uses. The service controller of kubernetes/cloud-provider leaves out nodes labelled
        ``node.kubernetes.io/exclude-from-external-load-balancers`` (a value that parses as false keeps the
        node) and nodes tainted ``ToBeDeletedByClusterAutoscaler``. kubeadm labels its control-plane nodes so
        and taints them ``node-role.kubernetes.io/control-plane:NoSchedule``; a control-plane node that still
        carries that taint (NoSchedule or NoExecute) is taken as such a node when the input leaves the label
        out. A control-plane node without either (k3s servers, single-node clusters) serves like a worker.

        >>> Node("w", {}, (), (), (), False, NOWHERE).serves_load_balancers
        True
        >>> Node("w", {EXCLUDE_FROM_LOAD_BALANCERS: "false"}, (), (), (), False, NOWHERE).serves_load_balancers
        True
        >>> Node("cp", {CONTROL_PLANE_LABELS[0]: ""}, (), (Taint(CONTROL_PLANE_LABELS[0], "", "NoSchedule"),),
        ...      (), False, NOWHERE).serves_load_balancers
        False
        """
        value = self.labels.get(EXCLUDE_FROM_LOAD_BALANCERS)
        if value is not None:
            return value in ("0", "f", "F", "false", "FALSE", "False")  # Go's ParseBool false; anything else excludes
        if any(t.key == TO_BE_DELETED_TAINT for t in self.taints):
            return False
        return not (self.is_control_plane and any(
            t.key in CONTROL_PLANE_LABELS and t.effect in ("NoSchedule", "NoExecute") for t in self.taints))

    @property
    def external_ips(self) -> tuple[IPAddress, ...]:
        """The node's ExternalIP addresses."""
        return tuple(a.address for a in self.addresses if a.type == "ExternalIP")


# -- pods and workloads --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """A declared container port, with the hostPort (and hostIP) it takes on the node, if any."""

    name: str  # "" when unnamed
    port: int
    protocol: int  # IP protocol number
    host_port: int | None
    host_ip: str
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class Container:
    """One container of a Pod: its ports, and the image and arguments that can name an ingress controller."""

    name: str
    ports: tuple[ContainerPort, ...]
    source: SourceSpan
    image: str = ""
    args: tuple[str, ...] = ()  # command then args, the string items only (they name an ingress controller)


# A hostIP that binds every address of the node: a host port claimed on it clashes with any claim of the port.
WILDCARD_HOST_IPS = ("", "0.0.0.0", "::")


def claimed_host_ports(containers: tuple[Container, ...], host_network: bool) -> list[tuple[int, ContainerPort]]:
    """The ports a Pod with these containers takes on its node's own addresses, each with the port that declares
    it: every container port of a hostNetwork Pod (its hostPort is its containerPort), else each hostPort. The
    kubelet binds these, kube-scheduler's NodePorts filter keeps two claims of one port off one node
    (placement.Scheduler), and NM-LOOP-002 reports the Pods placed on one node anyway."""
    out = []
    for container in containers:
        for cp in container.ports:
            if host_network:
                out.append((cp.host_port or cp.port, cp))
            elif cp.host_port is not None:
                out.append((cp.host_port, cp))
    return out


def host_ips_overlap(a: str, b: str) -> bool:
    """Whether two claims of one host port and protocol, on these hostIPs, clash: a wildcard clashes with
    everything, two specific addresses only when equal (kube-scheduler's HostPortInfo)."""
    return a in WILDCARD_HOST_IPS or b in WILDCARD_HOST_IPS or a == b


@dataclass(frozen=True, slots=True)
class Toleration:
    """A Pod toleration: which taints it tolerates (see :meth:`tolerates`)."""

    key: str  # "" with operator Exists tolerates everything
    operator: str  # Equal | Exists
    value: str
    effect: str  # "" = every effect

    def tolerates(self, taint: Taint) -> bool:
        """Whether this toleration tolerates ``taint`` (effect, key and, for Equal, value)."""
        if self.effect and self.effect != taint.effect:
            return False
        if not self.key:
            return self.operator == "Exists"
        if self.key != taint.key:
            return False
        return self.operator == "Exists" or self.value == taint.value


@dataclass(frozen=True, slots=True)
class PodTemplate:
    """What a Pod or a workload's template says about networking and placement."""

    labels: Labels
    annotations: Labels
    node_name: str
    node_selector: Labels
    # requiredDuringSchedulingIgnoredDuringExecution: terms OR'ed, each term's requirements AND'ed.
    node_affinity: tuple[LabelSelector, ...]
    tolerations: tuple[Toleration, ...]
    host_network: bool
    containers: tuple[Container, ...]
    source: SourceSpan
    # spec.serviceAccountName (the deprecated spec.serviceAccount when it is absent); Kubernetes gives a Pod
    # without one the namespace's "default" (ServiceAccount admission).
    service_account: str = "default"


@dataclass(frozen=True, slots=True)
class Pod(Namespaced):
    """A Pod, placed on a node, with its addresses, containers and the workload that made it (``owner``)."""

    namespace: str
    name: str
    labels: Labels
    annotations: Labels
    node_name: str
    ips: tuple[IPAddress, ...]
    host_network: bool
    containers: tuple[Container, ...]
    owner: ObjectRef | None  # the workload that made it
    source: SourceSpan
    ips_allocated: bool = False  # netmodel chose the IPs (the input gave none)
    phase: str = ""  # status.phase as given ("" when the input has no status)
    # A Pending Pod's PodScheduled=False condition message: the cluster's scheduler placed it nowhere.
    scheduler_refusal: str = ""
    service_account: str = "default"  # spec.serviceAccountName (PodTemplate.service_account)
    # Shared by Pods whose labels, hostNetwork and containers are the same but for the containers' locations: a
    # workload's Pods (twins share their first's) and the input's Pods read alike (read_pod); by default a value
    # of this Pod's own. What is found from those fields for one such Pod holds for the others (an ingress
    # controller, the host ports it claims, how a targetPort resolves), so the checks find it once per value. A
    # `replace` of those fields must pass ``alike=None``. Left out of equality and repr.
    alike: object = field(default=None, repr=False, compare=False)
    # Every declared port of every container, derived from ``containers`` once (the checks read it over a
    # million times at the envelope): not an argument, and left out of equality, hashing and repr.
    ports: tuple[ContainerPort, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        containers = self.containers
        ports = containers[0].ports if len(containers) == 1 else tuple(p for c in containers for p in c.ports)
        object.__setattr__(self, "ports", ports)
        if self.alike is None:  # a new tuple: no other Pod holds it (an empty containers tuple is one object)
            object.__setattr__(self, "alike", (self.labels, self.host_network, containers))

    @property
    def ref(self) -> ObjectRef:
        """``Pod/NAMESPACE/NAME``."""
        return ObjectRef("Pod", self.namespace, self.name)

    def twin(self, name: str, node_name: str, ips: tuple[IPAddress, ...]) -> Pod:
        """This Pod as another replica of its workload: named ``name``, on ``node_name`` with ``ips``, every
        other field (``ports`` too) shared. Equal to ``dataclasses.replace(self, name=name, node_name=node_name,
        ips=ips)``.

        A workload's replicas differ only there, and there are 150,000 at the envelope: the dataclass's
        ``__init__`` (every field set by keyword, then ``ports`` derived again) costs twice as much. Every field
        is set here by name, so a field added to Pod must be added here too (tests/test_ownership.py compares
        each field with ``replace``'s).
        """
        pod = _new_object(Pod)
        _set_slot(pod, "namespace", self.namespace)
        _set_slot(pod, "name", name)
        _set_slot(pod, "labels", self.labels)
        _set_slot(pod, "annotations", self.annotations)
        _set_slot(pod, "node_name", node_name)
        _set_slot(pod, "ips", ips)
        _set_slot(pod, "host_network", self.host_network)
        _set_slot(pod, "containers", self.containers)
        _set_slot(pod, "owner", self.owner)
        _set_slot(pod, "source", self.source)
        _set_slot(pod, "ips_allocated", self.ips_allocated)
        _set_slot(pod, "phase", self.phase)
        _set_slot(pod, "scheduler_refusal", self.scheduler_refusal)
        _set_slot(pod, "service_account", self.service_account)
        _set_slot(pod, "alike", self.alike)
        _set_slot(pod, "ports", self.ports)
        return pod

    def named_port(self, name: str, protocol: int | None = None) -> ContainerPort | None:
        """The container port called ``name`` (of ``protocol`` when given), or None."""
        for port in self.ports:
            if port.name == name and (protocol is None or port.protocol == protocol):
                return port
        return None


_new_object = object.__new__
_set_slot = object.__setattr__  # a frozen dataclass's own fields are set so, as its generated __init__ does

# Pods in these phases have terminated: they hold no address and take no traffic (Pod lifecycle: "all containers
# in the Pod have terminated").
FINISHED_PHASES = ("Succeeded", "Failed")

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
                  "CronJob")


@dataclass(frozen=True, slots=True)
class Workload(Namespaced):
    """A Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job or CronJob and its Pod
    template."""

    kind: str
    namespace: str
    name: str
    labels: Labels
    replicas: int | None  # None for DaemonSet: one per eligible node
    template: PodTemplate
    source: SourceSpan
    annotations: Labels = NO_LABELS  # the workload's own metadata (the template's are its Pods')
    # What a StatefulSet's controller does with a Pod of the input that has one of its Pods' names
    # (placement.PodNames): it adopts it when no controller owns it and its labels match ``selector`` (None when
    # the input gives none); else it cannot make that Pod, and when ``ordered`` (podManagementPolicy
    # OrderedReady, the default; Parallel is not) none of the later ordinals either.
    selector: LabelSelector | None = None
    ordered: bool = True

    @property
    def ref(self) -> ObjectRef:
        """``KIND/NAMESPACE/NAME``."""
        return ObjectRef(self.kind, self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class Namespace:
    """A Namespace and its labels (``implicit`` when only its objects name it)."""

    name: str
    labels: Labels  # includes the implicit kubernetes.io/metadata.name
    source: SourceSpan
    implicit: bool = False


# -- services ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServicePort:
    """One port of a Service: its number, the targetPort it forwards to and its nodePort."""

    name: str
    protocol: int
    port: int
    target_port: int | str  # a number, or a container port name resolved per endpoint Pod
    node_port: int | None
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class Service(Namespaced):
    """A Service: its type, selector, ClusterIPs, ports and the addresses it is exposed on."""

    namespace: str
    name: str
    labels: Labels
    annotations: Labels
    type: str  # ClusterIP | NodePort | LoadBalancer | ExternalName
    selector: Labels | None  # None: no selector (endpoints come from EndpointSlices)
    cluster_ips: tuple[IPAddress, ...]  # empty for headless
    headless: bool
    ports: tuple[ServicePort, ...]
    external_traffic_policy: str  # Cluster | Local
    internal_traffic_policy: str
    health_check_node_port: int | None
    load_balancer_source_ranges: tuple[IPNetwork, ...]
    external_ips: tuple[IPAddress, ...]
    load_balancer_ips: tuple[IPAddress, ...]
    external_name: str
    source: SourceSpan
    cluster_ips_allocated: bool = False

    @property
    def ref(self) -> ObjectRef:
        """``Service/NAMESPACE/NAME``."""
        return ObjectRef("Service", self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class EndpointPort:
    """One port of an EndpointSlice."""

    name: str
    port: int
    protocol: int


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint of an EndpointSlice: its addresses, readiness, node and target object."""

    addresses: tuple[IPAddress, ...]
    ready: bool
    node_name: str
    target: ObjectRef | None


@dataclass(frozen=True, slots=True)
class EndpointSlice(Namespaced):
    """An EndpointSlice: endpoints of the Service ``service_name`` (those of a Service without a selector
    count)."""

    namespace: str
    name: str
    service_name: str
    endpoints: tuple[Endpoint, ...]
    ports: tuple[EndpointPort, ...]
    source: SourceSpan


# -- ingress -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IngressBackend:
    """One route of an Ingress: host and path to a Service port (by number or name)."""

    service: str
    port: int | str  # number or Service port name
    host: str
    path: str
    source: SourceSpan
    default: bool = False  # spec.defaultBackend: takes what no rule matches (every host and path)


@dataclass(frozen=True, slots=True)
class Ingress(Namespaced):
    """An Ingress: its class and the Service backends it routes to."""

    namespace: str
    name: str
    class_name: str  # "" = the default class
    backends: tuple[IngressBackend, ...]
    tls_hosts: tuple[str, ...]
    source: SourceSpan
    class_from_annotation: bool = False  # class_name is the legacy kubernetes.io/ingress.class annotation

    @property
    def ref(self) -> ObjectRef:
        """``Ingress/NAMESPACE/NAME``."""
        return ObjectRef("Ingress", self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class IngressClass:
    """An IngressClass: the controller it names, and whether it is the default class."""

    name: str
    controller: str
    is_default: bool
    source: SourceSpan


# -- network policies ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IPBlock:
    """A NetworkPolicy ``ipBlock``: the addresses of ``cidr`` outside every ``except`` range."""

    cidr: IPNetwork
    except_: tuple[IPNetwork, ...]

    @property
    def addresses(self) -> AddressSet:
        """``cidr`` minus ``except`` (an entry outside ``cidr`` removes only what the two share)."""
        return AddressSet.of_networks([self.cidr]) - AddressSet.of_networks(self.except_)


@dataclass(frozen=True, slots=True)
class PolicyPeer:
    """One ``from``/``to`` entry. Selectors present together AND; ``None`` means the field is absent."""

    pod_selector: LabelSelector | None
    namespace_selector: LabelSelector | None
    ip_block: IPBlock | None
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class PolicyPort:
    """A NetworkPolicy port: a protocol and a port (number, name or every port), or a range up to
    ``end_port``."""

    protocol: int
    port: int | str | None  # None = every port of the protocol
    end_port: int | None
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One ingress/egress rule: peers OR'ed, ports OR'ed, peers AND ports. ``None`` = all (field absent/empty)."""

    peers: tuple[PolicyPeer, ...] | None
    ports: tuple[PolicyPort, ...] | None
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class NetworkPolicy(Namespaced):
    """A NetworkPolicy: the Pods it selects, its policy types and its ingress and egress rules."""

    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: frozenset[str]  # {"Ingress", "Egress"}, after Kubernetes' defaulting
    ingress: tuple[PolicyRule, ...]
    egress: tuple[PolicyRule, ...]
    annotations: Labels
    source: SourceSpan

    @property
    def ref(self) -> ObjectRef:
        """``NetworkPolicy/NAMESPACE/NAME``."""
        return ObjectRef("NetworkPolicy", self.namespace, self.name)


# -- AdminNetworkPolicy API (policy.networking.k8s.io/v1alpha1) ---------------------------------------------------

ADMIN_ACTIONS = ("Allow", "Deny", "Pass")


@dataclass(frozen=True, slots=True)
class AdminPeer:
    """One ``from``/``to`` entry of an AdminNetworkPolicy or BaselineAdminNetworkPolicy rule: exactly one of
    ``namespaces``, ``pods``, ``nodes`` (egress), ``networks`` (egress) is set, named by ``field``.

    A ``namespaces`` peer has ``namespace_selector`` and no ``pod_selector``; a ``pods`` peer has both.
    """

    field: str
    namespace_selector: LabelSelector | None
    pod_selector: LabelSelector | None
    node_selector: LabelSelector | None
    networks: tuple[IPNetwork, ...]
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class AdminRule:
    """One rule: peers OR'ed, ports OR'ed, peers AND ports; ``ports`` None matches every port.

    ``ports`` holds ``portNumber`` and ``portRange`` entries as (protocol, port, end) and a ``namedPort`` as one
    entry per protocol with the name (the API's named port carries no protocol: it matches the container port of
    that name whatever its protocol).
    """

    name: str
    action: str  # Allow | Deny | Pass (Pass: AdminNetworkPolicy only)
    peers: tuple[AdminPeer, ...]
    ports: tuple[PolicyPort, ...] | None
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class AdminNetworkPolicy:
    """An AdminNetworkPolicy (``priority`` 0-1000) or the BaselineAdminNetworkPolicy (``priority`` None).

    The subject is the Pods (not hostNetwork) of namespaces matching ``namespace_selector`` whose labels match
    ``pod_selector``; a ``subject.namespaces`` policy has ``pod_selector`` everything.
    """

    kind: str  # AdminNetworkPolicy | BaselineAdminNetworkPolicy
    name: str
    priority: int | None
    namespace_selector: LabelSelector
    pod_selector: LabelSelector
    ingress: tuple[AdminRule, ...]
    egress: tuple[AdminRule, ...]
    source: SourceSpan
    # Fields netmodel does not evaluate (sameLabels/notSameLabels peers of the API's v0.1.0-v0.1.2): such a policy
    # is left out and every answer says so (model/build.py).
    unevaluated: tuple[str, ...] = ()

    @property
    def ref(self) -> ObjectRef:
        """The reference findings and traces use for this policy (cluster-scoped: no namespace)."""
        return ObjectRef(self.kind, "", self.name)

    @property
    def baseline(self) -> bool:
        """Whether this is the BaselineAdminNetworkPolicy (the tier after NetworkPolicy)."""
        return self.kind == "BaselineAdminNetworkPolicy"

    @property
    def label(self) -> str:
        """``AdminNetworkPolicy web-guard (priority 10)``, ``BaselineAdminNetworkPolicy default``."""
        return f"{self.kind} {self.name}" + ("" if self.priority is None else f" (priority {self.priority})")


# -- netmodel kinds ------------------------------------------------------------------------------------------------

ENTRY_POINTS = ("api", "nodeports", "ingress")


@dataclass(frozen=True, slots=True)
class OutsideNetwork:
    """A network outside the cluster (``spec.networks`` of the Cluster) and the entry points it is meant to
    use."""

    name: str
    cidrs: tuple[IPNetwork, ...]
    uses: frozenset[str]  # subset of ENTRY_POINTS
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class CniSpec:
    """The CNI: plugin, mode, encryption and the features that change what crosses the wire."""

    plugin: str  # calico | flannel | cilium | antrea | weave | other
    mode: str
    encryption: str  # none | wireguard | ipsec
    kube_proxy_replacement: bool
    typha: bool
    source: SourceSpan
    # The CNI's outbound NAT of Pod traffic (netmodel/compile/masquerade.py): "all" (every destination outside
    # the pod network, node addresses included), "except-nodes" (also not to the nodes) or "none".
    nat_outgoing: str = "except-nodes"
    # Cilium's host firewall (Helm hostFirewall.enabled): only then do host policies (nodeSelector) apply.
    host_firewall: bool = False


@dataclass(frozen=True, slots=True)
class ControlPlanePorts:
    """The ports the control-plane components listen on (kubeadm's defaults unless the Cluster says
    otherwise)."""

    apiserver: int = 6443
    etcd: IntervalSet = field(default_factory=lambda: IntervalSet.of((2379, 2380)))
    kubelet: int = 10250
    scheduler: int = 10259
    controller_manager: int = 10257


@dataclass(frozen=True, slots=True)
class ControlPlane:
    """Where clients reach the API server, the components' ports, and whether etcd runs outside the nodes."""

    endpoint_host: str  # address or DNS name clients dial; "" = the control-plane nodes
    endpoint_port: int
    ports: ControlPlanePorts
    etcd_external: bool
    etcd_endpoints: tuple[tuple[IPAddress, int], ...]
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class Cluster:
    """The cluster-wide settings: address ranges, NodePort range, CNI, kube-proxy, control plane and
    outside networks."""

    name: str
    pod_cidrs: tuple[IPNetwork, ...]
    service_cidrs: tuple[IPNetwork, ...]
    node_cidr_mask_size_v4: int
    node_cidr_mask_size_v6: int
    node_port_range: IntervalSet
    cni: CniSpec
    kube_proxy_mode: str  # iptables | ipvs | nftables | none
    masquerade_all: bool
    non_masquerade_cidrs: tuple[IPNetwork, ...] | None  # None: ip-masq-agent not deployed
    control_plane: ControlPlane
    networks: tuple[OutsideNetwork, ...]
    source: SourceSpan
    implicit: bool = False

    def network(self, name: str) -> OutsideNetwork | None:
        """The outside network called ``name``, or None."""
        return next((n for n in self.networks if n.name == name), None)


@dataclass(frozen=True, slots=True)
class IPPool:
    """A Calico IPPool (``projectcalico.org/v3`` or ``crd.projectcalico.org/v1``): a range Calico IPAM hands Pod
    addresses out of, in blocks it assigns to nodes on demand."""

    name: str
    cidr: IPNetwork
    disabled: bool  # no new addresses from it; Pods may still hold old ones
    source: SourceSpan


CALICO_ACTIONS = ("Allow", "Deny", "Log", "Pass")


@dataclass(frozen=True, slots=True)
class ServiceAccount(Namespaced):
    """A ServiceAccount (v1): only its labels matter to netmodel, which Calico's service-account selectors
    match (docs/reachability.md, "Calico service accounts")."""

    namespace: str
    name: str
    labels: Labels
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class ServiceAccountMatch:
    """A Calico rule's ``serviceAccounts``: ``names`` (any listed) AND ``selector`` over the service account's
    labels; an empty field does not restrict (projectcalico/calico api/pkg/apis/projectcalico/v3/
    policy_common.go, ServiceAccountMatch)."""

    names: tuple[str, ...] = ()
    selector: Selector | None = None


@dataclass(frozen=True, slots=True)
class CalicoNetworkSet(Namespaced):
    """A Calico ``NetworkSet`` (namespaced) or ``GlobalNetworkSet`` (``namespace`` ""): labelled networks that a
    rule's selectors match as they match endpoints (docs/reachability.md, "Calico network sets")."""

    kind: str  # NetworkSet | GlobalNetworkSet
    namespace: str
    name: str
    labels: Labels
    nets: tuple[IPNetwork, ...]
    source: SourceSpan

    @property
    def ref(self) -> ObjectRef:
        """``GlobalNetworkSet/NAME`` or ``NetworkSet/NS/NAME``."""
        return ObjectRef(self.kind, self.namespace, self.name)

    @property
    def network_name(self) -> str:
        """The name it has among the outside networks (``network:...`` in queries and the matrix)."""
        return f"globalnetworkset:{self.name}" if not self.namespace else f"networkset:{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class CalicoEntity:
    """The ``source`` or ``destination`` of a Calico rule; every field given must match (AND), an absent field
    matches everything. ``ports``/``not_ports`` carry the rule's protocol (destination side only: source ports
    are not evaluated)."""

    nets: tuple[IPNetwork, ...] = ()
    not_nets: tuple[IPNetwork, ...] = ()
    selector: Selector | None = None
    not_selector: Selector | None = None
    namespace_selector: Selector | None = None
    ports: tuple[PolicyPort, ...] | None = None
    not_ports: tuple[PolicyPort, ...] = ()
    service_accounts: ServiceAccountMatch | None = None


@dataclass(frozen=True, slots=True)
class CalicoRule:
    """One rule of a Calico NetworkPolicy or GlobalNetworkPolicy. ``protocol``/``not_protocol``: an IP protocol
    number (None: any)."""

    action: str  # Allow | Deny | Log | Pass
    protocol: int | None
    not_protocol: int | None
    source_entity: CalicoEntity
    destination_entity: CalicoEntity
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class CalicoPolicy(Namespaced):
    """A Calico ``NetworkPolicy`` (namespaced) or ``GlobalNetworkPolicy`` (``namespace`` ""), either API group.

    ``order`` None is Calico's "infinite" (applied last in its tier). ``types`` holds the directions it applies
    to, defaulted as Calico does. ``unevaluated`` lists the fields it uses that netmodel does not evaluate: such
    a policy is reported and left out, never guessed (docs/input.md, "Calico policies").
    """

    kind: str  # NetworkPolicy | GlobalNetworkPolicy
    api_version: str
    namespace: str
    name: str
    tier: str
    order: float | None
    selector: Selector
    namespace_selector: Selector | None  # GlobalNetworkPolicy only
    types: tuple[str, ...]  # ingress | egress
    ingress: tuple[CalicoRule, ...]
    egress: tuple[CalicoRule, ...]
    source: SourceSpan
    unevaluated: tuple[str, ...] = ()
    service_account_selector: Selector | None = None  # spec.serviceAccountSelector

    @property
    def ref(self) -> ObjectRef:
        """The reference findings and traces use (``GlobalNetworkPolicy/NAME``, ``NetworkPolicy/NS/NAME``)."""
        return ObjectRef(self.kind, self.namespace, self.name)

    @property
    def label(self) -> str:
        """``Calico GlobalNetworkPolicy deny-all (tier security, order 10)``."""
        order = "no order" if self.order is None else f"order {self.order:g}"
        return f"Calico {self.kind} {self.qualified_name} (tier {self.tier}, {order})"


@dataclass(frozen=True, slots=True)
class CalicoTier:
    """A Calico ``Tier``: ``order`` (lower first) and what happens to traffic a selecting policy leaves
    undecided (``default_action`` Deny or Pass)."""

    name: str
    order: float
    default_action: str
    source: SourceSpan | None  # None: a tier Calico always has and the input does not list


@dataclass(frozen=True, slots=True)
class FirewallPeer:
    """One ``from``/``to`` entry of a firewall rule; exactly one field is set."""

    cidrs: tuple[IPNetwork, ...] = ()
    network: str = ""
    node_selector: LabelSelector | None = None
    nodes: tuple[str, ...] = ()
    source: SourceSpan = NOWHERE
    # An imported cloud rule's reference to what instances carry (``aws-sg:sg-0abc``, ``gcp-tag:web``): replaced
    # by the node selections of the Firewalls carrying it before anything is compiled (model/read_cloud.py).
    member: str = ""
    # A class of addresses only the compiled cluster knows (Firewalls derived from Cilium host policies,
    # model/cilium_host.py): "cluster" (every address of the cluster) or "world" (every address outside it; with
    # ``cidrs``, those of the CIDRs outside it, as Cilium's CIDR rules match).
    entity: str = ""


@dataclass(frozen=True, slots=True)
class FirewallLocal:
    """One entry of a rule's node-side match (``to`` on ingress, ``from`` on egress); exactly one is set.

    ``node``: the node's own addresses; ``pods``: Pod addresses (the cluster's Pod ranges); ``cidrs``: as written.
    ``within`` narrows ``node`` to those of its addresses in these CIDRs (``node: {within: [...]}``; an imported
    INPUT rule with ``-d``); None: all of them.
    """

    node: bool = False
    pods: bool = False
    cidrs: tuple[IPNetwork, ...] = ()
    source: SourceSpan = NOWHERE
    within: tuple[IPNetwork, ...] | None = None

    def describe(self) -> str:
        """``node``, ``pods`` or the CIDRs the rule's node-side end is limited to."""
        if self.node and self.within is not None:
            return f"node within {', '.join(str(c) for c in self.within) or '(none)'}"
        return "node" if self.node else "pods" if self.pods else ", ".join(str(c) for c in self.cidrs)


@dataclass(frozen=True, slots=True)
class FirewallRule:
    """One rule of a Firewall chain: allow or deny these protocols and ports from/to these peers."""

    name: str
    action: str  # allow | deny
    protocols: IntervalSet
    ports: IntervalSet
    peers: tuple[FirewallPeer, ...] | None  # None = anywhere
    source: SourceSpan
    # The node's end of the packet: its destination on ingress, its source on egress. None = any (the default:
    # the rule judges every packet crossing the node's interface, to or from the node and its Pods alike).
    local: tuple[FirewallLocal, ...] | None = None


@dataclass(frozen=True, slots=True)
class FirewallChain:
    """One direction of a firewall: rules in order, first match wins, else the default action."""

    default_action: str
    rules: tuple[FirewallRule, ...]
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class Firewall:
    """A node firewall (a netmodel Firewall object): the nodes it applies to and its ingress and egress
    chains."""

    name: str
    node_selector: LabelSelector | None
    node_names: tuple[str, ...]
    ingress: FirewallChain
    egress: FirewallChain
    stateful: bool
    annotations: Labels
    source: SourceSpan
    # What the selected nodes carry in the cloud (security groups, network tags, service accounts), for the
    # rules that name instances by them (model/read_cloud.py); empty for a Firewall written by hand.
    members: tuple[str, ...] = ()
    imported: str = ""  # the file its rules come from (``spec.import``), as shown in messages
    derived_from: str = ""  # the policies it stands for (a Cilium host firewall: model/cilium_host.py), or ""
    # An imported ruleset that is not stateful: its (ingress, egress) chains for replies, which judge a reply in
    # place of ingress and egress (the rules walked for a packet of an established connection).
    replies: tuple[FirewallChain, FirewallChain] | None = None
    # An iptables-save or nftables import: (format, the file's text, which of its layers this Firewall is), for
    # `netmodel emulate`, which loads the file's own rules into its lab (netmodel/emulate/native.py).
    native: tuple[str, str, int] | None = field(default=None, compare=False, repr=False)

    @property
    def ref(self) -> ObjectRef:
        """``Firewall/NAME``."""
        return ObjectRef("Firewall", "", self.name)

    def selects(self, node: Node) -> bool:
        """Whether the Firewall applies to ``node`` (named, or matched by its nodeSelector)."""
        if node.name in self.node_names:
            return True
        return self.node_selector is not None and self.node_selector.matches(node.labels)


@dataclass(frozen=True, slots=True)
class ExpectedFlow:
    """One asserted flow, with ``from``/``to``/``port``/``protocol`` kept exactly as written."""

    from_ref: str
    to_ref: str
    port: int | str
    protocol: str  # upper-case, TCP when omitted
    allowed: bool
    source: SourceSpan
    host: str = ""  # to a Gateway: the host name the client asks for ("" = any)


@dataclass(frozen=True, slots=True)
class Expectations:
    """Flows the user expects to be allowed or denied (a netmodel Expectations object)."""

    name: str
    flows: tuple[ExpectedFlow, ...]
    source: SourceSpan


@dataclass(frozen=True, slots=True)
class SkippedObject(Namespaced):
    """An object of a kind netmodel does not analyze (reported, never silently dropped).

    ``category`` and ``scope`` are those of :class:`netmodel.model.kinds.KindClass` (or ``left-out``, an object of a
    read kind left out: ``netmodel.model.kinds.LEFT_OUT``): ``scope`` says which answers
    the object could change (namespace: flows of Pods in its namespace; cluster: any; none or empty: none).
    """

    api_version: str
    kind: str
    namespace: str
    name: str
    reason: str
    source: SourceSpan
    category: str = "not-evaluated"
    scope: str = ""
    project: str = ""

    @property
    def label(self) -> str:
        """``Kind NS/NAME`` (``Kind NAME`` when cluster-scoped)."""
        return f"{self.kind} {self.qualified_name}"

    @property
    def ref(self) -> str:
        """``KIND/NAMESPACE/NAME`` (``KIND/NAME`` when cluster-scoped)."""
        return f"{self.kind}/{self.qualified_name}"


__all__ = [
    "ADMIN_ACTIONS",
    "CALICO_ACTIONS",
    "NO_LABELS",
    "WILDCARD_HOST_IPS",
    "AdminNetworkPolicy",
    "AdminPeer",
    "AdminRule",
    "CalicoEntity",
    "CalicoNetworkSet",
    "CalicoPolicy",
    "CalicoRule",
    "CalicoTier",
    "Cluster",
    "CniSpec",
    "Container",
    "ContainerPort",
    "ControlPlane",
    "ControlPlanePorts",
    "Endpoint",
    "EndpointPort",
    "EndpointSlice",
    "Expectations",
    "ExpectedFlow",
    "Firewall",
    "FirewallChain",
    "FirewallLocal",
    "FirewallPeer",
    "FirewallRule",
    "IPBlock",
    "Ingress",
    "IngressBackend",
    "IngressClass",
    "LabelSelector",
    "Labels",
    "Namespace",
    "Namespaced",
    "NetworkPolicy",
    "Node",
    "NodeAddress",
    "ObjectRef",
    "OutsideNetwork",
    "Pod",
    "PodTemplate",
    "PolicyPeer",
    "PolicyPort",
    "PolicyRule",
    "Service",
    "ServiceAccount",
    "ServiceAccountMatch",
    "ServicePort",
    "SkippedObject",
    "Taint",
    "Toleration",
    "Workload",
    "claimed_host_ports",
    "host_ips_overlap",
    "qualified_name",
]
