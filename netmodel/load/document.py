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
        """Where the value at ``path`` starts; falls back to the nearest enclosing value that is known."""
        full = self.base + tuple(path)
        while True:
            found = self.spans.lookup(full)
            if found is not None:
                return SourceSpan(self.file, found[0], found[1])
            if not full:
                return SourceSpan(self.file, 1, 1)
            full = full[:-1]

    def key_span(self, path: Path) -> SourceSpan:
        """Where the key of the mapping entry at ``path`` starts (an unknown field); else :meth:`span`."""
        found = self.spans.lookup_key(self.base + tuple(path)) if path else None
        if found is not None:
            return SourceSpan(self.file, found[0], found[1])
        return self.span(path)

    def child(self, path: Path, data: Any) -> Document:
        """A document for a nested object (the items of ``kind: List``) sharing this one's spans."""
        return Document(self.file, data, self.spans, self.base + tuple(path))


@dataclass(slots=True)
class DictSpanIndex:
    """Spans recorded eagerly while parsing (the YAML path)."""

    spans: dict[Path, tuple[int, int]]
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def lookup(self, path: Path) -> tuple[int, int] | None:
        return self.spans.get(path)

    def lookup_key(self, path: Path) -> tuple[int, int] | None:
        return self.keys.get(path)
