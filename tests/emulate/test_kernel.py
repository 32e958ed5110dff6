"""Real-kernel tests of the emulation layer: build labs in network namespaces and send packets.

They need root, Linux, `ip` and `nft`; otherwise they skip and say which is missing. Every test checks
that `ip netns list` ends exactly as it began.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from netmodel.emulate import host
from netmodel.emulate.errors import BuildError, FeatureUnsupported, PlanError
from netmodel.emulate.features import KernelFeatures, detect_features
from netmodel.emulate.kernel import Lab, cleanup_leftovers
from netmodel.emulate.plan import (
    Bridge,
    LabPlan,
    Listener,
    Namespace,
    NftRuleset,
    Probe,
    Route,
    Sysctl,
    Tunnel,
    VethLink,
)
from netmodel.emulate.results import ProbeOutcome
from tests.emulate.lab import LAB_UNAVAILABLE, REPO, host_links, needs_lab, own_namespaces

pytestmark = needs_lab


@pytest.fixture(scope="module")
def features() -> KernelFeatures:
    found = detect_features()
    if not found.netns or not found.veth:
        pytest.skip("this kernel cannot create network namespaces with veth pairs")
    return found


@pytest.fixture(autouse=True)
def namespaces_unchanged() -> object:
    """Every test must leave no namespace of its own runs behind, and the host's links as they were.

    Only this process's own runs are looked at (the namespaces its owner files record), so labs and
    feature probes of other processes on the machine, which come and go on their own, never matter.
    """
    if LAB_UNAVAILABLE:
        yield None
        return
    before = own_namespaces()
    links_before = host_links()
    yield None
    assert own_namespaces() == before
    assert host_links() == links_before



def two_hosts(*extra_rulesets: NftRuleset) -> LabPlan:
    """``a`` (10.0.0.1, fd00::1) and ``b`` (10.0.0.2, fd00::2) on one veth; b listens on tcp/80, udp/53."""
    return LabPlan(
        namespaces=(Namespace("a"), Namespace("b")),
        links=(
            VethLink(
                "a",
                "eth0",
                ("10.0.0.1/24", "fd00::1/64"),
                "b",
                "eth0",
                ("10.0.0.2/24", "fd00::2/64"),
            ),
        ),
        rulesets=extra_rulesets,
        listeners=(
            Listener("b", "tcp", "10.0.0.2", 80),
            Listener("b", "udp", "10.0.0.2", 53),
            Listener("b", "tcp", "fd00::2", 80),
            Listener("b", "udp", "fd00::2", 53),
            Listener("a", "tcp", "10.0.0.1", 22),
        ),
    )


def outcomes(results: tuple) -> list[str]:
    return [r.outcome.value for r in results]


def test_veth_pair_carries_tcp_and_udp_on_both_families(features: KernelFeatures) -> None:
    with Lab(two_hosts()) as lab:
        results = lab.probe(
            [
                Probe("a", "tcp", "10.0.0.2", 80),
                Probe("a", "udp", "10.0.0.2", 53),
                Probe("a", "tcp", "fd00::2", 80),
                Probe("a", "udp", "fd00::2", 53, src_ip="fd00::1"),
                Probe("a", "tcp", "10.0.0.2", 81),
                Probe("a", "udp", "10.0.0.2", 54),
            ]
        )
    assert outcomes(results) == ["reachable"] * 4 + ["refused", "refused"]


def test_nft_drop_rule_in_destination_blocks_the_probe(features: KernelFeatures) -> None:
    drop_http = NftRuleset(
        "b",
        textwrap.dedent("""\
        table inet fw {
          chain input {
            type filter hook input priority 0; policy accept;
            tcp dport 80 drop
          }
        }
    """),
    )
    with Lab(two_hosts(drop_http)) as lab:
        results = lab.probe(
            [
                Probe("a", "tcp", "10.0.0.2", 80),
                Probe("a", "tcp", "fd00::2", 80),
                Probe("a", "udp", "10.0.0.2", 53),
            ],
            timeout=0.3,
        )
    assert outcomes(results) == ["timeout", "timeout", "reachable"]


def test_stateful_ruleset_lets_replies_through(features: KernelFeatures) -> None:
    # Both ends drop every new inbound connection except b's services; replies must still pass.
    stateful = textwrap.dedent("""\
        table inet fw {
          chain input {
            type filter hook input priority 0; policy drop;
            ct state established,related accept
            iif lo accept
            meta nfproto ipv6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
            %s
          }
        }
    """)
    plan = two_hosts(
        NftRuleset("a", stateful % ""),
        NftRuleset("b", stateful % "tcp dport 80 accept\n    udp dport 53 accept"),
    )
    with Lab(plan) as lab:
        results = lab.probe(
            [
                # Allowed in b; the SYN-ACK and the UDP echo are "established" for a's conntrack.
                Probe("a", "tcp", "10.0.0.2", 80),
                Probe("a", "udp", "10.0.0.2", 53),
                Probe("a", "tcp", "fd00::2", 80),
                # b drops it: silence, not a refusal.
                Probe("a", "tcp", "10.0.0.2", 81),
                # a listens on 22, but drops new inbound connections.
                Probe("b", "tcp", "10.0.0.1", 22),
            ],
            timeout=0.3,
        )
    assert outcomes(results) == ["reachable", "reachable", "reachable", "timeout", "timeout"]


def test_router_namespace_forwards_between_two_subnets(features: KernelFeatures) -> None:
    plan = LabPlan(
        namespaces=(Namespace("left"), Namespace("router"), Namespace("right")),
        links=(
            VethLink(
                "left",
                "eth0",
                ("10.1.0.2/24", "fd01::2/64"),
                "router",
                "left",
                ("10.1.0.1/24", "fd01::1/64"),
            ),
            VethLink(
                "router",
                "right",
                ("10.2.0.1/24", "fd02::1/64"),
                "right",
                "eth0",
                ("10.2.0.2/24", "fd02::2/64"),
            ),
        ),
        routes=(
            Route("left", "default", via="10.1.0.1"),
            Route("left", "default", via="fd01::1"),
            Route("right", "default", via="10.2.0.1"),
            Route("right", "default", via="fd02::1"),
        ),
        sysctls=(
            Sysctl("router", "net.ipv4.ip_forward", "1"),
            Sysctl("router", "net.ipv6.conf.all.forwarding", "1"),
            Sysctl("router", "net.ipv4.conf.all.rp_filter", "0"),
        ),
        listeners=(
            Listener("right", "tcp", "10.2.0.2", 443),
            Listener("right", "tcp", "fd02::2", 443),
        ),
    )
    with Lab(plan) as lab:
        assert lab.run("router", "sysctl", "-n", "net.ipv4.ip_forward").strip() == "1"
        results = lab.probe(
            [Probe("left", "tcp", "10.2.0.2", 443), Probe("left", "tcp", "fd02::2", 443)]
        )
        lab.run("router", "sysctl", "-q", "-w", "net.ipv4.ip_forward=0")
        after = lab.probe([Probe("left", "tcp", "10.2.0.2", 443)], timeout=0.3)
    assert outcomes(results) == ["reachable", "reachable"]
    assert outcomes(after) == ["timeout"]


def test_bridge_in_an_underlay_namespace_joins_three_nodes(features: KernelFeatures) -> None:
    nodes = ("n1", "n2", "n3")
    plan = LabPlan(
        namespaces=(Namespace("underlay"), *(Namespace(n) for n in nodes)),
        links=tuple(
            VethLink(n, "eth0", (f"192.168.5.{i}/24",), "underlay", f"port-{n}", ())
            for i, n in enumerate(nodes, start=1)
        ),
        bridges=(Bridge("underlay", "br0", ports=tuple(f"port-{n}" for n in nodes)),),
        listeners=tuple(
            Listener(n, "udp", f"192.168.5.{i}", 8472) for i, n in enumerate(nodes, start=1)
        ),
    )
    with Lab(plan) as lab:
        results = lab.probe(
            [Probe("n1", "udp", "192.168.5.2", 8472), Probe("n3", "udp", "192.168.5.1", 8472)]
        )
    assert outcomes(results) == ["reachable", "reachable"]


def overlay(kind: str, port: int | None) -> LabPlan:
    """Two nodes on an underlay veth, each with one pod; pod traffic crosses a ``kind`` tunnel.

    Addresses follow Flannel: the tunnel device holds the node's pod-range ``.0/32`` and a route
    ``via <peer .0> dev <tunnel> onlink`` sends the other node's pod range into it.
    """
    nodes = ("node1", "node2")
    pods = ("pod1", "pod2")
    tunnels, routes = [], []
    for i, node in enumerate(nodes, start=1):
        peer = 3 - i
        tunnels.append(
            Tunnel(
                node,
                "tun0",
                kind,
                local=f"192.168.0.{i}",
                remote=f"192.168.0.{peer}",
                vni=1 if kind != "ipip" else None,
                port=port,
                addrs=(f"10.244.{i}.0/32",),
            )
        )
        routes.append(
            Route(node, f"10.244.{peer}.0/24", via=f"10.244.{peer}.0", dev="tun0", onlink=True)
        )
        routes.append(Route(pods[i - 1], "default", via=f"10.244.{i}.1"))
    return LabPlan(
        namespaces=tuple(Namespace(n) for n in nodes + pods),
        links=(
            VethLink("node1", "eth0", ("192.168.0.1/24",), "node2", "eth0", ("192.168.0.2/24",)),
            VethLink("node1", "cni0", ("10.244.1.1/24",), "pod1", "eth0", ("10.244.1.2/24",)),
            VethLink("node2", "cni0", ("10.244.2.1/24",), "pod2", "eth0", ("10.244.2.2/24",)),
        ),
        tunnels=tuple(tunnels),
        routes=tuple(routes),
        sysctls=tuple(Sysctl(n, "net.ipv4.ip_forward", "1") for n in nodes),
        listeners=(
            Listener("pod2", "tcp", "10.244.2.2", 8080),
            Listener("pod2", "udp", "10.244.2.2", 53),
        ),
    )


def _check_overlay(kind: str, port: int | None, block_rule: str) -> None:
    pod_probes = [Probe("pod1", "tcp", "10.244.2.2", 8080), Probe("pod1", "udp", "10.244.2.2", 53)]
    with Lab(overlay(kind, port)) as lab:
        assert outcomes(lab.probe(pod_probes)) == ["reachable", "reachable"]
    blocked = overlay(kind, port)
    firewall = NftRuleset(
        "node2",
        textwrap.dedent(f"""\
        table inet fw {{
          chain input {{
            type filter hook input priority 0; policy accept;
            {block_rule}
          }}
        }}
    """),
    )
    blocked = LabPlan(**{**_fields(blocked), "rulesets": (firewall,)})
    with Lab(blocked) as lab:
        assert outcomes(lab.probe(pod_probes, timeout=0.3)) == ["timeout", "timeout"]


def _fields(plan: LabPlan) -> dict[str, object]:
    return {name: getattr(plan, name) for name in LabPlan.__dataclass_fields__}


def test_vxlan_tunnel_carries_pod_traffic_and_dropping_its_port_breaks_it(
    features: KernelFeatures,
) -> None:
    if not features.vxlan:
        pytest.skip("this kernel has no vxlan device type")
    _check_overlay("vxlan", 8472, "udp dport 8472 drop")


def test_ipip_tunnel_carries_pod_traffic_and_dropping_protocol_4_breaks_it(
    features: KernelFeatures,
) -> None:
    if not features.ipip:
        pytest.skip("this kernel has no ipip device type (module not built or not loadable)")
    _check_overlay("ipip", None, "meta l4proto ipencap drop")


def test_geneve_tunnel_carries_pod_traffic(features: KernelFeatures) -> None:
    if not features.geneve:
        pytest.skip("this kernel has no geneve device type")
    _check_overlay("geneve", 6081, "udp dport 6081 drop")


def test_missing_tunnel_type_is_a_typed_error_and_leaves_nothing(features: KernelFeatures) -> None:
    missing = [kind for kind in ("ipip", "geneve") if not getattr(features, kind)]
    if not missing:
        pytest.skip("every tunnel type exists on this kernel")
    with (
        pytest.raises(FeatureUnsupported, match="Unknown device type"),
        Lab(overlay(missing[0], None)),
    ):
        pass


def test_sctp_listener_and_probe_work_or_say_unsupported(features: KernelFeatures) -> None:
    plan = LabPlan(
        namespaces=(Namespace("a"), Namespace("b")),
        links=(VethLink("a", "eth0", ("10.0.0.1/24",), "b", "eth0", ("10.0.0.2/24",)),),
        listeners=(Listener("b", "sctp", "10.0.0.2", 3868),),
    )
    with Lab(plan) as lab:
        [status] = lab.listeners
        [result] = lab.probe([Probe("a", "sctp", "10.0.0.2", 3868)])
    expected = "listening" if features.sctp else "unsupported"
    assert status.status == expected
    assert result.outcome is (ProbeOutcome.REACHABLE if features.sctp else ProbeOutcome.UNSUPPORTED)


def test_exception_inside_the_block_tears_down_and_propagates(features: KernelFeatures) -> None:
    with pytest.raises(RuntimeError, match="boom"), Lab(two_hosts()) as lab:
        assert any(n.startswith(lab.run_prefix) for n in host.list_namespaces())
        raise RuntimeError("boom")
    assert not any(n.startswith(lab.run_prefix) for n in host.list_namespaces())
    assert "teardown_s" in lab.timings


def test_failure_while_building_tears_down(features: KernelFeatures) -> None:
    broken = NftRuleset("b", "table inet fw { chain input { this is not nft } }\n")
    with pytest.raises(BuildError, match="nft"), Lab(two_hosts(broken)):
        pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_tears_the_lab_down_then_reaches_the_previous_handler(
    features: KernelFeatures, tmp_path: Path, signum: signal.Signals
) -> None:
    proc, run_prefix = _lab_in_subprocess(tmp_path, prefix="nmsig-")
    assert any(n.startswith(run_prefix) for n in host.list_namespaces())
    proc.send_signal(signum)
    # Default handlers: SIGTERM kills the process; SIGINT becomes KeyboardInterrupt, which Python
    # turns back into death by SIGINT when nothing catches it.
    assert proc.wait(timeout=15) == -signum
    assert not [n for n in host.list_namespaces() if n.startswith(run_prefix)]


def test_cleanup_leftovers_removes_a_killed_run_and_nothing_it_did_not_record(
    features: KernelFeatures, tmp_path: Path
) -> None:
    proc, run_prefix = _lab_in_subprocess(tmp_path, prefix="nmleak-")
    proc.kill()  # no teardown can run: the namespaces stay behind
    proc.wait(timeout=15)
    by_hand = f"nmleak-{secrets.token_hex(3)}-by-hand"  # a lab's shape, but no run recorded it
    not_a_lab = f"nmleak-{secrets.token_hex(4)}"  # wrong shape
    # A dead run whose owner file claims a namespace of another shape (a forged or corrupt record).
    forged_run, victim = secrets.token_hex(3), f"nmvictim-{secrets.token_hex(3)}"
    host.mark_owner(forged_run, [victim])
    (host.OWNER_DIR / forged_run).write_text(f"{2 ** 22 + 1}\n{victim}\n")  # no such PID
    for name in (by_hand, not_a_lab, victim):
        subprocess.run(["ip", "netns", "add", name], check=True)
    killed = [n for n in host.list_namespaces() if n.startswith(run_prefix)]
    try:
        assert len(killed) == 2
        removed = cleanup_leftovers(prefix="nmleak-")
        assert set(killed) <= set(removed)
        assert not {by_hand, not_a_lab, victim} & set(removed)
        left = set(host.list_namespaces())
        assert not set(killed) & left
        assert {by_hand, not_a_lab, victim} <= left
    finally:
        host.unmark_owner(forged_run)
        for name in [by_hand, not_a_lab, victim, *killed]:
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


def test_feature_probe_records_its_namespace_while_it_exists(features: KernelFeatures,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    real_run = host.run

    def spy(argv: list[str], *args: object, **kwargs: object) -> str:
        out = real_run(argv, *args, **kwargs)  # type: ignore[arg-type]
        if argv[:3] == ["ip", "netns", "add"]:
            seen.append([n for r in host.recorded_runs() if (rec := host._recorded(r)) for n in rec[1]
                         if rec[0] == os.getpid()])
        return out

    monkeypatch.setattr(host, "run", spy)
    detect_features(prefix="nmfeat-")
    assert len(seen) == 1 and len(seen[0]) == 1 and seen[0][0].startswith("nmfeat-")
    assert seen[0][0].endswith("-features")
    assert not [n for n in host.list_namespaces() if n.startswith("nmfeat-")]


def test_cleanup_leftovers_spares_a_live_lab(features: KernelFeatures) -> None:
    with Lab(two_hosts(), prefix="nmlive-") as lab:
        assert cleanup_leftovers(prefix="nmlive-") == []
        assert lab.probe([Probe("a", "tcp", "10.0.0.2", 80)])[0].reachable


def test_probes_may_only_target_the_lab(features: KernelFeatures) -> None:
    with Lab(two_hosts()) as lab, pytest.raises(PlanError, match="outside every subnet"):
        lab.probe([Probe("a", "tcp", "1.1.1.1", 443)])


def test_twenty_namespace_lab_builds_and_tears_down_quickly(features: KernelFeatures) -> None:
    # A chain of 20 namespaces through 19 veths is the size the emulator is meant to handle; timing
    # goes to the report, not to an assertion, beyond a generous bound that catches serial builds.
    names = [f"n{i}" for i in range(20)]
    links = tuple(
        VethLink(names[i], "up", (f"10.9.{i}.1/24",), names[i + 1], "down", (f"10.9.{i}.2/24",))
        for i in range(19)
    )
    plan = LabPlan(
        namespaces=tuple(Namespace(n) for n in names),
        links=links,
        listeners=tuple(Listener(n, "tcp", "0.0.0.0", 80) for n in names),
    )
    started = time.monotonic()
    with Lab(plan) as lab:
        results = lab.probe(Probe(names[i], "tcp", f"10.9.{i}.2", 80) for i in range(19))
    total = time.monotonic() - started
    assert all(r.reachable for r in results)
    print(
        f"\n20-namespace lab: build {lab.timings['build_s']:.2f}s, teardown "
        f"{lab.timings['teardown_s']:.2f}s, total with 19 probes {total:.2f}s"
    )
    assert total < 20


def _lab_in_subprocess(tmp_path: Path, prefix: str) -> tuple[subprocess.Popen[str], str]:
    """Start a Python process that builds a two-namespace lab and waits; return it and its run prefix."""
    script = tmp_path / "lab.py"
    script.write_text(
        textwrap.dedent(f"""\
        import time
        from netmodel.emulate.kernel import Lab
        from netmodel.emulate.plan import LabPlan, Namespace, VethLink
        plan = LabPlan(
            namespaces=(Namespace("a"), Namespace("b")),
            links=(VethLink("a", "eth0", ("10.0.0.1/24",), "b", "eth0", ("10.0.0.2/24",)),),
        )
        with Lab(plan, prefix={prefix!r}) as lab:
            print(lab.run_prefix, flush=True)
            time.sleep(60)
    """)
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the expected KeyboardInterrupt traceback
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    run_prefix = proc.stdout.readline().strip()
    assert run_prefix.startswith(prefix), "the lab subprocess did not start"
    return proc, run_prefix
