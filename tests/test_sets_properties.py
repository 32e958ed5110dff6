"""The set algebra against a naive oracle: Python sets of integers over a small universe.

Universes are kept small (0..63 for intervals, a /26 of IPv4 and a /122 of IPv6 for addresses, a few ports and
protocols for boxes) so the oracle can enumerate every member; the code under test does not know that.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netmodel.sets import (
    ALL_PORTS,
    AddressSet,
    Box,
    IntervalSet,
    Space,
    format_ports,
    parse_address,
    parse_ports,
)

UNIVERSE = 64

ranges = st.tuples(st.integers(0, UNIVERSE - 1), st.integers(0, 8)).map(lambda t: (t[0], min(UNIVERSE - 1,
                                                                                                t[0] + t[1])))
interval_sets = st.lists(ranges, max_size=6).map(IntervalSet)


def members(s: IntervalSet) -> set[int]:
    return {v for lo, hi in s for v in range(lo, hi + 1)}


def assert_normal(s: IntervalSet) -> None:
    """Sorted, disjoint, non-adjacent, non-empty ranges: the one representation of a set."""
    for lo, hi in s.ranges:
        assert lo <= hi
    for (_, hi1), (lo2, _) in zip(s.ranges, s.ranges[1:]):
        assert hi1 + 1 < lo2


@given(st.lists(ranges, max_size=8))
def test_construction_normalizes_to_the_members(raw: list[tuple[int, int]]) -> None:
    s = IntervalSet(raw)
    assert_normal(s)
    assert members(s) == {v for lo, hi in raw for v in range(lo, hi + 1)}
    assert s.size == len(members(s))


@given(interval_sets, interval_sets)
def test_union_intersection_difference_match_python_sets(a: IntervalSet, b: IntervalSet) -> None:
    for result, expected in ((a | b, members(a) | members(b)), (a & b, members(a) & members(b)),
                             (a - b, members(a) - members(b)), (a ^ b, members(a) ^ members(b)),
                             (a.symmetric_difference(b), members(a) ^ members(b))):
        assert_normal(result)
        assert members(result) == expected


@given(interval_sets, interval_sets)
def test_subset_disjoint_and_equality(a: IntervalSet, b: IntervalSet) -> None:
    assert (a <= b) == (members(a) <= members(b))
    assert (a < b) == (members(a) < members(b))
    assert (a >= b) == (members(a) >= members(b)) == a.issuperset(b)
    assert (a > b) == (members(a) > members(b))
    assert a.isdisjoint(b) == members(a).isdisjoint(members(b))
    assert (a == b) == (members(a) == members(b))
    if a == b:
        assert hash(a) == hash(b)


@given(st.lists(ranges, max_size=6), st.randoms())
def test_equal_sets_built_differently_are_equal_and_hash_alike(raw: list[tuple[int, int]], rnd) -> None:
    shuffled = list(raw)
    rnd.shuffle(shuffled)
    # Split every range in two touching halves: same members, different input.
    split = [piece for lo, hi in shuffled for piece in (((lo, hi),) if lo == hi else ((lo, lo), (lo + 1, hi)))]
    a, b = IntervalSet(raw), IntervalSet(split)
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1


@given(interval_sets, st.integers(-2, UNIVERSE + 2))
def test_contains(a: IntervalSet, value: int) -> None:
    assert (value in a) == (value in members(a))


@given(interval_sets)
def test_only_integers_are_members(a: IntervalSet) -> None:
    for other in (True, False, 1.0, "1", None, (1, 1)):
        assert other not in a


def test_interval_sets_are_immutable() -> None:
    a = IntervalSet.of((1, 5))
    table = {a: "kept"}
    for name in ("_ranges", "_hash", "anything"):
        with pytest.raises(AttributeError):
            setattr(a, name, ((7, 9),))
        with pytest.raises(AttributeError):
            delattr(a, name)
    assert a.ranges == ((1, 5),) and table[IntervalSet.of((1, 5))] == "kept"


def test_backwards_range_is_refused() -> None:
    try:
        IntervalSet.of((5, 4))
    except ValueError as err:
        assert "empty range" in str(err)
    else:
        raise AssertionError("IntervalSet accepted (5, 4)")


# -- addresses -----------------------------------------------------------------------------------------------------

V4_BASE = int(ipaddress.IPv4Address("10.0.0.0"))
V6_BASE = int(ipaddress.IPv6Address("fd00::"))


def _address_sets() -> st.SearchStrategy[AddressSet]:
    def build(v4: list[tuple[int, int]], v6: list[tuple[int, int]]) -> AddressSet:
        return AddressSet(IntervalSet((V4_BASE + lo, V4_BASE + hi) for lo, hi in v4),
                          IntervalSet((V6_BASE + lo, V6_BASE + hi) for lo, hi in v6))
    return st.builds(build, st.lists(ranges, max_size=4), st.lists(ranges, max_size=4))


address_sets = _address_sets()


def address_members(s: AddressSet) -> set[tuple[int, int]]:
    return {(4, v) for v in members(s.v4)} | {(6, v) for v in members(s.v6)}


@given(address_sets, address_sets)
def test_address_algebra_matches_python_sets(a: AddressSet, b: AddressSet) -> None:
    ma, mb = address_members(a), address_members(b)
    assert address_members(a | b) == ma | mb
    assert address_members(a & b) == ma & mb
    assert address_members(a - b) == ma - mb
    assert address_members(a ^ b) == ma ^ mb == address_members(a.symmetric_difference(b))
    assert (a <= b) == (ma <= mb)
    assert (a < b) == (ma < mb)
    assert (a >= b) == (ma >= mb) == a.issuperset(b)
    assert (a > b) == (ma > mb)
    assert a.isdisjoint(b) == ma.isdisjoint(mb)
    assert (a == b) == (ma == mb)
    assert bool(a) == bool(ma) and a.is_empty() == (not ma)


@given(address_sets)
def test_cidrs_cover_exactly_the_set_and_round_trip(a: AddressSet) -> None:
    cidrs = list(a.cidrs())
    covered = {(c.version, v) for c in cidrs
               for v in range(int(c.network_address), int(c.broadcast_address) + 1)}
    assert covered == address_members(a)
    # The CIDRs are disjoint (their sizes add up) and parse back to the same set.
    assert sum(c.num_addresses for c in cidrs) == a.size
    assert AddressSet.parse(*(str(c) for c in cidrs)) == a
    assert [c.version for c in cidrs] == sorted(c.version for c in cidrs)  # IPv4 first


@given(address_sets, st.integers(0, UNIVERSE + 2), st.sampled_from([4, 6]))
def test_address_contains(a: AddressSet, offset: int, version: int) -> None:
    address = (ipaddress.IPv4Address(V4_BASE + offset) if version == 4
               else ipaddress.IPv6Address(V6_BASE + offset))
    assert a.contains(address) == ((version, V4_BASE + offset if version == 4 else V6_BASE + offset)
                                   in address_members(a))
    sample = a.sample()
    assert (sample is None) == a.is_empty()
    if sample is not None:
        assert a.contains(sample)


@given(address_sets)
def test_address_sets_are_immutable_and_hold_only_addresses(a: AddressSet) -> None:
    table = {a: "kept"}
    for name in ("v4", "v6", "anything"):
        with pytest.raises(AttributeError):
            setattr(a, name, IntervalSet.of((V4_BASE, V4_BASE)))
        with pytest.raises(AttributeError):
            delattr(a, name)
    assert table[AddressSet(a.v4, a.v6)] == "kept"
    for other in (V4_BASE, True, str(ipaddress.IPv4Address(V4_BASE)), None):
        assert other not in a
    sample = a.sample()
    assert (sample in a) == (sample is not None)


def test_parse_refuses_host_bits_and_garbage() -> None:
    for text in ("10.0.0.1/8", "10.0.0.0/33", "not-an-ip", "fd00::1/64"):
        try:
            AddressSet.parse(text)
        except ValueError:
            continue
        raise AssertionError(f"{text!r} was accepted")


# -- ports ---------------------------------------------------------------------------------------------------------

port_sets = st.lists(st.tuples(st.integers(0, 65535), st.integers(0, 2000)).map(
    lambda t: (t[0], min(65535, t[0] + t[1]))), max_size=5).map(IntervalSet)


@given(port_sets)
def test_format_then_parse_ports_round_trips(ports: IntervalSet) -> None:
    text = format_ports(ports)
    if ports == ALL_PORTS:
        assert text == "any"
    elif ports:
        assert parse_ports(text) == ports


@given(st.lists(st.integers(0, 65535), min_size=1, max_size=6))
def test_parse_ports_accepts_numbers_strings_and_lists(numbers: list[int]) -> None:
    expected = IntervalSet((n, n) for n in numbers)
    assert parse_ports(numbers) == expected
    assert parse_ports([str(n) for n in numbers]) == expected
    assert parse_ports(",".join(str(n) for n in numbers)) == expected


def test_parse_ports_refuses_bad_text() -> None:
    for bad in ("", "http", "80-", "-5", "70000", "90-80", "1,,2", True):
        try:
            parse_ports(bad)  # type: ignore[arg-type]
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


# -- boxes and spaces ----------------------------------------------------------------------------------------------

small = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 3)).map(lambda t: (t[0], min(7, t[0] + t[1]))),
                 max_size=3).map(IntervalSet)
small_addresses = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 3)).map(
    lambda t: (V4_BASE + t[0], V4_BASE + min(7, t[0] + t[1]))), max_size=3).map(lambda r: AddressSet(IntervalSet(r)))
boxes = st.builds(Box, small_addresses, small, small)
EVERY = [(ipaddress.IPv4Address(V4_BASE + a), p, q) for a in range(8) for p in range(8) for q in range(8)]


def box_members(box: Box) -> set[tuple]:
    return {pkt for pkt in EVERY if box.contains(*pkt)}


def space_members(space: Space) -> set[tuple]:
    return {pkt for pkt in EVERY if space.contains(*pkt)}


def naive_box(box: Box) -> set[tuple]:
    """The box's packets computed without Box.contains."""
    return {(ipaddress.IPv4Address(a), p, q) for _, a in address_members(box.peers)
            for p in members(box.protocols) for q in members(box.ports)}


