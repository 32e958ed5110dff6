"""Which flows `netmodel emulate --flows all` replays (no lab needed)."""

from __future__ import annotations

from pathlib import Path

from netmodel.analyze.reach import CompiledCluster
from netmodel.emulate.flows import all_flows, family
from netmodel.model.build import load_topology
from netmodel.sets import parse_address

ROOT = Path(__file__).resolve().parent.parent.parent


def test_outside_samples_only_meet_destinations_of_their_family() -> None:
    """dual-stack samples each network once per family; a v4 sample never faces a v6 destination (and the
    other way round), so nothing is skipped for want of an address, yet both families are probed."""
    compiled = CompiledCluster(load_topology([str(ROOT / "topologies" / "dual-stack.yaml")]))
    flows = all_flows(compiled)
    outside = [f for f in flows if f.source.startswith("ip:")]
    assert {parse_address(f.source[3:]).version for f in outside} == {4, 6}
    assert all(family(compiled, f.destination) in (None, parse_address(f.source[3:]).version) for f in outside)
    assert {family(compiled, f.destination) for f in outside} == {4, 6}
    # Pods and nodes still send to both families
    assert {family(compiled, f.destination) for f in flows if f.source.startswith("pod:")} == {4, 6}
