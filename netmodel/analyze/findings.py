"""Findings: what a check reports, and the requirements they roll up into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from netmodel.errors import SourceSpan


class Severity(str, Enum):
    """How bad a finding is; ``rank`` orders them (error above warning above info)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """3 for error, 2 for warning, 1 for info."""
        return _RANK[self]


# Made once: the result sorts its findings by rank (twice with suppressions) and the exit code reads each one's.
_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


# The five requirement families of docs/checks.md, in report order; "input" collects notes about the input.
REQUIREMENTS = ("loopback", "pod-to-pod", "pod-to-service", "external-to-service", "ports")
INPUT = "input"


_NO_DETAILS: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one check on some objects.

    ``objects`` are references such as ``Node/cp-1`` or ``Service/shop/web``; ``sources`` the input locations
    that decided it (the object, and where a rule is at fault, the rule's line). ``details`` is copied into a
    read-only mapping, so a finding cannot change after it is made.
    """

    id: str
    severity: Severity
    requirement: str
    message: str
    objects: tuple[str, ...] = ()
    sources: tuple[SourceSpan, ...] = ()
    details: Mapping[str, object] = field(default_factory=lambda: _NO_DETAILS, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.details, MappingProxyType):
            object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def to_json(self) -> dict[str, object]:
        """The finding as JSON (check.schema.json); sources without a line are left out."""
        out: dict[str, object] = {
            "id": self.id,
            "severity": self.severity.value,
            "requirement": self.requirement,
            "message": self.message,
            "objects": list(self.objects),
            "sources": [s.to_json() for s in self.sources if s.line > 0],
        }
        if self.details:
            out["details"] = dict(self.details)
        return out
