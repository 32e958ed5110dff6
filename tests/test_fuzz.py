"""A seeded mutation fuzzer over the bundled inputs, each case in a child process (issue 10, item 9).

Each case mutates one input and runs ``netmodel check``, ``matrix`` or ``query`` on it through the command
line's entry point. The inputs are every bundled topology, the conformance base with each conformance policy,
the real inputs of the corpus and the other test inputs (kinds, bad inputs, reach, real inputs): each group gets a
fixed share of the cases, and within a group an input is picked with a weight of one over its size (small
inputs run faster, so they come up more often; big ones still come up). Mutations:

* structure: delete a key, replace a value with a hostile one, change a list into a mapping (or back), repeat
  a list entry; then written as YAML or as JSON (one object, or a ``kind: List``, on one line or indented);
* documents: append another input's documents, repeat, drop or shuffle documents, insert an empty or a scalar
  document, fold documents into a ``kind: List`` or a typed list;
* bytes: flip, insert or delete a few bytes of the original text or of its JSON form.

Every case runs in a child forked from this (already imported and warmed up) process, under an address-space
limit of 2 GiB and a wall-clock alarm of 20 s, and the parent sorts its outcome into one class:

* ``exit 0``, ``exit 1``, ``exit 2 located`` (every error line names the file with line and column) and
  ``exit 2 argument`` (``query`` refusing the reference or port it was given, which names it): the contract;
* ``exit 2 unlocated`` (an error line without file:line:column), ``traceback`` (an exception reached the top),
  ``hang`` (killed by the 20 s alarm after using at least half of that in CPU), ``memory kill`` (out of memory
  under the 2 GiB limit, or killed by the kernel) and ``crash`` (any other signal or exit status): breaches;
* ``starved``: killed by the alarm having used under half of it in CPU, i.e. the machine gave the case no time
  (a low-priority run on a busy machine). Not judged, but counted and kept like a breach, for a replay.

Environment: ``NETMODEL_FUZZ_SECONDS`` (budget, default 60), ``NETMODEL_FUZZ_CASES`` (stop after that many
cases; 0 = no limit), ``NETMODEL_FUZZ_SEED`` (first seed; case N is seed + N, and a seed alone decides its
case), ``NETMODEL_FUZZ_JOBS`` (cases run at once, default 1), ``NETMODEL_FUZZ_PROGRESS`` (a progress line every
that many cases, default 1000), ``NETMODEL_FUZZ_KEEP`` (folder for failing cases, default the test's temporary
folder). ``NETMODEL_FUZZ_SEED=<seed> NETMODEL_FUZZ_CASES=1`` replays one case.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import io
import json
import os
import random
import re
import resource
import signal
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from netmodel.cli.main import main

REPO = Path(__file__).resolve().parents[1]
CASE_LIMIT_S = 20
MEMORY_LIMIT = 2 << 30
BUDGET_S = float(os.environ.get("NETMODEL_FUZZ_SECONDS", "60"))
MAX_CASES = int(os.environ.get("NETMODEL_FUZZ_CASES", "0"))
FIRST_SEED = int(os.environ.get("NETMODEL_FUZZ_SEED", "0"))
JOBS = max(1, int(os.environ.get("NETMODEL_FUZZ_JOBS", "1")))
PROGRESS_EVERY = int(os.environ.get("NETMODEL_FUZZ_PROGRESS", "1000"))
TRACEBACK_EXIT = 70  # the child's exit status when main() raised

CONTRACT = ("exit 0", "exit 1", "exit 2 located", "exit 2 argument")
BREACHES = ("exit 2 unlocated", "traceback", "hang", "memory kill", "crash")
CLASSES = (*CONTRACT, *BREACHES, "starved")

HOSTILE: list[Any] = [
    None, "", " ", "²", "①", "--1", "-1", 0, -1, 65536, 1.5, float("inf"), True, [], {}, [None], [1.5], {"a": None},
    "9" * 5000, 10 ** 30, "x" * 300, 'x"\n include "/etc/passwd"\n #', "fd00::1%eth0", "10.0.0.1/33", "::/0",
    "0.0.0.0/0", "a b", "UPPER", "-", "kube-system", "TCP", "sctp", "any", "1-0", "0-65535", "http", "nan",
    "1:00:00", "0x50", "1e3", "80.0", 2147483647, 10 ** 9, "10.0.0.10:²", list(range(1, 2000)), [{}], [[]],
]
FORMATS = {
    "check": ("json", "json", "table", "markdown", "html", "junit", "sarif", "csv", "dot"),
    "matrix": ("json", "table", "markdown", "html", "junit", "csv", "dot"),
    "query": ("json", "table", "markdown", "html", "junit", "dot"),
}


def _seed_inputs() -> list[tuple[float, list[tuple[Path, ...]]]]:
    """The inputs mutated, in groups with the share of cases each group gets; an input is a tuple of files read
    as one multi-document text. The topologies are the richest inputs (Cluster, Firewall) and the slowest."""
    tests = REPO / "tests"
    base = tests / "conformance" / "base.yaml"
    conformance = [(base,)] + [(base, d / "policy.yaml") for d in sorted((tests / "conformance").iterdir())
                               if (d / "policy.yaml").is_file()]

    def files(*folders: str) -> list[tuple[Path, ...]]:
        return [(p,) for folder in folders for p in sorted((tests / folder).rglob("*"))
                if p.suffix in (".yaml", ".yml", ".json")]

    return [(0.3, [(p,) for p in sorted((REPO / "topologies").glob("*.yaml"))]),
            (0.2, conformance),
            (0.25, files("corpus")),
            (0.25, files("kinds", "bad_inputs", "reach", "policy_layouts", "real_inputs"))]


@dataclass(frozen=True)
class Source:
    name: str
    text: bytes
    docs: list[Any] | None  # None: the text does not parse, so only its bytes are mutated
    nodes: tuple[str, ...]  # what a query may name
    services: tuple[str, ...]


def _load(files: tuple[Path, ...]) -> Source:
    text = b"\n---\n".join(p.read_bytes() for p in files)
    try:
        if len(files) == 1 and files[0].suffix == ".json":
            loaded = json.loads(text)
            docs = loaded["items"] if isinstance(loaded, dict) and isinstance(loaded.get("items"), list) \
                else [loaded]
        else:
            docs = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
    except (ValueError, yaml.YAMLError):
        docs = None
    objects = [d for d in docs or () if isinstance(d, dict) and isinstance(d.get("metadata"), dict)]
    nodes = tuple(str(d["metadata"].get("name")) for d in objects if d.get("kind") == "Node")
    services = tuple(f"{d['metadata'].get('namespace', 'default')}/{d['metadata'].get('name')}"
                     for d in objects if d.get("kind") == "Service")
    return Source(" + ".join(str(p.relative_to(REPO)) for p in files), text, docs, nodes, services)


@dataclass(frozen=True)
class Case:
    seed: int
    source: str
    mutation: str
    body: bytes
    suffix: str  # .yaml or .json
    command: str
    options: tuple[str, ...]  # after the input path
    references: tuple[str, ...]  # what a query names (an error naming one of them is about the command line)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, prefix + (i,))
    return out


def _mutate_structure(docs: list[Any], rng: random.Random) -> str:
    doc_index = rng.randrange(len(docs))
    paths = [p for p in _paths(docs[doc_index]) if p]
    if not paths:
        docs[doc_index] = rng.choice(HOSTILE)
        return "replace document"
    path = rng.choice(paths)
    parent = docs[doc_index]
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    action = rng.choice(("replace", "replace", "replace", "delete", "retype", "repeat"))
    if action == "delete":
        del parent[last]
    elif action == "retype":
        value = parent[last]
        parent[last] = ({str(i): v for i, v in enumerate(value)} if isinstance(value, list)
                        else list(value.values()) if isinstance(value, dict) else [value])
    elif action == "repeat" and isinstance(parent, list):
        parent.insert(last, copy.deepcopy(parent[last]))
    else:
        action = "replace"
        parent[last] = copy.deepcopy(rng.choice(HOSTILE))
    return action


def _mutate_documents(docs: list[Any], rng: random.Random, other: Source) -> str:
    action = rng.choice(("append", "repeat", "drop", "shuffle", "empty", "scalar", "list", "typed list"))
    at = rng.randrange(len(docs) + 1)
    if action == "append":
        docs.extend(copy.deepcopy(other.docs or []))
        return f"append {other.name}"
    if action == "repeat" and docs:
        docs.insert(at, copy.deepcopy(docs[min(at, len(docs) - 1)]))
    elif action == "drop" and docs:
        del docs[min(at, len(docs) - 1)]
    elif action == "shuffle":
        rng.shuffle(docs)
    elif action == "empty":
        docs.insert(at, None)
    elif action == "scalar":
        docs.insert(at, rng.choice(["text", 5, [1, 2], True, "---", "kind: Pod"]))
    elif action in ("list", "typed list") and docs:
        end = rng.randrange(at, len(docs) + 1)
        items = docs[at:end]
        if action == "typed list":
            kind = items[0].get("kind") if items and isinstance(items[0], dict) else "Pod"
            items = [{k: v for k, v in item.items() if k not in ("kind", "apiVersion")} if isinstance(item, dict)
                     else item for item in items]
            docs[at:end] = [{"apiVersion": "v1", "kind": f"{kind}List", "items": items}]
        else:
            docs[at:end] = [{"apiVersion": "v1", "kind": "List", "items": items}]
    return action


def _mutate_bytes(text: bytes, rng: random.Random) -> bytes:
    data = bytearray(text)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        at = rng.randrange(len(data))
        action = rng.choice(("flip", "insert", "delete"))
        if action == "flip":
            data[at] ^= 1 << rng.randrange(8)
        elif action == "insert":
            data[at:at] = rng.choice([b"-", b":", b"\n", b"  ", b"{", b"[", b"'", b'"', b",", b"\xff", b"!!int ",
                                      b"&a ", b"*a", b"\n---\n", b"\\u0000", b"1e999", b"%"])
        else:
            del data[at]
    return bytes(data)


def _json_form(docs: list[Any], rng: random.Random) -> bytes:
    value = docs[0] if len(docs) == 1 and rng.random() < 0.5 else {"apiVersion": "v1", "kind": "List",
                                                                   "items": docs}
    return json.dumps(value, default=str, indent=rng.choice((None, 2))).encode()


def _yaml_form(docs: list[Any]) -> bytes:
    return yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True).encode()


class Inputs:
    """The inputs to mutate, each parsed the first time a case picks it (most runs never pick the big ones).

    Within its group an input is picked with a weight of one over its size: small inputs run faster.
    """

    def __init__(self, groups: list[tuple[float, list[tuple[Path, ...]]]]) -> None:
        self.seeds: list[tuple[Path, ...]] = []
        self.weights: list[float] = []
        for share, seeds in groups:
            inverse = [1 / max(sum(p.stat().st_size for p in files), 1000) for files in seeds]
            self.seeds += seeds
            self.weights += [share * w / sum(inverse) for w in inverse]
        self._loaded: dict[int, Source] = {}

    def pick(self, rng: random.Random) -> Source:
        index = rng.choices(range(len(self.seeds)), self.weights)[0]
        if index not in self._loaded:
            self._loaded[index] = _load(self.seeds[index])
        return self._loaded[index]


def make_case(seed: int, inputs: Inputs) -> Case:
    """The case of ``seed``: the seed alone decides the input, its mutation and the command."""
    rng = random.Random(seed)
    source = inputs.pick(rng)
    as_json = rng.random() < 0.25
    steps: list[str] = []
    if source.docs is not None and rng.random() < 0.7:
        docs = copy.deepcopy(source.docs)
        if rng.random() < 0.3:
            steps.append(_mutate_documents(docs, rng, inputs.pick(rng)))
        for _ in range(rng.randint(1 if not steps else 0, 3)):
            if docs:
                steps.append(_mutate_structure(docs, rng))
        try:
            body = _json_form(docs, rng) if as_json else _yaml_form(docs)
        except (TypeError, ValueError):  # a key JSON cannot hold: the YAML form is the case
            as_json = False
            body = _yaml_form(docs)
    else:
        text = source.text
        if as_json and source.docs is not None:
            text = _json_form(source.docs, rng)
        body = _mutate_bytes(text, rng)
        steps.append("bytes")
    command = rng.choice(("check", "check", "check", "matrix", "query"))
    options: list[str] = ["--format", rng.choice(FORMATS[command])]
    references: tuple[str, ...] = ()
    if command == "query":
        candidates = [f"node:{n}" for n in source.nodes] + [f"service:{s}" for s in source.services] \
            + ["ip:203.0.113.7", "ip:10.0.0.11"]
        port = rng.choice(("22", "80", "443", "6443", "10250", "53", "http", "dns"))
        ends = (rng.choice(candidates), rng.choice(candidates))
        options += ["--from", ends[0], "--to", ends[1], "--port", port]
        references = (*(end.split(":", 1)[1] for end in ends), port)
    return Case(seed, source.name, ", ".join(steps) + (" as JSON" if as_json else ""), body,
                ".json" if as_json else ".yaml", command, tuple(options), references)


def _argv(case: Case, folder: Path, slot: int) -> tuple[Path, list[str]]:
    path = folder / f"slot-{slot}{case.suffix}"
    return path, [case.command, str(path), *case.options, "--output", str(folder / f"slot-{slot}.out")]


def _child(argv: list[str], err_path: Path) -> NoReturn:
    """Run one case and leave with its exit status; never return into the parent's code (pytest's)."""
    code = TRACEBACK_EXIT
    try:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the kernel ends the process, whatever it is doing
        signal.alarm(CASE_LIMIT_S)
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        null = os.open(os.devnull, os.O_RDWR)
        err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(err, 2)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the process ends with os._exit
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        code = main(argv)
        if not isinstance(code, int) or not 0 <= code < TRACEBACK_EXIT:
            print(f"main returned {code!r}", file=sys.stderr)
            code = TRACEBACK_EXIT + 1
    except BaseException:  # noqa: BLE001 - any exception out of main is the contract's first breach
        traceback.print_exc()
        code = TRACEBACK_EXIT
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def classify(case: Case, case_path: Path, status: int, cpu_s: float, err: str) -> str:
    """The outcome class of a finished child (see the module docstring)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGALRM:
            return "hang" if cpu_s >= CASE_LIMIT_S / 2 else "starved"
        return "memory kill" if sig == signal.SIGKILL else "crash"
    code = os.WEXITSTATUS(status)
    if code == TRACEBACK_EXIT or "Traceback (most recent call last)" in err:
        return "traceback"
    if "not enough memory" in err:
        return "memory kill"
    if code in (0, 1):
        return f"exit {code}"
    if code != 2:
        return "crash"
    errors = [line for line in err.splitlines() if "error:" in line and not line[:1].isspace()]
    where = re.compile(rf"{re.escape(str(case_path))}:\d+:\d+: error:")
    if errors and all(where.match(line) for line in errors):
        return "exit 2 located"
    if case.command == "query" and errors and all(
            line.startswith("error:") and any(repr(r) in line or f" {r} " in line for r in case.references)
            for line in errors if not where.match(line)):
        return "exit 2 argument"
    return "exit 2 unlocated"


