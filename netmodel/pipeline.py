"""The one way to run a check: load → model → compile → analyze, once per layout.

Every caller that judges a layout goes through here — ``netmodel check``, ``netmodel report`` (and the committed
``reports/``), ``netmodel diagram``, both sides of ``netmodel diff``, the library function
:func:`check_topology` and the check tests — so all of them judge it the same way (docs/architecture.md):

1. **load + model** — :func:`run_check` reads the inputs into a validated :class:`Topology`
   (:func:`netmodel.model.build.load_topology`);
2. **compile** — one :class:`CheckContext` per layout (address book, firewalls, Pod index, node classes);
3. **analyze** — every check of :data:`ALL_CHECKS` (the requirement checks, then the NetworkPolicy checks), the
   port matrix (:func:`port_matrix`), the Expectations among the inputs on the context's one path compiled
   (:func:`compiled_cluster_of`), then the suppressions: annotations on the objects and ``baseline``.

The :class:`CheckRun` it returns keeps the context, so later work on the same layout (the connectivity matrix a
report or a diff needs, the diagrams) reuses its :class:`CompiledCluster` and :class:`PolicyEngine` instead of compiling
them again.

>>> from netmodel.load import parse_text
>>> from netmodel.model.build import build_topology
>>> run = check(build_topology(parse_text("apiVersion: v1\\nkind: Namespace\\nmetadata: {name: shop}\\n", "t.yaml")))
>>> run.result.requirement_status("pod-to-pod"), len(run.cells) > 0
('pass', True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from netmodel.analyze import expectations
from netmodel.analyze.checks import CHECKS, Check, run_checks
from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.diff import CellKey, RuleRef, cell_key
from netmodel.analyze.policy.checks import POLICY_CHECKS
from netmodel.analyze.portmatrix import Cell, port_matrix
from netmodel.analyze.reach.compiled_cluster import CompiledCluster, compiled_cluster_of
from netmodel.analyze.result import CheckResult
from netmodel.analyze.suppress import Baseline, suppress_result
from netmodel.analyze.unevaluated import Unevaluated, matrix_json
from netmodel.compile.context import CheckContext
from netmodel.load.files import paused_gc
from netmodel.model.build import load_topology
from netmodel.model.topology import Topology

ALL_CHECKS: tuple[Check, ...] = CHECKS + POLICY_CHECKS
"""What ``netmodel check`` runs: the requirement checks, then the checks that need NetworkPolicy semantics."""


@dataclass(frozen=True)
class CheckRun:
    """One judged layout: the inputs, the model, its compiled context and the result."""

    paths: tuple[str, ...]
    topology: Topology
    context: CheckContext
    result: CheckResult
    fail_on: str = "error"

    @property
    def cells(self) -> tuple[Cell, ...]:
        """The port matrix (computed once per context)."""
        return port_matrix(self.context)

    @property
    def compiled(self) -> CompiledCluster:
        """The compiled cluster the Expectations and NetworkPolicy checks used (built once per context)."""
        return compiled_cluster_of(self.context)

    def payload(self) -> dict[str, Any]:
        """The JSON of ``netmodel check`` for this run."""
        return self.result.to_json(self.fail_on)

    def matrix_payload(self, by: str = "workload") -> dict[str, Any]:
        """The JSON of ``netmodel matrix --by BY`` for this layout, on this run's compiled cluster."""
        return connectivity_payload(self.compiled, by)

    def decided_by(self) -> dict[CellKey, tuple[RuleRef, ...]]:
        """For every cell, the firewall rules that decide its example packet (see :mod:`analyze.portmatrix`)."""
        out: dict[CellKey, tuple[RuleRef, ...]] = {}
        for cell in self.cells:
            refs = []
            # The receiver's ingress chains, then the sender's egress chains (portmatrix judges both).
            for decisions, direction in ((cell.decisions, "ingress"), (cell.egress, "egress")):
                for d in decisions:
                    chain = d.firewall.ingress if direction == "ingress" else d.firewall.egress
                    source = d.rule.source if d.rule is not None else chain.source
                    refs.append(RuleRef(d.firewall.name, d.rule.name if d.rule is not None else "defaultAction",
                                        d.action, source.file, source.line))
            out[cell_key(cell.to_json())] = tuple(refs)
        return out


def run_check(paths: Sequence[str], baseline: Baseline | None = None, fail_on: str = "error",
              checks: Iterable[Check] = ALL_CHECKS) -> CheckRun:
    """Load the layout at ``paths`` (files, folders, ``-``) and judge it as ``netmodel check`` does."""
    return check(load_topology(paths), baseline=baseline, fail_on=fail_on, checks=checks, paths=paths)


def check(topology: Topology, *, baseline: Baseline | None = None, fail_on: str = "error",
          checks: Iterable[Check] = ALL_CHECKS, paths: Sequence[str] = ()) -> CheckRun:
    """Judge a loaded layout: compile it once, run ``checks``, the port matrix and the Expectations among the
    inputs, then apply the suppressions (annotations, ``baseline``)."""
    # The checks build millions of small sets, tuples and frozen objects and free few of them: the cyclic
    # collector would rescan them again and again for nothing (a third of the envelope check's CPU time).
    with paused_gc():
        context = CheckContext(topology)
        result = CheckResult.of(run_checks(context, checks), port_matrix(context))
        if topology.expectations:
            flows = expectations.evaluate(compiled_cluster_of(context), topology.expectations)
            result = CheckResult.of(result.findings + tuple(expectations.findings(flows)), result.port_matrix,
                                    flows)
        result = suppress_result(result, topology, baseline)
    return CheckRun(tuple(paths), topology, context, result, fail_on)


def connectivity_payload(compiled: CompiledCluster, by: str = "workload") -> dict[str, Any]:
    """The JSON of ``netmodel matrix --by BY``: every allowed connection on ``compiled``."""
    return matrix_json(connectivity(compiled, by), by, Unevaluated.of(compiled.topology))


def check_topology(topology: Topology) -> CheckResult:
    """The result ``netmodel check`` gives for ``topology``: every check, the NetworkPolicy checks, the
    Expectations among the inputs and the suppressions annotated on its objects."""
    return check(topology).result


__all__ = ["ALL_CHECKS", "CheckRun", "check", "check_topology", "connectivity_payload", "run_check"]
