"""Port sets (0-65535) and IP protocol sets (0-255), with the parsing and printing users see.

>>> parse_ports("80,443,8000-8100").ranges
((80, 80), (443, 443), (8000, 8100))
>>> format_ports(parse_ports("30000-32767, 80"))
'80,30000-32767'
>>> format_protocols(protocols_of("TCP") | protocols_of("UDP"))
'TCP,UDP'
"""

from __future__ import annotations

from collections.abc import Iterable

from netmodel.sets.intervals import IntervalSet
from netmodel.sets.numbers import brief, is_decimal

MAX_PORT = 65535
MAX_PROTOCOL = 255

# IP protocol numbers (IANA). Only these have names in the input language; any number 0-255 is accepted.
ICMP = 1
IPIP = 4
TCP = 6
UDP = 17
ICMPV6 = 58
SCTP = 132

PROTOCOL_NAMES: dict[str, int] = {"TCP": TCP, "UDP": UDP, "SCTP": SCTP, "ICMP": ICMP, "ICMPV6": ICMPV6}
PROTOCOL_LABELS: dict[int, str] = {v: k for k, v in PROTOCOL_NAMES.items()} | {IPIP: "IPIP"}
PORTED_PROTOCOLS = frozenset({TCP, UDP, SCTP})


# Ports are plain interval sets; the alias names the meaning in signatures.
PortSet = IntervalSet


def parse_ports(text: str | int | Iterable[str | int]) -> PortSet:
    """Parse ``80``, ``"8000-8100"``, ``"80,443"`` or a list of those; raise ValueError with the reason."""
    items: list[object] = [text] if isinstance(text, (str, int)) else list(text) if isinstance(
        text, (list, tuple)) else [text]
    ranges: list[tuple[int, int]] = []
    for item in items:
        # ValueError, not TypeError: callers turn ValueError into a located message for the user.
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            what = "null" if item is None else f"{brief(repr(item))} ({type(item).__name__})"
            raise ValueError(f"{what} is not a port: write a whole number or 'low-high'")  # noqa: TRY004
        if isinstance(item, int):
            if not 0 <= item <= MAX_PORT:
                raise ValueError(f"port {item if item.bit_length() <= 64 else 'number'} is outside 0-{MAX_PORT}")
            ranges.append((item, item))
            continue
        for part in item.split(","):
            part = part.strip()
            if not part:
                raise ValueError(f"empty port in {brief(item)!r}")
            lo_s, sep, hi_s = part.partition("-")
            if not is_decimal(lo_s) or (sep and not is_decimal(hi_s)):
                raise ValueError(f"{brief(part)!r} is not a port or a 'low-high' port range")
            lo = int(lo_s)
            hi = int(hi_s) if sep else lo
            ranges.append(_checked_range(lo, hi, part))
    return IntervalSet(ranges)


def _checked_range(lo: int, hi: int, text: str) -> tuple[int, int]:
    if not (0 <= lo <= MAX_PORT and 0 <= hi <= MAX_PORT):
        raise ValueError(f"port {text!r} is outside 0-{MAX_PORT}")
    if lo > hi:
        raise ValueError(f"port range {text!r} runs backwards")
    return lo, hi


ALL_PORTS = IntervalSet.of((0, MAX_PORT))
ALL_PROTOCOLS = IntervalSet.of((0, MAX_PROTOCOL))


def protocols_of(text: str | int) -> IntervalSet:
    """``TCP``/``UDP``/``SCTP``/``ICMP``/``ICMPv6``, ``any``/``all``, or an IP protocol number 0-255."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a protocol")  # noqa: TRY004 - callers report ValueErrors
    if isinstance(text, int) or (isinstance(text, str) and is_decimal(text)):
        number = int(text)
        if not 0 <= number <= MAX_PROTOCOL:
            shown = number if number.bit_length() <= 64 else "(too large)"
            raise ValueError(f"IP protocol number {shown} is outside 0-{MAX_PROTOCOL}")
        return IntervalSet.single(number)
    name = str(text).strip().upper()
    if name in ("ANY", "ALL", "*"):
        return ALL_PROTOCOLS
    if name in ("IPIP", "IP-IN-IP"):
        return IntervalSet.single(IPIP)
    if name in PROTOCOL_NAMES:
        return IntervalSet.single(PROTOCOL_NAMES[name])
    raise ValueError(f"unknown protocol {text!r}")


def protocol_number(text: str) -> int:
    """The single IP protocol number for a name such as ``TCP``; raise ValueError otherwise."""
    protocols = protocols_of(text)
    if len(protocols.ranges) != 1 or protocols.ranges[0][0] != protocols.ranges[0][1]:
        raise ValueError(f"{text!r} names more than one protocol")
    return protocols.first()


def protocol_label(number: int) -> str:
    """``TCP``, ``UDP``, ``SCTP`` (or the number) for an IP protocol number."""
    return PROTOCOL_LABELS.get(number, str(number))


def format_ports(ports: IntervalSet) -> str:
    """Ports as ``80,443,8000-8100`` (``any`` for every port)."""
    if ports == ALL_PORTS:
        return "any"
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports)


def format_protocols(protocols: IntervalSet) -> str:
    """Protocols by name where they have one, numbers and wide ranges otherwise (``any`` for all)."""
    if protocols == ALL_PROTOCOLS:
        return "any"
    parts: list[str] = []
    for lo, hi in protocols:
        if hi - lo > 8:
            parts.append(f"{lo}-{hi}")
        else:
            parts.extend(protocol_label(n) for n in range(lo, hi + 1))
    return ",".join(parts)
