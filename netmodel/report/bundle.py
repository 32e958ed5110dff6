"""``netmodel report``: one folder per layout with every view of it (Markdown, HTML, JSON, SARIF, JUnit, PNGs).

``python -m netmodel.report.bundle --all`` regenerates ``reports/`` from ``topologies/`` (run it from the
repository root: paths inside the reports are relative to it). Output is deterministic, so the committed
bundle can be compared with a fresh one (``tests/test_report_bundle.py`` does).

The check pipeline lives here too (:func:`run_check`): load → checks → port matrix → suppressions and
baseline → :class:`CheckResult`, so ``report``, ``diagram`` and ``diff`` judge a layout exactly as ``check`` does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netmodel.analyze import expectations
from netmodel.analyze.checks import CHECKS, CheckContext, run_checks
from netmodel.analyze.diff import CellKey, RuleRef, cell_key
from netmodel.analyze.policy.checks import POLICY_CHECKS
from netmodel.analyze.portmatrix import Cell, port_matrix
from netmodel.analyze.reach import Fabric
from netmodel.analyze.result import CheckResult
from netmodel.analyze.suppress import Baseline, suppress_result
from netmodel.model.build import load_topology
from netmodel.model.topology import Topology
from netmodel.report.html import render_html
from netmodel.report.junit import render_junit
from netmodel.report.markdown import render_markdown
from netmodel.report.sarif import render_sarif

MANIFEST = "MANIFEST.json"


@dataclass(frozen=True)
class CheckRun:
    """One judged layout: the model, its compiled context, the port-matrix cells and the result."""

    paths: tuple[str, ...]
    topology: Topology
    context: CheckContext
    cells: tuple[Cell, ...]
    result: CheckResult
    fail_on: str = "error"

    def payload(self) -> dict[str, Any]:
        """The check result as JSON, its status judged at ``fail_on``."""
        return self.result.to_json(self.fail_on)

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


def run_check(paths: Sequence[str], baseline: Baseline | None = None, fail_on: str = "error") -> CheckRun:
    """Judge a layout exactly as ``netmodel check`` does (every check, NetworkPolicy checks, Expectations among
    the inputs), then apply suppressions and ``baseline``."""
    topology = load_topology(paths)
    ctx = CheckContext(topology)
    result = CheckResult.of(run_checks(ctx, CHECKS + POLICY_CHECKS), port_matrix(ctx))
    if topology.expectations:
        flows = expectations.evaluate(Fabric(topology), topology.expectations)
        result = CheckResult.of(result.findings + tuple(expectations.findings(flows)), result.port_matrix, flows)
    result = suppress_result(result, topology, baseline)
    return CheckRun(tuple(paths), topology, ctx, tuple(port_matrix(ctx)), result, fail_on)


def matrix_payload(topology: Topology, by: str = "workload") -> dict[str, Any]:
    """The connectivity matrix of ``topology`` grouped ``by`` workload, namespace or Pod, as JSON."""
    from netmodel.analyze.connectivity import connectivity
    from netmodel.analyze.reach import Fabric
    from netmodel.analyze.unevaluated import Unevaluated, matrix_json

    return matrix_json(connectivity(Fabric(topology), by), by, Unevaluated.of(topology))


def write_bundle(paths: Sequence[str], out_dir: str, fmt: str = "png") -> list[Path]:
    """Write the whole bundle of one layout into ``out_dir``; return the files written."""
    run = run_check(paths)
    payload = run.payload()
    matrix = matrix_payload(run.topology)
    # matplotlib is imported here, not at module level: every command imports this module and most never draw.
    import matplotlib

    from netmodel.report.figures import figure_files, payload_figures

    figures = payload_figures(payload, "check", run.context.graph, matrix, fmt)
    names = dict(figure_files(figures))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {
        "check.json": (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode(),
        "matrix.json": (json.dumps(matrix, indent=2, ensure_ascii=False) + "\n").encode(),
        "report.md": render_markdown(payload, "check", figures=names).encode(),
        "report.html": render_html(payload, "check", figures=figures).encode(),
        "check.sarif": render_sarif(payload, "check").encode(),
        "check.junit.xml": render_junit(payload, "check").encode(),
    }
    files.update({names[caption]: image for caption, (image, _) in figures.items()})
    manifest = {"inputs": list(paths), "matplotlib": matplotlib.__version__,
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}}
    files[MANIFEST] = (json.dumps(manifest, indent=2) + "\n").encode()
    written = []
    for name, data in sorted(files.items()):
        (out / name).write_bytes(data)
        written.append(out / name)
    return written


def bundled_layouts(root: Path) -> list[tuple[str, str]]:
    """(input path, report folder) for every layout in ``root/topologies``: files, and folders as one layout."""
    out = []
    for entry in sorted((root / "topologies").iterdir()):
        if entry.is_dir() or entry.suffix in (".yaml", ".yml", ".json"):
            name = entry.stem if entry.is_file() else entry.name
            out.append((str(entry.relative_to(root)) + ("/" if entry.is_dir() else ""), f"reports/{name}"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m netmodel.report.bundle --all``: regenerate every bundle under reports/."""
    parser = argparse.ArgumentParser(prog="python -m netmodel.report.bundle",
                                     description="Regenerate reports/ from topologies/ (run from the repo root).")
    parser.add_argument("--all", action="store_true", help="every layout in topologies/")
    parser.add_argument("--root", default=".", help="repository root (default: the current directory)")
    args = parser.parse_args(argv)
    if not args.all:
        parser.error("pass --all (or use `netmodel report PATH -o DIR` for one layout)")
    root = Path(args.root)
    for source, target in bundled_layouts(root):
        write_bundle([source], str(root / target))
        print(f"{source} -> {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
