"""The parts of the emulator that need no root: plan validation, script rendering, refusals."""

from __future__ import annotations

import os
import shutil

import pytest

from netmodel.emulate import host, scripts
from netmodel.emulate.errors import EnvironmentUnsupported, PlanError
from netmodel.emulate.plan import (
    Bridge,
    LabPlan,
    Listener,
    Namespace,
    Probe,
    Route,
    Tunnel,
    VethLink,
    probe_problems,
)


def pair(**extra: object) -> LabPlan:
    return LabPlan(
        namespaces=(Namespace("a"), Namespace("b")),
        links=(
            VethLink("a", "eth0", ("10.0.0.1/24", "fd00::1/64"), "b", "eth0", ("10.0.0.2/24",)),
        ),
        **extra,  # type: ignore[arg-type]
    )


def test_every_plan_problem_is_reported_at_once() -> None:
    with pytest.raises(PlanError) as caught:
        LabPlan(
            namespaces=(Namespace("a"), Namespace("a")),
            links=(VethLink("a", "a-very-long-interface", ("10.0.0.1",), "ghost", "eth0", ()),),
            routes=(Route("a", "10.1.0.0/16"),),
            listeners=(Listener("a", "icmp", "10.0.0.1", 0),),  # type: ignore[arg-type]
        )
    text = str(caught.value)
    for expected in (
        "declared twice",
        "unknown namespace 'ghost'",
        "'a-very-long-interface' must be 1-15",
        "needs a prefix length",
        "give via, dev or both",
        "protocol must be one of",
        "port must be 1..65535",
    ):
        assert expected in text
    assert len(caught.value.problems) == 7


def test_tunnel_and_sysctl_checks() -> None:
    with pytest.raises(PlanError) as caught:
        pair(
            tunnels=(
                Tunnel("a", "tun0", "ipip", "fd00::1", "fd00::2"),
                Tunnel("a", "vx0", "vxlan", "10.0.0.1", "10.0.0.2"),
            ),
        )
    assert "ipip needs an IPv4 underlay" in str(caught.value)
    assert "vni must be given" in str(caught.value)
    from netmodel.emulate.plan import Sysctl

    with pytest.raises(PlanError, match="only net"):
        pair(sysctls=(Sysctl("a", "kernel.panic", "1"),))


def test_create_phase_makes_veths_from_inside_a_namespace_with_distinct_indexes() -> None:
    plan = pair(bridges=(Bridge("b", "br0", ports=("eth0",)),))
    created = scripts.create_phase(plan, lambda ns: f"nm-abcdef-{ns}")
    assert created == {
        "a": [
            "link add name eth0 index 1000 type veth peer name eth0 index 1001 netns nm-abcdef-b"
        ],
        "b": ["link add name br0 type bridge"],
    }


def test_configure_phase_orders_addresses_before_routes_and_skips_dad_on_ipv6() -> None:
    plan = pair(routes=(Route("a", "default", via="fd00::2"), Route("b", "default", dev="eth0")))
    configured = scripts.configure_phase(plan)
    assert configured["a"] == [
        "addr add 10.0.0.1/24 dev eth0",
        "addr add fd00::1/64 dev eth0 nodad",
        "link set dev eth0 up",
        "link set dev lo up",
        "route add ::/0 via fd00::2",
    ]
    assert configured["b"][-1] == "route add 0.0.0.0/0 dev eth0"
    assert scripts.prepare_sysctls(plan) == [
        "net.ipv6.conf.default.accept_dad=0",
        "net.ipv6.conf.all.accept_dad=0",
    ]


def test_tunnel_lines_use_the_cni_ports() -> None:
    vxlan = Tunnel("a", "flannel.1", "vxlan", "10.0.0.1", "10.0.0.2", vni=1, port=8472, dev="eth0")
    assert scripts.tunnel_line(vxlan) == (
        "link add name flannel.1 type vxlan id 1 local 10.0.0.1 remote 10.0.0.2 dstport 8472 dev eth0"
    )
    ipip = Tunnel("a", "tunl0", "ipip", "10.0.0.1", "10.0.0.2")
    assert (
        scripts.tunnel_line(ipip) == "link add name tunl0 type ipip local 10.0.0.1 remote 10.0.0.2"
    )
    assert ipip.udp_port is None
    assert Tunnel("a", "g", "geneve", "10.0.0.1", "10.0.0.2", vni=2).udp_port == 6081


def test_probes_may_only_aim_inside_the_lab() -> None:
    plan = pair()
    assert probe_problems(plan, (Probe("a", "tcp", "10.0.0.2", 80),)) == []
    [problem] = probe_problems(plan, (Probe("a", "tcp", "8.8.8.8", 53),))
    assert "outside every subnet of the lab" in problem
    [problem] = probe_problems(plan, (Probe("a", "tcp", "fd00::2", 80, src_ip="10.0.0.1"),))
    assert "different IP families" in problem


def test_refuses_clearly_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host.sys, "platform", "linux")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(EnvironmentUnsupported, match="needs root"):
        host.check_environment()


def test_refuses_clearly_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host.sys, "platform", "darwin")
    with pytest.raises(EnvironmentUnsupported, match="need Linux"):
        host.check_environment()


def test_refuses_clearly_without_nft(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host.sys, "platform", "linux")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "nft" else real_which(tool))
    with pytest.raises(EnvironmentUnsupported, match="install the nftables package"):
        host.check_environment(need_nft=True)
