"""Which layouts have golden outputs, and how an output is produced (the CLI's JSON, run from the repo root).

The golden file of a layout is its committed report, ``reports/NAME/check.json`` (one copy, not two):
``netmodel check topologies/LAYOUT --format json`` must print it byte for byte, which also holds the CLI and the
report bundle to the same pipeline.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from netmodel.cli.main import main

ROOT = Path(__file__).resolve().parent.parent.parent
LAYOUTS = ("flannel-vxlan.yaml", "broken-cni-port-closed.yaml", "broken-etcd-internet.yaml",
           "broken-nodeport-closed.yaml", "plain-manifests")


def report_dir(layout: str) -> Path:
    return ROOT / "reports" / layout.removesuffix(".yaml").rstrip("/")


def golden_path(layout: str) -> Path:
    return report_dir(layout) / "check.json"


def render(layout: str) -> str:
    """``netmodel check topologies/LAYOUT --format json`` as run from the repository root."""
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            main(["check", f"topologies/{layout}", "--format", "json"])
    finally:
        os.chdir(cwd)
    return out.getvalue()
