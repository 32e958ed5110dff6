"""Protocol × port sets for TCP, UDP and SCTP: what a policy rule's ``ports`` allow on one destination.

>>> from netmodel.sets.ports import TCP, UDP
>>> web = PortSpace.of({TCP: IntervalSet.of((80, 81))})
>>> (web & PortSpace.of({TCP: IntervalSet.single(81), UDP: IntervalSet.single(53)})).describe()
'TCP 81'
>>> web.contains(TCP, 80), web.contains(UDP, 80)
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from netmodel.sets import ALL_PORTS, IntervalSet, format_ports, protocol_label
from netmodel.sets.ports import SCTP, TCP, UDP

POLICY_PROTOCOLS = (TCP, UDP, SCTP)
_EMPTY = IntervalSet()


@dataclass(frozen=True, slots=True)
class PortSpace:
    """Per protocol, a set of ports; protocols in one space OR, a packet matches by (protocol AND port)."""

    by_protocol: tuple[tuple[int, IntervalSet], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[int, IntervalSet]) -> PortSpace:
        """The space of ``mapping`` (protocol → ports), empty entries dropped."""
        return cls(tuple(sorted((p, s) for p, s in mapping.items() if s)))

    @classmethod
    def everything(cls) -> PortSpace:
        """Every port of every protocol NetworkPolicy can name."""
        return cls.of({p: ALL_PORTS for p in POLICY_PROTOCOLS})

    def ports(self, protocol: int) -> IntervalSet:
        """The ports of ``protocol`` in the space."""
        for p, s in self.by_protocol:
            if p == protocol:
                return s
        return _EMPTY

    def union(self, other: PortSpace) -> PortSpace:
        """The ports in either space."""
        if not other.by_protocol:
            return self
        if not self.by_protocol:
            return other
        merged = dict(self.by_protocol)
        for p, s in other.by_protocol:
            merged[p] = merged[p] | s if p in merged else s
        return PortSpace.of(merged)

    def intersection(self, other: PortSpace) -> PortSpace:
        """The ports in both spaces."""
        if not self.by_protocol or other is EVERYTHING:
            return self
        if not other.by_protocol or self is EVERYTHING:
            return other
        return PortSpace.of({p: s & other.ports(p) for p, s in self.by_protocol})

    def difference(self, other: PortSpace) -> PortSpace:
        """The ports of this space that ``other`` does not hold, per protocol."""
        if not other.by_protocol or not self.by_protocol:
            return self
        return PortSpace.of({p: s - other.ports(p) for p, s in self.by_protocol})

    __or__ = union
    __and__ = intersection
    __sub__ = difference

    def contains(self, protocol: int, port: int) -> bool:
        """Whether ``port`` of ``protocol`` is in the space."""
        return port in self.ports(protocol)

    def is_empty(self) -> bool:
        """Whether the space holds no port."""
        return not self.by_protocol

    def __bool__(self) -> bool:
        return bool(self.by_protocol)

    def __iter__(self) -> Iterator[tuple[int, IntervalSet]]:
        return iter(self.by_protocol)

    def issubset(self, other: PortSpace) -> bool:
        """Whether every port of this space is in ``other``."""
        return all(s <= other.ports(p) for p, s in self.by_protocol)

    def describe(self) -> str:
        """``TCP 80,443, UDP 53`` (``nothing`` when empty)."""
        return ", ".join(f"{protocol_label(p)} {format_ports(s)}" for p, s in self.by_protocol) or "nothing"


EVERYTHING = PortSpace.everything()
NOTHING = PortSpace()
