"""Which objects netmodel reads, recognized by API group and kind together, and what it says about the rest.

Every object of the input falls in exactly one class (docs/input.md, "Kinds netmodel reads and the rest"):

* **read** — a kind of :data:`READ` in one of its groups; a reader in :mod:`netmodel.model.read_kubernetes`;
* **no network meaning** — :data:`NO_NETWORK_MEANING`: it opens, closes or moves no traffic (ConfigMap, RBAC,
  CustomResourceDefinition, ...); summed up in one info line with counts per kind;
* **creates Pods** — :data:`POD_CREATORS`: a custom resource whose operator makes Pods netmodel cannot see; a
  warning per object ("its Pods are not in the layout");
* **not evaluated** — :data:`NOT_EVALUATED` (policy kinds of CNIs, meshes and the v1alpha2 ClusterNetworkPolicy
  that netmodel does not read yet) and every kind not named here: a warning per object. Policy kinds also mark each
  query, matrix row and expectation they could change (:attr:`Scope`).

A known kind name in another group is another kind: a ``projectcalico.org/v3`` ``NetworkPolicy`` is not read as a
``networking.k8s.io/v1`` one.

>>> api_group("networking.k8s.io/v1"), api_group("v1")
('networking.k8s.io', '')
>>> classify("crd.antrea.io/v1beta1", "NetworkPolicy").scope
'namespace'
>>> classify("networking.k8s.io/v1", "NetworkPolicy").name, classify("v1", "ConfigMap").name
('read', 'no-network-meaning')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from netmodel.model.objects import EndpointSlice, Service, SkippedObject
from netmodel.model.topology import Note

CORE = ""

# Kind → the API groups netmodel reads it from. Old groups are listed where the schema of the fields netmodel reads
# is the same (extensions/v1beta1 NetworkPolicy; apps/v1beta1-2 and extensions/v1beta1 workloads).
READ: dict[str, frozenset[str]] = {
    "Namespace": frozenset({CORE}),
    "Node": frozenset({CORE}),
    "Pod": frozenset({CORE}),
    "Service": frozenset({CORE}),
    "ReplicationController": frozenset({CORE}),
    "Deployment": frozenset({"apps", "extensions"}),
    "StatefulSet": frozenset({"apps"}),
    "DaemonSet": frozenset({"apps", "extensions"}),
    "ReplicaSet": frozenset({"apps", "extensions"}),
    "Job": frozenset({"batch"}),
    "CronJob": frozenset({"batch"}),
    "EndpointSlice": frozenset({"discovery.k8s.io"}),
    "Ingress": frozenset({"networking.k8s.io", "extensions"}),
    "IngressClass": frozenset({"networking.k8s.io"}),
    # Calico's NetworkPolicy is read too (netmodel/model/read_calico.py; model/build.py tells them apart by group).
    "NetworkPolicy": frozenset({"networking.k8s.io", "extensions", "projectcalico.org", "crd.projectcalico.org"}),
    # Calico: IPPool as data (its CIDR is a pod range), its policies and tiers (netmodel/model/read_calico.py).
    "IPPool": frozenset({"projectcalico.org", "crd.projectcalico.org"}),
    "GlobalNetworkPolicy": frozenset({"projectcalico.org", "crd.projectcalico.org"}),
    "Tier": frozenset({"projectcalico.org", "crd.projectcalico.org"}),
    "NetworkSet": frozenset({"projectcalico.org", "crd.projectcalico.org"}),
    "GlobalNetworkSet": frozenset({"projectcalico.org", "crd.projectcalico.org"}),
    # ServiceAccounts: their labels are what Calico's service-account selectors match.
    "ServiceAccount": frozenset({CORE}),
    # Gateway API entry paths (netmodel/model/read_gateway.py), every served version: v1, v1beta1, v1alpha2/3.
    **{k: frozenset({"gateway.networking.k8s.io"}) for k in (
        "GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute", "ReferenceGrant")},
    # The AdminNetworkPolicy API (netmodel/model/read_admin.py).
    "AdminNetworkPolicy": frozenset({"policy.networking.k8s.io"}),
    "BaselineAdminNetworkPolicy": frozenset({"policy.networking.k8s.io"}),
    # Cilium policies (netmodel/model/read_cilium.py).
    "CiliumNetworkPolicy": frozenset({"cilium.io"}),
    "CiliumClusterwideNetworkPolicy": frozenset({"cilium.io"}),
}

_RBAC = "rbac.authorization.k8s.io"
_ADMISSION = "admissionregistration.k8s.io"
_STORAGE = "storage.k8s.io"
_PROMETHEUS = "monitoring.coreos.com"

# (group, kind) of objects that open, close or move no traffic: configuration, identity, access control, storage,
# scheduling and autoscaling hints, API extension. Webhook configurations and APIServices do make the API server
# call a Service; netmodel does not model the API server as a client of Pods (docs/input.md).
NO_NETWORK_MEANING: frozenset[tuple[str, str]] = frozenset({
    (CORE, "ConfigMap"), (CORE, "Secret"), (CORE, "LimitRange"),
    (CORE, "ResourceQuota"), (CORE, "PersistentVolume"), (CORE, "PersistentVolumeClaim"), (CORE, "Event"),
    (CORE, "PodTemplate"), (CORE, "ComponentStatus"),
    (_RBAC, "Role"), (_RBAC, "ClusterRole"), (_RBAC, "RoleBinding"), (_RBAC, "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"),
    (_ADMISSION, "ValidatingWebhookConfiguration"), (_ADMISSION, "MutatingWebhookConfiguration"),
    (_ADMISSION, "ValidatingAdmissionPolicy"), (_ADMISSION, "ValidatingAdmissionPolicyBinding"),
    (_ADMISSION, "MutatingAdmissionPolicy"), (_ADMISSION, "MutatingAdmissionPolicyBinding"),
    ("policy", "PodDisruptionBudget"), ("policy", "PodSecurityPolicy"),
    ("autoscaling", "HorizontalPodAutoscaler"), ("autoscaling.k8s.io", "VerticalPodAutoscaler"),
    ("scheduling.k8s.io", "PriorityClass"), ("node.k8s.io", "RuntimeClass"),
    (_STORAGE, "StorageClass"), (_STORAGE, "CSIDriver"), (_STORAGE, "CSINode"), (_STORAGE, "VolumeAttachment"),
    (_STORAGE, "CSIStorageCapacity"), (_STORAGE, "VolumeAttributesClass"),
    ("coordination.k8s.io", "Lease"), ("events.k8s.io", "Event"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"), ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("snapshot.storage.k8s.io", "VolumeSnapshot"), ("snapshot.storage.k8s.io", "VolumeSnapshotClass"),
    ("snapshot.storage.k8s.io", "VolumeSnapshotContent"),
    # Prometheus Operator configuration: what to scrape and alert on, not who may connect.
    (_PROMETHEUS, "ServiceMonitor"), (_PROMETHEUS, "PodMonitor"), (_PROMETHEUS, "PrometheusRule"),
    (_PROMETHEUS, "Probe"), (_PROMETHEUS, "ScrapeConfig"), (_PROMETHEUS, "AlertmanagerConfig"),
    # cert-manager: certificates and their issuers.
    ("cert-manager.io", "Certificate"), ("cert-manager.io", "Issuer"), ("cert-manager.io", "ClusterIssuer"),
    ("cert-manager.io", "CertificateRequest"),
})

# (group, kind) → the project whose operator creates Pods for each object (Pods the input does not hold).
POD_CREATORS: dict[tuple[str, str], str] = {
    (_PROMETHEUS, "Prometheus"): "Prometheus Operator",
    (_PROMETHEUS, "PrometheusAgent"): "Prometheus Operator",
    (_PROMETHEUS, "Alertmanager"): "Prometheus Operator",
    (_PROMETHEUS, "ThanosRuler"): "Prometheus Operator",
    ("argoproj.io", "Rollout"): "Argo Rollouts",
    ("argoproj.io", "Workflow"): "Argo Workflows",
    ("argoproj.io", "CronWorkflow"): "Argo Workflows",
    ("argoproj.io", "EventSource"): "Argo Events",
    ("argoproj.io", "Sensor"): "Argo Events",
    ("argoproj.io", "EventBus"): "Argo Events",
    ("serving.knative.dev", "Service"): "Knative Serving",
    ("serving.knative.dev", "Revision"): "Knative Serving",
    ("apps.kruise.io", "CloneSet"): "OpenKruise",
    ("apps.kruise.io", "StatefulSet"): "OpenKruise",
    ("apps.kruise.io", "DaemonSet"): "OpenKruise",
    ("kubevirt.io", "VirtualMachine"): "KubeVirt",
    ("kubevirt.io", "VirtualMachineInstance"): "KubeVirt",
    ("kafka.strimzi.io", "Kafka"): "Strimzi",
    ("kafka.strimzi.io", "KafkaNodePool"): "Strimzi",
    ("kafka.strimzi.io", "KafkaConnect"): "Strimzi",
    ("kafka.strimzi.io", "KafkaMirrorMaker2"): "Strimzi",
    ("kafka.strimzi.io", "KafkaBridge"): "Strimzi",
    ("elasticsearch.k8s.elastic.co", "Elasticsearch"): "Elastic Cloud on Kubernetes",
    ("kibana.k8s.elastic.co", "Kibana"): "Elastic Cloud on Kubernetes",
    ("postgresql.cnpg.io", "Cluster"): "CloudNativePG",
    ("acid.zalan.do", "postgresql"): "Zalando Postgres Operator",
    ("ray.io", "RayCluster"): "KubeRay",
    ("ray.io", "RayJob"): "KubeRay",
    ("ray.io", "RayService"): "KubeRay",
    ("sparkoperator.k8s.io", "SparkApplication"): "Spark Operator",
    ("sparkoperator.k8s.io", "ScheduledSparkApplication"): "Spark Operator",
    ("kubeflow.org", "TFJob"): "Kubeflow Training Operator",
    ("kubeflow.org", "PyTorchJob"): "Kubeflow Training Operator",
    ("kubeflow.org", "MPIJob"): "Kubeflow Training Operator",
    ("flink.apache.org", "FlinkDeployment"): "Flink Kubernetes Operator",
    ("keda.sh", "ScaledJob"): "KEDA",
}

_CALICO = ("projectcalico.org", "crd.projectcalico.org")
CALICO_GROUPS = frozenset(_CALICO)

# (group, kind) → (scope, project) of policy kinds netmodel does not read yet. Scope says which answers such an
# object could change: "namespace" — only flows whose source or destination Pods are in the object's namespace
# (the kind selects Pods of its own namespace only); "cluster" — any flow; "none" — no answer by itself (a BackendTLSPolicy changes
# how a gateway speaks to a backend, not whether a packet between two endpoints passes).
NOT_EVALUATED: dict[tuple[str, str], tuple[str, str]] = {
    # Calico NetworkPolicy and GlobalNetworkPolicy are read (a policy using fields netmodel does not evaluate is
    # listed with these scopes by model/build.py), and so are network sets. Host endpoints are not modelled: a
    # rule selector may match one (its node's addresses) and a policy may apply to one, so any flow.
    **{(g, "NetworkPolicy"): ("namespace", "Calico") for g in _CALICO},
    **{(g, "GlobalNetworkPolicy"): ("cluster", "Calico") for g in _CALICO},
    **{(g, "HostEndpoint"): ("cluster", "Calico") for g in _CALICO},
    ("policy.networking.k8s.io", "ClusterNetworkPolicy"): ("cluster", "AdminNetworkPolicy API"),
    ("crd.antrea.io", "ClusterNetworkPolicy"): ("cluster", "Antrea"),
    ("crd.antrea.io", "NetworkPolicy"): ("namespace", "Antrea"),
    # Antrea's policies before v1.0 (group security.antrea.tanzu.vmware.com, removed in v1.6: Antrea's API
    # reference page, antrea-io/antrea's api.md, "Previously-supported API groups"): the same kinds, in clusters
    # still running them.
    ("security.antrea.tanzu.vmware.com", "ClusterNetworkPolicy"): ("cluster", "Antrea"),
    ("security.antrea.tanzu.vmware.com", "NetworkPolicy"): ("namespace", "Antrea"),
    # Other CNIs' filters of a namespace's Pod traffic: OVN-Kubernetes' EgressFirewall and OpenShift SDN's
    # EgressNetworkPolicy (the egress of the Pods of their namespace to outside addresses), the AWS VPC CNI's
    # SecurityGroupPolicy (security groups on the Pods it selects in its namespace, both directions).
    ("k8s.ovn.org", "EgressFirewall"): ("namespace", "OVN-Kubernetes"),
    ("network.openshift.io", "EgressNetworkPolicy"): ("namespace", "OpenShift SDN"),
    ("vpcresources.k8s.aws", "SecurityGroupPolicy"): ("namespace", "AWS VPC CNI"),
    # Cilium objects that redirect or re-address traffic the policies netmodel reads let through: Envoy
    # configurations (a Service's traffic through an Envoy listener), local redirect policies (a frontend address
    # or Service to node-local backends) and egress gateway policies (Pod egress SNATed at a gateway node). Their
    # frontends may be any address: any flow.
    ("cilium.io", "CiliumEnvoyConfig"): ("cluster", "Cilium"),
    ("cilium.io", "CiliumClusterwideEnvoyConfig"): ("cluster", "Cilium"),
    ("cilium.io", "CiliumLocalRedirectPolicy"): ("cluster", "Cilium"),
    ("cilium.io", "CiliumEgressGatewayPolicy"): ("cluster", "Cilium"),
    # Istio reads policies of its root namespace (istio-system unless meshConfig.rootNamespace says otherwise,
    # which the input does not tell) for the whole mesh: any namespace may be the root, so any flow.
    ("security.istio.io", "AuthorizationPolicy"): ("cluster", "Istio"),
    ("security.istio.io", "PeerAuthentication"): ("cluster", "Istio"),
    ("security.istio.io", "RequestAuthentication"): ("cluster", "Istio"),
    ("networking.istio.io", "Sidecar"): ("cluster", "Istio"),
    # Backend TLS changes how a gateway speaks to a backend, not whether it reaches it.
    ("gateway.networking.k8s.io", "BackendTLSPolicy"): ("none", "Gateway API"),
}


@dataclass(frozen=True, slots=True)
class KindClass:
    """What netmodel does with one (group, kind): ``name`` is read | no-network-meaning | creates-pods |
    not-evaluated; ``scope`` (not-evaluated only) is namespace | cluster | none; ``project`` names who owns it."""

    name: str
    scope: str = ""
    project: str = ""


def api_group(api_version: str) -> str:
    """The group of an ``apiVersion`` (``apps/v1`` → ``apps``; ``v1`` → the core group, ``""``)."""
    group, sep, _ = api_version.rpartition("/")
    return group if sep else CORE


@lru_cache(maxsize=4096)  # asked for every document and every Pod's owner references: a few pairs, 300,000 times
def classify(api_version: str, kind: str) -> KindClass:
    """How netmodel treats ``kind`` of ``api_version``: read, no network meaning, creates Pods, or not
    evaluated."""
    group = api_group(api_version)
    if group in READ.get(kind, ()):
        return KindClass("read")
    if (group, kind) in NO_NETWORK_MEANING:
        return KindClass("no-network-meaning")
    if (group, kind) in POD_CREATORS:
        return KindClass("creates-pods", project=POD_CREATORS[(group, kind)])
    if (group, kind) in NOT_EVALUATED:
        scope, project = NOT_EVALUATED[(group, kind)]
        return KindClass("not-evaluated", scope, project)
    return KindClass("not-evaluated", "none")


def settle_endpoints(skipped: Sequence[SkippedObject], services: Iterable[Service],
                     slices: Iterable[EndpointSlice]) -> list[SkippedObject]:
    """Core ``Endpoints`` say nothing netmodel does not know when their Service has a selector (netmodel finds the
    Pods itself) or the input has the EndpointSlices mirrored from them; otherwise their backends are missing."""
    known = {(s.namespace, s.name) for s in services if s.selector is not None}
    known.update((s.namespace, s.service_name) for s in slices)
    out = []
    for s in skipped:
        if s.kind == "Endpoints" and api_group(s.api_version) == CORE:
            ns = s.namespace or "default"
            if (ns, s.name) in known:
                s = replace(s, namespace=ns, category="no-network-meaning", reason="no network meaning")
            else:
                s = replace(s, namespace=ns, reason="netmodel reads Service backends from EndpointSlices (the "
                            "EndpointSlice mirroring controller makes them from Endpoints); add the Service's "
                            "EndpointSlices (kubectl get endpointslices -o yaml)")
        out.append(s)
    return out


# The category of an object of a kind netmodel reads that is left out because it uses fields netmodel does not
# evaluate (a Calico policy with `services`, `http`, ...): its reader reports it (NM-INPUT-040), so no second
# warning here, and it marks the answers it could change like a not-evaluated kind (analyze/unevaluated.py).
LEFT_OUT = "left-out"

# The kind of a skipped "object" that stands for a rule of an imported firewall file netmodel cannot model
# (netmodel/model/fwimport): not evaluated, it marks every answer.
IMPORTED_RULE = "Firewall rule"


def skipped_notes(skipped: Sequence[SkippedObject]) -> list[Note]:
    """One info line summing up the objects with no network meaning (counts per kind), a warning for each other."""
    notes: list[Note] = []
    quiet = [s for s in skipped if s.category == "no-network-meaning"]
    if quiet:
        counts = Counter(s.kind for s in quiet)
        summary = ", ".join(f"{kind} ×{n}" for kind, n in sorted(counts.items()))
        # Located at the first object of each kind: a cluster dump holds thousands of ConfigMaps and Secrets.
        first = {s.kind: s.source for s in reversed(quiet)}
        notes.append(Note("NM-INPUT-001", f"{len(quiet)} object(s) of kinds with no network meaning skipped: "
                          f"{summary}", tuple(sorted(counts)), tuple(first[k] for k in sorted(counts))))
    for s in skipped:
        if s.category == "creates-pods":
            notes.append(Note("NM-INPUT-016", f"{s.label} ({s.api_version}) creates Pods through its operator "
                              f"({s.project}): its Pods are not in the layout, so flows to and from them are not "
                              "analyzed and Services or policies that select them find no Pod; add the Pods (or "
                              "the workloads the operator makes, e.g. from kubectl get) to analyze them",
                              (s.ref,), (s.source,), "warning"))
        elif s.category == "not-evaluated" and s.kind == IMPORTED_RULE:
            notes.append(Note("NM-FW-001", f"Firewall {s.name}: {s.reason}; the query and --expect answers whose "
                              "paths this Firewall judges, and every matrix answer, say so", (f"Firewall/{s.name}",),
                              (s.source,), "warning"))
        elif s.category == "not-evaluated":
            affects = {"namespace": f"query, matrix and --expect answers for flows of Pods in namespace "
                                    f"{s.namespace} say so",
                       "cluster": "every query, matrix and --expect answer says so"}.get(s.scope, "")
            notes.append(Note("NM-INPUT-015", f"{s.label} ({s.api_version}) is not evaluated: {s.reason}"
                              + (f"; {affects}" if affects else ""), (s.ref,), (s.source,), "warning"))
    return notes


__all__ = ["CALICO_GROUPS", "IMPORTED_RULE", "LEFT_OUT", "NOT_EVALUATED", "NO_NETWORK_MEANING", "POD_CREATORS", "READ", "KindClass",
           "api_group", "classify",
           "settle_endpoints", "skipped_notes"]
