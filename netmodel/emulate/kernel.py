"""Build a `LabPlan` in real network namespaces, probe it, and tear it down without leaving anything.

>>> with Lab(plan) as lab:                                        # doctest: +SKIP
...     results = lab.probe([Probe("a", "tcp", "10.0.0.2", 80)])

Guarantees:

- Everything lives in namespaces named ``<prefix><6 hex>-<logical name>``; veth pairs are created from
  inside a lab namespace straight into their peer namespace, so the host's own namespace is never
  touched. Deleting the namespaces deletes every device with them.
- Teardown runs on success, on any exception (including one raised while building) and on SIGINT or
  SIGTERM; those signals then reach the handlers that were installed before the lab.
- A run killed outright (SIGKILL) leaves named namespaces behind; `cleanup_leftovers` finds them by
  the owner file each run writes before creating anything (its PID and its namespaces), and the agents
  inside exit by themselves once their parent is gone. Nothing a run did not record is ever deleted.
"""

from __future__ import annotations

import json
import math
import secrets
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from netmodel.emulate import host, scripts
from netmodel.emulate.errors import (
    BuildError,
    EmulateError,
    FeatureUnsupported,
    PlanError,
    ProbeError,
    TeardownError,
)
from netmodel.emulate.host import Job
from netmodel.emulate.plan import NATIVE_TOOLS, LabPlan, Probe, probe_problems
from netmodel.emulate.results import ListenerStatus, ProbeOutcome, ProbeResult

AGENT = Path(__file__).with_name("agent.py")
AGENT_START_TIMEOUT_S = 15.0
_MAX_REPORTED = 3
# Messages of `ip`/`nft` that mean "this kernel cannot", as opposed to "this plan is wrong".
_UNSUPPORTED_MARKERS = ("Unknown device type", "Operation not supported", "Protocol not supported")


class LabInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a lab was alive; raised to unwind into the teardown.

    A KeyboardInterrupt subclass, so ``except Exception`` inside the ``with`` block cannot swallow it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"lab interrupted by {signal.Signals(signum).name}")
        self.signum = signum


class _SignalGuard:
    """Turns SIGINT/SIGTERM into `LabInterrupted` while a lab lives and holds them during teardown.

    Handlers are only touched from the main thread (Python allows nothing else), and never for a
    signal the process was ignoring.
    """

    def __init__(self) -> None:
        # What signal.getsignal returned: a Python callable, SIG_DFL/SIG_IGN, or None (set outside Python).
        self._previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}
        self._received: list[int] = []
        self._holding = False

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            if previous is signal.SIG_IGN:
                continue
            self._previous[sig] = previous
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._received.append(signum)
        if not self._holding:
            raise LabInterrupted(signum)

    def hold(self) -> None:
        """From now on, record signals instead of raising: teardown must run to its end."""
        self._holding = True

    def restore(self) -> None:
        """Put the previous handlers back and hand them the first signal we caught, if any."""
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
        if self._received:
            signal.raise_signal(self._received[0])


