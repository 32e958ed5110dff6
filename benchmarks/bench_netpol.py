"""netmodel against np-guard's network-config-analyzer (NCA) on the same NetworkPolicy inputs, in one run.

For each size (Pods/policies) the script writes the inputs with ``gen_netpol.py``, then runs in a fresh process
each, measuring wall time, CPU time (user + system) and peak RSS of that process:

- NCA map: ``nca --connectivity`` with its default output (txt: connectivity grouped into rules);
- NCA pairwise: the same with ``-o txt_no_fw_rules`` (one line per pair of workloads);
- netmodel map: ``netmodel matrix`` with its default output (the table);
- netmodel pairwise: ``netmodel matrix --by workload -f csv``;

and prints the figures with netmodel's speed-up over NCA (NCA time / netmodel time, wall and CPU).

NCA is optional and never a dependency of netmodel. Install it into a separate virtual environment:

    python3 -m venv /tmp/nca-venv && /tmp/nca-venv/bin/pip install network-config-analyzer==2.1.0
    python benchmarks/bench_netpol.py --nca /tmp/nca-venv/bin/nca

Without ``--nca`` (or when the path does not exist) the NCA runs are skipped and only netmodel is measured. A run
that exceeds ``--timeout`` seconds (wall) is killed and shown with what it had used by then ("killed at"), a lower
bound; its speed-up ratios are then lower bounds too (">").
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZES = {"1000/100": (1000, 100), "2000/200": (2000, 200), "5000/500": (5000, 500)}
FILES = ("namespaces.yaml", "netpols.yaml", "workloads.yaml")


@dataclass
class Run:
    label: str
    wall: float | None = None  # None: not run (tool absent)
    cpu: float = 0.0
    rss_mb: float = 0.0
    timed_out: bool = False
    failed: str = ""
    lines: int = 0

    def cell(self, value: float, unit: str) -> str:
        if self.wall is None:
            return "skipped"
        if self.timed_out:  # killed: what it had used by then, a lower bound
            return f"killed at {value:.1f} {unit}"
        if self.failed:
            return "failed"
        return f"{value:.1f} {unit}"


def measure(label: str, command: list[str], output: Path, timeout: float, env: dict[str, str] | None = None) -> Run:
    """Run ``command`` in its own process group; wall, CPU and peak RSS of that process (``wait4``)."""
    start = time.perf_counter()
    with open(output, "w", encoding="utf-8") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env, start_new_session=True)
        run = Run(label)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                os.killpg(process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
                run.timed_out = True
                break
            time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    run.wall = time.perf_counter() - start
    run.cpu = usage.ru_utime + usage.ru_stime
    run.rss_mb = usage.ru_maxrss / 1024
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if not run.timed_out and process.returncode not in (0, 1):
        run.failed = stderr[-500:] or f"exit {process.returncode}"
        print(f"{label} failed (exit {process.returncode}):\n{run.failed}", file=sys.stderr)
    with open(output, "rb") as f:
        run.lines = sum(1 for _ in f)
    return run


def generate(pods: int, policies: int, folder: Path) -> list[str]:
    subprocess.run([sys.executable, str(HERE / "gen_netpol.py"), "--pods", str(pods), "--policies", str(policies),
                    "--out", str(folder)], check=True, stdout=subprocess.DEVNULL)
    return [str(folder / name) for name in FILES]


def size_runs(name: str, folder: Path, nca: str | None, timeout: float) -> list[Run]:
    pods, policies = SIZES[name]
    namespaces, netpols, workloads = generate(pods, policies, folder)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    netmodel = [sys.executable, "-m", "netmodel", "matrix", namespaces, netpols, workloads]
    runs: list[Run] = []
    for label, options in (("NCA map (txt)", []), ("NCA pairwise (txt_no_fw_rules)", ["-o", "txt_no_fw_rules"])):
        if nca is None:
            runs.append(Run(label))
            continue
        runs.append(measure(label, [nca, "--connectivity", netpols, "-n", namespaces, "-p", workloads, *options],
                            folder / f"nca{len(runs)}.txt", timeout))
    runs.append(measure("netmodel map (matrix, default table)", netmodel, folder / "netmodel-map.txt", timeout, env))
    runs.append(measure("netmodel pairwise (--by workload -f csv)", [*netmodel, "--by", "workload", "-f", "csv"],
                        folder / "netmodel-pairwise.csv", timeout, env))
    return runs


def ratio(nca: Run, ours: Run, attribute: str) -> str:
    if nca.wall is None or ours.wall is None or ours.timed_out or ours.failed or nca.failed:
        return "-"
    mine = getattr(ours, attribute)
    theirs = getattr(nca, attribute)
    prefix = ">" if nca.timed_out else ""
    return f"{prefix}{theirs / mine:.1f}×" if mine > 0 else "-"


def report(results: dict[str, list[Run]], timeout: float) -> str:
    lines = ["| input (Pods/policies) | run | wall | CPU | peak RSS | output lines |", "|---|---|---|---|---|---|"]
    for name, runs in results.items():
        for r in runs:
            lines.append(f"| {name} | {r.label} | {r.cell(r.wall or 0, 's')} | {r.cell(r.cpu, 's')} | "
                         f"{r.cell(r.rss_mb, 'MB')} | {r.lines if r.wall is not None and not r.timed_out else '-'} |")
    lines += ["", f"netmodel speed-up over NCA (NCA / netmodel; '>' when NCA hit the {timeout:.0f} s timeout):", "",
              "| input | map, wall | map, CPU | pairwise, wall | pairwise, CPU |", "|---|---|---|---|---|"]
    for name, (nca_map, nca_pairs, our_map, our_pairs) in results.items():
        lines.append(f"| {name} | {ratio(nca_map, our_map, 'wall')} | {ratio(nca_map, our_map, 'cpu')} | "
                     f"{ratio(nca_pairs, our_pairs, 'wall')} | {ratio(nca_pairs, our_pairs, 'cpu')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nca", help="path of the nca executable (e.g. /tmp/nca-venv/bin/nca); absent: skip NCA")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a run is killed (default 300)")
    parser.add_argument("--workdir", type=Path, help="where inputs and outputs go (default: a temporary folder)")
    args = parser.parse_args()
    nca = args.nca if args.nca and shutil.which(args.nca) else None
    if nca is None:
        print("NCA not found: measuring netmodel only. Install NCA in its own virtual environment with\n"
              "  python3 -m venv /tmp/nca-venv && /tmp/nca-venv/bin/pip install network-config-analyzer==2.1.0\n"
              "and pass --nca /tmp/nca-venv/bin/nca", file=sys.stderr)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-netpol-"))
    results: dict[str, list[Run]] = {}
    for name in args.sizes:
        folder = workdir / name.replace("/", "-")
        results[name] = size_runs(name, folder, nca, args.timeout)
        for r in results[name]:  # as each size ends, so a long run shows progress
            print(f"{name} {r.label}: wall {r.cell(r.wall or 0, 's')}, CPU {r.cell(r.cpu, 's')}, "
                  f"peak RSS {r.cell(r.rss_mb, 'MB')}", file=sys.stderr)
    print(report(results, args.timeout))
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
