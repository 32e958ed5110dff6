"""Whole numbers written as text: ASCII decimal digits only, and never longer than a 64-bit integer.

``str.isdigit`` is true for ``'²'``, ``'①'`` and other digit look-alikes that ``int`` refuses, and ``int``
itself reads non-ASCII decimal digits (``'٣'``) and underscores (``'1_000'``); a 5,000-digit string takes
quadratic time or exceeds Python's conversion limit. Every integer netmodel reads from text goes through
`parse_decimal`, which takes only what the Kubernetes API's integer fields (at most int64) could hold.

>>> parse_decimal(" 8080 "), parse_decimal("-1")
(8080, -1)
>>> is_decimal("²"), is_decimal("--1"), is_decimal("1_000"), is_decimal("9" * 5000)
(False, False, False, False)
"""

from __future__ import annotations

import re

_DECIMAL = re.compile(r"-?[0-9]{1,19}")  # int64 has 19 digits
INT64_BITS = 63


def is_decimal(text: str) -> bool:
    """Whether ``text`` (spaces around it ignored) is a plain ASCII decimal integer of at most 19 digits."""
    return _DECIMAL.fullmatch(text.strip()) is not None


def parse_decimal(text: str) -> int:
    """``text`` as an integer; ValueError saying why when it is not a plain decimal of at most 19 digits."""
    stripped = text.strip()
    if _DECIMAL.fullmatch(stripped) is None:
        if re.fullmatch(r"-?[0-9]{20,}", stripped):
            raise ValueError(f"a number of {len(stripped.lstrip('-'))} digits is too large")
        raise ValueError(f"{brief(stripped)!r} is not a whole number")
    return int(stripped)


def brief(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (with ``…``) for a message that quotes the input."""
    return text if len(text) <= limit else text[:limit] + "…"
