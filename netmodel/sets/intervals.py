"""Sets of non-negative integers as sorted, disjoint, inclusive ranges.

Every address, port and protocol set in netmodel is an :class:`IntervalSet` underneath. Instances are immutable
and hashable; ranges that touch or overlap are merged, so two sets with the same members compare equal.

>>> a = IntervalSet.of((1, 5), (10, 12))
>>> b = IntervalSet.of((4, 10))
>>> (a | b).ranges
((1, 12),)
>>> (a & b).ranges
((4, 5), (10, 10))
>>> (a - b).ranges
((1, 3), (11, 12))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

Range = tuple[int, int]


def _normalize(ranges: Iterable[Range]) -> tuple[Range, ...]:
    ordered = sorted(ranges)
    merged: list[Range] = []
    for lo, hi in ordered:
        if lo > hi:
            raise ValueError(f"empty range ({lo}, {hi})")
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return tuple(merged)


class IntervalSet:
    """An immutable set of integers stored as sorted, disjoint, non-adjacent inclusive ranges.

    Union, intersection and difference each walk both operands once (linear in the number of ranges). The
    operators are those of Python's ``set``: ``|`` union, ``&`` intersection, ``-`` difference, ``^`` symmetric
    difference, ``<=``/``<`` (proper) subset, ``>=``/``>`` (proper) superset. Members are integers; anything
    else, ``bool`` included, is never a member. Attributes cannot be set: an instance that is a dict key stays one.

    >>> a = IntervalSet.of((1, 5))
    >>> a ^ IntervalSet.of((4, 9)), IntervalSet.of((2, 3)) < a, 3 in a, True in IntervalSet.of((1, 1))
    (IntervalSet([(1, 3), (6, 9)]), True, True, False)
    """

    __slots__ = ("_hash", "_ranges")
    _ranges: tuple[Range, ...]
    _hash: int | None

    def __init__(self, ranges: Iterable[Range] = ()) -> None:
        object.__setattr__(self, "_ranges", _normalize(ranges))
        object.__setattr__(self, "_hash", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"IntervalSet is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"IntervalSet is immutable: cannot delete {name!r}")

    @classmethod
    def of(cls, *ranges: Range) -> IntervalSet:
        """The set of the given inclusive ``(low, high)`` ranges."""
        return cls(ranges)

    @classmethod
    def single(cls, value: int) -> IntervalSet:
        """The set holding only ``value``."""
        return cls._trusted(((value, value),))

    @classmethod
    def _trusted(cls, ranges: tuple[Range, ...]) -> IntervalSet:
        """Wrap ranges already sorted, disjoint and non-adjacent (the output of the set operations)."""
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_ranges", ranges)
        object.__setattr__(obj, "_hash", None)
        return obj

    @property
    def ranges(self) -> tuple[Range, ...]:
        """The sorted, disjoint, non-touching inclusive ranges of the set."""
        return self._ranges

    @property
    def size(self) -> int:
        """How many integers the set holds (can be astronomically large for IPv6)."""
        return sum(hi - lo + 1 for lo, hi in self._ranges)

    def is_empty(self) -> bool:
        """Whether the set holds no integer."""
        return not self._ranges

    def first(self) -> int:
        """The smallest member; raises ValueError on the empty set."""
        if not self._ranges:
            raise ValueError("empty set has no first member")
        return self._ranges[0][0]

    def __bool__(self) -> bool:
        return bool(self._ranges)

    def __iter__(self) -> Iterator[Range]:
        return iter(self._ranges)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int) or isinstance(value, bool):  # True is not the integer 1 here
            return False
        lo_i, hi_i = 0, len(self._ranges)
        while lo_i < hi_i:  # binary search over range starts
            mid = (lo_i + hi_i) // 2
            lo, hi = self._ranges[mid]
            if value < lo:
                hi_i = mid
            elif value > hi:
                lo_i = mid + 1
            else:
                return True
        return False

    def union(self, other: IntervalSet) -> IntervalSet:
        """The integers in either set (``|``), merged in one pass."""
        if not other._ranges:
            return self
        if not self._ranges:
            return other
        a, b = self._ranges, other._ranges
        out: list[Range] = []
        i = j = 0
        while i < len(a) or j < len(b):
            if j >= len(b) or (i < len(a) and a[i][0] <= b[j][0]):
                lo, hi = a[i]
                i += 1
            else:
                lo, hi = b[j]
                j += 1
            if out and lo <= out[-1][1] + 1:
                if hi > out[-1][1]:
                    out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
        return IntervalSet._trusted(tuple(out))

    def intersection(self, other: IntervalSet) -> IntervalSet:
        """The integers in both sets (``&``)."""
        a, b = self._ranges, other._ranges
        out: list[Range] = []
        i = j = 0
        while i < len(a) and j < len(b):
            lo = max(a[i][0], b[j][0])
            hi = min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet._trusted(tuple(out))

    def difference(self, other: IntervalSet) -> IntervalSet:
        """The integers of this set not in ``other`` (``-``)."""
        if not other._ranges or not self._ranges:
            return self
        b = other._ranges
        out: list[Range] = []
        j = 0
        for lo, hi in self._ranges:
            cur = lo
            while j < len(b) and b[j][1] < cur:
                j += 1
            k = j
            while k < len(b) and b[k][0] <= hi:
                if b[k][0] > cur:
                    out.append((cur, b[k][0] - 1))
                cur = max(cur, b[k][1] + 1)
                if cur > hi:
                    break
                k += 1
            if cur <= hi:
                out.append((cur, hi))
        return IntervalSet._trusted(tuple(out))

    def issubset(self, other: IntervalSet) -> bool:
        """Whether every integer here is in ``other`` (``<=``)."""
        return not self.difference(other)

    def isdisjoint(self, other: IntervalSet) -> bool:
        """Whether the sets share no integer."""
        return not self.intersection(other)

    def issuperset(self, other: IntervalSet) -> bool:
        """Whether every integer of ``other`` is here (``>=``)."""
        return other.issubset(self)

    def symmetric_difference(self, other: IntervalSet) -> IntervalSet:
        """Members of exactly one of the two sets."""
        return self.difference(other).union(other.difference(self))

    def __lt__(self, other: IntervalSet) -> bool:
        return self.issubset(other) and self._ranges != other._ranges

    def __gt__(self, other: IntervalSet) -> bool:
        return other.__lt__(self)

    __or__ = union
    __and__ = intersection
    __sub__ = difference
    __xor__ = symmetric_difference
    __le__ = issubset
    __ge__ = issuperset

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntervalSet) and self._ranges == other._ranges

    def __hash__(self) -> int:
        cached = self._hash
        if cached is None:  # computed once: the set never changes
            cached = hash(self._ranges)
            object.__setattr__(self, "_hash", cached)
        return cached

    def __repr__(self) -> str:
        return f"IntervalSet({list(self._ranges)!r})"


EMPTY = IntervalSet()
