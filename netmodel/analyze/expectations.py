"""Expectations: asserted flows, evaluated by the path engine, reported as results and findings.

Each flow's ``from``/``to``/``port``/``protocol`` are echoed exactly as written. ``actual`` is True only when
every address the references stand for is allowed (the same rule as ``allowed: true``); ``verdict`` says
``allowed``, ``denied`` or ``partial``, and a partial verdict never satisfies an expectation either way.
A flow whose verdict differs is an error finding, NM-EXPECT-001, at the flow's line; a flow naming an unknown
reference is NM-EXPECT-002 at its line (the rest of the file is still evaluated). A flow whose answer objects
netmodel does not read could change (see :mod:`netmodel.analyze.unevaluated`) carries ``notEvaluated``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from netmodel.analyze import unevaluated
from netmodel.analyze.findings import Finding, Severity
from netmodel.analyze.reach import Answer, CompiledCluster, Tracer, query
from netmodel.analyze.unevaluated import Unevaluated
from netmodel.errors import NetmodelError, SourceSpan
from netmodel.model.objects import Expectations, ExpectedFlow, SkippedObject

REQUIREMENT = "expectations"


@dataclass(frozen=True, slots=True)
class FlowResult:
    """One expected flow and what the engine answered for it (or why it could not be evaluated)."""

    flow: ExpectedFlow
    answer: Answer | None  # None when the flow could not be evaluated (see ``error``)
    error: str = ""
    not_evaluated: tuple[SkippedObject, ...] = ()  # objects netmodel does not read that could change the answer

    @property
    def ok(self) -> bool:
        """Whether the engine's answer is what the flow expects (False when it could not be evaluated)."""
        if self.answer is None:
            return False
        return self.answer.allowed if self.flow.allowed else self.answer.denied

    def to_json(self) -> dict[str, object]:
        """The result as JSON: the flow, expected and actual verdicts, and why when not evaluated."""
        out: dict[str, object] = {
            "from": self.flow.from_ref, "to": self.flow.to_ref, "port": self.flow.port,
            "protocol": self.flow.protocol, **({"host": self.flow.host} if self.flow.host else {}),
            "expected": self.flow.allowed,
            "actual": self.answer.allowed if self.answer is not None else None, "ok": self.ok,
            "verdict": self.answer.verdict if self.answer is not None else "error",
            "disposition": self.answer.disposition.value if self.answer is not None else "error",
            "source": self.flow.source.to_json(),
        }
        if self.answer is not None and self.answer.blocked_by:
            out["blockedBy"] = [d.to_json() for d in self.answer.blocked_by]
        if self.answer is not None and self.answer.verdict == "partial":
            out["examples"] = {k: {"source": p.source, "destination": p.destination,
                                   "disposition": p.disposition.value} for k, p in self.answer.examples.items()}
        if self.error:
            out["error"] = self.error
        if self.not_evaluated:
            out["notEvaluated"] = unevaluated.to_json(self.not_evaluated)
        return out


def evaluate(compiled: CompiledCluster, expectations: Iterable[Expectations]) -> list[FlowResult]:
    """Trace every flow of ``expectations`` through the engine and compare with what it should do."""
    tracer = Tracer(compiled)
    skipped = Unevaluated.of(compiled.topology)
    out: list[FlowResult] = []
    for exp in expectations:
        for flow in exp.flows:
            try:
                answer = query(compiled, flow.from_ref, flow.to_ref, flow.port, flow.protocol, tracer, flow.host)
            except NetmodelError as err:
                out.append(FlowResult(flow, None, "; ".join(
                    p.message + (f" ({p.hint})" if p.hint else "") for p in err.problems)))
                continue
            out.append(FlowResult(flow, answer, not_evaluated=skipped.for_answer(answer)))
    return out


def _describe(flow: ExpectedFlow) -> str:
    host = f" host {flow.host}" if flow.host else ""
    return f"{flow.from_ref} → {flow.to_ref} {flow.protocol} {flow.port}{host}"


def findings(results: Iterable[FlowResult]) -> list[Finding]:
    """An error finding for every flow that does not hold, located at its line in the Expectations file."""
    out: list[Finding] = []
    for r in results:
        if r.ok:
            continue
        sources: list[SourceSpan] = [r.flow.source]
        if r.answer is None:
            out.append(Finding("NM-EXPECT-002", Severity.ERROR, REQUIREMENT,
                               f"expected flow {_describe(r.flow)} cannot be evaluated: {r.error}",
                               (), tuple(sources)))
            continue
        want = "allowed" if r.flow.allowed else "denied"
        blockers = "; ".join(f"{d.kind} {d.name} ({d.rule})" for d in r.answer.blocked_by[:4])
        because = f" — blocked by {blockers}" if blockers and r.flow.allowed else ""
        sources.extend(d.source for d in r.answer.blocked_by if d.source is not None and d.source.line > 0)
        objects = tuple(dict.fromkeys(f"{d.kind}/{d.name}" for d in r.answer.blocked_by))
        caveat = f"; {unevaluated.message(r.not_evaluated)}" if r.not_evaluated else ""
        out.append(Finding(
            "NM-EXPECT-001", Severity.ERROR, REQUIREMENT,
            f"expected {_describe(r.flow)} to be {want}, but it is {r.answer.verdict} "
            f"({r.answer.disposition.value}){because}{caveat}", objects, tuple(dict.fromkeys(sources))))
    return out
