"""Calico's selector language (netmodel/model/calico_selector.py).

The truth table is written from the Calico NetworkPolicy reference, "Selectors"
(https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#selectors): each operator's meaning,
missing labels, negation, precedence, quoting. Cases the page leaves open (a newline, ``startswith`` without the
space, a trailing comma in a set, ``!`` binding to one operation) follow Calico's Go parser
(projectcalico/calico libcalico-go/lib/selector, Apache-2.0), read, not copied: the cases here are our own.
Properties: print → parse gives the same tree; the per-label-set evaluation and the bitset evaluation over a
label index agree.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netmodel.analyze.policy.labels import LabelIndex
from netmodel.model.calico_selector import (
    All,
    And,
    Compare,
    Global,
    Has,
    InSet,
    Node,
    Not,
    Or,
    SelectorError,
    parse,
)

# selector, label sets it matches, label sets it does not match
TRUTH = [
    ('app == "web"', [{"app": "web"}, {"app": "web", "x": "y"}], [{}, {"app": "db"}, {"x": "web"}]),
    ("app == 'web'", [{"app": "web"}], [{"app": "Web"}]),
    ('app != "web"', [{}, {"app": "db"}, {"x": "web"}], [{"app": "web"}]),
    ('app in {"web", "api"}', [{"app": "web"}, {"app": "api"}], [{}, {"app": "db"}]),
    ('app not in {"web", "api"}', [{}, {"app": "db"}], [{"app": "web"}, {"app": "api"}]),
    ("app in {}", [], [{}, {"app": ""}]),
    ("app not in {}", [{}, {"app": "x"}], []),
    ('app in {"web",}', [{"app": "web"}], [{"app": ""}]),
    ("has(app)", [{"app": ""}, {"app": "x"}], [{}, {"apps": "x"}]),
    ("!has(app)", [{}, {"apps": "x"}], [{"app": ""}]),
    ("! has( app )", [{}], [{"app": "x"}]),
    ("!!has(app)", [{"app": "x"}], [{}]),
    ("all()", [{}, {"a": "b"}], []),
    ("", [{}, {"a": "b"}], []),
    ("   ", [{}], []),
    ("all( )", [{}], []),
    ('name contains "ach"', [{"name": "machine"}, {"name": "ach"}], [{}, {"name": "mac"}]),
    ('name starts with "ma"', [{"name": "machine"}, {"name": "ma"}], [{}, {"name": "ama"}]),
    ('name startswith "ma"', [{"name": "ma"}], [{"name": "am"}]),
    ('name ends with "ne"', [{"name": "machine"}], [{}, {"name": "nee"}]),
    ('name contains ""', [{"name": ""}, {"name": "x"}], [{}]),
    ('a == "1" && b == "2"', [{"a": "1", "b": "2"}], [{"a": "1"}, {"b": "2"}, {"a": "1", "b": "3"}]),
    ('a == "1" || b == "2"', [{"a": "1"}, {"b": "2"}, {"a": "1", "b": "2"}], [{}, {"a": "2", "b": "1"}]),
    # && binds tighter than ||
    ('a == "1" || b == "2" && c == "3"', [{"a": "1"}, {"b": "2", "c": "3"}], [{"b": "2"}, {"c": "3"}]),
    ('(a == "1" || b == "2") && c == "3"', [{"a": "1", "c": "3"}, {"b": "2", "c": "3"}], [{"a": "1"}]),
    # ! negates the one operation after it
    ('!a == "1" && b == "2"', [{"b": "2"}, {"a": "2", "b": "2"}], [{"a": "1", "b": "2"}, {}]),
    ('!(a == "1" && b == "2")', [{}, {"a": "1"}, {"a": "1", "b": "3"}], [{"a": "1", "b": "2"}]),
    ('!a in {"1"}', [{}, {"a": "2"}], [{"a": "1"}]),
    # quoting: either quote, the other one inside
    ("""q == '"'""", [{"q": '"'}], [{"q": "'"}]),
    ('''q == "'"''', [{"q": "'"}], [{"q": '"'}]),
    ('''q in {"'", '"'}''', [{"q": "'"}, {"q": '"'}], [{"q": ""}]),
    # label names: letters, digits, _ . / -
    ('projectcalico.org/name == "kube-system"', [{"projectcalico.org/name": "kube-system"}], [{}]),
    ('has(k8s-app) && app.kubernetes.io/part-of != "x"', [{"k8s-app": "d"}], [{"k8s-app": "d",
                                                                            "app.kubernetes.io/part-of": "x"}]),
    # operator words are labels where a label is expected
    ('in == "x"', [{"in": "x"}], [{}]),
    ('has == "x"', [{"has": "x"}], [{}]),
]


@pytest.mark.parametrize(("text", "yes", "no"), TRUTH)
def test_truth_table(text: str, yes: list[dict[str, str]], no: list[dict[str, str]]) -> None:
    sel = parse(text)
    again = parse(str(sel))
    index = LabelIndex(yes + no)
    selected = sel.select(index)
    for position, labels in enumerate(yes + no):
        expected = position < len(yes)
        assert sel.matches(labels) is expected, (text, labels)
        assert again.matches(labels) is expected, (str(sel), labels)
        assert bool(selected >> position & 1) is expected, (text, labels)


def test_global_matches_only_non_namespaced() -> None:
    sel = parse("global()")
    assert sel.matches({}, namespaced=False) and not sel.matches({}, namespaced=True)
    index = LabelIndex([{}, {"a": "b"}])
    assert sel.select(index, namespaced=True) == 0 and sel.select(index, namespaced=False) == 3
    assert parse("!global()").matches({}, namespaced=True)


@pytest.mark.parametrize(("text", "canonical"), [
    ("", "all()"),
    (" ( all() ) ", "all()"),
    ("! (has( b)||! has(a ))", "!(has(b) || !has(a))"),
    ('a=="b"&&c!="d"&&e=="f"', '(a == "b" && c != "d" && e == "f")'),
    ("a in {'z', 'x', 'z', 'a'}", 'a in {"a", "x", "z"}'),
    ('a notin {"x"}', 'a not in {"x"}'),
    ('a   not   in {"x"}', 'a not in {"x"}'),
    ("a endswith '\"'", "a ends with '\"'"),
    ("\thas(a)\t", "has(a)"),
])
def test_canonical_form(text: str, canonical: str) -> None:
    assert str(parse(text)) == canonical
    assert str(parse(canonical)) == canonical


@pytest.mark.parametrize(("text", "offset", "says"), [
    ("b == b", 5, "expected a quoted string after '=='"),
    ("'b1' == b", 0, "expected a label"),
    ("b", 1, "expected an operator after label 'b'"),
    ("a b", 2, "expected an operator"),
    ("!", 1, "found the end of the selector"),
    ('foo == "bar" &', 13, "'&' must be '&&'"),
    ('foo == "bar" |', 13, "'|' must be '||'"),
    ("a = 'x'", 2, "'=' must be '=='"),
    ('foo in ""', 7, "expected a set"),
    ('foo in {"a" "b"}', 12, "in the set"),
    ('"FOO', 0, "never closed"),
    ("x == 'FOO", 5, "never closed"),
    ("(", 1, "found the end of the selector"),
    ('(a == "foo"', 11, "expected ')' to close the '(' at offset 0"),
    (")", 0, "found ')'"),
    ("()", 1, "found ')'"),
    ("%", 0, "expected a label name, found '%'"),
    ('a == "b" && %', 12, "found '%'"),
    ("has(foo) &&", 11, "found the end of the selector"),
    ("has(foo", 7, "closing ')'"),
    ("has()", 4, "expected a label name"),
    ("all(x)", 4, "takes no argument"),
    ('a == "b" c == "d"', 9, "join terms with && or ||"),
    ('a == "b"\nc', 8, "line break"),
    ("x" * 513 + ' == "y"', 0, "longer than 512"),
])
def test_errors_say_where(text: str, offset: int, says: str) -> None:
    with pytest.raises(SelectorError) as caught:
        parse(text)
    assert caught.value.offset == offset, caught.value
    assert says in caught.value.message


# -- properties --------------------------------------------------------------------------------------------------

KEYS = ["a", "b", "x.io/c"]
VALUES = ["", "1", "12", "2", "'", '"']
quote_safe = st.sampled_from(VALUES)
leaf = st.one_of(
    st.just(All()),
    st.builds(Has, st.sampled_from(KEYS)),
    st.builds(Compare, st.sampled_from(KEYS), st.sampled_from(["==", "!=", "contains", "starts with", "ends with"]),
              quote_safe),
    st.builds(lambda k, vs, neg: InSet(k, tuple(sorted(set(vs))), neg), st.sampled_from(KEYS),
              st.lists(quote_safe, max_size=3), st.booleans()),
)


def _not(node: Node) -> Node:
    return node.operand if isinstance(node, Not) else Not(node)  # "!!x" reads back as x


trees = st.recursive(leaf, lambda inner: st.one_of(
    st.builds(_not, inner),
    st.builds(lambda ops: And(tuple(ops)), st.lists(inner, min_size=2, max_size=3)),
    st.builds(lambda ops: Or(tuple(ops)), st.lists(inner, min_size=2, max_size=3))), max_leaves=8)
label_sets = st.lists(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3), min_size=1,
                      max_size=6)


@given(trees)
def test_print_parse_round_trip(tree: Node) -> None:
    text = str(tree)
    assert parse(text).root == tree
    assert str(parse(text)) == text


@given(trees, label_sets)
def test_index_evaluation_agrees_with_per_label_set(tree: Node, items: list[dict[str, str]]) -> None:
    sel = parse(str(tree))
    bits = sel.select(LabelIndex(items))
    for position, labels in enumerate(items):
        assert bool(bits >> position & 1) is sel.matches(labels)


def test_global_is_a_leaf_too() -> None:
    assert parse(str(Or((Global(), Has("a"))))).root == Or((Global(), Has("a")))


def test_module_examples() -> None:
    import doctest

    import netmodel.model.calico_selector as module

    assert doctest.testmod(module).failed == 0
