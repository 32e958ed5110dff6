"""Progress on long work (loading many files, big matrices), shown on stderr.

The display is off when stderr is not a terminal (CI logs, pipes, tests) or when the user passed ``--quiet``,
so machine-readable output on stdout is never mixed with it and logs stay free of control codes::

    with progress("loading", total=len(files), quiet=quiet) as step:
        for file in files:
            ...
            step()
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import TextIO, TypeVar

T = TypeVar("T")


def enabled(quiet: bool = False, stream: TextIO | None = None) -> bool:
    """Whether a progress display should be drawn: not quiet, and stderr (or ``stream``) is a terminal."""
    stream = stream if stream is not None else sys.stderr
    return not quiet and bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def progress(description: str, total: int | None = None, *, quiet: bool = False,
             stream: TextIO | None = None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n=1)``; draw a rich progress bar on stderr only when :func:`enabled`."""
    if not enabled(quiet, stream):
        yield _no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=stream if stream is not None else sys.stderr)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def _no_progress(n: int = 1) -> None:
    """The ``advance`` of a progress display that is not drawn."""


def track(items: Iterable[T], description: str, total: int | None = None, *, quiet: bool = False) -> Iterator[T]:
    """Iterate ``items`` while advancing a progress display (see :func:`progress`)."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with progress(description, total, quiet=quiet) as advance:
        for item in items:
            yield item
            advance(1)


__all__ = ["enabled", "progress", "track"]
