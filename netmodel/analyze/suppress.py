"""Living with a gate: findings silenced by an annotation on the object at fault, or by a baseline file.

Annotation (on a Node, Pod, workload, Service, NetworkPolicy or Firewall)::

    metadata:
      annotations:
        netmodel.io/skip: "NM-PORT-002=etcd peers talk over the office VPN until 2025-09"

A value may hold several ``ID=reason`` entries, one per line; further keys ``netmodel.io/skip-<anything>`` hold
more. The reason is required: an entry without one is an input error (exit 2), because a silenced finding nobody
can explain is worse than a failing one. An annotation on a workload also covers its Pods.

A finding is suppressed when any object it names carries an entry with its ID. Suppressed findings are never
dropped: every report lists them with the reason and where it was written.

Baseline (``--write-baseline FILE`` records today's findings, ``--baseline FILE`` ignores them later): findings
match on ID, objects and message — not on line numbers, so editing a file above a known finding keeps it known.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netmodel.analyze.findings import Finding
from netmodel.analyze.result import CheckResult
from netmodel.errors import Problem, SourceSpan, UsageError, ValidationError
from netmodel.model.labels import Labels
from netmodel.model.topology import Topology

SKIP_ANNOTATION = "netmodel.io/skip"
FINDING_ID = re.compile(r"^NM-[A-Z0-9]+-\d{3}$")
BASELINE_VERSION = 1
# A message may quote a location (file:line:column); lines move when files are edited, so they are left out.
_LOCATION = re.compile(r":\d+:\d+\b")


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding is silenced: ``by`` is ``annotation`` (on ``object``) or ``baseline`` (in ``file``)."""

    finding_id: str
    reason: str
    by: str
    object: str = ""
    source: SourceSpan | None = None

    # Any, not object: the field named ``object`` shadows the builtin in this class body.
    def to_json(self) -> dict[str, Any]:
        """The suppression as JSON: by what, why, on which object and where."""
        out: dict[str, Any] = {"by": self.by, "reason": self.reason}
        if self.object:
            out["object"] = self.object
        if self.source is not None and self.source.line > 0:
            out["source"] = self.source.to_json()
        return out


@dataclass(frozen=True, slots=True)
class SuppressedFinding:
    """A finding that was silenced, and the suppression that did it."""

    finding: Finding
    suppression: Suppression

    def to_json(self) -> dict[str, object]:
        """The finding as JSON with its suppression."""
        return {**self.finding.to_json(), "suppression": self.suppression.to_json()}


# -- annotations ---------------------------------------------------------------------------------------------------


def parse_skip(value: str, object_ref: str, source: SourceSpan) -> tuple[list[Suppression], list[Problem]]:
    """Parse one annotation value into suppressions; malformed entries become located problems.

    >>> sups, problems = parse_skip("NM-PORT-002=known, tracked in OPS-12", "Firewall/cp", SourceSpan("f", 3, 1))
    >>> (sups[0].finding_id, sups[0].reason, problems)
    ('NM-PORT-002', 'known, tracked in OPS-12', [])
    >>> parse_skip("NM-PORT-002", "Firewall/cp", SourceSpan("f", 3, 1))[1][0].message
    "netmodel.io/skip on Firewall/cp: 'NM-PORT-002' has no reason"
    """
    out: list[Suppression] = []
    problems: list[Problem] = []
    for line in value.splitlines():
        entry = line.strip()
        if not entry:
            continue
        finding_id, _, reason = (part.strip() for part in entry.partition("="))
        if not FINDING_ID.match(finding_id):
            problems.append(Problem(f"{SKIP_ANNOTATION} on {object_ref}: {finding_id!r} is not a finding ID",
                                    source, 'write "NM-XXX-000=<reason>" with an ID from docs/checks.md'))
        elif not reason:
            problems.append(Problem(f"{SKIP_ANNOTATION} on {object_ref}: {finding_id!r} has no reason", source,
                                    f'write "{finding_id}=<why this finding is acceptable>"'))
        else:
            out.append(Suppression(finding_id, reason, "annotation", object_ref, source))
    return out, problems


def _skip_values(annotations: Labels) -> list[str]:
    if not annotations:  # most objects carry none: skip the sort
        return []
    return [v for k, v in sorted(annotations.items())
            if k == SKIP_ANNOTATION or k.startswith(SKIP_ANNOTATION + "-")]


