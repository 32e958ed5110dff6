"""Traffic spaces: unions of boxes ``peers × protocols × ports``.

A :class:`Box` is the traffic one rule talks about: fields AND together (a packet is in the box when its peer
address is in ``peers`` and its protocol in ``protocols`` and its port in ``ports``); values inside one field OR.
A :class:`Space` is a union of pairwise-disjoint boxes. First-match rule lists are evaluated by carving: what a
rule matches is removed from what later rules can see.

>>> from netmodel.sets.addresses import AddressSet
>>> from netmodel.sets.ports import parse_ports, protocols_of
>>> everything = Space.of(Box.everything())
>>> web = Box(AddressSet.parse("10.0.0.0/8"), protocols_of("TCP"), parse_ports("80,443"))
>>> rest = everything - Space.of(web)
>>> rest.contains(AddressSet.parse("10.1.1.1").sample(), 6, 80)
False
>>> rest.contains(AddressSet.parse("10.1.1.1").sample(), 6, 22)
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from netmodel.sets.addresses import ALL_ADDRESSES, AddressSet, IPAddress
from netmodel.sets.intervals import IntervalSet
from netmodel.sets.ports import ALL_PORTS, ALL_PROTOCOLS


@dataclass(frozen=True, slots=True)
class Box:
    """Traffic whose peer is in ``peers`` AND protocol in ``protocols`` AND port in ``ports``."""

    peers: AddressSet
    protocols: IntervalSet
    ports: IntervalSet

    @classmethod
    def everything(cls) -> Box:
        """Every packet: all addresses, protocols and ports."""
        return cls(ALL_ADDRESSES, ALL_PROTOCOLS, ALL_PORTS)

    def is_empty(self) -> bool:
        """Whether no packet is in the box (some dimension is empty)."""
        return self.peers.is_empty() or self.protocols.is_empty() or self.ports.is_empty()

    def intersection(self, other: Box) -> Box:
        """The packets in both boxes."""
        return Box(self.peers & other.peers, self.protocols & other.protocols, self.ports & other.ports)

    def difference(self, other: Box) -> list[Box]:
        """``self - other`` as at most three disjoint, non-empty boxes."""
        if self.is_empty():
            return []
        common = self.intersection(other)
        if common.is_empty():
            return [self]
        pieces = [
            Box(self.peers - other.peers, self.protocols, self.ports),
            Box(common.peers, self.protocols - other.protocols, self.ports),
            Box(common.peers, common.protocols, self.ports - other.ports),
        ]
        return [p for p in pieces if not p.is_empty()]

    def contains(self, address: IPAddress, protocol: int, port: int) -> bool:
        """Whether the packet (peer address, protocol, port) is in the box."""
        return self.peers.contains(address) and protocol in self.protocols and port in self.ports


@dataclass(frozen=True, slots=True)
class Space:
    """A union of pairwise-disjoint boxes. The operations never produce empty boxes."""

    boxes: tuple[Box, ...] = ()

    @classmethod
    def of(cls, *boxes: Box) -> Space:
        """The space of the given boxes (kept disjoint)."""
        space = cls()
        for box in boxes:
            space = space | Space((box,))
        return space

    def is_empty(self) -> bool:
        """Whether no packet is in the space."""
        return all(b.is_empty() for b in self.boxes)

    def __iter__(self) -> Iterator[Box]:
        return iter(self.boxes)

    def intersection(self, other: Space | Box) -> Space:
        """The packets in both spaces."""
        others = (other,) if isinstance(other, Box) else other.boxes
        out = [a.intersection(b) for a in self.boxes for b in others]
        return Space(tuple(x for x in out if not x.is_empty()))

    def difference(self, other: Space | Box) -> Space:
        """The packets of this space not in ``other``."""
        others = (other,) if isinstance(other, Box) else other.boxes
        current: list[Box] = [a for a in self.boxes if not a.is_empty()]
        for b in others:
            current = [piece for a in current for piece in a.difference(b)]
        return Space(tuple(current))

    def union(self, other: Space | Box) -> Space:
        # Keep boxes disjoint: add only what is not covered yet.
        """The packets in either space (boxes stay disjoint)."""
        extra = Space((other,) if isinstance(other, Box) else other.boxes).difference(self)
        return Space(self.boxes + extra.boxes)

    __and__ = intersection
    __sub__ = difference
    __or__ = union

    def contains(self, address: IPAddress, protocol: int, port: int) -> bool:
        """Whether the packet (peer address, protocol, port) is in the space."""
        return any(b.contains(address, protocol, port) for b in self.boxes)

    def peers(self) -> AddressSet:
        """Every peer address that appears in some box."""
        out = AddressSet()
        for b in self.boxes:
            out = out | b.peers
        return out

    def covers(self, box: Box) -> bool:
        """True when every packet of ``box`` lies in this space."""
        return Space((box,)).difference(self).is_empty()


def union_all(spaces: Iterable[Space]) -> Space:
    """The union of any number of spaces (empty for none)."""
    out = Space()
    for s in spaces:
        out = out | s
    return out
