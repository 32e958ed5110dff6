"""Differential property: on small random topologies, the solver and the Linux kernel agree on every flow.

Each example (see `tests.emulate.strategies`) is rendered as YAML, loaded the way `netmodel check` loads a
file, built once as a lab, and every flow `netmodel emulate --flows all` would replay is asked of the solver
and sent as real packets (`netmodel.emulate.run.emulate`). A failure prints the YAML, each disagreeing flow,
the solver's trace and what the kernel's probes saw.

Run time is bounded by the example count, not by a timer (one example: ~1 s to build plus the probes):

* default (CI): derandomized, no example database, ``NETMODEL_EMULATE_EXAMPLES`` examples (default 32),
  no shrinking (each shrink step is a lab build), so every run replays the same examples;
* ``NETMODEL_EMULATE_EXPLORE=1``: random examples with the database and shrinking, for hunting new
  disagreements and reducing them to a minimal layout.

Lab tests need root, Linux, `ip` and `nft` and skip with the reason otherwise; loading the generated layouts
is checked everywhere.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, given, settings

from netmodel.analyze.reach import Answer, CompiledCluster
from netmodel.cli.emulate import _trace
from netmodel.emulate.features import KernelFeatures
from netmodel.emulate.flows import Flow, choose_flows, describe
from netmodel.emulate.run import Outcome, Report, emulate, engine_solver
from netmodel.emulate.scripts import create_phase
from netmodel.emulate.translate import UNDERLAY, translate
from netmodel.load import parse_text
from netmodel.model.build import build_topology
from netmodel.model.topology import Topology
from netmodel.sets import parse_address
from tests.emulate.lab import ALL_FEATURES, needs_lab
from tests.emulate.strategies import Doc, to_yaml, topologies

EXPLORE = os.environ.get("NETMODEL_EMULATE_EXPLORE") == "1"
EXAMPLES = int(os.environ.get("NETMODEL_EMULATE_EXAMPLES", "200" if EXPLORE else "32"))
# Reproducible in CI: the same examples every run, nothing read from or written to .hypothesis/.
LAB_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=not EXPLORE, database=settings().database if EXPLORE
    else None, phases=tuple(Phase) if EXPLORE else (Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture],
    print_blob=EXPLORE)


def load(docs: list[Doc]) -> Topology:
    """The layout as `netmodel check` reads it: YAML text through the loader and the model builder."""
    return build_topology(parse_text(to_yaml(docs), "random.yaml"))


def explain(docs: list[Doc], disagreements: tuple[Outcome, ...], report: Report) -> str:
    lines = [f"{len(disagreements)} of {len(report.outcomes)} flows disagree; the layout:", "---",
             to_yaml(docs)]
    for outcome in disagreements:
        lines.append(f"* {describe(outcome.flow)}: solver {outcome.solver}, kernel {outcome.kernel}")
        lines += [f"    {line}" for line in _trace(outcome)]
    if report.notes:
        lines.append("lab notes: " + "; ".join(report.notes))
    return "\n".join(lines)




# -------------------------------------------------------------------------------------------- anywhere


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(docs=topologies())
def test_generated_layouts_load_and_have_flows_to_probe(docs: list[Doc]) -> None:
    """Every generated layout loads without a problem (`netmodel check` would not exit 2) and is small."""
    topology = load(docs)
    assert len(topology.pods) == sum(d["kind"] == "Pod" for d in docs)
    assert all(p.node_name and p.ips for p in topology.pods)
    assert 2 <= len(topology.nodes) <= 3
    assert choose_flows(CompiledCluster(topology), "all")


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(docs=topologies(calico=True))
def test_generated_calico_layouts_load_with_every_policy_evaluated(docs: list[Doc]) -> None:
    """The Calico documents load without a problem and none is left out (not evaluated), so the lab replays them
    all."""
    topology = load(docs)
    assert len(topology.calico_policies) == sum(d["kind"] in ("NetworkPolicy", "GlobalNetworkPolicy")
                                                and d["apiVersion"].startswith("projectcalico") for d in docs)
    assert not topology.skipped


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(topologies())
def test_underlay_members_know_each_other_without_arp(docs: list[Doc]) -> None:
    """Each node and outside namespace has a permanent neighbour entry for every other member's address,
    pointing at the fixed MAC that member's eth0 is created with (racing first ARPs lost ~1 s of probes)."""
    layout = translate(load(docs), {"office": [parse_address("198.51.100.1")]}, (), ALL_FEATURES)
    plan = layout.plan
    members = {link.ns_a: link for link in plan.links if link.ns_b == UNDERLAY}
    assert all(link.mac_a for link in members.values())
    assert len({link.mac_a for link in members.values()}) == len(members)
    pinned = {(n.ns, n.ip): (n.mac, n.dev) for n in plan.neighbors if n.dev == "eth0"}
    for ns in members:
        for other, link in members.items():
            for address in link.addrs_a:
                if other != ns:
                    assert pinned[(ns, address.split("/")[0])] == (link.mac_a, "eth0")
    assert any(line.startswith("link add name eth0") and f"address {members['n0'].mac_a} type veth" in line
               for line in create_phase(plan, lambda n: "nm-000000-" + n)["n0"])