@given(boxes, boxes)
def test_box_difference_pieces_are_disjoint_and_exact(a: Box, b: Box) -> None:
    pieces = a.difference(b)
    sets = [naive_box(p) for p in pieces]
    assert all(sets)  # no empty piece
    for i, x in enumerate(sets):
        for y in sets[i + 1:]:
            assert not x & y
    assert set().union(*sets) == naive_box(a) - naive_box(b)
    assert len(pieces) <= 3
    assert naive_box(a.intersection(b)) == naive_box(a) & naive_box(b)


@given(st.lists(boxes, max_size=4), st.lists(boxes, max_size=4))
def test_space_union_difference_intersection_and_covers(xs: list[Box], ys: list[Box]) -> None:
    a, b = Space.of(*xs), Space.of(*ys)
    ma = set().union(*(naive_box(x) for x in xs))
    mb = set().union(*(naive_box(y) for y in ys))
    assert space_members(a) == ma
    for space in (a, b, a | b, a - b, a & b):
        found = [naive_box(x) for x in space.boxes]
        assert sum(len(f) for f in found) == len(set().union(*found))  # boxes stay pairwise disjoint
    assert space_members(a | b) == ma | mb
    assert space_members(a - b) == ma - mb
    assert space_members(a & b) == ma & mb
    assert a.is_empty() == (not ma)
    for y in ys:
        assert a.covers(y) == (naive_box(y) <= ma)
    assert address_members(a.peers()) == {(4, int(pkt[0])) for pkt in ma}


