"""Stateless firewalls: the reply of every crossing must pass the opposite chain on its own.

The reply leaves the far node (its ``egress``) and enters the near one (``ingress``) with the client's source
port, from the ephemeral range 32768-60999, as destination port; a stateful firewall passes it as established.
The lab agrees (tests/emulate/test_random_topologies.py); here the traces are checked step by step.
"""

from __future__ import annotations

from pathlib import Path

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.reach import CompiledCluster, Disposition, query
from netmodel.compile.firewalls import EPHEMERAL_PORTS
from netmodel.emulate.services import EPHEMERAL_PORTS as LAB_EPHEMERAL
from netmodel.emulate.services import STEERING_PORTS
from netmodel.load import parse_text
from netmodel.model.build import build_topology, load_topology
from netmodel.sets import IntervalSet

HERE = Path(__file__).parent
NATIVE = HERE / "reach" / "stateless-native.yaml"
VXLAN = HERE / "reach" / "stateless-vxlan.yaml"


def two_nodes() -> str:
    """The emulator's reproducer without its firewall: two nodes, Calico BGP."""
    from tests.emulate.test_random_topologies import STATELESS_REPLY

    return STATELESS_REPLY[:STATELESS_REPLY.index("---\napiVersion: netmodel.io/v1alpha1\nkind: Firewall")]


def compiled_cluster_of(*texts: str, base: Path | str | None = None) -> CompiledCluster:
    head = base.read_text() if isinstance(base, Path) else base or ""
    docs = "\n---\n".join(t.strip("-\n") for t in (head, *texts) if t)
    return CompiledCluster(build_topology(parse_text(docs, "stateless.yaml")))


def firewall(name: str, nodes: str, ingress: str, egress: str = "{defaultAction: allow}",
             stateful: bool = False) -> str:
    return (f"apiVersion: netmodel.io/v1alpha1\nkind: Firewall\nmetadata: {{name: {name}}}\n"
            f"spec: {{nodes: [{nodes}], stateful: {str(stateful).lower()}, ingress: {ingress}, egress: {egress}}}")


def blockers(answer) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(d.name, d.rule) for d in answer.blocked_by}


def test_the_lab_sends_from_the_documented_ephemeral_range() -> None:
    """Probes use the lab's ip_local_port_range plus the steering ports; together they are the range the
    engine checks replies against (Linux's default 32768-60999)."""
    low, high = (int(x) for x in LAB_EPHEMERAL.split())
    assert IntervalSet.of((low, high), STEERING_PORTS) == EPHEMERAL_PORTS


def test_node_to_node_reply_meets_the_ingress_default() -> None:
    """The emulator's reproducer: node-1 reaches node-0's kubelet, the reply is dropped entering node-1."""
    from tests.emulate.test_random_topologies import STATELESS_REPLY

    compiled = CompiledCluster(build_topology(parse_text(STATELESS_REPLY, "stateless.yaml")))
    answer = query(compiled, "node:node-1", "node:node-0", 10250)
    assert answer.disposition is Disposition.DENIED_BY_FIREWALL
    assert blockers(answer) == {("fw-0", "ingress defaultAction deny (stateless, reply)")}
    step = next(s for s in answer.paths[0].steps if not s.ok)
    assert step.step.value == "firewall-ingress"
    assert "reply TCP 10.0.0.11 → 10.0.0.12 ports 32768-60999" in step.detail
    assert query(compiled, "node:node-0", "node:node-1", 10250).disposition is Disposition.DENIED_BY_FIREWALL
    stateful = STATELESS_REPLY.replace("stateful: false", "stateful: true")
    assert query(CompiledCluster(build_topology(parse_text(stateful, "s.yaml"))), "node:node-1", "node:node-0",
                 10250).allowed


def test_native_pod_replies_carry_pod_addresses() -> None:
    compiled = CompiledCluster(load_topology([str(NATIVE)]))
    assert query(compiled, "x/a", "x/b", 80).allowed  # w-2 lets its reply out (egress allow)
    answer = query(compiled, "x/b", "x/a", 80)
    assert blockers(answer) == {("w2-stateless", "ingress defaultAction deny (stateless, reply)")}
    denied = [s for s in answer.paths[0].steps if not s.ok]
    assert len(denied) == 1 and "10.244.1.10 → 10.244.2.10" in denied[0].detail
    assert query(compiled, "x/b", "x/a", 53, "UDP").allowed  # rule pod-udp admits the UDP reply


def test_encapsulated_replies_to_pods_ride_the_tunnel_and_to_nodes_travel_plain() -> None:
    compiled = CompiledCluster(load_topology([str(VXLAN)]))
    assert query(compiled, "x/b", "x/a", 80).allowed  # the reply is VXLAN to w-2, which rule vxlan admits
    answer = query(compiled, "x/agent", "x/a", 80)  # hostNetwork: the reply goes to 10.0.0.22 unencapsulated
    assert blockers(answer) == {("w2-stateless", "ingress defaultAction deny (stateless, reply)")}
    assert query(compiled, "node:w-2", "x/a", 80).disposition is Disposition.DENIED_BY_FIREWALL


def test_part_of_the_ephemeral_range_is_not_enough_and_every_blocker_is_named() -> None:
    compiled = compiled_cluster_of(
        firewall("half", "node-1", "{defaultAction: deny, rules: [{name: upper, action: allow, protocol: TCP, "
                 "ports: ['45000-65535']}]}"),
        firewall("shut", "node-1", "{defaultAction: allow}", "{defaultAction: deny, rules: [{name: kubelet, "
                 "action: allow, protocol: TCP, ports: ['10250']}]}"),
        base=two_nodes())
    answer = query(compiled, "node:node-1", "node:node-0", 10250)
    assert blockers(answer) == {("half", "ingress defaultAction deny (stateless, reply on ports 32768-44999)")}
    # the other way: half has no rule for the request, and shut's egress lets out only TCP to port 10250
    answer = query(compiled, "node:node-0", "node:node-1", 10250)
    assert blockers(answer) == {
        ("half", "ingress defaultAction deny"),
        ("shut", "egress defaultAction deny (stateless, reply)")}


def test_outside_clients_and_destinations() -> None:
    service = ("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: x}\nspec: {type: NodePort, "
               "selector: {pod: b}, externalTrafficPolicy: Local, ports: [{port: 80, nodePort: 30080}]}")
    out_shut = firewall("out-shut", "w-2", "{defaultAction: allow}", "{defaultAction: deny, rules: []}")
    compiled = compiled_cluster_of(service, out_shut, base=NATIVE)
    # the office reaches w-2's NodePort (the stateless ingress admits only the Pod range: blocked twice)
    answer = query(compiled, "network:office", "node:w-2", 30080)
    assert blockers(answer) == {("w2-stateless", "ingress defaultAction deny"),
                                ("out-shut", "egress defaultAction deny (stateless, reply)")}
    # Pods leaving the cluster: the reply from the office enters w-2 and meets its ingress default
    answer = query(compiled_cluster_of(base=NATIVE), "x/b", "network:office", 443)
    assert blockers(answer) == {("w2-stateless", "ingress defaultAction deny (stateless, reply)")}
    assert query(compiled_cluster_of(base=NATIVE), "x/a", "network:office", 443).allowed
    matrix = {c.describe() for c in connectivity(compiled_cluster_of(base=NATIVE), "pod")}
    assert "x/a → network:office TCP any" in matrix
    assert not any(c.startswith("x/b → network:office") for c in matrix)
