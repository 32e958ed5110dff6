"""NetworkPolicy semantics: Pod classes, selectors as bitsets, and per-packet and per-class verdicts."""

from netmodel.analyze.policy.classes import PodClass, PodClasses
from netmodel.analyze.policy.engine import (
           EGRESS,
           INGRESS,
           CompiledRule,
           PolicyEngine,
           PolicyVerdict,
)
from netmodel.analyze.policy.portspace import EVERYTHING, NOTHING, PortSpace

__all__ = ["EGRESS", "EVERYTHING", "INGRESS", "NOTHING", "CompiledRule", "PodClass", "PodClasses",
           "PolicyEngine", "PolicyVerdict", "PortSpace"]
