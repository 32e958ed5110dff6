"""Entry point of the ``netmodel`` command: runs the command asked for and turns errors into exit code 2.

Every error netmodel raises on purpose is a :class:`NetmodelError` carrying located problems; they are printed
to stderr, one block per problem, and the process exits 2. No traceback reaches the user.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from types import ModuleType
from typing import Any

import typer.main

from netmodel.cli.app import app
from netmodel.errors import NetmodelError


def print_problems(error: NetmodelError) -> None:
    """Print each located problem of ``error`` on stderr (and how many there were when more than one)."""
    for problem in error.problems:
        print(str(problem), file=sys.stderr)
    if len(error.problems) > 1:
        print(f"{len(error.problems)} problems found; nothing was analyzed.", file=sys.stderr)


def _click_exceptions(name: str) -> tuple[type[BaseException], ...]:
    """The click exception class ``name`` wherever typer takes click from.

    Newer typer releases vendor their own copy of click (``typer._click``) and no longer install click; older
    ones use click itself. Either or both may be present.
    """
    modules: list[ModuleType] = []
    for module_name in ("typer.exceptions", "typer._click.exceptions", "click.exceptions"):
        try:
            modules.append(importlib.import_module(module_name))
        except ImportError:
            continue
    return tuple(getattr(m, name) for m in modules if hasattr(m, name))


_EXIT = _click_exceptions("Exit")
_USAGE = _click_exceptions("ClickException")
_ABORT = _click_exceptions("Abort")


@functools.cache
def _command() -> Any:
    """The click group typer builds from ``app``, built once per process.

    ``app(...)`` rebuilds it, and every command registered so far, on every call (signature inspection), which
    the test suite and the fuzzer, calling :func:`main` thousands of times in one process, would pay each time.
    Always a group (typer's get_command makes a lone registered command the whole program): the commands are
    registered when first looked up (netmodel.cli.app.CommandGroup), so none or one may be registered yet.
    """
    return typer.main.get_group(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit code: problems in the input are printed and exit 2, no
    traceback."""
    try:
        result = _command()(args=argv, standalone_mode=False)
    except NetmodelError as err:
        print_problems(err)
        return err.exit_code
    except _EXIT as ex:
        return int(getattr(ex, "exit_code", 0))
    except _USAGE as ex:  # usage errors: unknown option, missing argument
        # The class is looked up at run time (typer's own click or click); every ClickException has show().
        ex.show()  # type: ignore[attr-defined]
        return 2
    except _ABORT:
        print("aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        # Input too large for the memory given (e.g. under a CI memory cap): an input error, not a crash.
        print("error: not enough memory for this input\n    = fix: give netmodel more memory, or split the input "
              "into several smaller runs", file=sys.stderr)
        return 2
    # Without standalone mode click returns a command's typer.Exit code instead of raising it.
    return result if isinstance(result, int) else 0


def run() -> None:
    """The ``netmodel`` console script: :func:`main` on ``sys.argv``, exiting with its code.

    The process ends without the interpreter's teardown: a check at the Kubernetes envelope leaves millions of
    small objects whose one-by-one release (and the collector's last pass over them) costs most of a second,
    for nothing, since the process is ending. Every output file is closed by then (each is written inside a
    ``with`` block) and netmodel registers no exit handlers; the standard streams are flushed here.
    """
    code = main()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or coverage tool writes its results at exit: let it
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``netmodel ... | head``): nothing left to deliver
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