WARM_UP = b"""\
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default, labels: {app: p}}
spec: {nodeName: n1, containers: [{name: c, image: i, ports: [{containerPort: 80, name: http}]}]}
status: {podIP: 10.244.0.5}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: default}
spec: {selector: {app: p}, ports: [{port: 80, targetPort: http}]}
"""


def _warm_up(folder: Path) -> None:
    """Run every command and format once here, so that children do not each import and compile them again."""
    path = folder / "warm-up.yaml"
    path.write_bytes(WARM_UP)
    as_json = folder / "warm-up.json"
    as_json.write_bytes(_json_form(list(yaml.safe_load_all(WARM_UP)), random.Random(0)))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        runs = [("check", fmt) for fmt in sorted(set(FORMATS["check"]))] + [("matrix", "json"), ("query", "json")]
        for command, fmt in runs:
            extra = ["--from", "node:n1", "--to", "service:default/s", "--port", "80"] if command == "query" else []
            code = main([command, str(path), "--format", fmt, "--output", str(folder / "warm-up.out"), *extra])
            assert code in (0, 1), f"warm-up: netmodel {command} --format {fmt} gave exit {code}"
        main(["check", str(as_json)])
        path.write_bytes(b"{")
        main(["check", str(path)])


def _keep(case: Case, cls: str, err: str, cpu_s: float, wall_s: float, keep: Path) -> Path:
    keep.mkdir(parents=True, exist_ok=True)
    kept = keep / f"seed-{case.seed}{case.suffix}"
    kept.write_bytes(case.body)
    (keep / f"seed-{case.seed}.txt").write_text(
        f"class: {cls}\nseed: {case.seed}\nsource: {case.source}\nmutation: {case.mutation}\n"
        f"command: netmodel {case.command} {kept} {' '.join(case.options)}\n"
        f"wall: {wall_s:.1f} s, cpu: {cpu_s:.1f} s\nstderr:\n{err[-4000:]}\n")
    return kept


