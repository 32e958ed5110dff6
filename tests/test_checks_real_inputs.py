"""Checks on inputs as operators write them (issue 9): public recipes and charts on a bundled cluster.

Each test runs ``netmodel check`` on a healthy bundled layout plus a small file under tests/real_inputs/ (each
names its source and licence) and asserts the exact findings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "tests" / "real_inputs"
FLANNEL = str(ROOT / "topologies" / "flannel-vxlan.yaml")


def check(capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, list[dict[str, object]]]:
    """Exit code and the non-info findings of ``netmodel check PATHS --format json``."""
    code = main(["check", *paths, "--format", "json"])
    out, _ = capsys.readouterr()
    findings = [f for f in json.loads(out)["findings"] if f["severity"] != "info"]
    return code, findings


def test_dns_egress_recipe_passes_although_kube_dns_lists_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    """NM-SVC-008 judges 53/UDP and 53/TCP only: kube-dns's metrics port 9153 is not a name lookup."""
    code, findings = check(capsys, FLANNEL, str(INPUTS / "recipe-deny-egress-but-dns.yaml"))
    assert (code, findings) == (0, [])


def test_dns_egress_without_tcp_names_tcp_53_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (INPUTS / "recipe-deny-egress-but-dns.yaml").read_text()
    udp_only = tmp_path / "udp-only.yaml"
    udp_only.write_text(text.replace("    - {port: 53, protocol: TCP}\n", ""))
    code, findings = check(capsys, FLANNEL, str(udp_only))
    assert code == 1
    assert [(f["id"], f["objects"]) for f in findings] == [("NM-SVC-008", ["NetworkPolicy/blog/mysql-deny-egress"])]
    message = str(findings[0]["message"])
    assert "on TCP 53:" in message and "9153" not in message


def test_numeric_target_port_on_pods_declaring_no_ports_is_fine(capsys: pytest.CaptureFixture[str]) -> None:
    """The engine delivers to a Pod that declares no containerPorts on any port; NM-SVC-002 agrees."""
    code, findings = check(capsys, FLANNEL, str(INPUTS / "hello-node-no-container-ports.yaml"))
    assert (code, findings) == (0, [])
    assert main(["query", FLANNEL, str(INPUTS / "hello-node-no-container-ports.yaml"), "--from", "blog/mysql-0",
                 "--to", "service:default/hello-node", "--port", "8080"]) == 0
    capsys.readouterr()


def test_numeric_target_port_the_pods_do_not_declare_still_warns(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Pods that declare other ports listen only there (the engine says port-closed): NM-SVC-002 warns."""
    text = (INPUTS / "hello-node-no-container-ports.yaml").read_text()
    declared = tmp_path / "declares-80.yaml"
    declared.write_text(text.replace("        command: [/agnhost, netexec, --http-port=8080]\n",
                                     "        ports: [{containerPort: 80}]\n"))
    code, findings = check(capsys, FLANNEL, str(declared))
    assert code == 0
    assert [(f["id"], f["severity"], f["objects"]) for f in findings] == [
        ("NM-SVC-002", "warning", ["Service/default/hello-node"])]


def test_service_selecting_nothing_behind_an_ingress_is_one_error(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The Ingress blog/blog routes to Service blog/wordpress; a selector typo black-holes it: an error, once."""
    typo = tmp_path / "wordpress-typo.yaml"
    text = Path(FLANNEL).read_text()
    assert text.count("  selector: {app: wordpress}\n") == 1
    typo.write_text(text.replace("  selector: {app: wordpress}\n", "  selector: {app: wordpres}\n"))
    code, findings = check(capsys, str(typo))
    assert code == 1
    assert [(f["id"], f["severity"], f["objects"]) for f in findings] == [
        ("NM-SVC-001", "error", ["Service/blog/wordpress", "Ingress/blog/blog"])]
    assert "sent to it by Ingress blog/blog" in str(findings[0]["message"])
    lines = text.splitlines()
    service, backend = findings[0]["sources"]  # type: ignore[misc]
    assert lines[service["line"] - 1:service["line"] + 3] == [
        "apiVersion: v1", "kind: Service", "metadata:", "  name: wordpress"]
    assert lines[backend["line"] - 1].strip() == "service:"  # the Ingress backend that routes there


EXPECT = """
apiVersion: netmodel.io/v1alpha1
kind: Expectations
metadata: {{name: monitoring}}
spec:
  flows:
  - {{from: deployment:monitoring/grafana, to: service:monitoring/prometheus, port: 9090, allowed: {allowed}}}
"""


def test_service_selecting_nothing_that_a_flow_must_reach_is_an_error(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    layout = str(ROOT / "topologies" / "broken-service-selects-nothing.yaml")
    must = tmp_path / "must.yaml"
    must.write_text(EXPECT.format(allowed="true"))
    code, findings = check(capsys, layout, "--expect", str(must))
    assert code == 1
    assert sorted((f["id"], f["severity"], f["objects"][0]) for f in findings) == [  # type: ignore[index]
        ("NM-EXPECT-001", "error", "Service/monitoring/prometheus"),
        ("NM-SVC-001", "error", "Service/monitoring/prometheus")]
    [svc] = [f for f in findings if f["id"] == "NM-SVC-001"]
    assert "the Expectations flow deployment:monitoring/grafana → service:monitoring/prometheus port 9090" in \
        str(svc["message"])
    # A flow that must be denied routes nothing there: the finding stays a warning.
    must_not = tmp_path / "must-not.yaml"
    must_not.write_text(EXPECT.format(allowed="false"))
    code, findings = check(capsys, layout, "--expect", str(must_not))
    assert (code, [(f["id"], f["severity"]) for f in findings]) == (0, [("NM-SVC-001", "warning")])
