"""`query --to service:NS/NAME` from an outside network asks about the Service's outside entry points
(LoadBalancer ingress IPs, externalIPs, nodePorts), never its ClusterIP (issue 8.5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main

TOPOLOGIES = Path(__file__).resolve().parent.parent / "topologies"


def _query(capsys: pytest.CaptureFixture[str], layout: str, *args: str) -> tuple[int, dict[str, object]]:
    code = main(["query", str(TOPOLOGIES / layout), *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_internet_reaches_the_ingress_controller_through_its_load_balancer_and_node_ports(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, answer = _query(capsys, "flannel-vxlan.yaml", "--from", "network:internet",
                          "--to", "service:ingress-nginx/ingress-nginx-controller", "--port", "80")
    assert (code, answer["verdict"], answer["disposition"]) == (0, "allowed", "delivered")
    destinations = {p["destination"] for p in answer["paths"]}  # type: ignore[union-attr]
    assert "service:ingress-nginx/ingress-nginx-controller (203.0.113.80)" in destinations  # status LB IP
    assert {d.split(" (")[0] for d in destinations if d.startswith("node:")} >= {"node:w-1"}
    assert all("nodePort 30080" in d for d in destinations if d.startswith("node:"))
    assert "10.96.10.10" not in json.dumps(answer)  # the ClusterIP is not an entry from outside


def test_a_closed_node_port_is_denied_by_the_firewall_not_unroutable(capsys: pytest.CaptureFixture[str]) -> None:
    code, answer = _query(capsys, "broken-nodeport-closed.yaml", "--from", "network:office",
                          "--to", "service:monitoring/grafana", "--port", "80")
    assert (code, answer["disposition"]) == (1, "denied-by-firewall")
    assert {p["destination"].split(" ")[1] for p in answer["paths"]} == {  # type: ignore[union-attr]
        "(nodePort"}


def test_a_cluster_ip_service_still_answers_that_it_is_not_routed_from_outside(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, answer = _query(capsys, "flannel-vxlan.yaml", "--from", "network:internet",
                          "--to", "service:blog/wordpress", "--port", "80")
    assert (code, answer["disposition"]) == (1, "no-route")


def test_an_ip_reference_to_the_cluster_ip_is_asked_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    code, answer = _query(capsys, "flannel-vxlan.yaml", "--from", "network:internet",
                          "--to", "ip:10.96.10.10", "--port", "80")
    assert (code, answer["disposition"]) == (1, "no-route")