def _summary(counts: Counter[str], cases: int, elapsed: float, cpu_s: float) -> str:
    shown = ", ".join(f"{cls} {counts[cls]}" for cls in CLASSES)
    return (f"{cases} cases in {elapsed:.0f} s ({cases / max(elapsed, 1e-9):.1f} cases/s, {JOBS} jobs, "
            f"{1000 * cpu_s / max(cases, 1):.0f} ms CPU per case): {shown}")


def test_mutated_inputs_keep_the_contract(tmp_path: Path) -> None:
    inputs = Inputs(_seed_inputs())
    work = tmp_path / "work"
    work.mkdir()
    keep = Path(os.environ.get("NETMODEL_FUZZ_KEEP", "") or tmp_path / "failures")
    _warm_up(work)
    gc.collect()
    gc.freeze()  # children then share the parent's objects instead of copying them as the collector visits them
    started = time.monotonic()  # the budget is for cases; reading the inputs and the warm-up come before
    print(f"\nfuzz: {len(inputs.seeds)} inputs, seeds from {FIRST_SEED}, budget {BUDGET_S:.0f} s"
          f"{f', at most {MAX_CASES} cases' if MAX_CASES else ''}, {JOBS} jobs; failing cases kept in {keep}",
          flush=True)
    deadline = started + BUDGET_S
    counts: Counter[str] = Counter()
    breaches: list[str] = []
    slowest = (0.0, -1)
    peak_kib = 0
    cpu_total = 0.0
    running: dict[int, tuple[Case, Path, int, float]] = {}
    free_slots = list(range(JOBS))
    seed = FIRST_SEED
    done = 0

    def next_case() -> Case | None:
        if seed > FIRST_SEED and time.monotonic() >= deadline or (MAX_CASES and seed - FIRST_SEED >= MAX_CASES):
            return None
        return make_case(seed, inputs)

    pending = next_case()
    while True:
        while free_slots and pending is not None:
            slot = free_slots.pop()
            case_path, argv = _argv(pending, work, slot)
            case_path.write_bytes(pending.body)
            err_path = work / f"slot-{slot}.err"
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(argv, err_path)
            running[pid] = (pending, case_path, slot, time.monotonic())
            seed += 1
            pending = next_case()  # made while the child runs
        if not running:
            break
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue  # a process some earlier test started and left to this one's parent
        case, case_path, slot, forked = running.pop(pid)
        wall_s = time.monotonic() - forked
        cpu_s = usage.ru_utime + usage.ru_stime
        cpu_total += cpu_s
        err = (work / f"slot-{slot}.err").read_text(errors="replace")
        cls = classify(case, case_path, status, cpu_s, err)
        counts[cls] += 1
        done += 1
        slowest = max(slowest, (wall_s, case.seed))
        peak_kib = max(peak_kib, usage.ru_maxrss)
        if cls in BREACHES or cls == "starved":
            kept = _keep(case, cls, err, cpu_s, wall_s, keep)
            if cls in BREACHES:
                breaches.append(f"seed {case.seed} ({cls}; {case.source}: {case.mutation}; {case.command}) "
                                f"kept at {kept}")
            print(f"fuzz: seed {case.seed}: {cls} ({wall_s:.1f} s, {cpu_s:.1f} s CPU), kept at {kept}", flush=True)
        free_slots.append(slot)
        if PROGRESS_EVERY and done % PROGRESS_EVERY == 0:
            print(f"fuzz: progress {_summary(counts, done, time.monotonic() - started, cpu_total)}", flush=True)
    gc.unfreeze()  # the rest of the suite collects as usual
    elapsed = time.monotonic() - started
    print(f"fuzz: {_summary(counts, done, elapsed, cpu_total)}; slowest case {slowest[0]:.1f} s (seed {slowest[1]}), "
          f"largest peak memory {peak_kib >> 10} MiB", flush=True)
    assert done > 0
    assert not breaches, f"{len(breaches)} of {done} cases broke the contract:\n" + "\n".join(breaches[:50])
