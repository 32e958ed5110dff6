"""JSON to :class:`Document`: parsed by the standard library's C scanner, spans found lazily.

JSON is the fast path for large inputs (``kubectl get -o json``), so parsing does no span bookkeeping; see
:class:`LazyJsonSpanIndex` for how locations are found when they are needed, in memory bounded by a fraction of
the text.
"""

from __future__ import annotations

import json
import re
from array import array
from collections import OrderedDict
from collections.abc import Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]  # the C string scanner; typeshed omits it
from typing import Any

from netmodel.errors import LoadError, Problem, SourceSpan
from netmodel.load.document import Document, Path

_SPACE = re.compile(r"[ \t\n\r]*")
# Skips a value without judging it: NaN and over-long integers are accepted here (``parse_int=len`` never
# converts the digits), repeated keys too; the strict decoder in parse_json rejects them.
_SKIP = json.JSONDecoder(parse_int=len)
# What is known of a container's members is kept while the container is among the last _RECENT walked into, and
# for good once a walk through it has passed more than _SMALL members or _FAR characters (the ``items`` of a list,
# a long rule list, a value behind a large one), so no large value is skipped twice.
_SMALL = 16
_FAR = 4096
_RECENT = 256
_MAX_KEYS = 4096  # an object with more keys keeps no key dictionary (it is walked instead)
_LINE_BLOCK = 4096  # characters per line-count checkpoint

Member = tuple["str | int", int, int]


def _skip_space(text: str, i: int) -> int:
    """The offset of the first non-blank character at or after ``i``."""
    match = _SPACE.match(text, i)
    assert match is not None  # the pattern matches the empty string, so it matches everywhere
    return match.end()  # key or index, key offset (-1 in an array), value offset


def _members(text: str, pos: int) -> Iterator[Member]:
    """Each member of the container at ``pos``, in order.

    Only called on text the C parser accepted, so the text is well formed. Each value is skipped by the C decoder
    after it is yielded.
    """
    is_object = text[pos] == "{"
    i = _skip_space(text, pos + 1)
    index = 0
    while text[i] not in "}]":
        if is_object:
            key_at = i
            key, i = scanstring(text, i + 1)
            i = _skip_space(text, _skip_space(text, i) + 1)  # past ':'
            yield key, key_at, i
        else:
            yield index, -1, i
        _, i = _SKIP.raw_decode(text, i)
        i = _skip_space(text, i)
        if text[i] == ",":
            i = _skip_space(text, i + 1)
        index += 1


