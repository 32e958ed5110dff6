"""What the emulate tests share besides fixtures (those are in conftest.py): whether a lab can run here, and
what a test must leave as it found it — this process's own namespaces and the host's links."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.emulate import host
from netmodel.emulate.features import KernelFeatures

REPO = Path(__file__).resolve().parents[2]
# Every kernel feature: for translating layouts without a kernel (the plan only, nothing is built).
ALL_FEATURES = KernelFeatures(True, True, True, True, True, True, True, True)


def why_not_runnable() -> str:
    """Why this machine cannot build a lab ("" when it can)."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "building network namespaces needs root"
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"`{tool}` is missing (install {package})"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"`ip netns` does not work here: {probe.stderr.strip()}"
    return ""


LAB_UNAVAILABLE = why_not_runnable()
needs_lab = pytest.mark.skipif(bool(LAB_UNAVAILABLE), reason=LAB_UNAVAILABLE or "runnable")


def own_namespaces() -> list[str]:
    """Namespaces present that a run of this process recorded as its own (`host.mark_owner`)."""
    present = set(host.list_namespaces())
    own: list[str] = []
    for run_id in host.recorded_runs():
        recorded = host._recorded(run_id)
        if recorded is not None and recorded[0] == os.getpid():
            own += [n for n in recorded[1] if n in present]
    return sorted(own)


def host_links() -> list[str]:
    out = subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True, check=True
    ).stdout
    return sorted(line.split(":")[1].strip() for line in out.splitlines())
