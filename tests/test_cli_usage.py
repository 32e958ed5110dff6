"""Usage mistakes on the command line: a short message, exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

LAYOUT = "topologies/flannel-vxlan.yaml"


@pytest.mark.parametrize(
    "argv",
    [
        ["query", LAYOUT, "node:a", "node:b"],  # --from/--to forgotten
        ["check"],  # no path
        ["check", "--bogus", LAYOUT],  # unknown option
        ["check", LAYOUT, "--format", "nonsense"],
        ["query", LAYOUT, "--from", "node:nope", "--to", "node:cp-1", "--port", "22"],
        ["nonsense-command"],
    ],
)
def test_usage_errors_exit_2_without_traceback(argv: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "netmodel", *argv], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip(), "a usage error must say what is wrong"
