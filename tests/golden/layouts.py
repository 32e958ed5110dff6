"""Which layouts have golden outputs, and how an output is produced (the CLI's JSON, run from the repo root)."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from netmodel.cli.main import main

ROOT = Path(__file__).resolve().parent.parent.parent
GOLDEN_DIR = Path(__file__).resolve().parent
LAYOUTS = ("flannel-vxlan.yaml", "broken-cni-port-closed.yaml", "broken-etcd-internet.yaml",
           "broken-nodeport-closed.yaml", "plain-manifests")


def golden_path(layout: str) -> Path:
    return GOLDEN_DIR / (layout.removesuffix(".yaml").rstrip("/") + ".json")


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