class Lab:
    """A `LabPlan` made real. Use as a context manager; `probe` only while inside it.

    ``prefix`` is the family prefix of kernel names (``nm-`` by default); each run adds six random
    hex digits, available as `run_prefix`. ``probe_timeout`` bounds every single probe (seconds).
    """

    def __init__(self, plan: LabPlan, prefix: str = "nm-", probe_timeout: float = 0.5) -> None:
        if not prefix or not all(c.isalnum() or c in "-_." for c in prefix):
            raise PlanError(f"lab prefix {prefix!r} must be letters, digits, '-', '_' or '.'")
        self.plan = plan
        self.prefix = prefix
        self.probe_timeout = probe_timeout
        self.run_id = secrets.token_hex(host.RUN_ID_HEX // 2)
        self.run_prefix = f"{prefix}{self.run_id}-"
        self.listeners: tuple[ListenerStatus, ...] = ()
        self.timings: dict[str, float] = {}
        self._created: list[str] = []
        self._agents: dict[str, subprocess.Popen[str]] = {}
        self._guard = _SignalGuard()
        self._alive = False

    # ------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Self:
        host.check_environment(
            need_nft=bool(self.plan.rulesets),
            need_sysctl=bool(self.plan.sysctls or scripts.prepare_sysctls(self.plan)),
        )
        for tool in {n.tool for n in self.plan.natives}:
            host.native_tool_argv(tool)  # missing: refused before anything is built
        self._guard.install()
        try:
            started = time.monotonic()
            self._build()
            self.timings["build_s"] = time.monotonic() - started
        except BaseException as exc:
            self._finish(in_flight=exc)
            raise
        self._alive = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._alive = False
        self._finish(in_flight=exc)

    def _finish(self, in_flight: BaseException | None) -> None:
        """Tear down with signals held; report a failed teardown without hiding an exception in flight."""
        self._guard.hold()
        error: EmulateError | None = None
        try:
            started = time.monotonic()
            self._teardown()
            self.timings["teardown_s"] = time.monotonic() - started
        except EmulateError as exc:
            error = exc
        finally:
            self._guard.restore()
        if error is not None:
            if in_flight is None:
                raise error
            in_flight.add_note(f"netmodel emulate: teardown also failed: {error}")

    def ns_name(self, logical: str) -> str:
        """The kernel name of the plan's namespace ``logical`` in this run."""
        return f"{self.run_prefix}{logical}"

    # ----------------------------------------------------------------------------------- build

    def _build(self) -> None:
        plan = self.plan
        names = [self.ns_name(ns.name) for ns in plan.namespaces]
        host.mark_owner(self.run_id, names)
        # Record before creating: if the batch dies half-way, teardown still knows what to look for.
        self._created = names
        clock = time.monotonic()

        def lap(phase: str) -> None:
            nonlocal clock
            now = time.monotonic()
            self.timings[f"{phase}_s"] = now - clock
            clock = now

        failures, _ = host.run_parallel(
            [Job(("ip", "-batch", "-"), "".join(f"netns add {n}\n" for n in names))]
        )
        if failures:
            raise BuildError(f"could not create network namespaces: {failures[0].stderr.strip()}")
        if prepare := scripts.prepare_sysctls(plan):
            self._in_each(
                [(ns.name, ("sysctl", "-q", "-w", *prepare), "") for ns in plan.namespaces],
                "prepare",
            )
        lap("namespaces")
        self._phase("create", scripts.create_phase(plan, self.ns_name))
        self._phase("configure", scripts.configure_phase(plan))
        lap("links")
        steps = [
            (ns, ("sysctl", "-q", "-w", *args), "")
            for ns, args in scripts.sysctl_args(plan).items()
        ]
        # Imported firewall files, by netfilter's own tools, one tool at a time (each needs the one before).
        for tool in NATIVE_TOOLS:
            loads = [(n.ns, host.native_tool_argv(tool), n.text) for n in plan.natives if n.tool == tool]
            if loads:
                self._in_each(loads, tool)
        lap("imported")
        steps += [(ns, ("nft", "-f", "-"), text) for ns, text in scripts.nft_scripts(plan).items()]
        self._in_each(steps, "sysctl/nft")
        lap("sysctl_nft")
        self._start_agents()
        lap("listeners")

    def _in_each(self, steps: list[tuple[str, tuple[str, ...], str]], phase: str) -> None:
        """Run ``(namespace, argv, stdin)`` steps side by side, each inside its namespace."""
        jobs = [
            Job(("ip", "netns", "exec", self.ns_name(ns), *argv), stdin, ns)
            for ns, argv, stdin in steps
        ]
        self._check(host.run_parallel(jobs)[0], phase)

    def _phase(self, phase: str, script: scripts.Script) -> None:
        jobs = [
            Job(
                ("ip", "-n", self.ns_name(ns), "-batch", "-"),
                "".join(f"{line}\n" for line in lines),
                ns,
            )
            for ns, lines in script.items()
        ]
        self._check(host.run_parallel(jobs)[0], phase)

    def _check(self, failures: list[host.Failure], phase: str) -> None:
        if not failures:
            return
        messages = []
        unsupported = False
        for failure in failures:
            stderr = failure.stderr.strip()
            unsupported |= any(marker in stderr for marker in _UNSUPPORTED_MARKERS)
            line = _failed_batch_line(failure)
            where = f" at `{line}`" if line else ""
            messages.append(f"{phase} in namespace {failure.job.label!r}{where}: {stderr}")
        if len(messages) > _MAX_REPORTED:
            # A plan-wide mistake fails every namespace alike; a few examples say it all.
            others = sorted(f.job.label for f in failures[_MAX_REPORTED:])
            messages[_MAX_REPORTED:] = [f"{phase} failed the same way in {', '.join(others)}"]
        raise (FeatureUnsupported if unsupported else BuildError)(messages)

    def _start_agents(self) -> None:
        by_ns: dict[str, list[dict[str, object]]] = defaultdict(list)
        for listener in self.plan.listeners:
            by_ns[listener.ns].append(
                {"proto": listener.proto, "ip": listener.ip, "port": listener.port}
            )
        for ns, items in by_ns.items():
            proc = subprocess.Popen(
                self._agent_argv(ns, "serve"),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            self._agents[ns] = proc
            assert proc.stdin is not None
            proc.stdin.write(json.dumps({"listeners": items}) + "\n")
            proc.stdin.flush()
        statuses = []
        deadline = time.monotonic() + AGENT_START_TIMEOUT_S
        for ns, proc in self._agents.items():
            report = json.loads(self._read_ready(ns, proc, deadline))
            for item in report["listeners"]:
                status = ListenerStatus(
                    ns, item["proto"], item["ip"], item["port"], item["status"], item["detail"]
                )
                if status.status == "error":
                    raise BuildError(
                        f"listener {ns} {status.proto}/{status.ip}:{status.port}: {status.detail}"
                    )
                statuses.append(status)
        self.listeners = tuple(statuses)

    def _read_ready(self, ns: str, proc: subprocess.Popen[str], deadline: float) -> str:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if sel.select(max(0.0, deadline - time.monotonic())):
                line = proc.stdout.readline()
                if line:
                    return line
        proc.kill()
        _, err = proc.communicate()
        raise BuildError(f"listener agent in namespace {ns!r} did not start: {err.strip()}")

    def _agent_argv(self, ns: str, mode: str) -> list[str]:
        # -I -S: the agent is stdlib-only, so skip site-packages and the environment: faster, and
        # immune to whatever the rest of netmodel imports.
        return [
            "ip",
            "netns",
            "exec",
            self.ns_name(ns),
            sys.executable,
            "-I",
            "-S",
            str(AGENT),
            mode,
        ]

    # -------------------------------------------------------------------------------- teardown

    def _teardown(self) -> None:
        for proc in self._agents.values():
            if proc.stdin is not None and not proc.stdin.closed:
                try:
                    proc.stdin.close()  # end of file tells the agent to exit
                except OSError:
                    pass
        for proc in self._agents.values():
            try:
                proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        self._agents.clear()
        if self._created:
            present = set(host.list_namespaces())
            host.delete_namespaces([n for n in self._created if n in present])
        left = [n for n in host.list_namespaces() if n.startswith(self.run_prefix)]
        if left:
            raise TeardownError(f"namespaces left after teardown: {left}")
        host.unmark_owner(self.run_id)
        self._created = []

    # ---------------------------------------------------------------------------------- probes

    def probe(
        self, probes: Iterable[Probe], timeout: float | None = None, concurrency: int = 256
    ) -> tuple[ProbeResult, ...]:
        """Run ``probes`` (concurrently, per source namespace) and return results in their order.

        Each probe is bounded by ``timeout`` (default: the lab's ``probe_timeout``); the whole call is
        bounded by roughly ``timeout * ceil(n / concurrency)`` plus agent start-up.
        """
        if not self._alive:
            raise EmulateError(
                "Lab.probe() needs a running lab: use it inside `with Lab(plan) as lab:`"
            )
        probes = tuple(probes)
        problems = probe_problems(self.plan, probes)
        if problems:
            raise PlanError(problems)
        timeout = self.probe_timeout if timeout is None else timeout
        by_ns: dict[str, list[int]] = defaultdict(list)
        for index, p in enumerate(probes):
            by_ns[p.ns].append(index)
        jobs, order = [], []
        for ns, indices in by_ns.items():
            spec = {
                "timeout": timeout,
                "concurrency": concurrency,
                "probes": [
                    {
                        "proto": probes[i].proto,
                        "dst_ip": probes[i].dst_ip,
                        "dst_port": probes[i].dst_port,
                        "src_ip": probes[i].src_ip,
                        "src_port": probes[i].src_port,
                    }
                    for i in indices
                ],
            }
            jobs.append(Job(tuple(self._agent_argv(ns, "probe")), json.dumps(spec), ns))
            order.append(indices)
        bound = timeout * (math.ceil(max(map(len, order), default=0) / concurrency) + 1) + 10.0
        failures, outputs = host.run_parallel(jobs, timeout=bound)
        if failures:
            f = failures[0]
            raise ProbeError(f"probe agent in namespace {f.job.label!r} failed: {f.stderr.strip()}")
        results: list[ProbeResult | None] = [None] * len(probes)
        for indices, out in zip(order, outputs):
            for i, item in zip(indices, json.loads(out)["results"]):
                results[i] = ProbeResult(
                    probes[i], ProbeOutcome(item["outcome"]), item["detail"], item["elapsed"]
                )
        return tuple(r for r in results if r is not None)

    def run(self, ns: str, *argv: str) -> str:
        """Run a command inside namespace ``ns`` (e.g. ``nft list ruleset``) and return its stdout."""
        return host.run(["ip", "netns", "exec", self.ns_name(ns), *argv])


def _failed_batch_line(failure: host.Failure) -> str:
    """The script line an ``ip -batch -`` failure points at (``Command failed -:3``), if any."""
    marker = "Command failed -:"
    if marker not in failure.stderr:
        return ""
    number = failure.stderr.split(marker, 1)[1].split()[0]
    lines = failure.job.stdin.splitlines()
    return lines[int(number) - 1] if number.isdigit() and 0 < int(number) <= len(lines) else ""


def cleanup_leftovers(prefix: str = "nm-", *, include_live: bool = False) -> list[str]:
    """Delete namespaces of killed lab runs (see `netmodel.emulate.host.cleanup_leftovers`)."""
    return host.cleanup_leftovers(prefix, include_live=include_live)
