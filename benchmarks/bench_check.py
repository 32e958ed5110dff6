"""Where ``netmodel check`` spends its time: per-stage figures and peak RSS for one layout.

Stages, in the order ``netmodel check`` runs them: load (read the documents), model (build the topology),
compile (address book, firewall classes, Pod index, the port matrix; the graph only with ``--graph``), each check function (grouped by family: the module
it lives in), the result (sorting, JSON payload) and the render of the chosen format. Every figure is wall time
in this process; peak RSS is the process's ``ru_maxrss`` after each stage.

    python benchmarks/generate.py --nodes 5000 --pods 150000 --services 10000 --policies 3000 \\
        --firewall-rules 2000 --format json --out /tmp/full.json
    python benchmarks/bench_check.py /tmp/full.json            # families
    python benchmarks/bench_check.py /tmp/full.json --each     # every check function
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--format", default="json", help="renderer to time (default json)")
    parser.add_argument("--each", action="store_true", help="one line per check function, not per family")
    parser.add_argument("--graph", action="store_true",
                        help="also build the compile graph (diagrams and report bundles use it; check does not)")
    args = parser.parse_args(argv)

    from netmodel.analyze.checks import CHECKS, CheckContext
    from netmodel.analyze.policy.checks import POLICY_CHECKS
    from netmodel.analyze.portmatrix import port_matrix
    from netmodel.analyze.result import CheckResult
    from netmodel.load import read_documents
    from netmodel.load.files import paused_gc
    from netmodel.model.build import build_topology
    from netmodel.report import render

    rows: list[tuple[str, float, float]] = []
    total = time.perf_counter()

    def timed(name: str, work: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = work()
        rows.append((name, time.perf_counter() - start, rss_mb()))
        return value

    with paused_gc():  # as load_topology does
        documents = timed("load", lambda: read_documents(args.paths))
        topology = timed("model", lambda: build_topology(documents))
    ctx = timed("compile: context", lambda: CheckContext(topology))
    for name in ("pod_index", "node_classes", "ingress_entries") + (("graph",) if args.graph else ()):
        timed(f"compile: {name}", lambda name=name: getattr(ctx, name))
    timed("compile: port matrix", lambda: port_matrix(ctx))
    findings = []
    families: dict[str, float] = defaultdict(float)
    for check in CHECKS + POLICY_CHECKS:
        family = check.__module__.rsplit(".", 1)[-1]
        if check.__module__.startswith("netmodel.analyze.policy"):
            family = "policy"
        start = time.perf_counter()
        findings.extend(check(ctx))
        elapsed = time.perf_counter() - start
        families[family] += elapsed
        if args.each:
            rows.append((f"check: {family}.{check.__name__}", elapsed, rss_mb()))
    if not args.each:
        rows.extend((f"checks: {family}", elapsed, rss_mb()) for family, elapsed in families.items())
    result = timed("result", lambda: CheckResult.of(findings, port_matrix(ctx)))
    payload = timed("payload (to_json)", lambda: result.to_json("error"))
    text = timed(f"render: {args.format}", lambda: render(args.format, payload, "check"))
    wall = time.perf_counter() - total

    print(f"{len(topology.nodes):,} nodes, {len(topology.pods):,} Pods, {len(topology.services):,} Services, "
          f"{len(findings):,} findings, {len(port_matrix(ctx)):,} port-matrix cells, {len(text) / 1e6:.1f} MB "
          f"{args.format}")
    print(f"{'stage':<52} {'seconds':>8} {'peak RSS MB':>12}")
    for name, elapsed, rss in rows:
        print(f"{name:<52} {elapsed:8.2f} {rss:12.0f}")
    print(f"{'total (in process, imports excluded)':<52} {wall:8.2f} {rss_mb():12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
