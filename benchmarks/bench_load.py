"""Load and model-build figures for synthetic clusters: parse speed (YAML vs JSON), documents/s, model build
time, peak RSS, and optionally the time and peak RSS of a full ``netmodel check``.

Each measurement runs in a fresh child process, so a peak RSS belongs to that stage alone (``ru_maxrss``).

    python benchmarks/bench_load.py                 # small and medium
    python benchmarks/bench_load.py --sizes full --check
    python benchmarks/bench_load.py --formats yaml --yaml-reader pyyaml   # PyYAML's event reader only
    python benchmarks/bench_load.py --formats yaml --repeat 5              # fastest of five reads of each input
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
SIZES = {
    # name: generate.py arguments
    "small": ["--nodes", "50", "--pods", "1000", "--services", "100", "--policies", "150", "--firewall-rules", "50"],
    "medium": ["--nodes", "500", "--pods", "15000", "--services", "1000", "--policies", "500",
               "--firewall-rules", "500"],
    "full": ["--nodes", "5000", "--pods", "150000", "--services", "10000", "--policies", "3000",
             "--firewall-rules", "2000"],
}
VARIANTS = (("workloads", "yaml"), ("workloads", "json"), ("explicit", "yaml"), ("explicit", "yaml-list"),
            ("explicit", "json"))


def measure_one(path: str, repeat: int = 1) -> dict[str, float]:
    """In this process: read (``repeat`` times, keeping the fastest read, as timeit does: on a shared machine the
    other readings measure the neighbours), then build; return the figures."""
    from netmodel.load import read_documents
    from netmodel.load.files import paused_gc
    from netmodel.model.build import build_topology

    size = os.path.getsize(path)
    parse_s = parse_cpu_s = float("inf")
    with paused_gc():
        for _ in range(repeat):
            documents = None  # the previous reading is freed before the next is timed
            start, cpu_start = time.perf_counter(), time.process_time()
            documents = read_documents([path])
            parse_s = min(parse_s, time.perf_counter() - start)
            parse_cpu_s = min(parse_cpu_s, time.process_time() - cpu_start)
        parsed = time.perf_counter()
        topology = build_topology(documents)
        built = time.perf_counter()
    return {"mb": size / 1e6, "documents": len(documents), "pods": len(topology.pods),
            "parse_s": parse_s, "parse_cpu_s": parse_cpu_s, "build_s": built - parsed,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure_check(path: str) -> dict[str, float]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "netmodel", "check", path, "--format", "json"],
                            capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"netmodel check failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return {"check_s": elapsed, "check_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def run(size: str, pods_as: str, fmt: str, workdir: Path, check: bool, repeat: int) -> dict[str, object]:
    path = workdir / (f"{size}-{pods_as}-list.yaml" if fmt == "yaml-list" else f"{size}-{pods_as}.{fmt}")
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), *SIZES[size], "--pods-as", pods_as,
                        "--format", fmt, "--out", str(path)], check=True)
    child = subprocess.run([sys.executable, __file__, "--measure", str(path), "--repeat", str(repeat)],
                           capture_output=True, text=True, check=True)
    figures: dict[str, object] = {"size": size, "pods_as": pods_as, "format": fmt, **json.loads(child.stdout)}
    if check:
        child = subprocess.run([sys.executable, __file__, "--measure-check", str(path)], capture_output=True,
                               text=True, check=True)
        figures.update(json.loads(child.stdout))
    return figures


def row(f: dict[str, object]) -> str:
    mb, docs, parse_s, build_s = (float(f[k]) for k in ("mb", "documents", "parse_s", "build_s"))  # type: ignore[arg-type]
    cells = [f"{f['size']}", f"{f['pods_as']}", f"{f['format']}", f"{mb:.1f}", f"{int(docs):,}",
             f"{int(f['pods']):,}", f"{parse_s:.2f}", f"{mb / parse_s:.1f}",
             f"{mb / float(f['parse_cpu_s']):.1f}", f"{docs / parse_s:,.0f}",  # type: ignore[arg-type]
             f"{build_s:.2f}", f"{float(f['rss_mb']):.0f}"]  # type: ignore[arg-type]
    if "check_s" in f:
        cells += [f"{float(f['check_s']):.1f}", f"{float(f['check_rss_mb']):.0f}"]  # type: ignore[arg-type]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", choices=tuple(SIZES), default=["small", "medium"])
    p.add_argument("--check", action="store_true", help="also time `netmodel check` on each input")
    p.add_argument("--workdir", help="where generated inputs are kept (default: a temporary folder)")
    p.add_argument("--formats", nargs="+", choices=("yaml", "yaml-list", "json"),
                   default=["yaml", "yaml-list", "json"], help="yaml-list: one `kind: List` YAML document, as `kubectl get -o yaml` writes it")
    p.add_argument("--yaml-reader", choices=("fast", "pyyaml"), default="fast",
                   help="fast: rapidyaml where it reads exactly as PyYAML (the default); pyyaml: the event reader "
                        "for every file (NETMODEL_YAML_READER=pyyaml, as before rapidyaml)")
    p.add_argument("--repeat", type=int, default=1,
                   help="read each input this many times and report the fastest read (parse s, MB/s)")
    p.add_argument("--measure", help=argparse.SUPPRESS)
    p.add_argument("--measure-check", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.yaml_reader == "pyyaml":
        os.environ["NETMODEL_YAML_READER"] = "pyyaml"  # inherited by the measuring children
    if args.measure:
        print(json.dumps(measure_one(args.measure, max(1, args.repeat))))
        return
    if args.measure_check:
        print(json.dumps(measure_check(args.measure_check)))
        return
    header = ["size", "pods", "format", "MB", "documents", "Pods", "parse s", "MB/s", "MB/s CPU", "docs/s", "build s",
              "peak RSS MB"] + (["check s", "check peak RSS MB"] if args.check else [])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            for pods_as, fmt in VARIANTS:
                if fmt not in args.formats:
                    continue
                print(row(run(size, pods_as, fmt, workdir, args.check, max(1, args.repeat))), flush=True)


if __name__ == "__main__":
    main()
