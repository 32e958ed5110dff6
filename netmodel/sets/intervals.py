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

from bisect import bisect_right
from collections.abc import Iterable, Iterator

Range = tuple[int, int]

# Sorts after every range end (IPv6 addresses included): (value, _ABOVE_ALL) follows every range starting at value.
_ABOVE_ALL = float("inf")


def _normalize(ranges: Iterable[Range]) -> tuple[Range, ...]:
    ordered = sorted(ranges)
    if not ordered:
        return ()
    if len(ordered) == 1:  # one address or network: most sets a node or a rule makes
        lo, hi = ordered[0]
        if lo > hi:
            raise ValueError(f"empty range ({lo}, {hi})")
        return ((lo, hi),)
    merged: list[Range] = []
    cur_lo, cur_hi = ordered[0]
    for lo, hi in ordered:  # the current merged range is kept in locals (150,000 Pod addresses go through here)
        if lo > hi:
            raise ValueError(f"empty range ({lo}, {hi})")
        if lo <= cur_hi + 1:
            cur_hi = max(cur_hi, hi)
        else:
            merged.append((cur_lo, cur_hi))
            cur_lo, cur_hi = lo, hi
    merged.append((cur_lo, cur_hi))
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
    def of_values(cls, values: Iterable[int]) -> IntervalSet:
        """The set of the given integers: ``IntervalSet((v, v) for v in values)``, with the integers sorted as
        such and each run of consecutive ones made one range as it is met (a node's Pod addresses, allocated in
        order, are long runs).

        >>> IntervalSet.of_values([7, 3, 4, 5, 9, 4]).ranges
        ((3, 5), (7, 7), (9, 9))
        """
        ordered = sorted(set(values))
        if not ordered:
            return cls._trusted(())
        merged: list[Range] = []
        lo = hi = ordered[0]
        for value in ordered:
            if value > hi + 1:
                merged.append((lo, hi))
                lo = value
            hi = value
        merged.append((lo, hi))
        return cls._trusted(tuple(merged))

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
        if value.__class__ is not int and (not isinstance(value, int) or isinstance(value, bool)):
            return False  # True is not the integer 1 here
        ranges = self._ranges
        # the last range starting at or below value (a binary search in C: millions of look-ups per run)
        i = bisect_right(ranges, (value, _ABOVE_ALL))
        return i > 0 and value <= ranges[i - 1][1]

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
        if not a:
            return self
        if not b:
            return other
        if len(b) == 1 and b[0][0] <= a[0][0] and a[-1][1] <= b[0][1]:
            return self  # one range covering this set (a family, a port range: the common case)
        if len(a) == 1 and a[0][0] <= b[0][0] and b[-1][1] <= a[0][1]:
            return other
        out: list[Range] = []
        i = j = 0
        len_a, len_b = len(a), len(b)
        while i < len_a and j < len_b:
            a_lo, a_hi = a[i]
            b_lo, b_hi = b[j]
            lo = max(b_lo, a_lo)
            hi = min(b_hi, a_hi)
            if lo <= hi:
                out.append((lo, hi))
            if a_hi < b_hi:
                i += 1
            else:
                j += 1
        return IntervalSet._trusted(tuple(out))

    def difference(self, other: IntervalSet) -> IntervalSet:
        """The integers of this set not in ``other`` (``-``)."""
        a, b = self._ranges, other._ranges
        if not a or not b or a[-1][1] < b[0][0] or b[-1][1] < a[0][0]:
            return self
        if len(b) == 1 and b[0][0] <= a[0][0] and a[-1][1] <= b[0][1]:
            return EMPTY
        out: list[Range] = []
        j = 0
        len_b = len(b)
        for lo, hi in a:
            cur = lo
            while j < len_b and b[j][1] < cur:
                j += 1
            k = j
            while k < len_b:
                b_lo, b_hi = b[k]
                if b_lo > hi:
                    break
                if b_lo > cur:
                    out.append((cur, b_lo - 1))
                cur = max(cur, b_hi + 1)
                if cur > hi:
                    break
                k += 1
            if cur <= hi:
                out.append((cur, hi))
        return IntervalSet._trusted(tuple(out))

    def issubset(self, other: IntervalSet) -> bool:
        """Whether every integer here is in ``other`` (``<=``): each range inside one of ``other``'s (they
        never touch, so a run of integers cannot span two), found without building a set."""
        b = other._ranges
        j = 0
        len_b = len(b)
        for lo, hi in self._ranges:
            while j < len_b and b[j][1] < lo:
                j += 1
            if j == len_b or b[j][0] > lo or b[j][1] < hi:
                return False
        return True

    def isdisjoint(self, other: IntervalSet) -> bool:
        """Whether the sets share no integer (stops at the first overlap; builds no set)."""
        a, b = self._ranges, other._ranges
        if not a or not b or a[-1][1] < b[0][0] or b[-1][1] < a[0][0]:
            return True
        i = j = 0
        len_a, len_b = len(a), len(b)
        while i < len_a and j < len_b:
            a_lo, a_hi = a[i]
            b_lo, b_hi = b[j]
            if a_hi < b_lo:
                i += 1
            elif b_hi < a_lo:
                j += 1
            else:
                return False
        return True

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
