"""netmodel.report.json_text writes the same text as json.dumps(indent=2), on random JSON trees and edge cases."""

from __future__ import annotations

import enum
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netmodel.report.json_text import dumps_indented

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text()
KEYS = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
TREES = st.recursive(SCALARS, lambda children: st.lists(children, max_size=5)
                     | st.tuples(children, children) | st.dictionaries(KEYS, children, max_size=5), max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(TREES, st.booleans())
def test_same_text_as_json_dumps(tree: object, ensure_ascii: bool) -> None:
    assert dumps_indented(tree, ensure_ascii=ensure_ascii) == json.dumps(tree, indent=2, ensure_ascii=ensure_ascii)


class Color(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@pytest.mark.parametrize("tree", [
    {}, [], (), "", {"a": {}, "b": [], "c": [[]]}, {"é\u2028\x00": "\ud800"}, [math.nan, -math.inf, 1e300, -0.0],
    {Color.RED: Color.RED, "level": Level.HIGH}, {2: 2, 2.5: 3, True: 4, False: 0, None: 5},
])
def test_edge_cases(tree: object) -> None:
    for ensure_ascii in (True, False):
        assert dumps_indented(tree, ensure_ascii=ensure_ascii) == json.dumps(tree, indent=2,
                                                                             ensure_ascii=ensure_ascii)


@pytest.mark.parametrize("tree", [{"a": {1, 2}}, [object()], {(1, 2): 3}])
def test_refuses_what_json_refuses(tree: object) -> None:
    with pytest.raises(TypeError):
        json.dumps(tree, indent=2)
    with pytest.raises(TypeError):
        dumps_indented(tree)
