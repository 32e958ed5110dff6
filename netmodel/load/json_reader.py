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
    """Spans of a JSON text, computed on the first lookup.

    One JSON text often holds thousands of objects (a ``kind: List``); their documents share one index, so the
    text is scanned at most once, and only when some location is actually needed.
    """

    __slots__ = ("_keys", "_spans", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._spans: dict[Path, tuple[int, int]] = {}
        self._keys: dict[Path, tuple[int, int]] = {}

    def _scan_once(self) -> None:
        if self._text:
            self._spans, self._keys, _ = _scan(self._text)
            self._text = ""  # the index is all that is needed from now on

    def lookup(self, path: Path) -> tuple[int, int] | None:
        self._scan_once()
        return self._spans.get(path)

    def lookup_key(self, path: Path) -> tuple[int, int] | None:
        self._scan_once()
        return self._keys.get(path)


def _index(text: str) -> dict[Path, tuple[int, int]]:
    return _scan(text)[0]


def _scan(text: str) -> tuple[dict[Path, tuple[int, int]], dict[Path, tuple[int, int]], tuple[int, int, str] | None]:
    """Where every value and every key starts, and the first key repeated within one object (line, column, key).

    Only called on text the C parser accepted, so the token stream is well formed.
    """
    line_starts = [0]
    line_starts.extend(m.end() for m in re.finditer("\n", text))
    spans: dict[Path, tuple[int, int]] = {}
    keys: dict[Path, tuple[int, int]] = {}
    duplicate: tuple[int, int, str] | None = None
    # Each open container: [path, is_object, pending_key, next_index, keys_seen]
    stack: list[list[Any]] = []
    line = 0
    expecting_key = False

    def position(offset: int) -> tuple[int, int]:
        nonlocal line
        while line + 1 < len(line_starts) and line_starts[line + 1] <= offset:
            line += 1
        return line + 1, offset - line_starts[line] + 1

    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in (",", ":"):
            if tok == "," and stack and stack[-1][1]:
                expecting_key = True
            continue
        if tok in ("}", "]"):
            stack.pop()
            expecting_key = False  # an empty object closes without a key
            if stack and not stack[-1][1]:
                stack[-1][3] += 1
            continue
        top = stack[-1] if stack else None
        if expecting_key and top is not None:
            key = json.loads(tok)
            if key in top[4] and duplicate is None:
                duplicate = (*position(m.start()), key)
            top[4].add(key)
            top[2] = key
            keys[top[0] + (key,)] = position(m.start())
            expecting_key = False
            continue
        if top is None:
            path: Path = ()
        else:
            path = top[0] + ((top[2],) if top[1] else (top[3],))
        spans[path] = position(m.start())
        if tok in ("{", "["):
            stack.append([path, tok == "{", None, 0, set()])
            expecting_key = tok == "{"
        elif top is not None and not top[1]:
            top[3] += 1
    return spans, keys, duplicate


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON allows repeated keys and json.loads keeps the last; Kubernetes objects must not repeat one.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(text: str, file: str) -> list[Document]:
    """Parse one JSON value; raise :class:`LoadError` with a located problem when it is malformed.

    A file holding only whitespace (or ``null``) holds no object, like an empty YAML file.
    """
    if not text.strip():
        return []
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        truncated = err.pos >= len(text.rstrip())
        raise LoadError([Problem(f"malformed JSON: {err.msg}" + (" (the text ends here: truncated?)" if truncated
                                                                 else ""),
                                 SourceSpan(file, err.lineno, err.colno),
                                 "fix the JSON at this position (a missing comma, quote or bracket?)")]) from None
    except RecursionError:
        raise LoadError([Problem("JSON nested too deeply to read", SourceSpan(file, 1, 1),
                                 "no Kubernetes object nests this deep; check how the file was made")]) from None
    except _DuplicateKey:
        _, _, duplicate = _scan(text)
        line, column, key = duplicate if duplicate else (1, 1, "?")
        raise LoadError([Problem(f"duplicate key {key!r} in one object", SourceSpan(file, line, column),
                                 "remove one of the two entries")]) from None
    except ValueError as err:  # NaN/Infinity, or an integer longer than Python converts
        line, column = _first_bad_literal(text)
        what = "a number too long to read" if "digits" in str(err) else str(err)
        raise LoadError([Problem(f"invalid JSON number: {what}", SourceSpan(file, line, column),
                                 "write numbers as ordinary JSON numbers (or quote them as strings)")]) from None
    if data is None:
        return []
    return [Document(file, data, LazyJsonSpanIndex(text))]


def _first_bad_literal(text: str) -> tuple[int, int]:
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in ("NaN", "Infinity", "-Infinity") or (tok[0] in "-0123456789" and len(tok) > 4000):
            before = text[: m.start()]
            return before.count("\n") + 1, m.start() - (before.rfind("\n") + 1) + 1
    return 1, 1
