"""Python ints as bitsets over positions (Pod positions in ``topology.pods``, or Pod class ids).

>>> members(0b10110)
[1, 2, 4]
>>> bitset([0, 3])
9
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def bitset(positions: Iterable[int]) -> int:
    """An integer with bit ``i`` set for each position ``i``."""
    out = 0
    for i in positions:
        out |= 1 << i
    return out


def iter_members(bits: int) -> Iterator[int]:
    """Set positions, lowest first; costs one step per member, not per position."""
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


def members(bits: int) -> list[int]:
    """The positions of the set bits of ``bits``, lowest first."""
    return list(iter_members(bits))


def full(count: int) -> int:
    """The set of every position below ``count``."""
    return (1 << count) - 1
