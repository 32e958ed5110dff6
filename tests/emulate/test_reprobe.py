"""A silent probe in a disagreeing flow is asked again with a longer wait before the disagreement stands
(docs/emulate.md, "How a probe is judged"). No lab needed: the lab is a stand-in that answers from a script."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from netmodel.emulate.flows import Flow
from netmodel.emulate.plan import Probe
from netmodel.emulate.results import ProbeOutcome, ProbeResult
from netmodel.emulate.run import (
    RETRY_CONCURRENCY,
    RETRY_TIMEOUT_FACTOR,
    PlannedFlow,
    _ask_silent_probes_again,
)


def _probe(port: int) -> Probe:
    return Probe(ns="nm-x-a", proto="tcp", dst_ip="10.0.0.1", dst_port=port)


def _result(port: int, outcome: ProbeOutcome) -> ProbeResult:
    return ProbeResult(_probe(port), outcome, "", 0.5)


class _ScriptedLab:
    """Answers a second asking from ``second``; records what it was asked."""

    def __init__(self, second: dict[int, ProbeOutcome]) -> None:
        self.second = second
        self.asked: list[tuple[list[int], float, int]] = []

    def probe(self, probes: Any, timeout: float, concurrency: int) -> tuple[ProbeResult, ...]:
        probes = list(probes)
        self.asked.append(([p.dst_port for p in probes], timeout, concurrency))
        return tuple(_result(p.dst_port, self.second[p.dst_port]) for p in probes)


def _planned(*ports: int, fixed: str = "", skipped: str = "") -> PlannedFlow:
    flow = Flow("pod:a/x", "ip:10.0.0.1", ports[0] if ports else 1, "TCP")
    return PlannedFlow(flow, tuple(_probe(p) for p in ports), skipped=skipped, fixed_verdict=fixed)


def test_only_silent_probes_of_disagreeing_flows_are_asked_again_with_a_longer_wait() -> None:
    allowed_late = _planned(1, 2)        # solver: allowed; kernel: one reached, one silent (late)
    denied_real = _planned(3)            # solver: allowed; kernel: silent, and silent again (a real drop)
    agreeing_silence = _planned(4)       # solver: denied; kernel: silent -> agrees, not asked again
    refused = _planned(5)                # solver: allowed; kernel: refused -> cannot be late, not asked again
    skipped = _planned(skipped="SCTP unsupported")
    planned = [allowed_late, skipped, denied_real, agreeing_silence, refused]
    answers = {id(allowed_late): SimpleNamespace(verdict="allowed"), id(denied_real): SimpleNamespace(verdict="allowed"),
               id(agreeing_silence): SimpleNamespace(verdict="denied"), id(refused): SimpleNamespace(verdict="allowed")}
    first = [_result(1, ProbeOutcome.REACHABLE), _result(2, ProbeOutcome.TIMEOUT), _result(3, ProbeOutcome.TIMEOUT),
             _result(4, ProbeOutcome.TIMEOUT), _result(5, ProbeOutcome.REFUSED)]
    lab = _ScriptedLab({2: ProbeOutcome.REACHABLE, 3: ProbeOutcome.TIMEOUT})

    final = _ask_silent_probes_again(lab, planned, answers, first, 0.5)  # type: ignore[arg-type]  # stand-ins

    assert lab.asked == [([2, 3], 0.5 * RETRY_TIMEOUT_FACTOR, RETRY_CONCURRENCY)]
    assert [r.outcome for r in final] == [ProbeOutcome.REACHABLE, ProbeOutcome.REACHABLE, ProbeOutcome.TIMEOUT,
                                          ProbeOutcome.TIMEOUT, ProbeOutcome.REFUSED]


def test_nothing_is_asked_again_when_every_flow_agrees() -> None:
    flow = _planned(7)
    lab = _ScriptedLab({})
    first = [_result(7, ProbeOutcome.TIMEOUT)]
    final = _ask_silent_probes_again(lab, [flow], {id(flow): SimpleNamespace(verdict="denied")}, first,  # type: ignore[arg-type]  # stand-ins
                                     0.5)
    assert lab.asked == [] and list(final) == first
