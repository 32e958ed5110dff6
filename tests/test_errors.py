"""Hostile and broken input through the real command: a located error, exit code 2, no traceback, bounded.

Hostile files run ``netmodel check`` in a subprocess under an address-space limit and a timeout; these guard
against a hang or a blow-up, they do not measure speed (benchmarks/ does that). Ordinary bad files go through the
same entry point, ``netmodel.cli.main.main``, in this process.
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.cli.main import main

BAD = Path(__file__).parent / "bad_inputs"
MEMORY_LIMIT = 2 << 30  # bytes of address space; the interpreter with its libraries needs about a third of it

# file in tests/bad_inputs → (line, column, words of the message)
EXPECTED = {
    "truncated.json": (2, 26, "truncated"),
    "duplicate-key.json": (3, 2, "duplicate key 'kind'"),
    "nan.json": (2, 34, "NaN"),
    "malformed.yaml": (5, 10, "malformed YAML"),
    "tab-indent.yaml": (2, 1, "tab"),
    "duplicate-key.yaml": (5, 3, "duplicate key 'name'"),
    "unclosed-flow.yaml": (4, 1, "flow mapping"),
    "mapping-key.yaml": (2, 3, "mapping key must be a plain value"),
    "not-utf8.yaml": (4, 12, "not UTF-8"),
    "nul-byte.yaml": (2, 7, "U+0000"),
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_check(*paths: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netmodel", "check", *map(str, paths)], input=(
        stdin.decode("utf-8", "surrogateescape") if stdin is not None else None), capture_output=True,
        text=True, timeout=120, preexec_fn=_limit_memory, check=False)


def check_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["check", *args], code, out, err)


def assert_located_error(result: subprocess.CompletedProcess[str], file: str, line: int, column: int,
                         words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert f"{file}:{line}:{column}: error:" in result.stderr, result.stderr
    assert words in result.stderr
    assert "fix:" in result.stderr


def test_every_fixture_is_listed() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gives_a_located_error_and_exit_2(capsys: pytest.CaptureFixture[str], name: str) -> None:
    line, column, words = EXPECTED[name]
    assert_located_error(check_in_process(capsys, str(BAD / name)), str(BAD / name), line, column, words)


def test_every_bad_file_of_a_folder_is_reported_in_one_run() -> None:
    result = run_check(BAD)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    for name, (line, column, _) in EXPECTED.items():
        assert f"{BAD / name}:{line}:{column}: error:" in result.stderr
    assert f"{len(EXPECTED)} problems found" in result.stderr


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    result = run_check(bomb)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "alias bomb" in result.stderr
    assert f"{bomb}:" in result.stderr


DEEP = {
    "yaml-flow-lists": (".yaml", lambda: "[" * 100_000 + "]" * 100_000),
    "yaml-block-mappings": (".yaml", lambda: "".join("  " * i + "a:\n" for i in range(2_000))),
    "yaml-flow-mappings": (".yaml", lambda: "a: " + "{b: " * 100_000 + "c" + "}" * 100_000),
    "json-arrays": (".json", lambda: "[" * 100_000 + "]" * 100_000),
    "json-objects": (".json", lambda: '{"a": ' * 100_000 + "1" + "}" * 100_000),
}


@pytest.mark.parametrize("name", sorted(DEEP))
def test_absurdly_deep_nesting_is_refused(tmp_path: Path, name: str) -> None:
    suffix, make = DEEP[name]
    text = make()
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    result = run_check(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nest" in result.stderr and f"{path}:" in result.stderr


def test_overlong_numbers_are_located(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nx: " + "9" * 5000)
    (tmp_path / "big.json").write_text('{"apiVersion": "v1",\n "x": ' + "9" * 5000 + "}")
    result = check_in_process(capsys, str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{tmp_path / 'big.yaml'}:4:4: error:" in result.stderr
    assert f"{tmp_path / 'big.json'}:2:7: error:" in result.stderr


def test_model_problems_through_the_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: Nodeport\n"
                    "  clusterIP: 10.96.0.999\n")
    result = check_in_process(capsys, str(path))
    assert_located_error(result, str(path), 5, 9, "unknown value 'Nodeport'")
    assert f"{path}:6:14: error:" in result.stderr and "2 problems found" in result.stderr


@pytest.mark.parametrize("text,words", [
    (b"", "no objects in input"),
    (b"   \n", "no objects in input"),
    (b"- a\n- b\n", "must be a mapping"),
    (b"just a scalar\n", "must be a mapping"),
    (b"apiVersion: v1\nmetadata: {name: a}\n", "no `kind`"),
    (b"kind: Pod\nmetadata: {name: a}\n", "no `apiVersion`"),
    (b"\xff\xfe\xfa", "not UTF-8"),
])
def test_stdin_edge_cases(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: bytes,
                          words: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    result = check_in_process(capsys, "-")
    stderr = result.stderr
    assert "Traceback" not in stderr
    # Nothing to read is an error too: analyzing nothing and passing would hide that the input was lost.
    assert result.returncode == 2
    assert "<stdin>:1:1: error:" in stderr and words in stderr


def test_missing_path_is_a_usage_error_without_traceback(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    result = check_in_process(capsys, str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no such file or folder" in result.stderr
