"""Errors of the emulation stage, under netmodel's single exception root."""

from __future__ import annotations

from collections.abc import Sequence

from netmodel.errors import NetmodelError, Problem


class EmulateError(NetmodelError):
    """Root of every error raised while building, probing or tearing down a lab.

    Messages about a lab point at no input file, so plain strings are accepted as problems.
    """

    def __init__(self, problems: Sequence[Problem | str] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        super().__init__([p if isinstance(p, Problem) else Problem(p) for p in problems])


class PlanError(EmulateError):
    """The lab plan is inconsistent (unknown namespace, bad address, duplicate interface, ...)."""


class EnvironmentUnsupported(EmulateError):
    """This machine cannot run a lab: not Linux, not root, or `ip`/`nft` missing."""


class BuildError(EmulateError):
    """A kernel command failed while the lab was built; the lab has been torn down."""


class FeatureUnsupported(BuildError):
    """The running kernel lacks something the plan needs (a tunnel type, SCTP)."""


class ProbeError(EmulateError):
    """A probe agent crashed or overran its time bound."""


class TeardownError(EmulateError):
    """Objects of a lab were still present after teardown."""
