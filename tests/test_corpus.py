"""Real inputs as they come: public manifests, a `kubectl get -A -o json` dump and NCA's test inputs.

The corpus is under tests/corpus/ (one folder per application, each with a SOURCE.md naming the repository,
path, commit and licence). Every run goes through the command line entry point (``netmodel.cli.main.main``) as
a user's would. What must hold (issue "Real inputs as they come", Done when):

* each application alone (no Cluster, no Node) and on a realistic kubeadm cluster (tests/corpus/_cluster/):
  no Pending Pod, no error finding, every kind netmodel does not analyze named in a finding, a non-empty
  matrix;
* the Calico cluster dump checks clean;
* NCA's plain-Kubernetes inputs load without edits (exit 0 or 1, never 2);
* the NetworkPolicies of Online Boutique and of the network-policy recipes, and Cilium's own policy examples
  (tests/corpus/cilium), give the verdicts their authors state (derived here by reading the policies and their
  documentation, not by running netmodel); what netmodel cannot judge offline is said on the answers it could
  change, and nowhere else.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from netmodel.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
CLUSTER = CORPUS / "_cluster"

APPS = ("online-boutique", "kube-prometheus", "argo-cd", "ingress-nginx", "bookinfo", "sock-shop", "longhorn")

# The kinds netmodel reads (docs/input.md, "Standard kinds" and "netmodel kinds"), by API group. Every other
# kind in an input must be named by some finding (NM-INPUT-001 or a summary of skipped kinds).
ANALYZED = {
    "": {"Namespace", "Node", "Pod", "Service", "ReplicationController", "ServiceAccount"},
    "apps": {"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"},
    "batch": {"Job", "CronJob"},
    "discovery.k8s.io": {"EndpointSlice"},
    "networking.k8s.io": {"Ingress", "IngressClass", "NetworkPolicy"},
    "netmodel.io": {"Cluster", "Firewall", "Expectations"},
    "crd.projectcalico.org": {"IPPool", "NetworkPolicy", "GlobalNetworkPolicy", "Tier", "NetworkSet", "GlobalNetworkSet"},
    "projectcalico.org": {"IPPool", "NetworkPolicy", "GlobalNetworkPolicy", "Tier", "NetworkSet", "GlobalNetworkSet"},
}


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@functools.cache
def check(*paths: Path) -> tuple[int, dict[str, Any], str]:
    code, out, err = _run("check", *map(str, paths), "--format", "json")
    assert code != 2, f"netmodel check {' '.join(map(str, paths))} rejected the input:\n{err}"
    return code, json.loads(out), err


@functools.cache
def matrix(*paths: Path) -> tuple[int, dict[str, Any], str]:
    code, out, err = _run("matrix", *map(str, paths), "--by", "workload", "--format", "json")
    assert code != 2, err
    return code, json.loads(out), err


def query(paths: tuple[Path, ...], source: str, destination: str, port: int,
          protocol: str = "TCP") -> dict[str, Any]:
    code, out, err = _run("query", *map(str, paths), "--from", source, "--to", destination, "--port", str(port),
                          "--protocol", protocol, "--format", "json")
    assert code in (0, 1), err
    answer = json.loads(out)
    assert (code == 0) == (answer["verdict"] == "allowed"), answer["verdict"]
    return answer


def app_inputs(app: str, with_cluster: bool) -> tuple[Path, ...]:
    return (CLUSTER, CORPUS / app) if with_cluster else (CORPUS / app,)


# -- what the input holds, read independently of netmodel -------------------------------------------------

def _documents(path: Path) -> list[Any]:
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".yaml", ".yml", ".json")) \
        if path.is_dir() else [path]
    docs: list[Any] = []
    for file in files:
        text = file.read_text(encoding="utf-8-sig")
        docs.extend(json.loads(text) if file.suffix == ".json" else yaml.safe_load_all(text))
    return docs


def _objects(doc: Any, kind: str | None = None, api_version: str | None = None) -> list[tuple[str, str]]:
    """(apiVersion, kind) of a document and, for lists, of each item (items of a typed list such as PodList
    take the list's item kind when they lack one, as the API defines)."""
    if not isinstance(doc, dict):
        return []
    kind = doc.get("kind", kind)
    api_version = doc.get("apiVersion", api_version)
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        item_kind = kind[:-len("List")] or None
        found: list[tuple[str, str]] = []
        for item in doc["items"]:
            found.extend(_objects(item, item_kind, api_version if item_kind else None))
        return found
    return [(str(api_version), str(kind))] if kind else []


def skipped_kinds(*paths: Path) -> set[str]:
    kinds = set()
    for path in paths:
        for doc in _documents(path):
            for api_version, kind in _objects(doc):
                group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
                if kind not in ANALYZED.get(group, set()):
                    kinds.add(kind)
    return kinds


def findings(report: dict[str, Any], *ids: str, severity: str | None = None) -> list[dict[str, Any]]:
    return [f for f in report["findings"]
            if (not ids or f["id"] in ids) and (severity is None or f["severity"] == severity)]


def _brief(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{f['severity']} {f['id']} {f['message']}" for f in found)


# -- each application, alone and on a cluster -------------------------------------------------------------

CASES = [pytest.param(app, with_cluster, id=f"{app}{'+cluster' if with_cluster else ''}")
         for app in APPS for with_cluster in (False, True)]


@pytest.mark.parametrize(("app", "with_cluster"), CASES)
def test_no_pending_pod(app: str, with_cluster: bool) -> None:
    """Charts select `kubernetes.io/os: linux`; every node, the implicit one too, carries that label."""
    _, report, _ = check(*app_inputs(app, with_cluster))
    pending = findings(report, "NM-INPUT-007")
    assert not pending, _brief(pending)


@pytest.mark.parametrize(("app", "with_cluster"), CASES)
def test_healthy_app_has_no_error(app: str, with_cluster: bool) -> None:
    code, report, _ = check(*app_inputs(app, with_cluster))
    errors = findings(report, severity="error")
    assert not errors, _brief(errors)
    assert code == 0


@pytest.mark.parametrize(("app", "with_cluster"), CASES)
def test_every_skipped_kind_is_named(app: str, with_cluster: bool) -> None:
    paths = app_inputs(app, with_cluster)
    _, report, _ = check(*paths)
    told = " ".join(f["message"] for f in report["findings"] if f["severity"] in ("info", "warning"))
    skipped = skipped_kinds(*paths)
    unnamed = sorted(kind for kind in skipped if kind not in told)
    assert not unnamed, f"kinds skipped without a word: {unnamed}"


@pytest.mark.parametrize(("app", "with_cluster"), CASES)
def test_matrix_is_not_empty(app: str, with_cluster: bool) -> None:
    _, answer, _ = matrix(*app_inputs(app, with_cluster))
    assert answer["connections"], "the input has Pods, yet the matrix lists no connection"


def test_custom_resources_that_create_pods_say_so() -> None:
    """kube-prometheus' Prometheus and Alertmanager objects make Pods the operator creates: netmodel names
    them as such, so the warnings about Services and policies selecting no Pod point the right way."""
    _, report, _ = check(*app_inputs("kube-prometheus", True))
    for name in ("Prometheus monitoring/k8s", "Alertmanager monitoring/main"):
        said = [f for f in report["findings"] if name in f["message"]]
        assert said and all("Pods" in f["message"] for f in said), _brief(said)


@pytest.mark.parametrize("with_cluster", [False, True], ids=["alone", "on-cluster"])
def test_warnings_caused_by_operator_made_pods_point_to_them(with_cluster: bool) -> None:
    """Every kube-prometheus warning about a selector or peer that matches no Pod, or a Service left with no
    allowed client, comes from the Pods the Prometheus/Alertmanager operator makes (podMetadata labels
    app.kubernetes.io/name=prometheus|alertmanager): each must say so instead of advising to fix the labels."""
    _, report, _ = check(*app_inputs("kube-prometheus", with_cluster))
    caused = findings(report, "NM-POL-001", "NM-POL-002", "NM-SVC-001", "NM-SVC-009")
    assert caused
    silent = [f for f in caused if "not in the layout" not in f["message"]]
    assert not silent, _brief(silent)


def test_service_on_pods_declaring_no_ports_is_not_called_broken() -> None:
    """Argo CD's notifications controller declares no containerPort; the engine assumes such a container may
    listen on any port (docs/reachability.md), so NM-SVC-002 must not say its metrics Service fails."""
    _, report, _ = check(*app_inputs("argo-cd", True))
    said = [f for f in findings(report, "NM-SVC-002")
            if "argocd-notifications-controller-metrics" in f["message"] and f["severity"] != "info"]
    assert not said, _brief(said)


# -- Online Boutique's NetworkPolicies ----------------------------------------------------------------------

BOUTIQUE = (CORPUS / "online-boutique",)
BOUTIQUE_ON_CLUSTER = (CLUSTER, CORPUS / "online-boutique")

# From kustomize/components/network-policies: deny-all isolates every Pod both ways; each service's policy
# admits its port from the callers listed; egress is open for all; frontend admits everything.
BOUTIQUE_FLOWS = [
    ("frontend", "cartservice", 7070, True),
    ("checkoutservice", "cartservice", 7070, True),
    ("cartservice", "redis-cart", 6379, True),
    ("frontend", "adservice", 9555, True),
    ("checkoutservice", "paymentservice", 50051, True),
    ("checkoutservice", "emailservice", 8080, True),
    ("recommendationservice", "productcatalogservice", 3550, True),
    ("loadgenerator", "frontend", 8080, True),
    ("loadgenerator", "cartservice", 7070, False),
    ("frontend", "paymentservice", 50051, False),
    ("frontend", "emailservice", 8080, False),
    ("frontend", "redis-cart", 6379, False),
    ("cartservice", "productcatalogservice", 3550, False),
    ("loadgenerator", "recommendationservice", 8080, False),
]


@pytest.mark.parametrize("paths", [BOUTIQUE, BOUTIQUE_ON_CLUSTER], ids=["alone", "on-cluster"])
@pytest.mark.parametrize(("source", "destination", "port", "allowed"), BOUTIQUE_FLOWS,
                         ids=[f"{s}->{d}:{p}" for s, d, p, _ in BOUTIQUE_FLOWS])
def test_online_boutique_policies(paths: tuple[Path, ...], source: str, destination: str, port: int,
                                  allowed: bool) -> None:
    answer = query(paths, f"deployment:default/{source}", f"deployment:default/{destination}", port)
    assert answer["verdict"] == ("allowed" if allowed else "denied"), answer["disposition"]
    if not allowed:
        assert answer["disposition"] == "denied-by-policy"


def test_online_boutique_through_the_service() -> None:
    """Through the cartservice ClusterIP the policies judge the endpoint: frontend in, loadgenerator out."""
    assert query(BOUTIQUE_ON_CLUSTER, "deployment:default/frontend", "service:default/cartservice",
                 7070)["verdict"] == "allowed"
    assert query(BOUTIQUE_ON_CLUSTER, "deployment:default/loadgenerator", "service:default/cartservice",
                 7070)["verdict"] == "denied"


def test_online_boutique_without_its_policies_is_open() -> None:
    """The manifests alone have no NetworkPolicy: the flow the policies deny is allowed."""
    answer = query((CORPUS / "online-boutique" / "kubernetes-manifests.yaml",), "deployment:default/loadgenerator",
                   "deployment:default/cartservice", 7070)
    assert answer["verdict"] == "allowed"


# -- sock-shop's NetworkPolicies ---------------------------------------------------------------------------

SOCK_SHOP = CORPUS / "sock-shop"
SOCK_SHOP_DEMO = (SOCK_SHOP / "complete-demo.yaml",)
# Read from manifests-policy (tests/corpus/sock-shop/SOURCE.md): cortex-access isolates every Pod for ingress;
# each service's policy admits its port from the callers it lists; cart-access and carts-db-access name
# `name: cart` while the Pods are `name: carts`, and nothing admits session-db's or queue-master's clients.
SOCK_SHOP_FLOWS = [
    ("front-end", "catalogue", 80, True),
    ("catalogue", "catalogue-db", 3306, True),
    ("front-end", "user", 80, True),
    ("orders", "user", 80, True),
    ("user", "user-db", 27017, True),
    ("front-end", "orders", 80, True),
    ("orders", "payment", 80, True),
    ("orders", "shipping", 80, True),
    ("orders", "orders-db", 27017, True),
    ("shipping", "rabbitmq", 5672, True),
    ("queue-master", "rabbitmq", 5672, True),
    ("carts", "front-end", 8079, True),
    ("front-end", "carts", 80, False),  # cart-access selects name=cart: nothing admits carts' callers
    ("orders", "carts", 80, False),
    ("carts", "carts-db", 27017, False),  # carts-db-access admits name=cart only
    ("front-end", "session-db", 6379, False),  # no policy admits it
    ("front-end", "payment", 80, False),
    ("user", "catalogue-db", 3306, False),
    ("front-end", "rabbitmq", 5672, False),
]


@pytest.mark.parametrize("with_cluster", [False, True], ids=["alone", "on-cluster"])
@pytest.mark.parametrize(("source", "destination", "port", "allowed"), SOCK_SHOP_FLOWS,
                         ids=[f"{s}->{d}:{p}" for s, d, p, _ in SOCK_SHOP_FLOWS])
def test_sock_shop_policies(with_cluster: bool, source: str, destination: str, port: int, allowed: bool) -> None:
    answer = query(app_inputs("sock-shop", with_cluster), f"deployment:sock-shop/{source}",
                   f"deployment:sock-shop/{destination}", port)
    assert answer["verdict"] == ("allowed" if allowed else "denied"), answer["disposition"]
    if not allowed:
        assert answer["disposition"] == "denied-by-policy"


@pytest.mark.parametrize("with_cluster", [False, True], ids=["alone", "on-cluster"])
def test_sock_shop_policy_mistakes_are_reported(with_cluster: bool) -> None:
    """The upstream policies' mistakes are real and reported as warnings (the demo's Services are cut off);
    nothing else is, and the Namespace the policy folder declares again is read once."""
    _, report, _ = check(*app_inputs("sock-shop", with_cluster))
    warned = sorted((f["id"], f["objects"][0]) for f in findings(report, severity="warning"))
    assert warned == [
        ("NM-POL-001", "NetworkPolicy/sock-shop/cart-access"),
        ("NM-POL-002", "NetworkPolicy/sock-shop/carts-db-access"),
        ("NM-POL-002", "NetworkPolicy/sock-shop/cortex-access"),
        ("NM-SVC-009", "Service/sock-shop/carts"),
        ("NM-SVC-009", "Service/sock-shop/carts-db"),
        ("NM-SVC-009", "Service/sock-shop/queue-master"),
        ("NM-SVC-009", "Service/sock-shop/rabbitmq"),
        ("NM-SVC-009", "Service/sock-shop/session-db"),
    ], _brief(findings(report, severity="warning"))
    rabbitmq = [f["message"] for f in findings(report, "NM-SVC-009") if "sock-shop/rabbitmq " in f["message"]]
    assert rabbitmq and "port exporter" in rabbitmq[0]  # 5672 is admitted; the metrics port is not
    again = findings(report, "NM-INPUT-014")
    assert [f["objects"] for f in again] == [["Namespace/sock-shop"]], _brief(again)


def test_sock_shop_without_its_policies_schedules_and_is_open() -> None:
    """complete-demo.yaml alone: its Deployments pin `beta.kubernetes.io/os: linux`, which the implicit node
    carries as a kubelet's does, so every Pod runs, every Service has endpoints and the carts flow is open."""
    code, report, _ = check(*SOCK_SHOP_DEMO)
    assert code == 0 and not findings(report, "NM-INPUT-007") and not findings(report, severity="warning"), \
        _brief(findings(report, "NM-INPUT-007", "NM-SVC-001"))
    answer = query(SOCK_SHOP_DEMO, "deployment:sock-shop/front-end", "service:sock-shop/carts", 80)
    assert answer["verdict"] == "allowed"


def test_sock_shop_front_end_is_exposed_on_its_node_port() -> None:
    """front-end is a NodePort Service (30001 → 8079) and front-end-access admits 8079 from anyone: the internet
    reaches it through the workers, which admit NodePorts; the control-plane node's firewall does not."""
    answer = query((CLUSTER, SOCK_SHOP), "network:internet", "service:sock-shop/front-end", 80)
    assert answer["verdict"] == "partial", answer["disposition"]
    outcomes = {(p["destination"].split(" ")[0], p["disposition"]) for p in answer["paths"]}
    assert ("node:cp-1", "denied-by-firewall") in outcomes and ("node:worker-1", "delivered") in outcomes
    assert all(d == "delivered" for n, d in outcomes if n != "node:cp-1"), outcomes


# -- Longhorn: Pods its manager makes at run time -----------------------------------------------------------


@pytest.mark.parametrize("with_cluster", [False, True], ids=["alone", "on-cluster"])
def test_longhorn_selectors_of_manager_made_pods_say_who_makes_them(with_cluster: bool) -> None:
    """longhorn-manager creates the instance-manager (and other) Pods and labels its own as the admission webhook
    at run time; the manifest's policies and webhook Service select them. Every warning that such a selector
    matches no Pod names longhorn-manager and the Role that lets it create Pods, instead of only blaming the
    labels (tests/corpus/longhorn/SOURCE.md)."""
    _, report, _ = check(*app_inputs("longhorn", with_cluster))
    warned = findings(report, severity="warning")
    assert sorted({(f["id"], f["objects"][0]) for f in warned}) == [
        ("NM-POL-001", "NetworkPolicy/longhorn-system/instance-manager"),
        ("NM-POL-001", "NetworkPolicy/longhorn-system/longhorn-webhook"),
        ("NM-POL-002", "NetworkPolicy/longhorn-system/instance-manager"),
        ("NM-POL-002", "NetworkPolicy/longhorn-system/longhorn-manager"),
        ("NM-SVC-001", "Service/longhorn-system/longhorn-admission-webhook"),
    ], _brief(warned)
    told = "its Pods may be made at run time: DaemonSet longhorn-system/longhorn-manager"
    silent = [f for f in warned if told not in f["message"] or "Role longhorn-system/longhorn" not in f["message"]]
    assert not silent, _brief(silent)


# -- Services an operator makes -----------------------------------------------------------------------------

GKE_ELASTIC = CORPUS / "gke-elastic-stack"


def test_an_ingress_to_the_service_an_operator_makes_is_a_warning_naming_it() -> None:
    """The GKE Elastic tutorial's Ingress sends to kibana-kb-http, the Service ECK makes for the Kibana `kibana`:
    missing from the input, not from the cluster. No error; NM-EXT-006 warns and names the Kibana."""
    code, report, _ = check(GKE_ELASTIC)
    assert code == 0 and not findings(report, severity="error"), _brief(findings(report, severity="error"))
    [said] = findings(report, "NM-EXT-006")
    assert said["severity"] == "warning" and "operator of Kibana elastic-system/kibana" in said["message"], said


ROUTE_TO_OPERATOR_SERVICE = """
apiVersion: ray.io/v1
kind: RayService
metadata: {name: rayllm, namespace: default}
spec: {}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: serve, namespace: default}
spec:
  rules:
  - backendRefs: [{name: BACKEND, port: 8000}]
"""


@pytest.mark.parametrize(("backend", "severity"), [("rayllm-head-svc", "warning"), ("rayllm", "warning"),
                                                    ("raylm-head-svc", "error"), ("other", "error")])
def test_a_route_to_a_missing_service_named_after_an_operator_resource_is_a_warning(
        tmp_path: Path, backend: str, severity: str) -> None:
    """KubeRay makes `<RayService>-head-svc` (GKE samples' rayserve HTTPRoute sends there); a name that is not the
    resource's (a typo, another name) stays an error."""
    path = tmp_path / "route.yaml"
    path.write_text(ROUTE_TO_OPERATOR_SERVICE.replace("BACKEND", backend))
    code, out, err = _run("check", str(path), "--format", "json")
    assert code in (0, 1), err
    [said] = findings(json.loads(out), "NM-EXT-012")
    assert said["severity"] == severity, said
    assert ("RayService default/rayllm" in said["message"]) == (severity == "warning"), said


# -- the network-policy recipes -----------------------------------------------------------------------------

RECIPES = CORPUS / "np-recipes"
RECIPE_FLOWS = [  # recipe, from, to, port, allowed — as each recipe's text says
    ("01-web-deny-all", "default/client", "default/web", 80, False),
    ("02-api-allow", "default/client", "default/apiserver", 80, False),
    ("02-api-allow", "default/client-bookstore-frontend", "default/apiserver", 80, True),
    ("02a-web-allow-all", "default/client", "default/web", 80, True),
    ("03-default-deny-all", "default/client", "default/web", 80, False),
    ("04-deny-from-other-namespaces", "foo/client", "default/web", 80, False),
    ("04-deny-from-other-namespaces", "default/client", "default/web", 80, True),
    ("05-web-allow-all-namespaces", "secondary/client", "default/web", 80, True),
    ("06-web-allow-prod", "dev/client", "default/web", 80, False),
    ("06-web-allow-prod", "prod/client", "default/web", 80, True),
    ("07-web-allow-all-ns-monitoring", "default/client-monitoring", "default/web", 80, False),
    ("07-web-allow-all-ns-monitoring", "other/client", "default/web", 80, False),
    ("07-web-allow-all-ns-monitoring", "other/client-monitoring", "default/web", 80, True),
    ("09-api-allow-5000", "default/client", "default/apiserver-two-ports", 5000, False),
    ("09-api-allow-5000", "default/client-monitoring", "default/apiserver-two-ports", 5000, True),
    ("09-api-allow-5000", "default/client-monitoring", "default/apiserver-two-ports", 8000, False),
    ("10-redis-allow-services", "default/client-inventory-web", "default/db", 6379, True),
    ("10-redis-allow-services", "default/client-other", "default/db", 6379, False),
    ("11-foo-deny-egress", "default/foo", "default/web", 80, False),
    ("11-foo-deny-egress-allow-dns", "default/foo", "default/web", 80, False),
    ("12-default-deny-all-egress", "default/client", "default/web", 80, False),
    ("14-foo-deny-external-egress", "default/foo", "default/web", 80, False),
    ("14-foo-deny-external-egress", "default/client", "default/web", 80, True),
]


@pytest.mark.parametrize(("recipe", "source", "destination", "port", "allowed"), RECIPE_FLOWS,
                         ids=[f"{r}:{s}->{d}:{p}" for r, s, d, p, _ in RECIPE_FLOWS])
def test_network_policy_recipes(recipe: str, source: str, destination: str, port: int, allowed: bool) -> None:
    answer = query((RECIPES / "workloads.yaml", RECIPES / "policies" / f"{recipe}.yaml"), source, destination,
                   port)
    assert answer["verdict"] == ("allowed" if allowed else "denied"), answer["disposition"]


def test_recipe_dns_egress_on_a_cluster() -> None:
    """Recipe 11's second policy lets foo resolve names (kube-dns, 53/UDP and 53/TCP) and nothing else; the
    first blocks DNS too, which the recipe warns about and NM-SVC-008 reports."""
    allow_dns = (CLUSTER, RECIPES / "workloads.yaml", RECIPES / "policies" / "11-foo-deny-egress-allow-dns.yaml")
    assert query(allow_dns, "default/foo", "service:kube-system/kube-dns", 53, "UDP")["verdict"] == "allowed"
    assert query(allow_dns, "default/foo", "service:kube-system/kube-dns", 53, "TCP")["verdict"] == "allowed"
    code, report, _ = check(*allow_dns)
    assert not findings(report, severity="error"), _brief(findings(report, severity="error"))
    assert code == 0
    deny_all = (CLUSTER, RECIPES / "workloads.yaml", RECIPES / "policies" / "11-foo-deny-egress.yaml")
    assert query(deny_all, "default/foo", "service:kube-system/kube-dns", 53, "UDP")["verdict"] == "denied"
    _, report, _ = check(*deny_all)
    dns = findings(report, "NM-SVC-008", severity="error")
    assert len(dns) == 1 and "default/foo" in dns[0]["message"] and "53" in dns[0]["message"], _brief(dns)


# -- Cilium's own policy examples -------------------------------------------------------------------------

CILIUM = CORPUS / "cilium"
STAR_WARS = CILIUM / "star-wars"


def not_evaluated(answer: dict[str, Any]) -> list[str]:
    return list((answer.get("notEvaluated") or {}).get("kinds", []))


def test_star_wars_without_policy_every_ship_lands() -> None:
    """The guide's first step: before any policy, both the tiefighter and the xwing reach the deathstar."""
    for ship in ("tiefighter", "xwing"):
        answer = query((STAR_WARS / "http-sw-app.yaml",), f"pod:default/{ship}", "service:default/deathstar", 80)
        assert answer["verdict"] == "allowed" and not not_evaluated(answer)


def test_star_wars_l3_l4_policy() -> None:
    """rule1 (sw_l3_l4_policy.yaml) admits org=empire on TCP 80 and puts the deathstar in default deny: the
    tiefighter lands, the xwing's request hangs (the guide: "Apply an L3/L4 Policy"). All of it is L3/L4, so
    nothing is left unjudged."""
    paths = (STAR_WARS / "http-sw-app.yaml", STAR_WARS / "sw_l3_l4_policy.yaml")
    tiefighter = query(paths, "pod:default/tiefighter", "service:default/deathstar", 80)
    assert tiefighter["verdict"] == "allowed" and not not_evaluated(tiefighter)
    xwing = query(paths, "pod:default/xwing", "service:default/deathstar", 80)
    assert xwing["verdict"] == "denied" and xwing["disposition"] == "denied-by-policy"
    assert not not_evaluated(xwing)
    _, report, _ = check(*paths)
    assert not findings(report, "NM-INPUT-045")


def test_star_wars_l7_policy_is_judged_at_l4_and_says_so() -> None:
    """With the L7 rule (POST /v1/request-landing only) the tiefighter still reaches port 80 — its PUT
    /v1/exhaust-port is refused by Cilium's proxy, which netmodel cannot judge offline: the allowed answer says so
    and NM-INPUT-045 names the rule's toPorts.rules at its line."""
    paths = (STAR_WARS / "http-sw-app.yaml", STAR_WARS / "sw_l3_l4_l7_policy.yaml")
    tiefighter = query(paths, "pod:default/tiefighter", "service:default/deathstar", 80)
    assert tiefighter["verdict"] == "allowed"
    assert not_evaluated(tiefighter) == ["CiliumNetworkPolicy (cilium.io)"]
    # The xwing is refused at L3/L4 already: the HTTP rule can only narrow what rule1 allows, so the denial
    # is certain and not marked.
    xwing = query(paths, "pod:default/xwing", "service:default/deathstar", 80)
    assert xwing["verdict"] == "denied" and not not_evaluated(xwing)
    _, report, _ = check(*paths)
    l7 = findings(report, "NM-INPUT-045")
    assert len(l7) == 1 and "toPorts.rules" in l7[0]["message"], _brief(l7)
    assert l7[0]["sources"][0]["file"].endswith("sw_l3_l4_l7_policy.yaml") and l7[0]["sources"][0]["line"] == 14


def test_star_wars_default_deny() -> None:
    """empire-default-deny (`ingress: [{}]`) isolates every org=empire Pod and admits nothing: the deathstar's
    Service is left with no allowed client (NM-SVC-009), and the tiefighter no longer lands."""
    paths = (STAR_WARS / "http-sw-app.yaml", STAR_WARS / "sw_deny_policy.yaml")
    assert query(paths, "pod:default/tiefighter", "service:default/deathstar", 80)["verdict"] == "denied"
    assert query(paths, "pod:default/xwing", "pod:default/tiefighter", 80)["verdict"] == "denied"
    _, report, _ = check(*paths)
    said = findings(report, "NM-SVC-009")
    assert len(said) == 1 and "default/deathstar" in said[0]["message"], _brief(said)


def test_cilium_service_account_example() -> None:
    """examples/policies/kubernetes/serviceaccount/README: Pods of ServiceAccount luke reach leia's, vader's
    requests time out. Cilium labels each endpoint with its service account
    (io.cilium.k8s.policy.serviceaccount), which netmodel reads from spec.serviceAccountName."""
    paths = (CILIUM / "serviceaccount",)
    luke = query(paths, "pod:default/luke-pod", "service:default/leia", 80)
    assert luke["verdict"] == "allowed" and not not_evaluated(luke)
    vader = query(paths, "pod:default/vader-pod", "service:default/leia", 80)
    assert vader["verdict"] == "denied" and not not_evaluated(vader)
    _, report, _ = check(*paths)
    assert not findings(report, "NM-INPUT-045", "NM-POL-016"), _brief(findings(report, "NM-INPUT-045", "NM-POL-016"))


def test_cilium_namespace_examples() -> None:
    """namespace-policy.yaml exposes leia (ns1) to luke of ns2 only; isolate-namespaces.yaml admits, in each
    namespace, only Pods of that namespace (`fromEndpoints: [{}]` is limited to the policy's namespace)."""
    pods = CILIUM / "namespace" / "demo-pods.yaml"
    across = (pods, CILIUM / "namespace" / "namespace-policy.yaml")
    assert query(across, "pod:ns2/luke-pod", "service:ns1/leia", 80)["verdict"] == "allowed"
    assert query(across, "pod:ns2/vader-pod", "service:ns1/leia", 80)["verdict"] == "denied"
    isolated = (pods, CILIUM / "namespace" / "isolate-namespaces.yaml")
    assert query(isolated, "pod:ns2/luke-pod", "service:ns1/leia", 80)["verdict"] == "denied"
    assert query(isolated, "pod:ns2/luke-pod", "pod:ns2/vader-pod", 80)["verdict"] == "allowed"


def test_cilium_health_policy_is_reported_not_silently_empty() -> None:
    """clusterwide/health.yaml selects the reserved `health` identity (Cilium's health endpoints), which netmodel
    does not model: NM-INPUT-045 says so at the selector, not NM-POL-016's "check its labels"."""
    _, report, _ = check(CILIUM / "namespace" / "demo-pods.yaml", CILIUM / "health.yaml")
    said = findings(report, "NM-INPUT-045", "NM-POL-016")
    assert [f["id"] for f in said] == ["NM-INPUT-045"] and "reserved:health" in said[0]["message"], _brief(said)


# -- Calico's stars demo (Kubernetes NetworkPolicy) -------------------------------------------------------------

STARS = CORPUS / "calico-stars"
STARS_STEPS = {  # the tutorial's steps, each with the policies applied so far
    "isolated": ("default-deny-stars-client.yaml",),
    "ui": ("default-deny-stars-client.yaml", "policies/allow-ui.yaml", "policies/allow-ui-client.yaml"),
}
STARS_STEPS["backend"] = STARS_STEPS["ui"] + ("policies/backend-policy.yaml",)
STARS_STEPS["frontend"] = STARS_STEPS["backend"] + ("policies/frontend-policy.yaml",)
UI, FRONTEND, BACKEND, CLIENT = ("deployment:management-ui/management-ui", "deployment:stars/frontend",
                                 "deployment:stars/backend", "deployment:client/client")
STARS_FLOWS = [  # step, from, to, port, allowed — as the tutorial (kubernetes-demo.md) states
    ("isolated", UI, "service:stars/backend", 6379, False),  # "the UI can no longer access the pods"
    ("isolated", UI, "service:client/client", 9000, False),
    ("ui", UI, "service:stars/backend", 6379, True),  # "it should now show the Services"
    ("ui", UI, "service:stars/frontend", 80, True),
    ("ui", UI, "service:client/client", 9000, True),
    ("ui", FRONTEND, "service:stars/backend", 6379, False),  # "not able to access each other any more"
    ("backend", FRONTEND, "service:stars/backend", 6379, True),  # "on TCP port 6379 only"
    ("backend", BACKEND, "service:stars/frontend", 80, False),
    ("backend", CLIENT, "service:stars/frontend", 80, False),
    ("backend", CLIENT, "service:stars/backend", 6379, False),
    ("frontend", CLIENT, "service:stars/frontend", 80, True),  # "The client can now access the frontend"
    ("frontend", CLIENT, "service:stars/backend", 6379, False),
    ("frontend", FRONTEND, "service:client/client", 9000, False),  # nor initiate connections to the client
    ("frontend", BACKEND, "service:client/client", 9000, False),
    ("frontend", FRONTEND, "service:stars/backend", 6379, True),
]


@pytest.mark.parametrize(("step", "source", "destination", "port", "allowed"), STARS_FLOWS,
                         ids=[f"{st}:{s.split('/')[-1]}->{d}:{p}" for st, s, d, p, _ in STARS_FLOWS])
def test_calico_stars_demo(step: str, source: str, destination: str, port: int, allowed: bool) -> None:
    paths = (STARS / "manifests", *(STARS / p for p in STARS_STEPS[step]))
    answer = query(paths, source, destination, port)
    assert answer["verdict"] == ("allowed" if allowed else "denied"), answer["disposition"]


def test_calico_stars_demo_checks_clean() -> None:
    """The whole demo, every policy applied, is a healthy layout: no warning, no error."""
    code, report, _ = check(STARS / "manifests", *(STARS / p for p in STARS_STEPS["frontend"]))
    said = [f for f in report["findings"] if f["severity"] != "info"]
    assert code == 0 and not said, _brief(said)


# -- Calico's YAO Bank demo (service-account rules, an HTTP rule netmodel does not evaluate) ------------------

YAOBANK = (CORPUS / "calico-yaobank",)


def test_calico_yaobank_demo() -> None:
    """enforce-policy-istio.md: only the summary service account reaches the database (the customer web app, and
    the attacker's Pod, get refused). The customer policy's `http: {methods: [GET]}` is application layer policy,
    which netmodel does not evaluate: NM-INPUT-040 says so and the answers carry the mark (cluster-wide: it is a
    GlobalNetworkPolicy)."""
    assert query(YAOBANK, "deployment:default/summary", "service:default/database", 2379)["verdict"] == "allowed"
    for source in ("deployment:default/customer", "deployment:default/attack"):
        answer = query(YAOBANK, source, "service:default/database", 2379)
        assert answer["verdict"] == "denied" and answer["disposition"] == "denied-by-policy"
        assert not_evaluated(answer) == ["GlobalNetworkPolicy (projectcalico.org)"]
    _, report, _ = check(*YAOBANK)
    said = findings(report, "NM-INPUT-040")
    assert len(said) == 1 and "customer" in said[0]["message"] and "http" in said[0]["message"], _brief(said)
    # Said once: NM-INPUT-040 is the warning; the policy is not also an NM-INPUT-015 "not evaluated" object.
    again = [f for f in findings(report, "NM-INPUT-015") if "customer" in f["message"]]
    assert not again, _brief(again)


# -- the AdminNetworkPolicy API's own walkthrough (policy-assistant) ----------------------------------------

WALKTHROUGH = (CORPUS / "network-policy-api" / "walkthrough",)
# cmd/policy-assistant/examples/demos/walkthrough/README.md, "Walk through Traffic": source, destination, port,
# verdict, and the decisions that reach it.
WALKTHROUGH_FLOWS = [
    ("deployment:demo/a", "pod:demo/b", 80, "allowed"),  # [ANP] Allow (allow-80)
    ("deployment:demo/a", "pod:demo/b", 81, "denied"),  # [ANP] No-Op -> [BANP] Deny (baseline-deny)
    ("pod:demo2/nginx", "deployment:demo/a", 81, "denied"),  # [ANP] Pass -> [NPv1] Dropped
    ("pod:demo2/nginx", "deployment:demo/a", 80, "allowed"),  # anp1 (priority 1) before anp2's Pass
]


@pytest.mark.parametrize(("source", "destination", "port", "verdict"), WALKTHROUGH_FLOWS,
                         ids=[f"{s}->{d}:{p}" for s, d, p, _ in WALKTHROUGH_FLOWS])
def test_admin_policy_walkthrough(source: str, destination: str, port: int, verdict: str) -> None:
    """The walkthrough's ANPs write their peers in the API's first shape (`namespaces: {namespaceSelector: …}`,
    v0.1.0-v0.1.2 of the same v1alpha1), which netmodel refused (exit 2) before reading both shapes."""
    answer = query(WALKTHROUGH, source, destination, port)
    assert answer["verdict"] == verdict, answer["disposition"]
    assert not not_evaluated(answer)


# -- a live Calico cluster, as `kubectl get -A -o json` prints it --------------------------------------------

DUMP = CORPUS / "calico-dump" / "cluster.json"


def test_calico_dump_checks_clean() -> None:
    """Calico IPAM blocks lie outside the nodes' podCIDRs, a finished Job Pod shows an address a running
    Pod now holds, system Pods are hostNetwork: none of it is an error."""
    code, report, _ = check(DUMP)
    errors = findings(report, severity="error")
    assert not errors, _brief(errors)
    assert code == 0
    assert not findings(report, "NM-INPUT-007")


def test_calico_dump_names_what_it_skips() -> None:
    _, report, _ = check(DUMP)
    told = " ".join(f["message"] for f in report["findings"])
    unnamed = sorted(kind for kind in skipped_kinds(DUMP) if kind not in told)
    assert not unnamed


def test_calico_dump_answers() -> None:
    """The reused address belongs to the running web Pod; the NetworkPolicy lets only web reach api."""
    answer = query((DUMP,), "deployment:shop/api", "ip:192.168.133.193", 8080)
    assert answer["verdict"] == "allowed"
    assert query((DUMP,), "deployment:shop/web", "service:shop/api", 9090)["verdict"] == "allowed"
    assert query((DUMP,), "deployment:kube-system/coredns", "service:shop/api", 9090)["verdict"] == "denied"
    _, answer, _ = matrix(DUMP)
    assert answer["connections"]


# -- NCA's (np-guard/network-config-analyzer) plain-Kubernetes test inputs ----------------------------------

NCA = CORPUS / "nca"
PODLIST = (NCA / "k8s_testcases/example_podlist/ns_list.json", NCA / "k8s_testcases/example_podlist/pods_list.json")
POLICIES = NCA / "k8s_testcases/example_policies"
NCA_CASES: dict[str, tuple[Path, ...]] = {
    "workload-resources": (NCA / "example_workload_resources",),
    "ipblockstest": (POLICIES / "ipblockstest",),
    "services1": (NCA / "k8s_testcases/example_podlist/services1", POLICIES / "services1/services1-networkpolicy0.yaml"),
    "k8s-ingress-test": (POLICIES / "k8s-ingress-test",),
    **{f"podlist+{p.parent.name}/{p.name}": (*PODLIST, p)
       for folder in ("andOrCombinations", "namedPorts", "withIpBlock2", "withEndPort", "testcase2", "demo/sanity")
       for p in sorted((POLICIES / folder).glob("*.yaml"))},
    "podlist+regression-withIpBlock-new": (*PODLIST, POLICIES / "demo/regression/regression-withIpBlock-new.yaml"),
}


@pytest.mark.parametrize("paths", list(NCA_CASES.values()), ids=list(NCA_CASES))
def test_nca_inputs_load_without_edits(paths: tuple[Path, ...]) -> None:
    code, out, err = _run("check", *map(str, paths), "--format", "json")
    assert code in (0, 1), err
    report = json.loads(out)
    told = " ".join(f["message"] for f in report["findings"])
    unnamed = sorted(kind for kind in skipped_kinds(*paths) if kind not in told)
    assert not unnamed


IPBLOCKSTEST = (POLICIES / "ipblockstest",)
# NCA's expected answer (its tests/k8s_testcases/expected_output/ipblocktest-conn-graph-no-fw-rules.txt): from
# 0.0.0.0-9.255.255.255 the tier=frontend Pods of kube-system get UDP 53 and nothing else. netmodel agrees on
# ordinary Pods; the two differences are the conventions docs/reachability.md names ("Compared with NCA").
NCA_COMPARISON = [  # destination, protocol, port, netmodel's verdict, NCA's verdict
    ("kube-system/ibm-file-plugin-7bfb8b69bf-p86gk", "UDP", 53, "allowed", "allowed"),
    ("kube-system/ibm-file-plugin-7bfb8b69bf-p86gk", "TCP", 80, "denied", "denied"),
    ("kube-system/calico-node-mgdlr", "TCP", 80, "allowed", "denied"),  # hostNetwork: not subject to policy
    ("kube-system/tiller-deploy-5c45c9966b-nqwz6", "UDP", 53, "denied", "allowed"),  # declares TCP 44134 only
]


@pytest.mark.parametrize(("destination", "protocol", "port", "ours", "nca"), NCA_COMPARISON,
                         ids=[f"{d.split('/')[1]}:{p}/{port}" for d, p, port, _, _ in NCA_COMPARISON])
def test_nca_differences_are_the_documented_conventions(destination: str, protocol: str, port: int, ours: str,
                                                         nca: str) -> None:
    answer = query(IPBLOCKSTEST, "ip:8.8.8.8", destination, port, protocol)
    assert answer["verdict"] == ours, answer["disposition"]
    if ours != nca:
        expected = "port-closed" if ours == "denied" else "delivered"
        assert answer["disposition"] == expected
