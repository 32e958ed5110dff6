"""Write tests/corpus/live-dumps/{cilium,flannel}.json: what the documented live-cluster command prints.

    kubectl get nodes,namespaces,pods,services,endpointslices,ingresses,ingressclasses,networkpolicies -A -o json

Run from the repository root: `python tests/corpus/live-dumps/generate.py` (SOURCE.md says what each holds).
"""
from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
T0, T1, T2, T3 = "2026-10-05T08:02:11Z", "2026-10-05T08:09:37Z", "2026-11-28T02:00:04Z", "2026-11-30T16:44:19Z"


def uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


class Dump:
    """One cluster's `kind: List`, objects in the order kubectl prints them (by resource type, then namespace)."""

    def __init__(self, nodes: list[tuple[str, str, str]], managed_fields: bool) -> None:
        self.nodes = nodes  # (name, InternalIP, spec.podCIDR)
        self.addr = {n: a for n, a, _ in nodes}
        self.managed = managed_fields
        self.rv = 1_200_000
        self.kinds: dict[str, list[dict]] = {k: [] for k in (
            "Node", "Namespace", "Pod", "Service", "EndpointSlice", "Ingress", "IngressClass", "NetworkPolicy")}

    # -- metadata -------------------------------------------------------------------------------------------
    def meta(self, kind: str, name: str, ns: str | None = None, labels: dict | None = None,
             annotations: dict | None = None, owner: tuple[str, str, str] | None = None, created: str = T1,
             generate: str | None = None, manager: str = "kubectl-client-side-apply") -> dict:
        self.rv += 13
        m: dict = {"creationTimestamp": created, "name": name, "resourceVersion": str(self.rv),
                   "uid": uid(kind, ns or "", name)}
        if generate:
            m["generateName"] = generate
        if ns:
            m["namespace"] = ns
        if labels:
            m["labels"] = labels
        if annotations:
            m["annotations"] = annotations
        if owner:
            okind, oname, oapi = owner
            m["ownerReferences"] = [{"apiVersion": oapi, "blockOwnerDeletion": True, "controller": True,
                                     "kind": okind, "name": oname, "uid": uid(okind, ns or "", oname)}]
        if self.managed:  # `kubectl get --show-managed-fields`: server-side field ownership, opaque to netmodel
            m["managedFields"] = [
                {"apiVersion": "v1" if kind in ("Node", "Namespace", "Pod", "Service") else "apps/v1",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}, "f:spec": {}},
                 "manager": manager, "operation": "Update", "time": created},
                {"apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:conditions": {}}},
                 "manager": "kubelet" if kind == "Pod" else "kube-controller-manager", "operation": "Update",
                 "subresource": "status", "time": T3}]
        return dict(sorted(m.items()))

    # -- objects --------------------------------------------------------------------------------------------
    def node(self, name: str, address: str, pod_cidr: str, annotations: dict, control_plane: bool,
             network_reason: tuple[str, str] | None) -> None:
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
        spec: dict = {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]}
        if control_plane:
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            spec["taints"] = [{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
        conditions = []
        if network_reason:
            conditions.append({"lastHeartbeatTime": T1, "lastTransitionTime": T1, "message": network_reason[1],
                               "reason": network_reason[0], "status": "False", "type": "NetworkUnavailable"})
        for kind, reason, text in [("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                                   ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                                   ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                                   ("Ready", "KubeletReady", "kubelet is posting ready status")]:
            conditions.append({"lastHeartbeatTime": T3, "lastTransitionTime": T1, "message": text, "reason": reason,
                               "status": "True" if kind == "Ready" else "False", "type": kind})
        self.kinds["Node"].append({"apiVersion": "v1", "kind": "Node", "metadata": self.meta(
            "Node", name, labels=labels, created=T0, manager="kubelet", annotations={
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0", **annotations,
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
            "spec": spec, "status": {
                "addresses": [{"address": address, "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
                "allocatable": {"cpu": "4", "ephemeral-storage": "47233297124", "memory": "8026464Ki", "pods": "110"},
                "capacity": {"cpu": "4", "ephemeral-storage": "51250136Ki", "memory": "8128864Ki", "pods": "110"},
                "conditions": conditions, "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"architecture": "amd64", "bootID": uid("boot", name),
                             "containerRuntimeVersion": "containerd://1.7.24", "kernelVersion": "6.8.0-51-generic",
                             "kubeProxyVersion": "v1.32.0", "kubeletVersion": "v1.32.0",
                             "machineID": uid("machine", name).replace("-", ""), "operatingSystem": "linux",
                             "osImage": "Ubuntu 24.04.1 LTS", "systemUUID": uid("sys", name)}}})

    def namespace(self, name: str, labels: dict | None = None) -> None:
        self.kinds["Namespace"].append({"apiVersion": "v1", "kind": "Namespace", "metadata": self.meta(
            "Namespace", name, labels={"kubernetes.io/metadata.name": name, **(labels or {})}, created=T0),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    def pod(self, ns: str, name: str, node: str | None, labels: dict, containers: list[dict], *, ip: str | None = None,
            host: bool = False, owner: tuple[str, str, str] | None = None, phase: str = "Running",
            reason: str = "", message: str = "", tolerations: list | None = None, node_selector: dict | None = None,
            priority: str = "", sa: str = "default", annotations: dict | None = None, created: str = T1,
            restart: str = "Always", init: list[dict] | None = None) -> None:
        generate = None
        if owner and owner[0] in ("ReplicaSet", "DaemonSet", "Job"):
            generate = f"{owner[1]}-"
        spec: dict = {"containers": containers, "dnsPolicy": "ClusterFirstWithHostNet" if host else "ClusterFirst",
                      "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
                      "priority": {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}.get(priority, 0),
                      "restartPolicy": restart, "schedulerName": "default-scheduler", "securityContext": {},
                      "serviceAccount": sa, "serviceAccountName": sa, "terminationGracePeriodSeconds": 30,
                      "tolerations": tolerations or [
                          {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
                           "tolerationSeconds": 300},
                          {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
                           "tolerationSeconds": 300}]}
        if node:
            spec["nodeName"] = node
        if host:
            spec["hostNetwork"] = True
        if priority:
            spec["priorityClassName"] = priority
        if node_selector:
            spec["nodeSelector"] = node_selector
        if init:
            spec["initContainers"] = init
        status: dict = {"phase": phase, "qosClass": "Burstable"}
        if node is None:  # never scheduled: the scheduler's condition is all the status there is
            status["conditions"] = [{"lastProbeTime": None, "lastTransitionTime": created, "message": message,
                                     "reason": "Unschedulable", "status": "False", "type": "PodScheduled"}]
        else:
            address = self.addr[node] if host else ip
            ready = phase == "Running"
            status.update(hostIP=self.addr[node], hostIPs=[{"ip": self.addr[node]}], startTime=created)
            status["conditions"] = [{"lastProbeTime": None, "lastTransitionTime": created,
                                     "status": "True" if (ready or t in ("PodScheduled", "Initialized")) else "False",
                                     "type": t}
                                    for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                              "PodScheduled")]
            if phase == "Succeeded":
                for c in status["conditions"]:
                    if c["status"] == "False":
                        c["reason"] = "PodCompleted"
            if address:
                status.update(podIP=address, podIPs=[{"ip": address}])
            if reason:
                status.update(reason=reason, message=message)
            cstats = []
            for c in containers:
                st: dict = {"containerID": "containerd://" + uid("ctr", ns, name, c["name"]).replace("-", "") * 2,
                            "image": c["image"], "imageID": c["image"].split(":")[0] + "@sha256:"
                            + uid("img", c["image"]).replace("-", "") * 2, "lastState": {}, "name": c["name"],
                            "restartCount": 0}
                if phase == "Running":
                    st.update(ready=True, started=True, state={"running": {"startedAt": created}})
                elif phase == "Pending":
                    st.update(ready=False, started=False, state={"waiting": {"reason": "ContainerCreating"}})
                    st.pop("containerID")
                elif phase == "Unknown":
                    st.update(ready=False, started=False, state={"running": {"startedAt": created}})
                else:
                    code = 0 if phase == "Succeeded" else 137
                    st.update(ready=False, started=False, state={"terminated": {
                        "exitCode": code, "finishedAt": T2, "reason": "Completed" if code == 0 else "Error",
                        "startedAt": created}})
                cstats.append(dict(sorted(st.items())))
            status["containerStatuses"] = cstats
        self.kinds["Pod"].append({"apiVersion": "v1", "kind": "Pod", "metadata": self.meta(
            "Pod", name, ns, labels, annotations, owner, created, generate, manager="kube-controller-manager"),
            "spec": dict(sorted(spec.items())), "status": dict(sorted(status.items()))})

    def service(self, ns: str, name: str, ip: str, ports: list[dict], selector: dict | None, labels: dict | None = None,
                kind: str = "ClusterIP", extra: dict | None = None) -> None:
        spec: dict = {"clusterIP": ip, "clusterIPs": [ip], "internalTrafficPolicy": "Cluster",
                      "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "ports": ports,
                      "sessionAffinity": "None", "type": kind}
        if ip == "None":
            spec["clusterIPs"] = ["None"]
        if selector:
            spec["selector"] = selector
        if kind in ("NodePort", "LoadBalancer"):
            spec["externalTrafficPolicy"] = "Cluster"
        spec.update(extra or {})
        self.kinds["Service"].append({"apiVersion": "v1", "kind": "Service", "metadata": self.meta(
            "Service", name, ns, labels), "spec": dict(sorted(spec.items())), "status": {"loadBalancer": {}}})

    def slice(self, ns: str, service: str, ports: list[dict], endpoints: list[tuple[str, str, str]]) -> None:
        """``endpoints``: (address, node, Pod name) each."""
        suffix = uid("eps", ns, service)[:5]
        self.kinds["EndpointSlice"].append({
            "addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "endpoints": [{"addresses": [a], "conditions": {"ready": True, "serving": True, "terminating": False},
                           "nodeName": node, "targetRef": {"kind": "Pod", "name": pod, "namespace": ns,
                                                           "uid": uid("Pod", ns, pod)}}
                          for a, node, pod in endpoints],
            "metadata": self.meta("EndpointSlice", f"{service}-{suffix}", ns, {
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                "kubernetes.io/service-name": service},
                owner=("Service", service, "v1"), generate=f"{service}-", manager="kube-controller-manager"),
            "ports": ports})

    def policy(self, ns: str, name: str, spec: dict) -> None:
        self.kinds["NetworkPolicy"].append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                            "metadata": self.meta("NetworkPolicy", name, ns), "spec": spec})

    def write(self, path: Path) -> None:
        items = [o for kind in self.kinds.values() for o in kind]
        text = json.dumps({"apiVersion": "v1", "items": items, "kind": "List",
                           "metadata": {"resourceVersion": ""}}, indent=4)
        path.write_text(text + "\n", encoding="utf-8")


def container(name: str, image: str, ports: list[dict] | None = None, args: list[str] | None = None) -> dict:
    c: dict = {"image": image, "imagePullPolicy": "IfNotPresent", "name": name, "resources": {},
               "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}
    if args:
        c["args"] = args
    if ports:
        c["ports"] = [dict(sorted({"protocol": "TCP", **p}.items())) for p in ports]
    return dict(sorted(c.items()))


CP_TOLERATIONS = [{"effect": "NoExecute", "operator": "Exists"}]
ALL_TOLERATIONS = [{"operator": "Exists"}]
DNS_TOLERATIONS = [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                   {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
DNS_PORTS = [{"containerPort": 53, "name": "dns", "protocol": "UDP"}, {"containerPort": 53, "name": "dns-tcp"},
             {"containerPort": 9153, "name": "metrics"}]


def kubeadm_system(d: Dump, cp: str, cp_ip: str, cluster_cidr: str, version: str, proxy_suffixes: list[str],
                   dns: list[tuple[str, str]]) -> None:
    """The static control-plane Pods (mirror Pods, owned by their Node), kube-proxy, CoreDNS and their Services."""
    for comp, args in [("etcd", [f"--listen-client-urls=https://127.0.0.1:2379,https://{cp_ip}:2379",
                                 f"--listen-peer-urls=https://{cp_ip}:2380"]),
                       ("kube-apiserver", [f"--advertise-address={cp_ip}", "--secure-port=6443",
                                           "--service-cluster-ip-range=10.96.0.0/12"]),
                       ("kube-controller-manager", ["--allocate-node-cidrs=true", f"--cluster-cidr={cluster_cidr}",
                                                    "--bind-address=127.0.0.1"]),
                       ("kube-scheduler", ["--bind-address=127.0.0.1"])]:
        image = "registry.k8s.io/etcd:3.5.16-0" if comp == "etcd" else f"registry.k8s.io/{comp}:{version}"
        d.pod("kube-system", f"{comp}-{cp}", cp, {"component": comp, "tier": "control-plane"},
              [container(comp, image, args=args)], host=True, owner=("Node", cp, "v1"), tolerations=CP_TOLERATIONS,
              priority="system-node-critical", created=T0,
              annotations={"kubernetes.io/config.hash": uid("cfg", comp).replace("-", "")[:32],
                           "kubernetes.io/config.source": "file"})
    for (node, _, _), sfx in zip(d.nodes, proxy_suffixes):
        d.pod("kube-system", f"kube-proxy-{sfx}", node,
              {"controller-revision-hash": "6d5c8b9f7d", "k8s-app": "kube-proxy", "pod-template-generation": "1"},
              [container("kube-proxy", f"registry.k8s.io/kube-proxy:{version}",
                         args=["--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"])],
              host=True, owner=("DaemonSet", "kube-proxy", "apps/v1"), tolerations=ALL_TOLERATIONS,
              node_selector={"kubernetes.io/os": "linux"}, priority="system-node-critical", sa="kube-proxy")
    for name, ip in dns:
        d.pod("kube-system", name, cp, {"k8s-app": "kube-dns", "pod-template-hash": "668d6bf9bc"},
              [container("coredns", "registry.k8s.io/coredns/coredns:v1.11.3", DNS_PORTS, ["-conf", "/etc/coredns/Corefile"])],
              ip=ip, owner=("ReplicaSet", "coredns-668d6bf9bc", "apps/v1"), tolerations=DNS_TOLERATIONS,
              node_selector={"kubernetes.io/os": "linux"}, priority="system-cluster-critical", sa="coredns")
    d.service("default", "kubernetes", "10.96.0.1", [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
              None, {"component": "apiserver", "provider": "kubernetes"})
    d.slice("default", "kubernetes", [{"name": "https", "port": 6443, "protocol": "TCP"}], [])
    d.kinds["EndpointSlice"][-1]["endpoints"] = [{"addresses": [cp_ip], "conditions": {"ready": True}}]
    d.kinds["EndpointSlice"][-1]["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] = \
        "endpointslicemirroring-controller.k8s.io"
    d.service("kube-system", "kube-dns", "10.96.0.10",
              [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
               {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
               {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}],
              {"k8s-app": "kube-dns"}, {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                        "kubernetes.io/name": "CoreDNS"})
    d.slice("kube-system", "kube-dns", [{"name": "dns", "port": 53, "protocol": "UDP"},
                                        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                                        {"name": "metrics", "port": 9153, "protocol": "TCP"}],
            [(ip, cp, name) for name, ip in dns])


def cilium() -> Dump:
    """kubeadm 1.32 with Cilium 1.16 from its Helm chart: cluster-pool IPAM (10.0.0.0/8, a /24 per node, not the
    node's podCIDR), VXLAN, Hubble, kube-proxy kept."""
    nodes = [("cp-1", "172.18.0.10", "10.244.0.0/24"), ("worker-1", "172.18.0.21", "10.244.1.0/24"),
             ("worker-2", "172.18.0.22", "10.244.2.0/24")]
    pool = {"cp-1": "10.0.0", "worker-1": "10.0.1", "worker-2": "10.0.2"}
    d = Dump(nodes, managed_fields=False)
    for name, address, cidr in nodes:
        d.node(name, address, cidr, {"io.cilium.network.ipv4-cilium-host": f"{pool[name]}.117"},
               name == "cp-1", ("CiliumIsUp", "Cilium is running on this node"))
    for ns, labels in [("default", {}), ("kube-node-lease", {}), ("kube-public", {}), ("kube-system", {}),
                       ("shop", {"team": "shop"})]:
        d.namespace(ns, labels)
    kubeadm_system(d, "cp-1", "172.18.0.10", "10.244.0.0/16", "v1.32.0", ["2xq8v", "9dkfn", "tw4lh"],
                   [("coredns-668d6bf9bc-5mzqw", "10.0.0.201"), ("coredns-668d6bf9bc-r7d2k", "10.0.0.57")])
    agent_labels = {"app.kubernetes.io/name": "cilium-agent", "app.kubernetes.io/part-of": "cilium",
                    "controller-revision-hash": "7b9c5d6f4c", "k8s-app": "cilium", "pod-template-generation": "1"}
    for (node, _, _), sfx in zip(nodes, ["fz2wq", "kq9xs", "p8m4d"]):
        d.pod("kube-system", f"cilium-{sfx}", node, agent_labels,
              [container("cilium-agent", "quay.io/cilium/cilium:v1.16.5@sha256:" + "7" * 64,
                         [{"containerPort": 4244, "hostPort": 4244, "name": "peer-service"}],
                         ["--config-dir=/tmp/cilium/config-map"])],
              host=True, owner=("DaemonSet", "cilium", "apps/v1"), tolerations=ALL_TOLERATIONS,
              node_selector={"kubernetes.io/os": "linux"}, priority="system-node-critical", sa="cilium",
              init=[container("mount-cgroup", "quay.io/cilium/cilium:v1.16.5"),
                    container("install-cni-binaries", "quay.io/cilium/cilium:v1.16.5")])
        d.pod("kube-system", f"cilium-envoy-{sfx[::-1]}", node,
              {"app.kubernetes.io/name": "cilium-envoy", "app.kubernetes.io/part-of": "cilium",
               "controller-revision-hash": "5f7c8d9b6", "k8s-app": "cilium-envoy", "name": "cilium-envoy",
               "pod-template-generation": "1"},
              [container("cilium-envoy", "quay.io/cilium/cilium-envoy:v1.30.8",
                         [{"containerPort": 9964, "hostPort": 9964, "name": "envoy-metrics"}])],
              host=True, owner=("DaemonSet", "cilium-envoy", "apps/v1"), tolerations=ALL_TOLERATIONS,
              node_selector={"kubernetes.io/os": "linux"}, priority="system-node-critical", sa="cilium-envoy")
    for node, sfx in [("cp-1", "hx7kq"), ("worker-1", "t5n2c")]:
        d.pod("kube-system", f"cilium-operator-6c8d5f7b9-{sfx}", node,
              {"app.kubernetes.io/name": "cilium-operator", "app.kubernetes.io/part-of": "cilium",
               "io.cilium/app": "operator", "name": "cilium-operator", "pod-template-hash": "6c8d5f7b9"},
              [container("cilium-operator", "quay.io/cilium/operator-generic:v1.16.5")], host=True,
              owner=("ReplicaSet", "cilium-operator-6c8d5f7b9", "apps/v1"), tolerations=ALL_TOLERATIONS,
              priority="system-cluster-critical", sa="cilium-operator")
    d.pod("kube-system", "hubble-relay-7d9f8c6b5-wq2zk", "worker-2",
          {"app.kubernetes.io/name": "hubble-relay", "app.kubernetes.io/part-of": "cilium", "k8s-app": "hubble-relay",
           "pod-template-hash": "7d9f8c6b5"},
          [container("hubble-relay", "quay.io/cilium/hubble-relay:v1.16.5", [{"containerPort": 4245, "name": "grpc"}])],
          ip="10.0.2.33", owner=("ReplicaSet", "hubble-relay-7d9f8c6b5", "apps/v1"), sa="hubble-relay")
    d.service("kube-system", "hubble-peer", "10.101.27.148",
              [{"name": "peer-service", "port": 443, "protocol": "TCP", "targetPort": 4244}], {"k8s-app": "cilium"},
              {"app.kubernetes.io/name": "hubble-peer", "app.kubernetes.io/part-of": "cilium", "k8s-app": "cilium"},
              extra={"internalTrafficPolicy": "Local"})
    d.slice("kube-system", "hubble-peer", [{"name": "peer-service", "port": 4244, "protocol": "TCP"}],
            [(a, n, p) for (n, a, _), p in zip(nodes, ["cilium-fz2wq", "cilium-kq9xs", "cilium-p8m4d"])])
    d.service("kube-system", "hubble-relay", "10.108.64.9",
              [{"port": 80, "protocol": "TCP", "targetPort": "grpc"}], {"k8s-app": "hubble-relay"},
              {"app.kubernetes.io/name": "hubble-relay", "k8s-app": "hubble-relay"})
    d.slice("kube-system", "hubble-relay", [{"name": "", "port": 4245, "protocol": "TCP"}],
            [("10.0.2.33", "worker-2", "hubble-relay-7d9f8c6b5-wq2zk")])
    d.kinds["EndpointSlice"][-1]["ports"] = [{"port": 4245, "protocol": "TCP"}]
    # shop: a frontend, a cart and its redis, under default-deny
    front = [("frontend-5f6d8b7c4-8kq2n", "worker-1", "10.0.1.92"), ("frontend-5f6d8b7c4-xv7lp", "worker-2", "10.0.2.140")]
    for name, node, ip in front:
        d.pod("shop", name, node, {"app": "frontend", "pod-template-hash": "5f6d8b7c4"},
              [container("frontend", "ghcr.io/example/shop-frontend:2.4.1", [{"containerPort": 8080, "name": "http"}])],
              ip=ip, owner=("ReplicaSet", "frontend-5f6d8b7c4", "apps/v1"))
    cart = [("cart-7c9b6d5f8-2tzpw", "worker-1", "10.0.1.18"), ("cart-7c9b6d5f8-mb4xr", "worker-2", "10.0.2.71")]
    for name, node, ip in cart:
        d.pod("shop", name, node, {"app": "cart", "pod-template-hash": "7c9b6d5f8"},
              [container("cart", "ghcr.io/example/shop-cart:1.9.0", [{"containerPort": 7070, "name": "grpc"}])],
              ip=ip, owner=("ReplicaSet", "cart-7c9b6d5f8", "apps/v1"))
    d.pod("shop", "redis-0", "worker-2", {"app": "redis", "apps.kubernetes.io/pod-index": "0",
                                          "controller-revision-hash": "redis-5d4c8b7f9d",
                                          "statefulset.kubernetes.io/pod-name": "redis-0"},
          [container("redis", "docker.io/library/redis:7.4.1", [{"containerPort": 6379, "name": "redis"}])],
          ip="10.0.2.205", owner=("StatefulSet", "redis", "apps/v1"))
    # every other phase: a Pending Pod the scheduler refused, one on its node still creating its sandbox, a
    # finished CronJob Pod, an evicted Pod (Failed; its address since reused by the frontend on worker-2), and a
    # Pod whose node stopped reporting it (Unknown)
    d.pod("shop", "cart-7c9b6d5f8-q9hvj", None, {"app": "cart", "pod-template-hash": "7c9b6d5f8"},
          [container("cart", "ghcr.io/example/shop-cart:1.9.0", [{"containerPort": 7070, "name": "grpc"}])],
          owner=("ReplicaSet", "cart-7c9b6d5f8", "apps/v1"), phase="Pending", created=T3,
          message="0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
                  "2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
                  "scheduling, 2 No preemption victims found for incoming pod.")
    d.pod("shop", "frontend-5f6d8b7c4-c4wzh", "worker-1", {"app": "frontend", "pod-template-hash": "5f6d8b7c4"},
          [container("frontend", "ghcr.io/example/shop-frontend:2.4.1", [{"containerPort": 8080, "name": "http"}])],
          owner=("ReplicaSet", "frontend-5f6d8b7c4", "apps/v1"), phase="Pending", created=T3)
    d.pod("shop", "cart-cleanup-29409120-7nq4x", "worker-1",
          {"batch.kubernetes.io/controller-uid": uid("job", "cleanup"), "batch.kubernetes.io/job-name":
           "cart-cleanup-29409120", "controller-uid": uid("job", "cleanup"), "job-name": "cart-cleanup-29409120"},
          [container("cleanup", "ghcr.io/example/shop-cart:1.9.0", args=["cleanup", "--older-than=72h"])],
          ip="10.0.1.203", owner=("Job", "cart-cleanup-29409120", "batch/v1"), phase="Succeeded",
          restart="OnFailure", created=T2)
    d.pod("shop", "frontend-5f6d8b7c4-9zb6m", "worker-2", {"app": "frontend", "pod-template-hash": "5f6d8b7c4"},
          [container("frontend", "ghcr.io/example/shop-frontend:2.4.1", [{"containerPort": 8080, "name": "http"}])],
          ip="10.0.2.140", owner=("ReplicaSet", "frontend-5f6d8b7c4", "apps/v1"), phase="Failed", reason="Evicted",
          message="The node was low on resource: memory. Threshold quantity: 100Mi, available: 91232Ki.", created=T0)
    d.pod("shop", "cart-7c9b6d5f8-f3x8d", "worker-1", {"app": "cart", "pod-template-hash": "7c9b6d5f8"},
          [container("cart", "ghcr.io/example/shop-cart:1.9.0", [{"containerPort": 7070, "name": "grpc"}])],
          ip="10.0.1.44", owner=("ReplicaSet", "cart-7c9b6d5f8", "apps/v1"), phase="Unknown", created=T0)
    d.service("shop", "frontend", "10.97.201.15", [{"name": "http", "nodePort": 30080, "port": 80, "protocol": "TCP",
                                                   "targetPort": "http"}], {"app": "frontend"}, kind="NodePort")
    d.slice("shop", "frontend", [{"name": "http", "port": 8080, "protocol": "TCP"}], [(ip, n, p) for p, n, ip in front])
    d.service("shop", "cart", "10.103.8.77", [{"name": "grpc", "port": 7070, "protocol": "TCP", "targetPort": "grpc"}],
              {"app": "cart"})
    d.slice("shop", "cart", [{"name": "grpc", "port": 7070, "protocol": "TCP"}],
            [(ip, n, p) for p, n, ip in cart] + [("10.0.1.44", "worker-1", "cart-7c9b6d5f8-f3x8d")])
    d.service("shop", "redis", "None", [{"name": "redis", "port": 6379, "protocol": "TCP", "targetPort": 6379}],
              {"app": "redis"})
    d.slice("shop", "redis", [{"name": "redis", "port": 6379, "protocol": "TCP"}], [("10.0.2.205", "worker-2", "redis-0")])
    d.policy("shop", "default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
    d.policy("shop", "frontend-from-anywhere", {"ingress": [{"ports": [{"port": 8080, "protocol": "TCP"}]}],
                                                "podSelector": {"matchLabels": {"app": "frontend"}},
                                                "policyTypes": ["Ingress"]})
    d.policy("shop", "cart-from-frontend", {"ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
                                                         "ports": [{"port": 7070, "protocol": "TCP"}]}],
                                            "podSelector": {"matchLabels": {"app": "cart"}}, "policyTypes": ["Ingress"]})
    d.policy("shop", "redis-from-cart", {"ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "cart"}}}],
                                                      "ports": [{"port": 6379, "protocol": "TCP"}]}],
                                         "podSelector": {"matchLabels": {"app": "redis"}}, "policyTypes": ["Ingress"]})
    return d


def flannel() -> Dump:
    """kubeadm 1.31 with flannel (kube-flannel.yml, VXLAN, host-local IPAM from each node's podCIDR), ingress-nginx
    on NodePorts, a hostNetwork node-exporter; printed with `--show-managed-fields`."""
    nodes = [("cp-1", "192.168.56.10", "10.244.0.0/24"), ("worker-1", "192.168.56.11", "10.244.1.0/24"),
             ("worker-2", "192.168.56.12", "10.244.2.0/24")]
    d = Dump(nodes, managed_fields=True)
    for name, address, cidr in nodes:
        d.node(name, address, cidr, {"flannel.alpha.coreos.com/backend-data": '{"VNI":1,"VtepMAC":"'
                                     + ":".join(uid("mac", name)[i:i + 2] for i in range(0, 12, 2)) + '"}',
                                     "flannel.alpha.coreos.com/backend-type": "vxlan",
                                     "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                                     "flannel.alpha.coreos.com/public-ip": address},
               name == "cp-1", ("FlannelIsUp", "Flannel is running on this node"))
    for ns, labels in [("blog", {}), ("default", {}), ("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
                       ("kube-flannel", {"pod-security.kubernetes.io/enforce": "privileged"}),
                       ("kube-node-lease", {}), ("kube-public", {}), ("kube-system", {}), ("monitoring", {})]:
        d.namespace(ns, labels)
    for (node, _, _), sfx in zip(nodes, ["b7x2d", "mq4kz", "w9c5t"]):
        d.pod("kube-flannel", f"kube-flannel-ds-{sfx}", node,
              {"app": "flannel", "controller-revision-hash": "5c8f9d7b6", "k8s-app": "flannel",
               "pod-template-generation": "1", "tier": "node"},
              [container("kube-flannel", "ghcr.io/flannel-io/flannel:v0.26.1", args=["--ip-masq", "--kube-subnet-mgr"])],
              host=True, owner=("DaemonSet", "kube-flannel-ds", "apps/v1"),
              tolerations=[{"effect": "NoSchedule", "operator": "Exists"}], priority="system-node-critical",
              sa="flannel", init=[container("install-cni-plugin", "ghcr.io/flannel-io/flannel-cni-plugin:v1.5.1-flannel2"),
                                  container("install-cni", "ghcr.io/flannel-io/flannel:v0.26.1")])
    kubeadm_system(d, "cp-1", "192.168.56.10", "10.244.0.0/16", "v1.31.4", ["4kd9w", "hn6qz", "s2v8p"],
                   [("coredns-7c65d6cfc9-9q4xm", "10.244.0.2"), ("coredns-7c65d6cfc9-kd7wn", "10.244.0.3")])
    # ingress-nginx (its Helm chart): the controller behind a NodePort Service; its admission Jobs have finished
    ctl = "ingress-nginx-controller-6d9c8b5f7-zp4lk"
    d.pod("ingress-nginx", ctl, "worker-1",
          {"app.kubernetes.io/component": "controller", "app.kubernetes.io/instance": "ingress-nginx",
           "app.kubernetes.io/name": "ingress-nginx", "pod-template-hash": "6d9c8b5f7"},
          [container("controller", "registry.k8s.io/ingress-nginx/controller:v1.12.0",
                     [{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "https"},
                      {"containerPort": 8443, "name": "webhook"}], ["/nginx-ingress-controller",
                                                                    "--ingress-class=nginx",
                                                                    "--controller-class=k8s.io/ingress-nginx"])],
          ip="10.244.1.2", owner=("ReplicaSet", "ingress-nginx-controller-6d9c8b5f7", "apps/v1"), sa="ingress-nginx")
    for job, sfx, node, ip in [("ingress-nginx-admission-create", "x8v2q", "worker-2", "10.244.2.2"),
                               ("ingress-nginx-admission-patch", "r5m7k", "worker-1", "10.244.1.3")]:
        d.pod("ingress-nginx", f"{job}-{sfx}", node,
              {"app.kubernetes.io/component": "admission-webhook", "app.kubernetes.io/name": "ingress-nginx",
               "batch.kubernetes.io/job-name": job, "job-name": job},
              [container(job.rsplit("-", 1)[1], "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.5.0")],
              ip=ip, owner=("Job", job, "batch/v1"), phase="Succeeded", restart="OnFailure", created=T1)
    d.service("ingress-nginx", "ingress-nginx-controller", "10.106.145.3",
              [{"appProtocol": "http", "name": "http", "nodePort": 31080, "port": 80, "protocol": "TCP", "targetPort": "http"},
               {"appProtocol": "https", "name": "https", "nodePort": 31443, "port": 443, "protocol": "TCP",
                "targetPort": "https"}],
              {"app.kubernetes.io/component": "controller", "app.kubernetes.io/instance": "ingress-nginx",
               "app.kubernetes.io/name": "ingress-nginx"}, kind="NodePort")
    d.slice("ingress-nginx", "ingress-nginx-controller", [{"appProtocol": "http", "name": "http", "port": 80, "protocol": "TCP"},
                                                          {"appProtocol": "https", "name": "https", "port": 443, "protocol": "TCP"}],
            [("10.244.1.2", "worker-1", ctl)])
    d.service("ingress-nginx", "ingress-nginx-controller-admission", "10.99.12.200",
              [{"appProtocol": "https", "name": "https-webhook", "port": 443, "protocol": "TCP", "targetPort": "webhook"}],
              {"app.kubernetes.io/component": "controller", "app.kubernetes.io/instance": "ingress-nginx",
               "app.kubernetes.io/name": "ingress-nginx"})
    d.slice("ingress-nginx", "ingress-nginx-controller-admission",
            [{"appProtocol": "https", "name": "https-webhook", "port": 8443, "protocol": "TCP"}],
            [("10.244.1.2", "worker-1", ctl)])
    d.kinds["IngressClass"].append({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                                    "metadata": d.meta("IngressClass", "nginx", labels={
                                        "app.kubernetes.io/component": "controller", "app.kubernetes.io/name": "ingress-nginx"},
                                        annotations={"ingressclass.kubernetes.io/is-default-class": "true"}),
                                    "spec": {"controller": "k8s.io/ingress-nginx"}})
    # node-exporter on the node's network, every node
    for (node, _, _), sfx in zip(nodes, ["6tqjz", "dl2x9", "n8kfr"]):
        d.pod("monitoring", f"node-exporter-{sfx}", node,
              {"app.kubernetes.io/name": "node-exporter", "controller-revision-hash": "69c5d8f7b",
               "pod-template-generation": "2"},
              [container("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2",
                         [{"containerPort": 9100, "hostPort": 9100, "name": "metrics"}],
                         ["--web.listen-address=0.0.0.0:9100", "--path.rootfs=/host/root"])],
              host=True, owner=("DaemonSet", "node-exporter", "apps/v1"), tolerations=ALL_TOLERATIONS,
              sa="node-exporter")
    # blog: WordPress and MySQL behind the ingress
    wp = [("wordpress-84b6f9c7d-2hk9s", "worker-1", "10.244.1.4"), ("wordpress-84b6f9c7d-vq8rn", "worker-2", "10.244.2.3")]
    for name, node, ip in wp:
        d.pod("blog", name, node, {"app": "wordpress", "pod-template-hash": "84b6f9c7d", "tier": "frontend"},
              [container("wordpress", "docker.io/library/wordpress:6.7-apache", [{"containerPort": 80, "name": "http"}])],
              ip=ip, owner=("ReplicaSet", "wordpress-84b6f9c7d", "apps/v1"))
    d.pod("blog", "mysql-0", "worker-2", {"app": "wordpress", "apps.kubernetes.io/pod-index": "0",
                                          "controller-revision-hash": "mysql-7b5d9c8f6", "tier": "mysql",
                                          "statefulset.kubernetes.io/pod-name": "mysql-0"},
          [container("mysql", "docker.io/library/mysql:8.4", [{"containerPort": 3306, "name": "mysql"}])],
          ip="10.244.2.4", owner=("StatefulSet", "mysql", "apps/v1"))
    d.pod("blog", "wordpress-84b6f9c7d-t7m4c", None, {"app": "wordpress", "pod-template-hash": "84b6f9c7d",
                                                      "tier": "frontend"},
          [container("wordpress", "docker.io/library/wordpress:6.7-apache", [{"containerPort": 80, "name": "http"}])],
          owner=("ReplicaSet", "wordpress-84b6f9c7d", "apps/v1"), phase="Pending", created=T3,
          message="0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
                  "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
                  "scheduling, 2 No preemption victims found for incoming pod.")
    d.pod("blog", "db-check", "worker-1", {"run": "db-check"},
          [container("db-check", "docker.io/library/mysql:8.4", args=["mysqladmin", "ping", "-h", "mysql"])],
          ip="10.244.1.9", phase="Failed", restart="Never", created=T2)
    d.service("blog", "wordpress", "10.110.34.21", [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
              {"app": "wordpress", "tier": "frontend"})
    d.slice("blog", "wordpress", [{"name": "http", "port": 80, "protocol": "TCP"}], [(ip, n, p) for p, n, ip in wp])
    d.service("blog", "mysql", "None", [{"name": "mysql", "port": 3306, "protocol": "TCP", "targetPort": 3306}],
              {"app": "wordpress", "tier": "mysql"})
    d.slice("blog", "mysql", [{"name": "mysql", "port": 3306, "protocol": "TCP"}], [("10.244.2.4", "worker-2", "mysql-0")])
    d.kinds["Ingress"].append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                               "metadata": d.meta("Ingress", "blog", "blog"),
                               "spec": {"ingressClassName": "nginx", "rules": [{"host": "blog.example.com", "http": {
                                   "paths": [{"backend": {"service": {"name": "wordpress", "port": {"name": "http"}}},
                                              "path": "/", "pathType": "Prefix"}]}}],
                                        "tls": [{"hosts": ["blog.example.com"], "secretName": "blog-tls"}]},
                               "status": {"loadBalancer": {"ingress": [{"ip": "192.168.56.11"}]}}})
    d.policy("blog", "mysql-from-wordpress", {
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "wordpress", "tier": "frontend"}}}],
                     "ports": [{"port": 3306, "protocol": "TCP"}]}],
        "podSelector": {"matchLabels": {"tier": "mysql"}}, "policyTypes": ["Ingress"]})
    return d


if __name__ == "__main__":
    targets = sys.argv[1:] or ["cilium", "flannel"]
    for target in targets:
        {"cilium": cilium, "flannel": flannel}[target]().write(HERE / f"{target}.json")
