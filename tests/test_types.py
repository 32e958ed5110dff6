"""The code base type-checks clean (mypy, with the settings in pyproject.toml's [tool.mypy])."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# mypy is a test dependency (pyproject.toml) and is run from this interpreter's environment, like ruff in
# test_lint.py.
@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (pip install -e '.[test]')")
def test_mypy_reports_nothing() -> None:
    # The cache lives in the system's temporary folder, one per checkout: the suite does not write into the
    # repository (mypy would leave .mypy_cache/ there), and a second run re-checks only what changed (a cold run
    # costs about a CPU-minute, which several checkouts on one machine pay again and again otherwise).
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"netmodel-mypy-{checkout}"
    argv = [sys.executable, "-m", "mypy", f"--cache-dir={cache}", "netmodel"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
