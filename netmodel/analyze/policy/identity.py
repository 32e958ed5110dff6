"""A mapping keyed by the key objects themselves (identity), not by their value."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByIdentity(MutableMapping[K, V], Generic[K, V]):
    """A dict whose keys are looked up by identity: for model objects used as keys (policies), whose hash would
    hash every source span inside them, and a lazily located span (load/document.py, DeferredSpan) looks its
    line and column up when hashed, which can mean reading its document again. Only for keys that are never
    equal without being the same object (two policies of a topology never are: their locations differ)."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[K, V]] = {}  # holding the key keeps its id its own

    def __getitem__(self, key: K) -> V:
        return self._items[id(key)][1]

    def __setitem__(self, key: K, value: V) -> None:
        self._items[id(key)] = (key, value)

    def __delitem__(self, key: K) -> None:
        del self._items[id(key)]

    def __iter__(self) -> Iterator[K]:
        return (key for key, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)


__all__ = ["ByIdentity"]