# ------------------------------------------------------------------------------------------------ lab


def assert_agreement(docs: list[Doc], features: KernelFeatures) -> None:
    report = emulate(load(docs), "all", features)
    assert report.outcomes
    assert not report.disagreements, explain(docs, report.disagreements, report)


@needs_lab
@LAB_SETTINGS
@given(docs=topologies())
def test_solver_and_kernel_agree_on_random_topologies(docs: list[Doc], features: KernelFeatures,
                                                      clean_host: object) -> None:
    """Stateless Firewalls included: their replies are judged by the rules (docs/reachability.md)."""
    assert_agreement(docs, features)


@needs_lab
@LAB_SETTINGS
@given(docs=topologies(node_side=True))
def test_solver_and_kernel_agree_with_node_side_firewall_rules(docs: list[Doc], features: KernelFeatures,
                                                               clean_host: object) -> None:
    """Rules naming the node's own end (`to: [{node|pods|cidr}]` on ingress, `from:` on egress): the solver's
    wire-address matching is what nftables does with `ip daddr`/`ip saddr` before DNAT and after SNAT."""
    assert_agreement(docs, features)


@needs_lab
@LAB_SETTINGS
@given(docs=topologies(calico=True))
def test_solver_and_kernel_agree_with_calico_policies(docs: list[Doc], features: KernelFeatures,
                                                      clean_host: object) -> None:
    """Calico tiers, policy order (ties with the Kubernetes policies at 1000 included), Pass/Log, defaultAction,
    selectors, nets, ports and named ports: the solver's tier walk is what the nftables tier chains of
    netmodel/emulate/nft_calico.py do."""
    assert_agreement(docs, features)


# node-1's stateless firewall lets node-1 → node-0:10250 out, but the reply (10.0.0.11:10250 → 10.0.0.12 on
# an ephemeral port) meets its ingress default deny: the kernel times out, and the solver names that default.
STATELESS_REPLY = """\
apiVersion: netmodel.io/v1alpha1
kind: Cluster
metadata: {name: stateless}
spec:
  podCIDRs: [10.244.0.0/16]
  serviceCIDRs: [10.96.0.0/12]
  cni: {plugin: calico, mode: bgp}
---
apiVersion: v1
kind: Node
metadata: {name: node-0}
spec: {podCIDR: 10.244.0.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.11}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-1}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 10.0.0.12}]}
---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: fw-0}
spec:
  nodes: [node-1]
  stateful: false
  ingress: {defaultAction: deny, rules: []}
"""


@needs_lab
def test_stateless_firewall_drops_the_reply(features: KernelFeatures, clean_host: object) -> None:
    report = emulate(build_topology(parse_text(STATELESS_REPLY, "stateless.yaml")), "all", features)
    kubelet = next(o for o in report.outcomes
                   if (o.flow.source, o.flow.destination, o.flow.port) == ("node:node-1", "ip:10.0.0.11", 10250))
    assert kubelet.kernel == "denied"  # the lab's side: the reply is dropped, as nft is told to
    assert kubelet.solver == "denied"


def flipping(solver: Callable[[Flow], Answer], flipped: Flow, allowed: Answer) -> Callable[[Flow], Answer]:
    """``solver``, except that ``flipped`` gets the opposite verdict: no path (denied) or ``allowed``'s paths."""

    def solve(flow: Flow) -> Answer:
        answer = solver(flow)
        if flow.key != flipped.key:
            return answer
        return dataclasses.replace(answer, paths=() if answer.verdict == "allowed" else allowed.paths)

    return solve


@needs_lab
@settings(max_examples=3, deadline=None, derandomize=True, database=None, phases=(Phase.generate,),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(docs=topologies(stateless_firewalls=False))
def test_one_flipped_solver_verdict_is_reported(docs: list[Doc], features: KernelFeatures,
                                                clean_host: object) -> None:
    """The oracle can fail: the same harness, with one verdict the kernel confirmed flipped, reports exactly it."""
    topology = load(docs)
    honest_report = emulate(topology, "all", features)
    agreed = [o for o in honest_report.outcomes if o.agrees and o.solver in ("allowed", "denied")]
    allowed = next(o.answer for o in honest_report.outcomes if o.solver == "allowed")
    target = agreed[len(agreed) // 2].flow  # any agreed flow will do; the middle one is neither edge case
    solver = flipping(engine_solver(CompiledCluster(topology)), target, allowed)
    lying_report = emulate(topology, "all", features, solver=solver)
    before = {o.flow.key for o in honest_report.disagreements}
    after = {o.flow.key for o in lying_report.disagreements}
    assert after == before | {target.key}, explain(docs, lying_report.disagreements, lying_report)