def annotation_suppressions(topology: Topology) -> dict[str, tuple[Suppression, ...]]:
    """Suppressions by the object reference they cover (``Firewall/control-plane``, ``Pod/shop/web-0``).

    Raises :class:`ValidationError` listing every malformed entry.
    """
    by_object: dict[str, list[Suppression]] = {}
    problems: list[Problem] = []
    # A workload's Pods share one annotations object: it is read once per run of them, not once per Pod.
    read: Labels | None = None
    skip: list[str] = []
    for group in (topology.nodes, topology.services, topology.network_policies, topology.firewalls,
                  topology.workloads, topology.pods):
        for obj in group:
            if obj.annotations is not read:
                read, skip = obj.annotations, _skip_values(obj.annotations)
            values = skip
            if not values:  # naming the object (str of its ref) costs more than reading its annotations
                continue
            ref = str(obj.ref)
            for value in values:
                sups, bad = parse_skip(value, ref, obj.source)
                problems.extend(bad)
                by_object.setdefault(ref, []).extend(sups)
    if problems:
        raise ValidationError(problems)
    # A workload's suppressions cover the Pods it made: findings usually name Pods. Only Pods of such a workload
    # are named (150,000 Pods at the envelope, seldom an annotated workload).
    owners = {w.ref for w in topology.workloads if str(w.ref) in by_object}
    if owners:
        for pod in topology.pods:
            if pod.owner in owners:
                by_object.setdefault(str(pod.ref), []).extend(by_object[str(pod.owner)])
    return {ref: tuple(sups) for ref, sups in by_object.items() if sups}


# -- baselines -----------------------------------------------------------------------------------------------------


def fingerprint(finding: Finding) -> str:
    """A stable key of a finding: ID, objects and message, without line numbers."""
    return fingerprint_of(finding.id, finding.objects, finding.message)


def fingerprint_of(finding_id: str, objects: Iterable[str], message: str) -> str:
    """:func:`fingerprint` of a finding given by its parts (as in a JSON report)."""
    text = "\n".join([finding_id, *sorted(objects), _LOCATION.sub("", message)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Baseline:
    """The findings a baseline file accepts, by fingerprint."""

    file: str
    fingerprints: frozenset[str]


def baseline_json(findings: Iterable[Finding]) -> dict[str, object]:
    """A baseline file accepting every finding of ``findings`` (written by ``netmodel check --write-
    baseline``)."""
    entries = sorted(({"fingerprint": fingerprint(f), "id": f.id, "objects": sorted(f.objects),
                       "message": f.message} for f in findings),
                     key=lambda e: (e["id"], e["fingerprint"]))
    return {"netmodelBaseline": BASELINE_VERSION, "findings": entries}


def write_baseline(path: str, findings: Iterable[Finding]) -> None:
    """Record ``findings`` so a later ``--baseline`` run ignores them (sorted: reviewable diffs)."""
    try:
        Path(path).write_text(json.dumps(baseline_json(findings), indent=2) + "\n", encoding="utf-8")
    except OSError as err:
        raise UsageError([Problem(f"cannot write baseline {path!r}: {err.strerror}",
                                  hint="choose a writable path")]) from err


def read_baseline(path: str) -> Baseline:
    """Read a file made by :func:`write_baseline`; a located usage error when it is not one."""
    hint = "make it with `netmodel check ... --write-baseline FILE`"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError([Problem(f"cannot read baseline {path!r}: {err.strerror}", hint=hint)]) from err
    except (ValueError, UnicodeDecodeError) as err:
        raise UsageError([Problem(f"baseline {path!r} is not JSON: {err}", SourceSpan(path, 1, 1), hint)]) from err
    except RecursionError:
        raise UsageError([Problem(f"baseline {path!r} is nested too deeply to be a baseline", SourceSpan(path, 1, 1),
                                  hint)]) from None
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("netmodelBaseline") != BASELINE_VERSION or not isinstance(
            entries, list) or not all(isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries):
        raise UsageError([Problem(f"{path!r} is not a netmodel baseline (version {BASELINE_VERSION})",
                                  SourceSpan(path, 1, 1), hint)])
    return Baseline(path, frozenset(e["fingerprint"] for e in entries))


# -- applying them -------------------------------------------------------------------------------------------------


def apply_suppressions(findings: Sequence[Finding], by_object: dict[str, tuple[Suppression, ...]],
                       baseline: Baseline | None = None) -> tuple[list[Finding], list[SuppressedFinding]]:
    """Split ``findings`` into those that still count and those silenced (annotation first, then baseline)."""
    kept: list[Finding] = []
    silenced: list[SuppressedFinding] = []
    for finding in findings:
        match = next((s for ref in finding.objects for s in by_object.get(ref, ()) if s.finding_id == finding.id),
                     None)
        if match is None and baseline is not None and fingerprint(finding) in baseline.fingerprints:
            match = Suppression(finding.id, f"known finding recorded in baseline {baseline.file}", "baseline")
        if match is None:
            kept.append(finding)
        else:
            silenced.append(SuppressedFinding(finding, match))
    return kept, silenced


def suppress_result(result: CheckResult, topology: Topology, baseline: Baseline | None = None) -> CheckResult:
    """``result`` with the findings silenced by annotations on ``topology``'s objects or by ``baseline`` moved
    to its ``suppressed`` list (where every report shows them)."""
    kept, silenced = apply_suppressions(result.findings, annotation_suppressions(topology), baseline)
    return CheckResult.of(kept, result.port_matrix, result.expectations,
                          list(result.suppressed) + [(s.finding, s.suppression) for s in silenced])


__all__ = ["BASELINE_VERSION", "SKIP_ANNOTATION", "Baseline", "SuppressedFinding", "Suppression",
           "annotation_suppressions", "apply_suppressions", "baseline_json", "fingerprint", "fingerprint_of", "parse_skip",
           "read_baseline", "suppress_result", "write_baseline"]
