"""The matrix's shortcuts through the policy tiers: with AdminNetworkPolicies, NetworkPolicies and a
BaselineAdminNetworkPolicy mixed, ``connectivity(compiled, "pod")`` (rows shared per class profile, and a
destination no tier has a say on shared by every open-egress source: netmodel/analyze/connectivity.py) equals
the unoptimized pairwise answer, every Pod pair judged from its classes' ingress and egress through every tier,
and agrees with the oracle of tests/test_admin_policy_oracle.py (written from the API reference on the raw
dicts) on its probes.

Inputs: random ANP/NP/BANP sets (the oracle test's strategies) and the upstream ANP/BANP conformance corpus
(tests/conformance_anp, whose base layout has no node firewalls: the case the shortcuts apply to).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netmodel.analyze.connectivity import connectivity, listening
from netmodel.analyze.policy import EGRESS, EVERYTHING, INGRESS, NOTHING, PodClass, PortSpace
from netmodel.analyze.reach import CompiledCluster
from netmodel.load import parse_text
from netmodel.model.build import build_topology, load_topology
from netmodel.sets import AddressSet, IntervalSet
from netmodel.sets.ports import protocol_number
from tests.test_admin_policy_oracle import PROBES, anp, banp, decide, manifest, np_policy, pod
from tests.test_conformance_anp import CASES
from tests.test_conformance_anp import ROOT as ANP_ROOT

Flows = dict[tuple[str, str, int], IntervalSet]


def _nodes_of(compiled: CompiledCluster, cls: PodClass) -> AddressSet:
    topology = compiled.topology
    names = {topology.pods[i].node_name for i in cls.pods}
    return AddressSet.of_networks(ip for n in names if n in topology.node_by_name
                                  for ip in topology.node_by_name[n].ips)


def unoptimized(compiled: CompiledCluster) -> Flows:
    """Pod pair by Pod pair, without firewalls: the destination's ingress through every tier AND the source's
    egress through every tier AND what the destination listens on; a Pod reaches itself on what it listens on."""
    engine = compiled.policies
    pods = [p for p in compiled.topology.pods if p.ips]
    out: Flows = {}
    for p in pods:
        s = compiled.class_of(p)
        egress = engine.egress_spaces(s) if s.subject_to_policy else None
        for q in pods:
            d = compiled.class_of(q)
            if p is q:
                space = listening(d)
            else:
                ingress = engine.ingress_spaces(d) if d.subject_to_policy else None
                if ingress is None:
                    allowed_in: PortSpace = EVERYTHING
                elif s.subject_to_policy:
                    allowed_in = ingress.get(s.id, NOTHING)
                else:  # a hostNetwork source is seen with its node's address
                    allowed_in = engine.address_space(INGRESS, d, _nodes_of(compiled, s))[0]
                if egress is None:
                    allowed_out: PortSpace = EVERYTHING
                elif d.subject_to_policy:
                    allowed_out = egress.get(d.id, NOTHING)
                else:
                    allowed_out = engine.address_space(EGRESS, s, _nodes_of(compiled, d))[0]
                space = allowed_in & allowed_out & listening(d)
            for protocol, ports in space:
                out[(p.qualified_name, q.qualified_name, protocol)] = ports
    return out


def matrix(compiled: CompiledCluster) -> Flows:
    return {(c.source, c.destination, c.protocol): c.ports for c in connectivity(compiled, "pod")
            if not c.source.startswith("network:") and not c.destination.startswith("network:")}


def test_silent_means_no_per_class_answer() -> None:
    """``PolicyEngine.silent`` (no tier has a say) is exactly when the engine answers None (everything), on a
    layout where AdminNetworkPolicies select some classes NetworkPolicy leaves open and the reverse."""
    compiled = CompiledCluster(load_topology([str(ANP_ROOT / "base.yaml"), str(ANP_ROOT / CASES[0] / "policy.yaml")]))
    engine = compiled.policies
    seen = set()
    for cls in engine.classes.classes:
        if cls.subject_to_policy:
            for direction, answer in ((INGRESS, engine.ingress_spaces(cls)), (EGRESS, engine.egress_spaces(cls))):
                assert engine.silent(direction, cls.id) == (answer is None), (cls.id, direction)
                seen.add(answer is None)
    assert seen == {True, False}


@pytest.mark.parametrize("case", CASES)
def test_conformance_corpus_matrix_equals_the_unoptimized_answer(case: str) -> None:
    compiled = CompiledCluster(load_topology([str(ANP_ROOT / "base.yaml"), str(ANP_ROOT / case / "policy.yaml")]))
    assert not compiled.topology.firewalls  # the shortcuts' case
    expected = unoptimized(compiled)
    assert matrix(compiled) == expected
    assert expected  # something connects


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pod, min_size=2, max_size=5), st.lists(anp, max_size=3), st.lists(np_policy, max_size=2),
       st.one_of(st.none(), banp))
def test_random_tiers_matrix_equals_the_unoptimized_answer_and_the_oracle(
        pods: list[dict], anps: list[dict], nps: list[dict], base: dict | None) -> None:
    topology = build_topology(parse_text(manifest(pods, anps, nps, base), "tiers.yaml"))
    compiled = CompiledCluster(topology)
    got = matrix(compiled)
    assert got == unoptimized(compiled)
    for i, src in enumerate(pods):
        for j, dst in enumerate(pods):
            declared = {(c.get("protocol", "TCP"), c["containerPort"]) for c in dst["ports"]}
            for number, protocol in PROBES:
                listens = not dst["ports"] or (protocol, number) in declared
                want = listens and (i == j or (decide(anps, nps, base, "egress", src, dst, dst, number, protocol)
                                               and decide(anps, nps, base, "ingress", dst, src, dst, number,
                                                          protocol)))
                ports = got.get((f"{src['namespace']}/p{i}", f"{dst['namespace']}/p{j}", protocol_number(protocol)))
                assert (ports is not None and number in ports) == want, (i, j, number, protocol)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pod, min_size=2, max_size=5), st.lists(anp, max_size=3), st.lists(np_policy, max_size=2),
       st.one_of(st.none(), banp))
def test_ingress_groups_partition_the_sources_by_space(
        pods: list[dict], anps: list[dict], nps: list[dict], base: dict | None) -> None:
    """``ingress_groups`` (what the matrix reads) is a partition of the allowed sources, one group per distinct
    non-empty space, and says what ``ingress_spaces`` (what the oracle tests read) says source by source."""
    engine = CompiledCluster(build_topology(parse_text(manifest(pods, anps, nps, base), "tiers.yaml"))).policies
    for cls in engine.classes.classes:
        if not cls.subject_to_policy:
            continue
        groups = engine.ingress_groups(cls)
        spaces = engine.ingress_spaces(cls)
        if groups is None:
            assert spaces is None
            continue
        assert spaces is not None
        seen = 0
        for peers, space in groups:
            assert peers and space and not peers & seen
            seen |= peers
        assert len({space for _, space in groups}) == len(groups)
        assert {peer: space for peers, space in groups for peer in range(peers.bit_length()) if peers >> peer & 1} \
            == spaces
