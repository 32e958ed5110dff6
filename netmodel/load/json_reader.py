"""JSON to :class:`Document`: parsed by the standard library's C scanner, spans found lazily.

JSON is the fast path for large inputs (``kubectl get -o json``), so parsing does no span bookkeeping; see
:class:`LazyJsonSpanIndex` for how locations are found when they are needed.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from typing import Any

from netmodel.errors import LoadError, Problem, SourceSpan
from netmodel.load.document import Document, Path

_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"'          # string
    r"|[{}\[\],:]"                # structure
    r"|[^\s{}\[\],:\"]+"          # number, true, false, null
)


class LazyJsonSpanIndex:
    """Spans of a JSON text, found only when asked for, and only in the part of the text asked about.

    JSON inputs are large (``kubectl get -o json`` of a whole cluster is one ``kind: List``), and tokenizing all of
    it in Python costs far more than parsing it. So the index first finds where each top-level ``items`` entry
    starts and ends — by letting the C decoder skip over each one — and tokenizes one item the first time a
    location inside it is needed. Other texts are tokenized whole on the first lookup.
    """

    lazy = True  # Document.span hands out DeferredSpans for this index
    __slots__ = ("_items", "_items_read", "_keys", "_line_starts", "_scanned", "_spans", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._spans: dict[Path, tuple[int, int]] = {}
        self._keys: dict[Path, tuple[int, int]] = {}
        self._line_starts: list[int] | None = None
        self._items: list[tuple[int, int]] | None = None
        self._items_read = False  # whether _items has been looked for
        self._scanned: set[int | None] = set()  # item numbers tokenized; None: the whole text

    def _region(self, path: Path) -> int | None:
        """The ``items`` entry ``path`` lies in, or None for the whole text."""
        if not self._items_read:
            self._items = _list_items(self._text)
            self._items_read = True
        items = self._items
        if items and len(path) >= 2 and path[0] == "items" and isinstance(path[1], int) \
                and 0 <= path[1] < len(items):
            return path[1]
        return None

    def _ensure(self, path: Path) -> None:
        if None in self._scanned:
            return
        region = self._region(path)
        if region in self._scanned:
            return
        if self._line_starts is None:
            self._line_starts = [0]
            self._line_starts.extend(m.end() for m in re.finditer("\n", self._text))
        if region is None:
            spans, keys, _ = _scan(self._text, line_starts=self._line_starts)
        else:
            assert self._items is not None  # a region is an index into _items
            start, end = self._items[region]
            spans, keys, _ = _scan(self._text, start, end, ("items", region), self._line_starts)
        self._spans.update(spans)
        self._keys.update(keys)
        self._scanned.add(region)

    def lookup(self, path: Path) -> tuple[int, int] | None:
        self._ensure(path)
        return self._spans.get(path)

    def lookup_key(self, path: Path) -> tuple[int, int] | None:
        self._ensure(path)
        return self._keys.get(path)


_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip_space(text: str, i: int) -> int:
    """The offset of the first non-blank character at or after ``i``."""
    match = _SPACE.match(text, i)
    assert match is not None  # the pattern matches the empty string, so it matches everywhere
    return match.end()


def _list_items(text: str) -> list[tuple[int, int]] | None:
    """(start, end) offsets of the entries of a top-level object's ``items`` array; None if there is none."""
    i = _skip_space(text, 0)
    if text[i:i + 1] != "{":
        return None
    i += 1
    found: list[tuple[int, int]] | None = None
    while True:
        i = _skip_space(text, i)
        if text[i:i + 1] != '"':
            return found
        key, i = _DECODER.raw_decode(text, i)
        i = _skip_space(text, _skip_space(text, i) + 1)  # past ':'
        if key == "items" and text[i:i + 1] == "[":
            found = []
            i = _skip_space(text, i + 1)
            while text[i:i + 1] not in ("]", ""):
                _, end = _DECODER.raw_decode(text, i)
                found.append((i, end))
                i = _skip_space(text, end)
                if text[i:i + 1] == ",":
                    i = _skip_space(text, i + 1)
            i += 1
        else:
            _, i = _DECODER.raw_decode(text, i)
        i = _skip_space(text, i)
        if text[i:i + 1] == ",":
            i += 1


def _index(text: str) -> dict[Path, tuple[int, int]]:
    return _scan(text)[0]


def _scan(text: str, start: int = 0, end: int | None = None, prefix: Path = (),
          line_starts: list[int] | None = None
          ) -> tuple[dict[Path, tuple[int, int]], dict[Path, tuple[int, int]], tuple[int, int, str] | None]:
    """Where every value and key of ``text[start:end]`` starts (its paths under ``prefix``), and the first key
    repeated within one object (line, column, key).

    Only called on text the C parser accepted, so the token stream is well formed.
    """
    if line_starts is None:
        line_starts = [0]
        line_starts.extend(m.end() for m in re.finditer("\n", text))
    spans: dict[Path, tuple[int, int]] = {}
    keys: dict[Path, tuple[int, int]] = {}
    duplicate: tuple[int, int, str] | None = None
    # Each open container: [path, is_object, pending_key, next_index, keys_seen]
    stack: list[list[Any]] = []
    line = bisect_right(line_starts, start) - 1
    expecting_key = False

    def position(offset: int) -> tuple[int, int]:
        nonlocal line
        while line + 1 < len(line_starts) and line_starts[line + 1] <= offset:
            line += 1
        return line + 1, offset - line_starts[line] + 1

    for m in _TOKEN.finditer(text, start, len(text) if end is None else end):
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
            key = json.loads(tok) if "\\" in tok else tok[1:-1]
            if key in top[4] and duplicate is None:
                duplicate = (*position(m.start()), key)
            top[4].add(key)
            top[2] = key
            keys[top[0] + (key,)] = position(m.start())
            expecting_key = False
            continue
        if top is None:
            path: Path = prefix
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