class _Walk:
    """What one walk through a container has found so far, continued only as far as lookups need.

    For an array, the offset of every ``stride``-th element, the stride doubled whenever the offsets would take
    more than a byte per 8 characters of the array (large elements are each found directly, tiny ones cost a few
    skips). For an object, a dictionary from key to (key offset, value offset), up to ``_MAX_KEYS`` keys.
    """

    __slots__ = ("count", "end", "keys", "offsets", "rest", "start", "stride")

    def __init__(self, text: str, pos: int) -> None:
        self.start = pos
        self.rest: Iterator[Member] | None = _members(text, pos)
        self.keys: dict[str | int, tuple[int, int]] | None = {} if text[pos] == "{" else None
        self.offsets = array("q")
        self.stride = 1
        self.count = 0  # members walked past
        self.end = pos  # how far the walk has come

    @property
    def large(self) -> bool:
        return self.count > _SMALL or self.end - self.start > _FAR

    def _next(self) -> Member | None:
        if self.rest is None:
            return None
        member = next(self.rest, None)
        if member is None:
            self.rest = None
            return None
        key, key_at, value_at = member
        self.end = value_at
        if self.keys is not None:
            if len(self.keys) < _MAX_KEYS:
                self.keys[key] = (key_at, value_at)
        elif self.count % self.stride == 0:
            self.offsets.append(value_at)
            if len(self.offsets) > 64 and len(self.offsets) * 64 > value_at - self.start:
                self.offsets = self.offsets[::2]
                self.stride *= 2
        self.count += 1
        return member

    def find(self, text: str, step: str | int) -> tuple[int, int] | None:
        """(key offset or -1, value offset) of member ``step``, or None."""
        if self.keys is not None:
            found = self.keys.get(step)
            if found is not None:
                return found
            while (member := self._next()) is not None:
                if member[0] == step:
                    return member[1], member[2]
            if len(self.keys) < _MAX_KEYS:
                return None
            for key, key_at, value_at in _members(text, self.start):  # more keys than are kept
                if key == step:
                    return key_at, value_at
            return None
        assert isinstance(step, int)
        while self.count <= step and self._next() is not None:
            pass
        if not 0 <= step < self.count:
            return None
        pos = self.offsets[step // self.stride]
        for _ in range(step % self.stride):
            _, pos = _SKIP.raw_decode(text, pos)
            pos = _skip_space(text, _skip_space(text, pos) + 1)  # past ','
        return -1, pos


class _LineIndex:
    """Line and column of a character offset, from a newline count kept every ``_LINE_BLOCK`` characters
    (8 bytes per 4 Ki characters)."""

    __slots__ = ("_last_newline", "_lines", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines = array("q", [0])  # newlines before block b
        self._last_newline = array("q", [-1])  # offset of the last newline before block b

    def position(self, offset: int) -> tuple[int, int]:
        block = offset // _LINE_BLOCK
        text = self._text
        while len(self._lines) <= block:
            b = len(self._lines) - 1
            start, end = b * _LINE_BLOCK, (b + 1) * _LINE_BLOCK
            last = text.rfind("\n", start, end)
            self._lines.append(self._lines[b] + text.count("\n", start, end))
            self._last_newline.append(last if last >= 0 else self._last_newline[b])
        start = block * _LINE_BLOCK
        last = text.rfind("\n", start, offset)
        if last < 0:
            last = self._last_newline[block]
        return self._lines[block] + text.count("\n", start, offset) + 1, offset - last


class LazyJsonSpanIndex:
    """Spans of a JSON text, found when asked for by walking the text along the path asked about.

    JSON inputs are large (``kubectl get -o json`` of a whole cluster is one ``kind: List``), and tokenizing all
    of it in Python costs far more time and memory than parsing it (a dictionary of every value's position took
    about 28 times the text). So a lookup walks from the top: in each container on the path it skips the members
    before the one asked for with the C decoder, and remembers what it passed (:class:`_Walk`): the offsets of an
    array's elements (every element's, or every few elements' when they are small: at most a byte per 8
    characters), an object's keys. What a walk found is kept while its container is among the last ``_RECENT``
    walked into, and for good once the walk has passed more than ``_SMALL`` members or ``_FAR`` characters (the
    ``items`` of a list, a long rule list, a value behind a large one). Line numbers come from a newline count
    kept every 4 Ki characters. So the index holds little besides what large containers need, no large value is
    skipped twice, and a lookup costs a few C-speed skips per level.
    """

    lazy = True  # Document.span hands out DeferredSpans for this index
    __slots__ = ("_large", "_last", "_lines", "_recent", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._large: dict[Path, _Walk] = {}  # kept for good
        self._recent: OrderedDict[Path, _Walk] = OrderedDict()  # the last small ones walked into
        self._lines = _LineIndex(text)
        # The path of the previous lookup as far as it was found, and (key offset, value offset) at each depth
        self._last: tuple[Path, list[tuple[int, int]]] = ((), [(-1, _skip_space(text, 0))])

    def _member(self, container: Path, pos: int, step: str | int) -> tuple[int, int] | None:
        """(key offset or -1, value offset) of member ``step`` of the container at ``pos``, or None."""
        text = self._text
        if (text[pos] == "{") != isinstance(step, str) or isinstance(step, bool):
            return None
        walk = self._large.get(container)
        if walk is None:
            walk = self._recent.get(container)
            if walk is None:
                walk = self._recent[container] = _Walk(text, pos)
                if len(self._recent) > _RECENT:
                    self._recent.popitem(last=False)
            else:
                self._recent.move_to_end(container)
        found = walk.find(text, step)
        if walk.large and container in self._recent:
            self._large[container] = self._recent.pop(container)
        return found

    def _find(self, path: Path) -> tuple[int, int] | None:
        """(key offset or -1, value offset) of the value at ``path``.

        Lookups come in runs over one object, so the walk starts from where the previous one passed last along
        the path both share.
        """
        text = self._text
        last, walked = self._last
        common = 0
        for a, b in zip(path, last):
            if a != b or type(a) is not type(b):
                break
            common += 1
        walked = walked[:common + 1]
        key_at, pos = walked[common]
        for depth in range(common, len(path)):
            if text[pos:pos + 1] not in ("{", "["):
                found = None
                break
            found = self._member(path[:depth], pos, path[depth])
            if found is None:
                break
            key_at, pos = found
            walked.append(found)
        else:
            found = (key_at, pos)
        self._last = (path[:len(walked) - 1], walked)
        return found

    def lookup(self, path: Path) -> tuple[int, int] | None:
        """(line, column) of the value at ``path``, found by walking the text along it; None when not
        found."""
        try:
            found = self._find(path)
        except RecursionError:  # nested deeper than the decoder follows from here: the enclosing value is used
            return None
        return None if found is None else self._lines.position(found[1])

    def lookup_key(self, path: Path) -> tuple[int, int] | None:
        """(line, column) of the key at ``path``, found by walking the text along it; None when not found."""
        try:
            found = self._find(path)
        except RecursionError:
            return None
        return None if found is None or found[0] < 0 else self._lines.position(found[0])


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
        key, at = _first_failure(text)
        line, column = _LineIndex(text).position(at)
        raise LoadError([Problem(f"duplicate key {key!r} in one object", SourceSpan(file, line, column),
                                 "remove one of the two entries")]) from None
    except ValueError as err:  # NaN/Infinity, or an integer longer than Python converts
        line, column = _LineIndex(text).position(_first_failure(text)[1])
        what = "a number too long to read" if "digits" in str(err) else str(err)
        raise LoadError([Problem(f"invalid JSON number: {what}", SourceSpan(file, line, column),
                                 "write numbers as ordinary JSON numbers (or quote them as strings)")]) from None
    if data is None:
        return []
    return [Document(file, data, LazyJsonSpanIndex(text))]


_STRICT = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)


def _first_failure(text: str) -> tuple[str, int]:
    """Where the strict decoder first fails in a text the lenient one reads: (the repeated key and its offset)
    or ("", the offset of the value it refuses: NaN, Infinity, a number too long).

    Walks down from the top into the first member that fails on its own, so the text is decoded a few times
    over at C speed and never tokenized in Python.
    """
    pos = _skip_space(text, 0)
    while text[pos] in "{[":
        seen: set[str | int] = set()
        for key, key_at, value_at in _members(text, pos):
            if key_at >= 0:
                if key in seen:
                    return str(key), key_at
                seen.add(key)
            try:
                _STRICT.raw_decode(text, value_at)
            except (_DuplicateKey, ValueError):
                pos = value_at
                break
        else:
            return "", pos
    return "", pos
