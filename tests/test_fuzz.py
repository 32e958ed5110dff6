"""A seeded mutation fuzzer over the bundled topologies, run for a bounded time (issue 10, item 9).

Each case mutates one input (structure: delete a key, replace a value with a hostile one, change a list into a
mapping, duplicate an entry; bytes: flip, insert or delete a few) and runs ``netmodel check``, ``matrix`` or
``query`` on it in this process, through the same entry point as the command line. The contract for every case:
exit 0 or 1, or exit 2 with a located error naming the file; never an exception (a traceback), and under
``CASE_LIMIT_S`` seconds.

``NETMODEL_FUZZ_SECONDS`` sets the budget (default 60 s in the test suite); ``NETMODEL_FUZZ_SEED`` the first seed.
A failing case is written to the test's temporary folder and its seed is in the assertion message, so
``NETMODEL_FUZZ_SEED=<seed> NETMODEL_FUZZ_SECONDS=1`` replays it first.
"""

from __future__ import annotations

import copy
import io
import os
import random
import re
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml

from netmodel.cli.main import main

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted((REPO / "topologies").glob("*.yaml"))[:6] + [REPO / "tests" / "conformance" / "base.yaml"]
CASE_LIMIT_S = 20.0
BUDGET_S = float(os.environ.get("NETMODEL_FUZZ_SECONDS", "60"))
FIRST_SEED = int(os.environ.get("NETMODEL_FUZZ_SEED", "0"))

HOSTILE: list[Any] = [
    None, "", " ", "²", "①", "--1", "-1", 0, -1, 65536, 1.5, float("inf"), True, [], {}, [None], [1.5], {"a": None},
    "9" * 5000, 10 ** 30, "x" * 300, 'x"\n include "/etc/passwd"\n #', "fd00::1%eth0", "10.0.0.1/33", "::/0",
    "0.0.0.0/0", "a b", "UPPER", "-", "kube-system", "TCP", "sctp", "any", "1-0", "0-65535", "http", "nan",
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, prefix + (i,))
    return out


def _mutate_structure(docs: list[Any], rng: random.Random) -> list[Any]:
    doc_index = rng.randrange(len(docs))
    paths = [p for p in _paths(docs[doc_index]) if p]
    if not paths:
        return docs
    path = rng.choice(paths)
    parent = docs[doc_index]
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    action = rng.choice(("replace", "replace", "replace", "delete", "retype", "duplicate"))
    if action == "delete":
        del parent[last]
    elif action == "retype":
        value = parent[last]
        parent[last] = ({str(i): v for i, v in enumerate(value)} if isinstance(value, list)
                        else list(value.values()) if isinstance(value, dict) else [value])
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(last, parent[last])
    else:
        parent[last] = rng.choice(HOSTILE)
    return docs


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
            data[at:at] = rng.choice([b"-", b":", b"\n", b"  ", b"{", b"[", b"'", b"\xff", b"!!int ", b"&a ", b"*a"])
        else:
            del data[at]
    return bytes(data)


def _case(seed: int, sources: dict[Path, tuple[bytes, list[Any]]]) -> tuple[bytes, list[str]]:
    rng = random.Random(seed)
    path = rng.choice(list(sources))
    text, docs = sources[path]
    if rng.random() < 0.7:
        mutated = copy.deepcopy(docs)
        for _ in range(rng.randint(1, 3)):
            mutated = _mutate_structure(mutated, rng)
        body = yaml.safe_dump_all(mutated, sort_keys=False).encode()
    else:
        body = _mutate_bytes(text, rng)
    command = rng.choice((["check"], ["check"], ["matrix"], ["query", "--from", "node:cp-1", "--to", "node:w-1",
                                                              "--port", "22"]))
    return body, command


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def test_mutated_inputs_keep_the_contract(tmp_path: Path) -> None:
    sources = {p: (p.read_bytes(), [d for d in yaml.safe_load_all(p.read_text()) if d is not None]) for p in SEEDS}
    deadline = time.monotonic() + BUDGET_S
    outcomes: dict[str, int] = {}
    seed = FIRST_SEED
    while time.monotonic() < deadline:
        body, command = _case(seed, sources)
        case = tmp_path / f"case-{seed}.yaml"
        case.write_bytes(body)
        argv = [command[0], str(case), *command[1:]]
        if command[0] == "check":
            argv += ["--format", "json", "--output", str(tmp_path / "report.json")]
        started = time.monotonic()
        try:
            code, err = _run(argv)
        except Exception as exc:  # noqa: BLE001 - any exception is a traceback, the contract's first breach
            pytest.fail(f"seed {seed}: `netmodel {' '.join(argv)}` raised {type(exc).__name__}: {exc} "
                        f"(input kept at {case})")
        took = time.monotonic() - started
        assert took < CASE_LIMIT_S, f"seed {seed}: {took:.1f}s (input kept at {case})"
        assert code in (0, 1, 2), f"seed {seed}: exit {code}: {err[-2000:]}"
        if code == 2:
            # A located error in the mutated file; a query may also refuse its references (no file to point at).
            located = re.search(rf"{re.escape(str(case))}:\d+:\d+: error:", err) is not None
            assert located or (command[0] == "query" and err.startswith("error:")), \
                f"seed {seed}: exit 2 without a located error: {err[-2000:]} (input kept at {case})"
        outcomes[f"exit {code}"] = outcomes.get(f"exit {code}", 0) + 1
        case.unlink()
        seed += 1
    assert sum(outcomes.values()) > 0
    print(f"fuzz: {sum(outcomes.values())} cases from seed {FIRST_SEED}: {outcomes}")
