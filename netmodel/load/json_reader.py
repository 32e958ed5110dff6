"""JSON to :class:`Document`: parsed by the standard library's C scanner, spans found lazily.

JSON is the fast path for large inputs (``kubectl get -o json``), so parsing does no span bookkeeping. The first
time a location is asked for, one pass over the text with a small tokenizer records where every value starts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from netmodel.errors import LoadError, Problem, SourceSpan
from netmodel.load.document import Document, Path

_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"'          # string
    r"|[{}\[\],:]"                # structure
    r"|[^\s{}\[\],:\"]+"          # number, true, false, null
)


class LazyJsonSpanIndex:
    """Spans of a JSON text, computed on the first lookup."""

    __slots__ = ("_text", "_spans")

    def __init__(self, text: str) -> None:
        self._text = text
        self._spans: dict[Path, tuple[int, int]] | None = None

    def lookup(self, path: Path) -> tuple[int, int] | None:
        if self._spans is None:
            self._spans = _index(self._text)
            self._text = ""  # the index is all that is needed from now on
        return self._spans.get(path)


def _index(text: str) -> dict[Path, tuple[int, int]]:
    line_starts = [0]
    line_starts.extend(m.end() for m in re.finditer("\n", text))
    spans: dict[Path, tuple[int, int]] = {}
    # Each open container: [path, is_object, pending_key, next_index]
    stack: list[list[Any]] = []
    line = 0
    expecting_key = False

    def position(offset: int) -> tuple[int, int]:
        nonlocal line
        while line + 1 < len(line_starts) and line_starts[line + 1] <= offset:
            line += 1
        return line + 1, offset - line_starts[line] + 1

    def value_path() -> Path:
        if not stack:
            return ()
        top = stack[-1]
        if top[1]:
            return top[0] + (top[2],)
        return top[0] + (top[3],)

    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in (",", ":"):
            if tok == "," and stack and stack[-1][1]:
                expecting_key = True
            continue
        if tok in ("}", "]"):
            stack.pop()
            if stack and not stack[-1][1]:
                stack[-1][3] += 1
            continue
        if expecting_key:
            stack[-1][2] = json.loads(tok)
            expecting_key = False
            continue
        path = value_path()
        spans[path] = position(m.start())
        if tok in ("{", "["):
            stack.append([path, tok == "{", None, 0])
            expecting_key = tok == "{"
        elif stack and not stack[-1][1]:
            stack[-1][3] += 1
    return spans


def parse_json(text: str, file: str) -> list[Document]:
    """Parse one JSON value; raise :class:`LoadError` with a located problem when it is malformed."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise LoadError([Problem(f"malformed JSON: {err.msg}", SourceSpan(file, err.lineno, err.colno),
                                 "fix the JSON at this position (a missing comma, quote or bracket?)")]) from None
    except RecursionError:
        raise LoadError([Problem("JSON nested too deeply to read", SourceSpan(file, 1, 1),
                                 "no Kubernetes object nests this deep; check how the file was made")]) from None
    if data is None:
        return []
    return [Document(file, data, LazyJsonSpanIndex(text))]
