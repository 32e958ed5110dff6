"""Talking to the host: environment checks, running `ip`/`nft`, finding and deleting lab namespaces.

Every child process gets its own session, so a Ctrl-C on the terminal reaches only the Python process,
which then tears the lab down with children that were not killed half-way.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from netmodel.emulate.errors import EmulateError, EnvironmentUnsupported

COMMAND_TIMEOUT_S = 30.0
# A lab's owner writes its PID and the namespaces it creates here, so a cleanup run can tell a live lab
# from a killed one, and deletes only namespaces a run recorded as its own.
OWNER_DIR = Path("/run/netmodel-emulate")
RUN_ID_HEX = 6


def check_environment(*, need_nft: bool = True, need_sysctl: bool = False) -> None:
    """Raise `EnvironmentUnsupported` unless this is Linux, we are root and the tools exist."""
    problems = []
    if not sys.platform.startswith("linux"):
        problems.append(f"network namespaces need Linux, this is {sys.platform}")
    elif os.geteuid() != 0:
        problems.append("building network namespaces needs root (run with sudo)")
    tools = ["ip"] + (["nft"] if need_nft else []) + (["sysctl"] if need_sysctl else [])
    for tool in tools:
        if shutil.which(tool) is None:
            package = {"ip": "iproute2", "nft": "nftables", "sysctl": "procps"}[tool]
            problems.append(f"`{tool}` is not on PATH (install the {package} package)")
    if not problems and not Path("/proc/self/ns/net").exists():
        problems.append("this kernel has no network namespaces (/proc/self/ns/net is missing)")
    if problems:
        raise EnvironmentUnsupported(problems)


# The loaders of imported iptables files: the nf_tables variant, by its own name or as the default.
IPTABLES_TOOLS = {"iptables": ("iptables-nft-restore", "iptables-restore"),
                  "ip6tables": ("ip6tables-nft-restore", "ip6tables-restore")}


def native_tool_argv(tool: str) -> tuple[str, ...]:
    """The command that loads ``tool``'s text from standard input; `EnvironmentUnsupported` when it is missing
    or is iptables-legacy."""
    if tool == "ipset":
        if shutil.which("ipset") is None:
            raise EnvironmentUnsupported("an imported iptables-save file matches ipsets: `ipset` is not on PATH "
                                         "(install the ipset package)")
        return ("ipset", "restore")
    if tool == "nft-json":
        return ("nft", "-j", "-f", "-")
    for name in IPTABLES_TOOLS[tool]:
        path = shutil.which(name)
        if path is None:
            continue
        version = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
        if "nf_tables" in version:
            return (name, "--noflush")
    raise EnvironmentUnsupported(
        f"an imported {tool}-save file needs {IPTABLES_TOOLS[tool][0]} (iptables-nft; install the iptables package): "
        "the lab enters the file's chains from nftables base chains, which iptables-legacy tables cannot be")


@dataclass(frozen=True, slots=True)
class Job:
    """One command to run, with what to feed its standard input."""

    argv: tuple[str, ...]
    stdin: str = ""
    label: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    """A lab command that failed: the job, its exit code and what it wrote on stderr."""

    job: Job
    returncode: int
    stderr: str


def run(argv: Sequence[str], stdin: str = "", timeout: float = COMMAND_TIMEOUT_S) -> str:
    """Run one command; return stdout, or raise `EmulateError` with its stderr."""
    failures, outputs = run_parallel([Job(tuple(argv), stdin)], timeout)
    if failures:
        f = failures[0]
        raise EmulateError(f"`{' '.join(argv)}` failed ({f.returncode}): {f.stderr.strip()}")
    return outputs[0]


def run_parallel(
    jobs: Sequence[Job], timeout: float = COMMAND_TIMEOUT_S
) -> tuple[list[Failure], list[str]]:
    """Run every job at once and wait for all; return the failures and every job's stdout, in order.

    ``timeout`` bounds the whole set; a job still running then is killed and reported as failed.
    Per-namespace work is independent, so running it side by side is what makes a 20-namespace lab
    build in a fraction of a second. One thread per job feeds stdin and drains the pipes, so no job
    waits for another's input.
    """
    deadline = time.monotonic() + timeout
    procs: list[subprocess.Popen[str] | None] = []
    failures: list[Failure] = []
    try:
        for job in jobs:
            try:
                procs.append(
                    subprocess.Popen(
                        job.argv,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                        start_new_session=True,
                    )
                )
            except FileNotFoundError as exc:
                procs.append(None)
                failures.append(Failure(job, 127, str(exc)))

        def finish(job: Job, proc: subprocess.Popen[str] | None) -> tuple[str, Failure | None]:
            if proc is None:
                return "", None  # already recorded as a failure
            try:
                out, err = proc.communicate(
                    job.stdin, timeout=max(0.1, deadline - time.monotonic())
                )
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                err += f"\n(killed after {timeout}s)"
            return out, (Failure(job, proc.returncode, err) if proc.returncode != 0 else None)

        pool = ThreadPoolExecutor(max_workers=max(1, len(jobs)))
        try:
            done = list(pool.map(finish, jobs, procs))
        finally:
            # On an interrupt, kill first so the feeding threads return at once, then join them.
            _kill_running(procs)
            pool.shutdown(wait=True)
    finally:
        _kill_running(procs)
    failures += [failure for _, failure in done if failure is not None]
    return failures, [out for out, _ in done]


def _kill_running(procs: Sequence[subprocess.Popen[str] | None]) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def list_namespaces() -> list[str]:
    """Names of all named network namespaces (``ip netns list``), in its order."""
    out = run(["ip", "netns", "list"])
    # Lines read "name" or "name (id: 3)".
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def delete_namespaces(names: Sequence[str]) -> None:
    """Delete named namespaces in one batch, continuing past ones already gone."""
    if not names:
        return
    script = "".join(f"netns delete {name}\n" for name in names)
    failures, _ = run_parallel([Job(("ip", "-force", "-batch", "-"), script)])
    remaining = set(names) & set(list_namespaces())
    if remaining:
        detail = failures[0].stderr.strip() if failures else ""
        raise EmulateError(f"could not delete namespaces {sorted(remaining)}: {detail}")


def run_pattern(prefix: str) -> re.Pattern[str]:
    """Matches the kernel names a lab with family ``prefix`` creates: ``<prefix><6 hex>-<name>``."""
    return re.compile(rf"^{re.escape(prefix)}([0-9a-f]{{{RUN_ID_HEX}}})-[A-Za-z0-9_.-]+$")


def mark_owner(run_id: str, names: Sequence[str]) -> None:
    """Record, before creating them, that this process owns lab run ``run_id`` and its namespaces ``names``.

    The owner file (``OWNER_DIR/<run id>``: the PID, then one namespace name a line) is the only thing
    `cleanup_leftovers` trusts: it deletes what a run recorded here, nothing it merely finds by name.
    """
    OWNER_DIR.mkdir(mode=0o755, exist_ok=True)
    scratch = OWNER_DIR / f".{run_id}.{os.getpid()}"
    scratch.write_text("".join(f"{line}\n" for line in (str(os.getpid()), *names)))
    scratch.replace(OWNER_DIR / run_id)  # whole or absent, never half-written


def unmark_owner(run_id: str) -> None:
    """Forget that the run ``run_id`` owns lab objects (its teardown is done)."""
    (OWNER_DIR / run_id).unlink(missing_ok=True)


def _recorded(run_id: str) -> tuple[int, list[str]] | None:
    """(owner PID, namespace names) from the owner file of ``run_id``; None when absent or unreadable."""
    try:
        lines = (OWNER_DIR / run_id).read_text().splitlines()
        return int(lines[0]), [line for line in lines[1:] if line]
    except (OSError, ValueError, IndexError):
        return None


def live_owner(run_id: str) -> int | None:
    """The PID of the process that owns lab run ``run_id``, if that process is still alive."""
    recorded = _recorded(run_id)
    if recorded is None:
        return None
    pid = recorded[0]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # exists, but belongs to someone else
    return pid


def recorded_runs() -> list[str]:
    """Run ids that have an owner file."""
    pattern = re.compile(rf"[0-9a-f]{{{RUN_ID_HEX}}}")
    try:
        return sorted(p.name for p in OWNER_DIR.iterdir() if pattern.fullmatch(p.name))
    except OSError:
        return []


def cleanup_leftovers(prefix: str = "nm-", *, include_live: bool = False) -> list[str]:
    """Delete the namespaces that lab runs recorded as their own and left behind; return their names.

    Only namespaces listed in a run's owner file (`mark_owner`) are touched, and only when their name has
    the exact shape that run creates (``<prefix><its run id>-<logical name>``): a namespace nobody recorded
    survives, whatever its name, and so does every namespace of a run whose process is still alive, unless
    ``include_live`` is set. This is what ``netmodel emulate --cleanup`` calls.
    """
    check_environment(need_nft=False)
    pattern = run_pattern(prefix)
    present = set(list_namespaces())
    doomed: list[str] = []
    finished: list[str] = []
    for run_id in recorded_runs():
        recorded = _recorded(run_id)
        if recorded is None or (not include_live and live_owner(run_id) is not None):
            continue
        ours = [n for n in recorded[1] if (m := pattern.match(n)) is not None and m.group(1) == run_id]
        doomed += [n for n in ours if n in present]
        if len(ours) == len(recorded[1]):  # a run of another prefix keeps its file for its own cleanup
            finished.append(run_id)
    delete_namespaces(doomed)
    for run_id in finished:
        unmark_owner(run_id)
    return doomed
