"""What the loader hands to the model: plain data plus where each piece came from.

This is the one interface between parsing and everything after it: text goes in, :class:`Document` objects come
out. A parser only has to say, for a path such as ``("spec", "ports", 0, "port")``, where that value starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from netmodel.errors import SourceSpan

Path = tuple[str | int, ...]


class SpanIndex(Protocol):
    """Answers where the value at a path starts, or None when it does not know that path."""

    def lookup(self, path: Path) -> tuple[int, int] | None:
        """(line, column), both 1-based."""
        ...

    def lookup_key(self, path: Path) -> tuple[int, int] | None:
        """Where the mapping key of the value at ``path`` starts (for errors about the key itself)."""
        ...


@dataclass(slots=True)
class Document:
    """One Kubernetes-style object as plain data (dicts, lists, str, int, float, bool, None).

    ``base`` is the path of this object inside the parsed file's document (non-empty for the items of a
    ``kind: List``), so spans are looked up as ``base + path``.
    """

    file: str
    data: Any
    spans: SpanIndex
    base: Path = ()

    def span(self, path: Path = ()) -> SourceSpan:
        """Where the value at ``path`` starts; falls back to the nearest enclosing value that is known.

        With an index that finds locations lazily (JSON), the answer is a :class:`DeferredSpan` that looks the
        location up only when its line or column is read, so building the model costs no scanning.
        """
        if getattr(self.spans, "lazy", False):
            return _deferred(self.file, self.spans, self.base, tuple(path))
        return SourceSpan(self.file, *_locate(self.spans, self.base + tuple(path)))

    def key_span(self, path: Path) -> SourceSpan:
        """Where the key of the mapping entry at ``path`` starts (an unknown field); else :meth:`span`."""
        found = self.spans.lookup_key(self.base + tuple(path)) if path else None
        if found is not None:
            return SourceSpan(self.file, found[0], found[1])
        return self.span(path)

    def child(self, path: Path, data: Any) -> Document:
        """A document for a nested object (the items of ``kind: List``) sharing this one's spans."""
        return Document(self.file, data, self.spans, self.base + tuple(path))


def _locate(spans: SpanIndex, path: Path) -> tuple[int, int]:
    while True:
        found = spans.lookup(path)
        if found is not None:
            return found
        if not path:
            return 1, 1
        path = path[:-1]


class DeferredSpan(SourceSpan):
    """A :class:`SourceSpan` whose line and column are looked up when first read.

    It is a SourceSpan in every way that matters to its users (attributes, ``str``, ``to_json``, equality and
    hashing with plain SourceSpans); only the lookup is postponed. A model of 150,000 Pods asks for about a
    million locations and reads a handful (those of findings and errors).
    """

    # The path is kept as the document's base and the path inside it (joined only when looked up): the spans of
    # one document share its base, and the Pods read alike share their paths inside it (no tuple made per span).
    __slots__ = ("_base", "_found", "_index", "_path")
    _base: Path
    _found: tuple[int, int]  # set on first lookup
    _index: SpanIndex
    _path: Path

    def __init__(self, file: str, index: SpanIndex, path: Path, base: Path = ()) -> None:
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "_path", path)

    def _position(self) -> tuple[int, int]:
        try:
            return self._found
        except AttributeError:
            found = _locate(self._index, self._base + self._path)
            object.__setattr__(self, "_found", found)
            return found

    @property
    def line(self) -> int:
        """The 1-based line, looked up on first read."""
        return self._position()[0]

    @property
    def column(self) -> int:
        """The 1-based column, looked up on first read."""
        return self._position()[1]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceSpan):
            return NotImplemented
        return (self.file, self.line, self.column) == (other.file, other.line, other.column)

    def __hash__(self) -> int:
        return hash((self.file, self.line, self.column))

    def __repr__(self) -> str:
        return f"SourceSpan(file={self.file!r}, line={self.line}, column={self.column})"


_new_span = object.__new__
_set_file = SourceSpan.__dict__["file"].__set__
_set_index = DeferredSpan.__dict__["_index"].__set__
_set_base = DeferredSpan.__dict__["_base"].__set__
_set_path = DeferredSpan.__dict__["_path"].__set__


def _deferred(file: str, index: SpanIndex, base: Path, path: Path) -> DeferredSpan:
    """``DeferredSpan(file, index, path, base)`` made through its slots' setters: a model of 150,000 Pods makes
    800,000 of them, and the frozen dataclass's ``__setattr__`` path costs twice as much."""
    span = _new_span(DeferredSpan)
    _set_file(span, file)
    _set_index(span, index)
    _set_base(span, base)
    _set_path(span, path)
    return span


@dataclass(slots=True)
class DictSpanIndex:
    """Spans recorded eagerly while parsing (the YAML path)."""

    spans: dict[Path, tuple[int, int]]
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def lookup(self, path: Path) -> tuple[int, int] | None:
        """(line, column) of the value at ``path``, or None."""
        return self.spans.get(path)

    def lookup_key(self, path: Path) -> tuple[int, int] | None:
        """(line, column) of the key at ``path``, or None."""
        return self.keys.get(path)
