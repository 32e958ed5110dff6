"""``netmodel report``: one folder per layout with every view of it (Markdown, HTML, JSON, SARIF, JUnit, PNGs).

``python -m netmodel.report.bundle --all`` regenerates ``reports/`` from ``topologies/`` (run it from the
repository root: paths inside the reports are relative to it). Output is deterministic, so the committed
bundle can be compared with a fresh one (``tests/test_report_bundle.py`` does).

Each layout is judged by :func:`netmodel.pipeline.run_check`, as ``netmodel check`` judges it, and its
connectivity matrix is computed on that run's compiled cluster.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from netmodel.analyze.reach import CompiledCluster
from netmodel.model.topology import Topology
from netmodel.pipeline import connectivity_payload, run_check
from netmodel.report.html import render_html
from netmodel.report.json_text import dumps_indented
from netmodel.report.junit import render_junit
from netmodel.report.markdown import render_markdown
from netmodel.report.sarif import render_sarif

MANIFEST = "MANIFEST.json"


def matrix_payload(topology: Topology, by: str = "workload") -> dict[str, Any]:
    """The JSON of ``netmodel matrix --by BY`` for a layout no check ran on (a :class:`CheckRun` has its own)."""
    return connectivity_payload(CompiledCluster(topology), by)


def write_bundle(paths: Sequence[str], out_dir: str, fmt: str = "png") -> list[Path]:
    """Write the whole bundle of one layout into ``out_dir``; return the files written."""
    run = run_check(paths)
    payload = run.payload()
    matrix = run.matrix_payload()
    # matplotlib is imported here, not at module level: every command imports this module and most never draw.
    import matplotlib

    from netmodel.report.figures import figure_files, payload_figures

    figures = payload_figures(payload, "check", run.context.graph, matrix, fmt)
    names = dict(figure_files(figures))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {
        "check.json": (dumps_indented(payload, ensure_ascii=False) + "\n").encode(),
        "matrix.json": (dumps_indented(matrix, ensure_ascii=False) + "\n").encode(),
        "report.md": render_markdown(payload, "check", figures=names).encode(),
        "report.html": render_html(payload, "check", figures=figures).encode(),
        "check.sarif": render_sarif(payload, "check").encode(),
        "check.junit.xml": render_junit(payload, "check").encode(),
    }
    files.update({names[caption]: image for caption, (image, _) in figures.items()})
    manifest = {"inputs": list(paths), "matplotlib": matplotlib.__version__,
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}}
    files[MANIFEST] = (dumps_indented(manifest) + "\n").encode()
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
