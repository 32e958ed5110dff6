"""Sets of IP addresses, IPv4 and IPv6 side by side.

An :class:`AddressSet` is one :class:`IntervalSet` per family over the integer value of the address, so CIDR
arithmetic (``internet minus office minus the cluster``) is plain interval arithmetic.

>>> s = AddressSet.parse("10.0.0.0/8") - AddressSet.parse("10.1.0.0/16")
>>> AddressSet.parse("10.1.2.3") <= s
False
>>> [str(c) for c in AddressSet.parse("10.0.0.0/31", "10.0.0.2/32").cidrs()]
['10.0.0.0/31', '10.0.0.2/32']
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator

from netmodel.sets.intervals import EMPTY as _EMPTY_INTERVALS
from netmodel.sets.intervals import IntervalSet

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_V4_MAX = (1 << 32) - 1
_V6_MAX = (1 << 128) - 1


def _no_zone(text: str) -> str:
    """``text`` stripped, refused when it carries an IPv6 zone (scope) ID: ``fe80::1%eth0``.

    Python's ``ipaddress`` keeps whatever follows ``%`` (any text, newlines included) and prints it back, so
    a zone would carry input text into every script or message the address is written to. Kubernetes
    accepts no zone in its address fields (Go's ``net.ParseIP``, under the API server's ``ParseIPSloppy``,
    rejects it), and a zone names an interface on one host, which no cluster-wide rule can mean. This is the one place every address field
    and ``ip:`` reference is parsed, so rejecting it here rejects it everywhere.

    >>> parse_address("fd00::1%eth0")
    Traceback (most recent call last):
    ...
    ValueError: an IPv6 zone ID ('%' and what follows it) is not allowed in an address
    """
    stripped = str(text).strip()
    if "%" in stripped:
        raise ValueError("an IPv6 zone ID ('%' and what follows it) is not allowed in an address")
    return stripped


def parse_network(text: str) -> IPNetwork:
    """Parse a CIDR or a bare address (a /32 or /128); raise ValueError with a readable reason.

    Host bits must be zero, as Kubernetes requires for CIDR fields. Zone IDs are refused (`_no_zone`).
    """
    return ipaddress.ip_network(_no_zone(text), strict=True)


def parse_network_loose(text: str) -> IPNetwork | None:
    """The network of a CIDR whose host bits may be set (``10.0.0.1/8`` → ``10.0.0.0/8``); None if not a CIDR.

    >>> parse_network_loose("192.168.1.1/24")
    IPv4Network('192.168.1.0/24')
    >>> parse_network_loose("20.0.0.0/2")
    IPv4Network('0.0.0.0/2')
    """
    try:
        return ipaddress.ip_network(_no_zone(text), strict=False)
    except ValueError:
        return None


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
# Exactly the dotted quads ipaddress accepts (four ASCII decimal octets 0-255, no leading zeros), which
# inet_aton then reads to the same value: Pods and Nodes carry hundreds of thousands of them, and ipaddress
# parses each octet in Python. Anything else takes ipaddress's own path, with its errors.
_DOTTED_QUAD = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


def parse_address(text: str) -> IPAddress:
    """Parse one IPv4 or IPv6 address; raise ValueError for anything else, a zone ID included."""
    stripped = _no_zone(text)
    if _DOTTED_QUAD.fullmatch(stripped):
        return ipaddress.IPv4Address(socket.inet_aton(stripped))
    return ipaddress.ip_address(stripped)


def networks_overlap(a: IPNetwork, b: IPNetwork) -> bool:
    """Whether two networks share an address; networks of different families share none.

    >>> networks_overlap(parse_network("10.0.0.0/8"), parse_network("10.1.0.0/16"))
    True
    >>> networks_overlap(parse_network("10.0.0.0/8"), parse_network("::/0"))
    False
    """
    if isinstance(a, ipaddress.IPv4Network) and isinstance(b, ipaddress.IPv4Network):
        return a.overlaps(b)
    if isinstance(a, ipaddress.IPv6Network) and isinstance(b, ipaddress.IPv6Network):
        return a.overlaps(b)
    return False


def network_within(inner: IPNetwork, outer: IPNetwork) -> bool:
    """Whether every address of ``inner`` is in ``outer`` (of another family: never).

    >>> network_within(parse_network("10.1.0.0/16"), parse_network("10.0.0.0/8"))
    True
    >>> network_within(parse_network("fd00::/64"), parse_network("10.0.0.0/8"))
    False
    """
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False


class AddressSet:
    """An immutable, hashable set of IPv4 and IPv6 addresses.

    ``v4`` and ``v6`` are read-only :class:`IntervalSet` s of address integers. The operators are those of
    Python's ``set`` (``| & - ^ <= < >= >``); members are IPv4/IPv6 addresses.

    >>> a = AddressSet.parse("10.0.0.0/24")
    >>> str(a ^ AddressSet.parse("10.0.0.128/25")), AddressSet.parse("10.0.0.0/25") < a
    ('10.0.0.0/25', True)
    """

    __slots__ = ("v4", "v6")
    v4: IntervalSet
    v6: IntervalSet

    def __init__(self, v4: IntervalSet = _EMPTY_INTERVALS, v6: IntervalSet = _EMPTY_INTERVALS) -> None:
        object.__setattr__(self, "v4", v4)
        object.__setattr__(self, "v6", v6)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"AddressSet is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"AddressSet is immutable: cannot delete {name!r}")

    # -- construction ------------------------------------------------------------------------------------------
    @classmethod
    def of_networks(cls, networks: Iterable[IPNetwork | IPAddress]) -> AddressSet:
        """The addresses of ``networks`` (networks or single addresses, both families)."""
        v4: list[tuple[int, int]] = []
        v6: list[tuple[int, int]] = []
        for net in networks:
            if isinstance(net, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
                lo = hi = int(net)
            else:
                lo, hi = int(net.network_address), int(net.broadcast_address)
            (v4 if net.version == 4 else v6).append((lo, hi))
        return cls(IntervalSet(v4) if v4 else _EMPTY_INTERVALS, IntervalSet(v6) if v6 else _EMPTY_INTERVALS)

    @classmethod
    def of_addresses(cls, addresses: Iterable[IPAddress]) -> AddressSet:
        """The set of ``addresses`` (both families): :meth:`of_networks` for single addresses, each read as an
        integer once (the envelope's 150,000 Pod addresses).

        >>> str(AddressSet.of_addresses(map(ipaddress.ip_address, ["10.0.0.2", "10.0.0.1", "fd00::1"])))
        '10.0.0.1/32, 10.0.0.2/32, fd00::1/128'
        """
        v4: list[int] = []
        v6: list[int] = []
        for ip in addresses:
            (v4 if ip.version == 4 else v6).append(int(ip))
        return cls(IntervalSet.of_values(v4), IntervalSet.of_values(v6))

    @classmethod
    def parse(cls, *texts: str) -> AddressSet:
        """Build from CIDR strings or bare addresses (host bits may not be set)."""
        return cls.of_networks(parse_network(t) for t in texts)

    @classmethod
    def union_all(cls, sets: Iterable[AddressSet]) -> AddressSet:
        """The union of any number of sets (empty for none).

        >>> halves = [AddressSet.parse("10.0.0.0/25"), AddressSet.parse("10.0.0.128/25")]
        >>> str(AddressSet.union_all(halves))
        '10.0.0.0/24'
        """
        # Every range gathered and normalized once: folding with | would re-walk the growing union per set.
        v4: list[tuple[int, int]] = []
        v6: list[tuple[int, int]] = []
        for s in sets:
            v4.extend(s.v4.ranges)
            v6.extend(s.v6.ranges)
        return cls(IntervalSet(v4), IntervalSet(v6))

    @classmethod
    def of_address(cls, address: IPAddress) -> AddressSet:
        """The set holding only ``address``."""
        single = IntervalSet.single(int(address))
        return cls(single, _EMPTY_INTERVALS) if address.version == 4 else cls(_EMPTY_INTERVALS, single)

    # -- algebra -----------------------------------------------------------------------------------------------
    def union(self, other: AddressSet) -> AddressSet:
        """The addresses in either set (``|``)."""
        return AddressSet(self.v4 | other.v4, self.v6 | other.v6)

    def intersection(self, other: AddressSet) -> AddressSet:
        """The addresses in both sets (``&``)."""
        return AddressSet(self.v4 & other.v4, self.v6 & other.v6)

    def difference(self, other: AddressSet) -> AddressSet:
        """The addresses of this set not in ``other`` (``-``)."""
        return AddressSet(self.v4 - other.v4, self.v6 - other.v6)

    def issubset(self, other: AddressSet) -> bool:
        """Whether every address here is in ``other`` (``<=``)."""
        return self.v4 <= other.v4 and self.v6 <= other.v6

    def isdisjoint(self, other: AddressSet) -> bool:
        """Whether the sets share no address."""
        return self.v4.isdisjoint(other.v4) and self.v6.isdisjoint(other.v6)

    def issuperset(self, other: AddressSet) -> bool:
        """Whether every address of ``other`` is here (``>=``)."""
        return other.issubset(self)

    def symmetric_difference(self, other: AddressSet) -> AddressSet:
        """Addresses in exactly one of the two sets."""
        return AddressSet(self.v4 ^ other.v4, self.v6 ^ other.v6)

    def __lt__(self, other: AddressSet) -> bool:
        return self.issubset(other) and self != other

    def __gt__(self, other: AddressSet) -> bool:
        return other.__lt__(self)

    __or__ = union
    __and__ = intersection
    __sub__ = difference
    __xor__ = symmetric_difference
    __le__ = issubset
    __ge__ = issuperset

    def contains(self, address: IPAddress) -> bool:
        """Whether ``address`` is in the set."""
        return int(address) in (self.v4 if address.version == 4 else self.v6)

    def __contains__(self, value: object) -> bool:
        """Only IPv4/IPv6 addresses are members; anything else (an int, a string) is not."""
        return isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)) and self.contains(value)

    def is_empty(self) -> bool:
        """Whether the set holds no address."""
        return not self.v4 and not self.v6

    def __bool__(self) -> bool:
        return bool(self.v4) or bool(self.v6)

    @property
    def size(self) -> int:
        """How many addresses the set holds (both families)."""
        return self.v4.size + self.v6.size

    # -- presentation ------------------------------------------------------------------------------------------
    def cidrs(self) -> Iterator[IPNetwork]:
        """The fewest CIDRs that cover exactly this set, IPv4 first."""
        for lo, hi in self.v4:
            yield from ipaddress.summarize_address_range(
                ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi)
            )
        for lo, hi in self.v6:
            yield from ipaddress.summarize_address_range(
                ipaddress.IPv6Address(lo), ipaddress.IPv6Address(hi)
            )

    def sample(self, *, host: bool = False) -> IPAddress | None:
        """One member, preferring IPv4; None when empty.

        The first address of the set, or with ``host=True`` the address to quote in a message: the first host
        of the first range, not its network address (x.x.x.0), when that range holds three addresses or more.

        >>> s = AddressSet.parse("10.0.0.0/24", "2001:db8::/64")
        >>> str(s.sample()), str(s.sample(host=True)), str(AddressSet.parse("10.0.0.4/31").sample(host=True))
        ('10.0.0.0', '10.0.0.1', '10.0.0.4')
        """
        for ranges, family in ((self.v4, ipaddress.IPv4Address), (self.v6, ipaddress.IPv6Address)):
            for low, high in ranges:
                return family(low + 1 if host and high - low >= 2 else low)
        return None

    def __str__(self) -> str:
        cidrs = [str(c) for c in self.cidrs()]
        if len(cidrs) > 6:
            return ", ".join(cidrs[:6]) + f", … ({len(cidrs) - 6} more)"
        return ", ".join(cidrs) if cidrs else "(none)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AddressSet) and self.v4 == other.v4 and self.v6 == other.v6

    def __hash__(self) -> int:
        return hash((self.v4, self.v6))

    def __repr__(self) -> str:
        return f"AddressSet({str(self)!r})"


NO_ADDRESSES = AddressSet()
ALL_ADDRESSES = AddressSet(IntervalSet.of((0, _V4_MAX)), IntervalSet.of((0, _V6_MAX)))
ALL_IPV4 = AddressSet(IntervalSet.of((0, _V4_MAX)))
ALL_IPV6 = AddressSet(v6=IntervalSet.of((0, _V6_MAX)))