@given(st.lists(st.tuples(st.sampled_from([4, 6]), st.integers(0, UNIVERSE - 1)), max_size=40))
def test_a_set_of_single_addresses_is_the_set_of_their_networks(picked: list[tuple[int, int]]) -> None:
    addresses = [ipaddress.IPv4Address(V4_BASE + n) if version == 4 else ipaddress.IPv6Address(V6_BASE + n)
                 for version, n in picked]
    got = AddressSet.of_addresses(addresses)
    assert got == AddressSet.of_networks(addresses)
    assert got.v4.ranges == AddressSet.of_networks(addresses).v4.ranges
    assert got.v6.ranges == AddressSet.of_networks(addresses).v6.ranges
    assert_normal(got.v4)
    assert_normal(got.v6)
    values = [n for _, n in picked]
    assert IntervalSet.of_values(values) == IntervalSet((v, v) for v in values)


@given(st.lists(address_sets, max_size=6))
def test_union_all_is_the_union_of_each(sets: list[AddressSet]) -> None:
    folded = AddressSet()
    for s in sets:
        folded = folded | s
    got = AddressSet.union_all(sets)
    assert got == folded and got.v4.ranges == folded.v4.ranges and got.v6.ranges == folded.v6.ranges



# Text near the dotted-quad form: octets with leading zeros, above 255, non-ASCII digits, signs; too few or too many
# octets; trailing newlines, prefixes and zones.
_octet_texts = st.one_of(st.integers(0, 300).map(str),
                         st.sampled_from(["", "00", "01", "007", "0x1", "\u0663", "1 ", " 1", "+1", "-0", "1e2", "\u00b2"]))
_address_texts = st.one_of(
    st.tuples(st.lists(_octet_texts, min_size=3, max_size=5).map(".".join),
              st.sampled_from(["", "\n", " ", "/32", "%eth0", "."])).map("".join),
    st.text(alphabet="0123456789.:abcdefABCDEF% \n/x", max_size=24),
    st.ip_addresses().map(str),
)


@given(_address_texts)
def test_parse_address_accepts_and_reads_what_ipaddress_does(text: str) -> None:
    """parse_address's fast dotted-quad path accepts exactly what ipaddress accepts, with the same value."""
    stripped = text.strip()
    try:
        expected = ipaddress.ip_address(stripped) if "%" not in stripped else None
    except ValueError:
        expected = None
    try:
        got = parse_address(text)
    except ValueError:
        got = None
    assert got == expected and type(got) is type(expected)
