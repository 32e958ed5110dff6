"""Usage mistakes on the command line: a short message, exit code 2, never a traceback.

Each case runs from an empty temporary directory with the layout given by absolute path, and asserts the message
that names the mistake: a case must not pass because some other error (a missing file) also exits 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = str(ROOT / "topologies" / "flannel-vxlan.yaml")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["query", LAYOUT, "node:a", "node:b"], "Missing option '--from'"),  # --from/--to forgotten
        (["check"], "Missing argument 'paths'"),  # no path
        (["check", "--bogus", LAYOUT], "No such option: --bogus"),  # unknown option
        (["check", LAYOUT, "--format", "nonsense"], "format 'nonsense'"),
        (["query", LAYOUT, "--from", "node:nope", "--to", "node:cp-1", "--port", "22"], "unknown node 'nope'"),
        (["nonsense-command"], "No such command 'nonsense-command'"),
    ],
)
def test_usage_errors_exit_2_without_traceback(argv: list[str], says: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "netmodel", *argv], capture_output=True, text=True,
                          timeout=120, check=False, cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert says in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == [], "a usage error writes nothing"


@pytest.mark.parametrize("layout", ["flannel-vxlan.yaml", "broken-kubelet-blocked.yaml"])
def test_output_is_whole_though_the_process_skips_teardown(layout: str, tmp_path: Path) -> None:
    """The console script ends with ``os._exit`` (netmodel.cli.main.run): what was written to stdout and to an
    ``--output`` file must still arrive whole, and the exit code must be the command's."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    path = str(ROOT / "topologies" / layout)
    piped = subprocess.run([sys.executable, "-m", "netmodel", "check", path, "-f", "json"], capture_output=True,
                           text=True, timeout=300, check=False, cwd=tmp_path, env=env)
    written = subprocess.run([sys.executable, "-m", "netmodel", "check", path, "-f", "json", "-o", "out.json"],
                             capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path, env=env)
    expected = 1 if layout.startswith("broken-") else 0
    assert (piped.returncode, written.returncode) == (expected, expected), piped.stderr + written.stderr
    report = json.loads(piped.stdout)  # a truncated stream would not parse
    assert report["findings"] if expected else report["summary"]
    assert (tmp_path / "out.json").read_text() == piped.stdout


def test_a_profiler_still_gets_to_write_its_results(tmp_path: Path) -> None:
    """``python -m cProfile -o FILE -m netmodel ...`` (how benchmarks/README.md profiles a check) writes FILE when
    the command ends: the console script leaves by ``sys.exit`` while a profiler or tracer is installed."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", "check.prof", "-m", "netmodel", "check", LAYOUT],
                          capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "check.prof").stat().st_size > 0
