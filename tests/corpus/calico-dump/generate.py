"""Write tests/corpus/calico-dump/cluster.json: `kubectl get -A -o json` of a healthy kubeadm+Calico cluster."""
import json
import sys
import uuid


def uid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))

T0 = "2026-11-02T09:14:07Z"
T1 = "2026-11-02T09:21:43Z"
T2 = "2026-11-20T15:02:11Z"
items = []
rv = [418000]
def meta(kind, name, ns=None, labels=None, annotations=None, owner=None, created=T0, generate=None):
    rv[0] += 17
    m = {"creationTimestamp": created, "name": name, "resourceVersion": str(rv[0]), "uid": uid(kind, ns or "", name)}
    if generate: m = {"creationTimestamp": created, "generateName": generate, "name": name,
                      "resourceVersion": str(rv[0]), "uid": uid(kind, ns or "", name)}
    if ns: m["namespace"] = ns
    if labels: m["labels"] = labels
    if annotations: m["annotations"] = annotations
    if owner:
        okind, oname, oapi = owner
        m["ownerReferences"] = [{"apiVersion": oapi, "blockOwnerDeletion": True, "controller": True,
                                 "kind": okind, "name": oname, "uid": uid(okind, ns or "", oname)}]
    # key order as the API server writes it
    return dict(sorted(m.items()))

NODES = [("cp-1", "10.0.0.10", "192.168.0.0/24", "192.168.30.64"),
         ("worker-1", "10.0.0.21", "192.168.1.0/24", "192.168.133.192"),
         ("worker-2", "10.0.0.22", "192.168.2.0/24", "192.168.226.64"),
         ("worker-3", "10.0.0.23", "192.168.3.0/24", "192.168.105.128")]
BLOCK = {n: tun for n, _, _, tun in NODES}
ADDR = {n: a for n, a, _, _ in NODES}
def ip(node, k):  # k-th address of the node's Calico block (k=0 is the IPIP tunnel address)
    base = BLOCK[node].split(".")
    return ".".join(base[:3] + [str(int(base[3]) + k)])

