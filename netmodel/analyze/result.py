"""The result of ``netmodel check``: findings, requirement verdicts, the port matrix, and the exit code.

:class:`CheckResult` is a frozen value; :meth:`CheckResult.to_json` is the stable JSON contract
(``netmodel/schemas/check.schema.json``, schemaVersion 1) every renderer starts from, and :func:`exit_code` is
the one place that decides how ``netmodel check`` exits.

Room for what later stages add: ``expectations`` (results of ``Expectations`` flows: objects with ``ok`` and
``to_json()``) and ``suppressed`` (findings silenced by an annotation or a baseline, each with its
suppression: an object with ``to_json()``). Suppressed findings count nowhere but are always listed.

>>> from netmodel.analyze.findings import Finding, Severity
>>> r = CheckResult.of([Finding("NM-SVC-001", Severity.WARNING, "pod-to-service", "m")])
>>> r.requirement_status("pod-to-service"), exit_code(r, "error"), exit_code(r, "warning")
('warn', 0, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from netmodel.analyze.findings import REQUIREMENTS, Finding, Severity

SCHEMA_VERSION = 1
FAIL_ON = ("error", "warning", "info")
_REQUIREMENT_ORDER = {r: i for i, r in enumerate(("input",) + REQUIREMENTS)}


class JsonCell(Protocol):
    """Anything the result holds as a port-matrix cell: it can say itself as JSON."""

    def to_json(self) -> dict[str, object]:
        """The cell as JSON."""
        ...


class ExpectationResult(Protocol):
    """The result of one expected flow: whether it held, and its JSON."""

    @property
    def ok(self) -> bool:
        """Whether the flow did what it was expected to."""
        ...

    def to_json(self) -> dict[str, object]:
        """The result as JSON."""
        ...


def finding_order(finding: Finding) -> tuple[Any, ...]:
    """Errors first, then by requirement (report order), ID, objects and message: stable across runs."""
    return (-finding.severity.rank, _REQUIREMENT_ORDER.get(finding.requirement, len(_REQUIREMENT_ORDER)),
            finding.id, finding.objects, finding.message)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything one check run produced: findings, port-matrix cells, expectations and suppressed
    findings."""

    findings: tuple[Finding, ...]
    port_matrix: tuple[JsonCell, ...] = ()
    expectations: tuple[ExpectationResult, ...] = ()
    suppressed: tuple[tuple[Finding, JsonCell], ...] = ()

    @classmethod
    def of(cls, findings: Iterable[Finding], port_matrix: Sequence[JsonCell] = (),
           expectations: Sequence[ExpectationResult] = (),
           suppressed: Sequence[tuple[Finding, JsonCell]] = ()) -> CheckResult:
        """Sort the findings (and suppressed ones) deterministically and freeze everything."""
        return cls(tuple(sorted(findings, key=finding_order)), tuple(port_matrix), tuple(expectations),
                   tuple(sorted(suppressed, key=lambda pair: finding_order(pair[0]))))

    def count(self, severity: Severity) -> int:
        """How many findings have ``severity``."""
        return sum(1 for f in self.findings if f.severity is severity)

    def requirement_findings(self, requirement: str) -> list[Finding]:
        """The findings of one requirement family."""
        return [f for f in self.findings if f.requirement == requirement]

    def requirement_status(self, requirement: str) -> str:
        """``fail`` with an error finding, ``warn`` with only warnings, else ``pass`` (infos do not count)."""
        severities = {f.severity for f in self.requirement_findings(requirement)}
        if Severity.ERROR in severities:
            return "fail"
        return "warn" if Severity.WARNING in severities else "pass"

    def failed_expectations(self) -> list[ExpectationResult]:
        """The expectations that did not hold."""
        return [e for e in self.expectations if not e.ok]

    def to_json(self, fail_on: str = "error") -> dict[str, object]:
        """The result as JSON (check.schema.json), its status judged at ``fail_on``."""
        summary: dict[str, object] = {
            "status": "fail" if exit_code(self, fail_on) else "pass",
            "errors": self.count(Severity.ERROR),
            "warnings": self.count(Severity.WARNING),
            "infos": self.count(Severity.INFO),
        }
        out: dict[str, object] = {"schemaVersion": SCHEMA_VERSION, "summary": summary}
        out["requirements"] = [
            {"id": r, "status": self.requirement_status(r), "findings": len(self.requirement_findings(r))}
            for r in REQUIREMENTS]
        out["findings"] = [f.to_json() for f in self.findings]
        out["portMatrix"] = [c.to_json() for c in self.port_matrix]
        if self.expectations:
            out["expectations"] = [e.to_json() for e in self.expectations]
        if self.suppressed:
            summary["suppressed"] = len(self.suppressed)
            out["suppressed"] = [{**f.to_json(), "suppression": s.to_json()} for f, s in self.suppressed]
        return out


def exit_code(result: CheckResult, fail_on: str = "error") -> int:
    """1 when a finding is at or above ``fail_on`` or an expectation does not hold, else 0.

    (2, for input and usage errors, never gets this far: the CLI maps :class:`NetmodelError` to it.)
    """
    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    threshold = Severity(fail_on).rank
    if any(f.severity.rank >= threshold for f in result.findings):
        return 1
    return 1 if result.failed_expectations() else 0
