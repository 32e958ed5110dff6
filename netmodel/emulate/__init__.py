"""Replay a lab in Linux network namespaces and send real packets through it.

The kernel layer: a declarative `LabPlan` is built with `Lab`, probed, and torn down without leaving
anything in the host. Translating a netmodel topology into a plan is a separate step.
"""

from netmodel.emulate.errors import (
    BuildError,
    EmulateError,
    EnvironmentUnsupported,
    FeatureUnsupported,
    PlanError,
    ProbeError,
    TeardownError,
)
from netmodel.emulate.features import KernelFeatures, detect_features
from netmodel.emulate.kernel import Lab, LabInterrupted, cleanup_leftovers
from netmodel.emulate.plan import (
    Bridge,
    LabPlan,
    Listener,
    Namespace,
    Neighbor,
    NftRuleset,
    Probe,
    Route,
    Sysctl,
    Tunnel,
    VethLink,
)
from netmodel.emulate.results import ListenerStatus, ProbeOutcome, ProbeResult

__all__ = [
    "Bridge",
    "BuildError",
    "EmulateError",
    "EnvironmentUnsupported",
    "FeatureUnsupported",
    "KernelFeatures",
    "Lab",
    "LabInterrupted",
    "LabPlan",
    "Listener",
    "ListenerStatus",
    "Namespace",
    "Neighbor",
    "NftRuleset",
    "PlanError",
    "Probe",
    "ProbeError",
    "ProbeOutcome",
    "ProbeResult",
    "Route",
    "Sysctl",
    "TeardownError",
    "Tunnel",
    "VethLink",
    "cleanup_leftovers",
    "detect_features",
]
