"""Ingress controllers as they are deployed: found through the IngressClass's controller and the Pods' images
and flags (netmodel/compile/ingress.py), not through a label. Inputs: tests/real_inputs/ (sources noted there)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.compile.ingress import identify_container
from netmodel.errors import SourceSpan
from netmodel.model.objects import Container
from tests import checkkit

INPUTS = Path(__file__).resolve().parent / "real_inputs"
TRAEFIK = (INPUTS / "traefik-k3s.yaml").read_text()
INTERNET_TO_TRAEFIK = ('    - {name: lb, action: allow, protocol: TCP, ports: ["31080", "31443"], '
                       'from: [{network: internet}]}\n')
SPAN = SourceSpan("t.yaml", 1, 1)


def test_traefik_without_the_label_is_the_controller_and_its_ports_are_judged() -> None:
    """k3s's Traefik: the Ingress gets no "no controller" warning; NM-EXT-008 runs and finds the closed LB."""
    found = checkkit.pairs(checkkit.base(TRAEFIK), "NM-EXT")
    assert found == {("Service/kube-system/traefik", "NM-EXT-008")}
    opened = checkkit.firewall("control-plane", "control-plane", checkkit.CP_RULES + checkkit.COMMON_RULES) + \
        "---" + checkkit.firewall("workers", "worker", checkkit.COMMON_RULES + INTERNET_TO_TRAEFIK)
    assert checkkit.pairs(checkkit.base(TRAEFIK, firewalls=opened), "NM-EXT") == set()


def test_a_legacy_annotation_finds_the_controller_by_its_class_name() -> None:
    """kubernetes.io/ingress.class: traefik, no IngressClass at all: Traefik claims it by its default class name."""
    legacy = TRAEFIK.split("---\napiVersion: networking.k8s.io/v1\nkind: IngressClass")[0] + \
        "---" + TRAEFIK.split("traefik.io/ingress-controller\n---", 1)[1]
    legacy = legacy.replace("metadata: {name: whoami, namespace: default}\nspec:\n  rules:",
                            "metadata: {name: whoami, namespace: default, annotations: "
                            "{kubernetes.io/ingress.class: traefik}}\nspec:\n  rules:")
    assert "kind: IngressClass" not in legacy and "kubernetes.io/ingress.class: traefik" in legacy
    assert ("Ingress/default/whoami", "NM-EXT-010") not in checkkit.pairs(checkkit.base(legacy), "NM-EXT")
    unclaimed = legacy.replace("ingress.class: traefik}", "ingress.class: nginx}")
    [finding] = [f for f in checkkit.findings(checkkit.base(unclaimed), "NM-EXT-010")]
    assert finding.objects == ("Ingress/default/whoami",)
    assert "kubernetes.io/ingress.class: 'nginx'" in finding.message


def test_one_ingress_gets_one_finding() -> None:
    """An Ingress naming a missing class in a layout without any controller: one NM-EXT-010, not two."""
    ingress = TRAEFIK.split("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: whoami")[1]
    app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: whoami" + ingress
    app = app.replace("spec:\n  rules:", "spec:\n  ingressClassName: nginx\n  rules:")
    findings = checkkit.findings(checkkit.base(app), "NM-EXT-010")
    assert [(f.objects, "'nginx', which does not exist" in f.message) for f in findings] == [
        (("Ingress/default/whoami",), True)]


def test_a_class_whose_controller_runs_nowhere_names_the_controller() -> None:
    no_pods = TRAEFIK.replace("image: rancher/mirrored-library-traefik:2.10.7", "image: example.com/edge:1.0")
    [finding] = checkkit.findings(checkkit.base(no_pods), "NM-EXT-010")
    assert finding.objects == ("Ingress/default/whoami",)
    assert "belongs to controller traefik.io/ingress-controller, but no Pod in the layout runs it" in \
        finding.message



def test_a_class_whose_controller_runs_nowhere_with_network_policies_in_the_layout(tmp_path: Path) -> None:
    """The controller-to-backend policy check skips an Ingress no controller serves (it crashed with KeyError:
    its class names a controller that has no Pods; found by tests/test_fuzz.py, seed 166)."""
    no_pods = TRAEFIK.replace("image: rancher/mirrored-library-traefik:2.10.7", "image: example.com/edge:1.0")
    policy = ("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
              "metadata: {name: deny-all, namespace: default}\nspec: {podSelector: {}}\n")
    layout = tmp_path / "layout.yaml"
    layout.write_text(checkkit.base(no_pods + policy))
    done = subprocess.run([sys.executable, "-m", "netmodel", "check", str(layout), "--format", "json"],
                          check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    ext010 = [f for f in json.loads(done.stdout)["findings"] if f["id"] == "NM-EXT-010"]
    assert [f["objects"] for f in ext010] == [["Ingress/default/whoami"]]

@pytest.mark.parametrize("image, args, controller", [
    # ingress-nginx deploy manifests and chart: /nginx-ingress-controller --controller-class=... (default
    # k8s.io/ingress-nginx); a second instance sets its own value.
    ("registry.k8s.io/ingress-nginx/controller:v1.10.1@sha256:e24f39d3eed6",
     ("/nginx-ingress-controller", "--ingress-class=nginx"), "k8s.io/ingress-nginx"),
    ("registry.k8s.io/ingress-nginx/controller:v1.10.1",
     ("/nginx-ingress-controller", "--controller-class=k8s.io/internal-nginx"), "k8s.io/internal-nginx"),
    ("nginx/nginx-ingress:3.5.0", ("-nginx-configmaps=$(POD_NAMESPACE)/nginx-config", "-ingress-class=nginx"),
     "nginx.org/ingress-controller"),
    ("docker.io/library/traefik:v3.1", ("--providers.kubernetesingress",), "traefik.io/ingress-controller"),
    ("haproxytech/kubernetes-ingress:1.11.3", ("--configmap=haproxy-controller/haproxy-kubernetes-ingress",),
     "haproxy.org/ingress-controller"),
    ("haproxytech/kubernetes-ingress:1.11.3", ("--ingress.class=public",), "haproxy.org/ingress-controller/public"),
    # Contour's Envoy DaemonSet runs the contour image next to Envoy (shutdown-manager, bootstrap).
    ("ghcr.io/projectcontour/contour:v1.28.2", ("contour", "serve", "--incluster"),
     "projectcontour.io/ingress-controller"),
    ("kong/kubernetes-ingress-controller:3.1", (), "ingress-controllers.konghq.com/kong"),
    ("kong:3.6", (), "ingress-controllers.konghq.com/kong"),
    ("docker.io/istio/proxyv2:1.22.0", ("proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local"),
     "istio.io/ingress-controller"),
    # An Istio sidecar, cert-manager's and MetalLB's "controller" components are not ingress controllers.
    ("docker.io/istio/proxyv2:1.22.0", ("proxy", "sidecar"), None),
    ("quay.io/jetstack/cert-manager-controller:v1.14.4", ("--v=2",), None),
    ("quay.io/metallb/controller:v0.14.5", (), None),
])
def test_controllers_are_known_by_image_and_flags(image: str, args: tuple[str, ...], controller: str | None) -> None:
    identity = identify_container(Container("c", (), SPAN, image, args))
    assert (identity.controller if identity else None) == controller
