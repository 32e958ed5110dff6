"""The code base stays lint-clean (ruff, with the settings in pyproject.toml)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# ruff is a test dependency (pyproject.toml), so it is run from this interpreter's environment, not looked up on
# PATH: an environment that has it always runs the check.
@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is not installed (pip install -e '.[test]')")
def test_ruff_reports_nothing() -> None:
    # --no-cache: the suite does not write into the repository (ruff would leave .ruff_cache/ there).
    argv = [sys.executable, "-m", "ruff", "check", "--no-cache", "netmodel", "tests", "benchmarks", "tools"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