for name, addr, cidr, tun in NODES:
    cp = name.startswith("cp")
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    if cp:
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    spec = {"podCIDR": cidr, "podCIDRs": [cidr]}
    if cp:
        spec["taints"] = [{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
    items.append({"apiVersion": "v1", "kind": "Node", "metadata": meta("Node", name, labels=labels, annotations={
        "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
        "node.alpha.kubernetes.io/ttl": "0",
        "projectcalico.org/IPv4Address": addr + "/24",
        "projectcalico.org/IPv4IPIPTunnelAddr": tun,
        "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
        "spec": spec,
        "status": {
            "addresses": [{"address": addr, "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
            "allocatable": {"cpu": "4", "ephemeral-storage": "47233297124", "hugepages-2Mi": "0",
                            "memory": "16283944Ki", "pods": "110"},
            "capacity": {"cpu": "4", "ephemeral-storage": "51250136Ki", "hugepages-2Mi": "0",
                         "memory": "16386344Ki", "pods": "110"},
            "conditions": [
                {"lastHeartbeatTime": T1, "lastTransitionTime": T1, "message": "Calico is running on this node",
                 "reason": "CalicoIsUp", "status": "False", "type": "NetworkUnavailable"},
                {"lastHeartbeatTime": T2, "lastTransitionTime": T0, "message": "kubelet has sufficient memory available",
                 "reason": "KubeletHasSufficientMemory", "status": "False", "type": "MemoryPressure"},
                {"lastHeartbeatTime": T2, "lastTransitionTime": T0, "message": "kubelet has no disk pressure",
                 "reason": "KubeletHasNoDiskPressure", "status": "False", "type": "DiskPressure"},
                {"lastHeartbeatTime": T2, "lastTransitionTime": T0, "message": "kubelet has sufficient PID available",
                 "reason": "KubeletHasSufficientPID", "status": "False", "type": "PIDPressure"},
                {"lastHeartbeatTime": T2, "lastTransitionTime": T1, "message": "kubelet is posting ready status",
                 "reason": "KubeletReady", "status": "True", "type": "Ready"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "bootID": uid("boot", name), "containerRuntimeVersion": "containerd://1.7.22",
                         "kernelVersion": "6.8.0-49-generic", "kubeProxyVersion": "v1.31.3", "kubeletVersion": "v1.31.3",
                         "machineID": uid("machine", name).replace("-", ""), "operatingSystem": "linux",
                         "osImage": "Ubuntu 24.04.1 LTS", "systemUUID": uid("sys", name)}}})

for ns, labels in [("default", {}), ("kube-node-lease", {}), ("kube-public", {}), ("kube-system", {}),
                   ("shop", {"team": "shop"})]:
    l = {"kubernetes.io/metadata.name": ns, **labels}
    items.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta("Namespace", ns, labels=l),
                  "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

def container(name, image, ports=(), args=None):
    c = {"image": image, "imagePullPolicy": "IfNotPresent", "name": name, "resources": {},
         "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}
    if args: c["command"] = args
    if ports: c["ports"] = [dict(sorted(p.items())) for p in ports]
    return dict(sorted(c.items()))

def pod(ns, name, node, labels, containers, owner=None, host=False, podip=None, phase="Running",
        tolerations=None, priority=None, generate=None, annotations=None, sa="default", node_selector=None,
        restart="Always", created=T1):
    spec = {"containers": containers, "dnsPolicy": "ClusterFirstWithHostNet" if host else "ClusterFirst",
            "enableServiceLinks": True, "nodeName": node, "preemptionPolicy": "PreemptLowerPriority",
            "priority": 2000001000 if priority == "system-node-critical" else (2000000000 if priority else 0),
            "restartPolicy": restart, "schedulerName": "default-scheduler", "securityContext": {},
            "serviceAccount": sa, "serviceAccountName": sa, "terminationGracePeriodSeconds": 30}
    if host: spec["hostNetwork"] = True
    if priority: spec["priorityClassName"] = priority
    if node_selector: spec["nodeSelector"] = node_selector
    spec["tolerations"] = tolerations or [
        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}]
    address = ADDR[node] if host else podip
    cstat = []
    for c in containers:
        st = {"containerID": "containerd://" + uid("ctr", ns, name, c["name"]).replace("-", "") * 2,
              "image": c["image"], "imageID": c["image"].split(":")[0] + "@sha256:" + uid("img", c["image"]).replace("-", "") * 2,
              "lastState": {}, "name": c["name"], "restartCount": 0}
        if phase == "Succeeded":
            st.update(ready=False, started=False, state={"terminated": {
                "containerID": st["containerID"], "exitCode": 0, "finishedAt": "2026-11-20T14:03:58Z",
                "reason": "Completed", "startedAt": "2026-11-20T14:03:41Z"}})
        else:
            st.update(ready=True, started=True, state={"running": {"startedAt": created}})
        cstat.append(dict(sorted(st.items())))
    conds = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    status = {"conditions": [{"lastProbeTime": None, "lastTransitionTime": created,
                              "status": "False" if phase == "Succeeded" and t in ("Ready", "ContainersReady", "PodReadyToStartContainers") else "True",
                              "type": t} for t in conds],
              "containerStatuses": cstat, "hostIP": ADDR[node], "hostIPs": [{"ip": ADDR[node]}],
              "phase": phase, "podIP": address, "podIPs": [{"ip": address}],
              "qosClass": "BestEffort", "startTime": created}
    if phase == "Succeeded":
        for cnd in status["conditions"]:
            if cnd["status"] == "False":
                cnd["reason"] = "PodCompleted"
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta("Pod", name, ns, labels, annotations, owner, created, generate),
            "spec": dict(sorted(spec.items())), "status": status}

CP_TOL = [{"effect": "NoExecute", "operator": "Exists"}]
# static control-plane Pods (mirror Pods: owned by the Node)
for comp, image, cmd in [
        ("etcd", "registry.k8s.io/etcd:3.5.15-0", ["etcd", "--advertise-client-urls=https://10.0.0.10:2379",
                                                   "--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.10:2379",
                                                   "--listen-peer-urls=https://10.0.0.10:2380"]),
        ("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.31.3", ["kube-apiserver", "--advertise-address=10.0.0.10",
                                                                       "--secure-port=6443", "--service-cluster-ip-range=10.96.0.0/12"]),
        ("kube-controller-manager", "registry.k8s.io/kube-controller-manager:v1.31.3",
         ["kube-controller-manager", "--allocate-node-cidrs=true", "--cluster-cidr=192.168.0.0/16",
          "--service-cluster-ip-range=10.96.0.0/12", "--bind-address=127.0.0.1"]),
        ("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.31.3", ["kube-scheduler", "--bind-address=127.0.0.1"])]:
    items.append(pod("kube-system", f"{comp}-cp-1", "cp-1", {"component": comp, "tier": "control-plane"},
                     [container(comp, image, args=cmd)], owner=("Node", "cp-1", "v1"), host=True,
                     tolerations=CP_TOL, priority="system-node-critical", created=T0,
                     annotations={"kubernetes.io/config.hash": uid("cfg", comp).replace("-", "")[:32],
                                  "kubernetes.io/config.source": "file"}))

def daemonset(ns, name, labels, c, host, tolerations, node_selector, priority, sa):
    tmpl_spec = {"containers": [c], "dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
                 "schedulerName": "default-scheduler", "serviceAccountName": sa, "nodeSelector": node_selector,
                 "priorityClassName": priority, "tolerations": tolerations, "terminationGracePeriodSeconds": 30}
    if host: tmpl_spec["hostNetwork"] = True
    items.append({"apiVersion": "apps/v1", "kind": "DaemonSet",
                  "metadata": meta("DaemonSet", name, ns, labels, {"deprecated.daemonset.template.generation": "1"}),
                  "spec": {"revisionHistoryLimit": 10, "selector": {"matchLabels": labels},
                           "template": {"metadata": {"labels": labels}, "spec": dict(sorted(tmpl_spec.items()))},
                           "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"}},
                  "status": {"currentNumberScheduled": 4, "desiredNumberScheduled": 4, "numberAvailable": 4,
                             "numberMisscheduled": 0, "numberReady": 4, "observedGeneration": 1, "updatedNumberScheduled": 4}})
    suffixes = ["7xk2p", "b9d4q", "hm5tz", "r2wcn"] if name == "kube-proxy" else ["4fjlw", "9sq7d", "kx8mv", "zt6pb"]
    hashv = "7d8f6bd9c5" if name == "kube-proxy" else "5c7d9d8f4b"
    for (node, *_), sfx in zip(NODES, suffixes):
        items.append(pod(ns, f"{name}-{sfx}", node, {**labels, "controller-revision-hash": hashv, "pod-template-generation": "1"},
                         [c], owner=("DaemonSet", name, "apps/v1"), host=host, tolerations=tolerations,
                         priority=priority, generate=f"{name}-", sa=sa, node_selector=node_selector, created=T1))

ALL_TOL = [{"operator": "Exists"}]
daemonset("kube-system", "kube-proxy", {"k8s-app": "kube-proxy"},
          container("kube-proxy", "registry.k8s.io/kube-proxy:v1.31.3",
                    args=["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"]),
          True, ALL_TOL, {"kubernetes.io/os": "linux"}, "system-node-critical", "kube-proxy")
daemonset("kube-system", "calico-node", {"k8s-app": "calico-node"},
          container("calico-node", "docker.io/calico/node:v3.29.1"),
          True, [{"effect": "NoSchedule", "operator": "Exists"}, {"key": "CriticalAddonsOnly", "operator": "Exists"},
                 {"effect": "NoExecute", "operator": "Exists"}], {"kubernetes.io/os": "linux"}, "system-node-critical", "calico-node")

def deployment(ns, name, labels, c, replicas, rs_hash, pods, tolerations=None, node_selector=None, priority=None, sa="default"):
    tmpl_spec = {"containers": [c], "dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
                 "schedulerName": "default-scheduler", "serviceAccountName": sa, "terminationGracePeriodSeconds": 30}
    if tolerations: tmpl_spec["tolerations"] = tolerations
    if node_selector: tmpl_spec["nodeSelector"] = node_selector
    if priority: tmpl_spec["priorityClassName"] = priority
    tmpl = {"metadata": {"labels": labels}, "spec": dict(sorted(tmpl_spec.items()))}
    items.append({"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": meta("Deployment", name, ns, labels, {"deployment.kubernetes.io/revision": "1"}),
                  "spec": {"progressDeadlineSeconds": 600, "replicas": replicas, "revisionHistoryLimit": 10,
                           "selector": {"matchLabels": labels},
                           "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
                           "template": tmpl},
                  "status": {"availableReplicas": replicas, "observedGeneration": 1, "readyReplicas": replicas,
                             "replicas": replicas, "updatedReplicas": replicas}})
    rs = f"{name}-{rs_hash}"
    rs_labels = {**labels, "pod-template-hash": rs_hash}
    items.append({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": meta("ReplicaSet", rs, ns, rs_labels, {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                                                     "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                                                     "deployment.kubernetes.io/revision": "1"},
                                   ("Deployment", name, "apps/v1")),
                  "spec": {"replicas": replicas, "selector": {"matchLabels": rs_labels},
                           "template": {"metadata": {"labels": rs_labels}, "spec": tmpl["spec"]}},
                  "status": {"availableReplicas": replicas, "fullyLabeledReplicas": replicas, "observedGeneration": 1,
                             "readyReplicas": replicas, "replicas": replicas}})
    out = []
    for sfx, node, k in pods:
        p = pod(ns, f"{rs}-{sfx}", node, rs_labels, [c], owner=("ReplicaSet", rs, "apps/v1"), podip=ip(node, k),
                tolerations=(tolerations or []) + [
                    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}],
                priority=priority, generate=f"{rs}-", sa=sa, node_selector=node_selector)
        items.append(p)
        out.append(p)
    return out

CP_TOLS = [{"key": "CriticalAddonsOnly", "operator": "Exists"},
           {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
coredns = deployment("kube-system", "coredns", {"k8s-app": "kube-dns"},
                     container("coredns", "registry.k8s.io/coredns/coredns:v1.11.3",
                               [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}],
                               args=["/coredns", "-conf", "/etc/coredns/Corefile"]),
                     2, "7c65d6cfc9", [("bs2x9", "cp-1", 1), ("wz6tq", "cp-1", 2)], CP_TOLS,
                     {"kubernetes.io/os": "linux"}, "system-cluster-critical", "coredns")
deployment("kube-system", "calico-kube-controllers", {"k8s-app": "calico-kube-controllers"},
           container("calico-kube-controllers", "docker.io/calico/kube-controllers:v3.29.1"),
           1, "6879d4fcdc", [("l6p8r", "cp-1", 3)], CP_TOLS, {"kubernetes.io/os": "linux"}, "system-cluster-critical",
           "calico-kube-controllers")
# the shop: web and api; the finished migration Job's address (worker-1, k=1) was released and reused by web
web = deployment("shop", "web", {"app": "web"},
                 container("web", "registry.example.com/shop/web:2.4.1", [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]),
                 3, "5d9f7b8c6d", [("4qvzn", "worker-1", 1), ("8jx2m", "worker-2", 1), ("tq9hc", "worker-3", 1)])
api = deployment("shop", "api", {"app": "api"},
                 container("api", "registry.example.com/shop/api:1.9.0", [{"containerPort": 9090, "name": "grpc", "protocol": "TCP"}]),
                 2, "84c7f9d5b7", [("g7kfx", "worker-2", 2), ("p3nd5", "worker-3", 2)])
JOB = "db-migrate-29377260"
items.append({"apiVersion": "batch/v1", "kind": "Job",
              "metadata": meta("Job", JOB, "shop", {"batch.kubernetes.io/job-name": JOB, "job-name": JOB}, None,
                               ("CronJob", "db-migrate", "batch/v1"), T2),
              "spec": {"backoffLimit": 6, "completionMode": "NonIndexed", "completions": 1, "parallelism": 1,
                       "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid("Job", "shop", JOB)}},
                       "suspend": False,
                       "template": {"metadata": {"labels": {"batch.kubernetes.io/job-name": JOB, "job-name": JOB,
                                                            "batch.kubernetes.io/controller-uid": uid("Job", "shop", JOB)}},
                                    "spec": {"containers": [container("migrate", "registry.example.com/shop/migrate:1.9.0")],
                                             "restartPolicy": "OnFailure"}}},
              "status": {"completionTime": "2026-11-20T14:04:01Z", "conditions": [
                  {"lastProbeTime": "2026-11-20T14:04:01Z", "lastTransitionTime": "2026-11-20T14:04:01Z", "status": "True", "type": "SuccessCriteriaMet"},
                  {"lastProbeTime": "2026-11-20T14:04:01Z", "lastTransitionTime": "2026-11-20T14:04:01Z", "status": "True", "type": "Complete"}],
                  "ready": 0, "startTime": "2026-11-20T14:03:38Z", "succeeded": 1, "terminating": 0,
                  "uncountedTerminatedPods": {}}})
items.append({"apiVersion": "batch/v1", "kind": "CronJob",
              "metadata": meta("CronJob", "db-migrate", "shop"),
              "spec": {"concurrencyPolicy": "Forbid", "failedJobsHistoryLimit": 1, "schedule": "0 14 * * *",
                       "successfulJobsHistoryLimit": 3, "suspend": False,
                       "jobTemplate": {"spec": {"template": {"spec": {
                           "containers": [container("migrate", "registry.example.com/shop/migrate:1.9.0")],
                           "restartPolicy": "OnFailure"}}}}},
              "status": {"lastScheduleTime": "2026-11-20T14:00:00Z", "lastSuccessfulTime": "2026-11-20T14:04:01Z"}})
# the web Pods were created after the Job's Pod finished; Calico IPAM handed its address to web on worker-1
items.append(pod("shop", f"{JOB}-x7l4b", "worker-1",
                 {"batch.kubernetes.io/controller-uid": uid("Job", "shop", JOB), "batch.kubernetes.io/job-name": JOB,
                  "controller-uid": uid("Job", "shop", JOB), "job-name": JOB},
                 [container("migrate", "registry.example.com/shop/migrate:1.9.0")], owner=("Job", JOB, "batch/v1"),
                 podip=ip("worker-1", 1), phase="Succeeded", generate=f"{JOB}-", restart="OnFailure", created=T2))

def service(ns, name, ip_, ports, selector=None, labels=None, type_="ClusterIP", annotations=None):
    spec = {"clusterIP": ip_, "clusterIPs": [ip_], "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack", "ports": ports, "sessionAffinity": "None", "type": type_}
    if selector: spec["selector"] = selector
    if type_ == "NodePort": spec["externalTrafficPolicy"] = "Cluster"
    items.append({"apiVersion": "v1", "kind": "Service", "metadata": meta("Service", name, ns, labels, annotations),
                  "spec": dict(sorted(spec.items())), "status": {"loadBalancer": {}}})

service("default", "kubernetes", "10.96.0.1", [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
        labels={"component": "apiserver", "provider": "kubernetes"})
service("kube-system", "kube-dns", "10.96.0.10",
        [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
         {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
         {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}],
        {"k8s-app": "kube-dns"}, {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
        annotations={"prometheus.io/port": "9153", "prometheus.io/scrape": "true"})
service("shop", "web", "10.103.148.22", [{"name": "http", "nodePort": 30080, "port": 80, "protocol": "TCP", "targetPort": "http"}],
        {"app": "web"}, type_="NodePort")
service("shop", "api", "10.109.6.201", [{"name": "grpc", "port": 9090, "protocol": "TCP", "targetPort": "grpc"}], {"app": "api"})

def slice_(ns, svc, sfx, pods, ports, managed="endpointslice-controller.k8s.io", addresses=None):
    eps = []
    for p in pods or []:
        eps.append({"addresses": [p["status"]["podIP"]], "conditions": {"ready": True, "serving": True, "terminating": False},
                    "nodeName": p["spec"]["nodeName"],
                    "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": ns, "uid": p["metadata"]["uid"]}})
    for a in addresses or []:
        eps.append({"addresses": [a], "conditions": {"ready": True}})
    items.append({"addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                  "endpoints": eps,
                  "metadata": meta("EndpointSlice", f"{svc}-{sfx}" if sfx else svc, ns,
                                   {**({"endpointslice.kubernetes.io/managed-by": managed} if managed else {}),
                                    "kubernetes.io/service-name": svc},
                                   None, None if not sfx else ("Service", svc, "v1"),
                                   generate=f"{svc}-" if sfx else None),
                  "ports": ports})

slice_("default", "kubernetes", None, None, [{"name": "https", "port": 6443, "protocol": "TCP"}],
       managed=None, addresses=["10.0.0.10"])
slice_("kube-system", "kube-dns", "qd8vz", coredns, [{"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                                                     {"name": "dns", "port": 53, "protocol": "UDP"},
                                                     {"name": "metrics", "port": 9153, "protocol": "TCP"}])
slice_("shop", "web", "r5m2k", web, [{"name": "http", "port": 8080, "protocol": "TCP"}])
slice_("shop", "api", "c9w4j", api, [{"name": "grpc", "port": 9090, "protocol": "TCP"}])

items.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": meta("NetworkPolicy", "api-from-web", "shop", annotations={
                  "kubectl.kubernetes.io/last-applied-configuration": ""}),
              "spec": {"ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                    "ports": [{"port": 9090, "protocol": "TCP"}]}],
                       "podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"]}})
items[-1]["metadata"].pop("annotations")
items.append({"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
              "metadata": meta("IPPool", "default-ipv4-ippool", annotations={"projectcalico.org/metadata": '{"creationTimestamp":null}'}),
              "spec": {"allowedUses": ["Workload", "Tunnel"], "blockSize": 26, "cidr": "192.168.0.0/16",
                       "ipipMode": "Always", "natOutgoing": True, "nodeSelector": "all()", "vxlanMode": "Never"}})

json.dump({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}, sys.stdout, indent=4)
sys.stdout.write("\n")
