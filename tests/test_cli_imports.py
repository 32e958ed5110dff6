"""Each run imports only what its command needs: a command's module is imported when that command runs or its own
``--help`` is asked for (netmodel.cli.app.CommandGroup), and the top-level ``--help`` imports none.

Importing every command's module (the emulator and the firewall importer among them) cost every run, a CI gate's
``netmodel check`` too. Each case runs the entry point in a fresh interpreter and reads ``sys.modules`` after it.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.cli.app import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = str(ROOT / "topologies" / "flannel-vxlan.yaml")
COMMAND_MODULES = {command.module for command in COMMANDS.values()}

# Runs the entry point on argv (a JSON list), then prints the netmodel modules and the other heavy ones imported.
_RUN = """
import contextlib, io, json, sys
from netmodel.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if m.split(".")[0] in
                  ("netmodel", "matplotlib", "networkx", "yaml", "ryml"))}))
"""

# Calls the check command's own function, as typer would, without the entry point.
_CHECK_ALONE = """
import contextlib, io, json, sys
import typer
from netmodel.cli.check import check_command
with contextlib.redirect_stdout(io.StringIO()):
    try:
        check_command(paths=[sys.argv[1]], output_format="table", fail_on="error", output="", expect=[],
                      baseline="", write_baseline="", verbose=False)
    except typer.Exit:
        pass
print(json.dumps({"code": 0, "modules": sorted(m for m in sys.modules if m.split(".")[0] in
                  ("netmodel", "matplotlib", "networkx", "yaml", "ryml"))}))
"""


def _modules(script: str, argument: str, tmp_path: Path) -> tuple[int, set[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", script, argument], capture_output=True, text=True, timeout=300,
                          check=True, cwd=tmp_path, env=env)
    answer = json.loads(proc.stdout)
    return answer["code"], set(answer["modules"])


def test_check_imports_nothing_the_check_command_does_not(tmp_path: Path) -> None:
    code, through_entry_point = _modules(_RUN, json.dumps(["check", LAYOUT]), tmp_path)
    assert code == 0
    _, command_alone = _modules(_CHECK_ALONE, LAYOUT, tmp_path)
    assert through_entry_point & COMMAND_MODULES == {"netmodel.cli.check"}
    assert not {m for m in through_entry_point if m.startswith(("netmodel.emulate", "matplotlib"))}
    # Whatever the entry point adds to what the command itself imports is the entry point itself.
    assert through_entry_point - command_alone == {"netmodel.cli.main"}


def test_the_top_level_help_imports_no_command(tmp_path: Path) -> None:
    code, modules = _modules(_RUN, json.dumps(["--help"]), tmp_path)
    assert code == 0
    # Not the model builder either (the package's own __init__ once imported it for everyone).
    assert modules == {"netmodel", "netmodel.errors", "netmodel.cli", "netmodel.cli.app", "netmodel.cli.main"}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_commands_help_imports_that_command_only(name: str, tmp_path: Path) -> None:
    code, modules = _modules(_RUN, json.dumps([name, "--help"]), tmp_path)
    assert code == 0
    assert modules & COMMAND_MODULES == {COMMANDS[name].module}


def test_the_top_level_help_lists_what_the_commands_say() -> None:
    """The top-level help, drawn from COMMANDS without importing the commands, is the help typer gives with
    every command imported and built (its command list shows the first paragraph of each command's own help)."""
    import typer.core

    from netmodel.cli.main import _command

    group = _command()
    built = copy.copy(group)
    built.commands = {name: group.commands[name] for name in COMMANDS}  # imports and builds each command
    assert [command.name for command in built.commands.values()] == list(COMMANDS)
    context = group.make_context("netmodel", [], resilient_parsing=True)
    # typer's rich help prints itself (click's plain help would be left in the formatter: both are compared).
    with contextlib.redirect_stdout(io.StringIO()) as listed:
        formatter = context.make_formatter()
        group.format_help(context, formatter)
    with contextlib.redirect_stdout(io.StringIO()) as expected:
        expected_formatter = context.make_formatter()
        typer.core.TyperGroup.format_help(built, context, expected_formatter)
    assert "import " in expected.getvalue() + expected_formatter.getvalue()
    assert (listed.getvalue(), formatter.getvalue()) == (expected.getvalue(), expected_formatter.getvalue())
