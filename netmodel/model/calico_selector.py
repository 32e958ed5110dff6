"""Calico's selector language: parsed once, printed canonically, evaluated on label sets or over a label index.

The grammar and matching rules are Calico's (NetworkPolicy reference, "Selectors":
https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#selectors; the Go parser in
projectcalico/calico ``libcalico-go/lib/selector``, read to settle what the page leaves open)::

    selector   := "" | or
    or         := and ("||" and)*              -- lowest precedence
    and        := operation ("&&" operation)*
    operation  := "!"* ( "all()" | "global()" | "has(" label ")" | "(" or ")"
                       | label ("==" | "!=" | "contains" | "starts with" | "ends with") string
                       | label ("in" | "not in") "{" [string ("," string)* [","]] "}" )
    string     := '"' any but '"' '"' | "'" any but "'" "'"     -- no escapes: a value cannot hold both quotes
    label      := [A-Za-z0-9_./-]{1,512}

Whitespace is spaces and tabs only (a newline is an error, as in Calico). ``starts with``, ``ends with`` and
``not in`` may be written without the space. A leading run of ``!`` negates the one operation after it
(``!a == "x" && b == "y"`` is ``(!(a == "x")) && b == "y"``). The empty selector means ``all()``.

Matching: ``k == v``, ``in``, ``contains``, ``starts with``, ``ends with`` and ``has(k)`` need the label;
``k != v`` and ``not in`` also match when the label is missing. ``all()`` matches everything. ``global()``
matches non-namespaced endpoints only (host endpoints, global network sets); it is meaningful in a rule's
``namespaceSelector``, and never matches a Pod (the caller says which it evaluates, ``namespaced``).

>>> sel = parse('app == "web" && tier in {"front", "edge"} || !has(app)')
>>> str(sel)
'((app == "web" && tier in {"edge", "front"}) || !has(app))'
>>> sel.matches({"app": "web", "tier": "edge"}), sel.matches({"app": "db"}), sel.matches({})
(True, False, True)
>>> try:
...     parse('app == web')
... except SelectorError as e:
...     print(e.offset, e.message)
7 expected a quoted string after '==', found label 'web'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

MAX_LABEL = 512  # Calico's limit on a label name in a selector
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")
_BLANK = " \t"


class SelectorError(ValueError):
    """A selector that does not parse: what is wrong and the 0-based offset in the selector text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"at offset {offset}: {message}")
        self.message = message
        self.offset = offset


# -- the tree ----------------------------------------------------------------------------------------------------

def _quote(value: str) -> str:
    """A value quoted as Calico prints it: double quotes unless the value holds one."""
    return f"'{value}'" if '"' in value else f'"{value}"'


@dataclass(frozen=True, slots=True)
class All:
    """``all()`` (and the empty selector)."""

    def __str__(self) -> str:
        return "all()"


@dataclass(frozen=True, slots=True)
class Global:
    """``global()``: non-namespaced endpoints only."""

    def __str__(self) -> str:
        return "global()"


@dataclass(frozen=True, slots=True)
class Has:
    """``has(key)``."""

    key: str

    def __str__(self) -> str:
        return f"has({self.key})"


@dataclass(frozen=True, slots=True)
class Compare:
    """``key OP "value"`` with OP one of ``==``, ``!=``, ``contains``, ``starts with``, ``ends with``."""

    key: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.key} {self.op} {_quote(self.value)}"


@dataclass(frozen=True, slots=True)
class InSet:
    """``key in {...}`` (``negated``: ``key not in {...}``); values sorted, each once."""

    key: str
    values: tuple[str, ...]
    negated: bool

    def __str__(self) -> str:
        return f"{self.key} {'not in' if self.negated else 'in'} {{{', '.join(map(_quote, self.values))}}}"


@dataclass(frozen=True, slots=True)
class Not:
    """``!operation``."""

    operand: Node

    def __str__(self) -> str:
        return f"!{self.operand}"


@dataclass(frozen=True, slots=True)
class And:
    """Operations joined by ``&&`` (two or more)."""

    operands: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " && ".join(map(str, self.operands)) + ")"


@dataclass(frozen=True, slots=True)
class Or:
    """Terms joined by ``||`` (two or more)."""

    operands: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " || ".join(map(str, self.operands)) + ")"


Node = All | Global | Has | Compare | InSet | Not | And | Or

_STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "==": lambda have, want: have == want,
    "contains": lambda have, want: want in have,
    "starts with": lambda have, want: have.startswith(want),
    "ends with": lambda have, want: have.endswith(want),
}


def _matches(node: Node, labels: Mapping[str, str], namespaced: bool) -> bool:
    if isinstance(node, All):
        return True
    if isinstance(node, Global):
        return not namespaced
    if isinstance(node, Has):
        return node.key in labels
    if isinstance(node, Compare):
        have = labels.get(node.key)
        if node.op == "!=":
            return have != node.value
        return have is not None and _STRING_TESTS[node.op](have, node.value)
    if isinstance(node, InSet):
        have = labels.get(node.key)
        return (have is not None and have in node.values) != node.negated
    if isinstance(node, Not):
        return not _matches(node.operand, labels, namespaced)
    if isinstance(node, And):
        return all(_matches(o, labels, namespaced) for o in node.operands)
    return any(_matches(o, labels, namespaced) for o in node.operands)


class LabelBits(Protocol):
    """What :meth:`Selector.select` needs of an index over many label sets (each a bit position)."""

    @property
    def everything(self) -> int:
        """Every position."""

    def with_value(self, key: str, value: str) -> int:
        """The positions whose label ``key`` is ``value``."""

    def with_key(self, key: str) -> int:
        """The positions that have the label ``key``."""

    def values(self, key: str) -> Mapping[str, int]:
        """Each value of ``key`` and the positions that have it."""


def _select(node: Node, index: LabelBits, namespaced: bool) -> int:
    everything = index.everything
    if isinstance(node, All):
        return everything
    if isinstance(node, Global):
        return 0 if namespaced else everything
    if isinstance(node, Has):
        return index.with_key(node.key)
    if isinstance(node, Compare):
        if node.op == "==":
            return index.with_value(node.key, node.value)
        if node.op == "!=":
            return everything & ~index.with_value(node.key, node.value)
        test = _STRING_TESTS[node.op]
        out = 0
        for value, bits in index.values(node.key).items():
            if test(value, node.value):
                out |= bits
        return out
    if isinstance(node, InSet):
        listed = 0
        for value in node.values:
            listed |= index.with_value(node.key, value)
        return everything & ~listed if node.negated else listed
    if isinstance(node, Not):
        return everything & ~_select(node.operand, index, namespaced)
    if isinstance(node, And):
        out = everything
        for operand in node.operands:
            out &= _select(operand, index, namespaced)
            if not out:
                break
        return out
    out = 0
    for operand in node.operands:
        out |= _select(operand, index, namespaced)
    return out


@dataclass(frozen=True, slots=True)
class Selector:
    """A parsed selector: ``text`` as written, ``root`` its tree. ``str()`` is Calico's canonical form."""

    text: str
    root: Node

    def __str__(self) -> str:
        return str(self.root)

    @property
    def is_all(self) -> bool:
        """Whether the selector is ``all()`` (or empty)."""
        return isinstance(self.root, All)

    def matches(self, labels: Mapping[str, str], namespaced: bool = True) -> bool:
        """Whether an endpoint with ``labels`` is selected (``namespaced``: it lives in a namespace)."""
        return _matches(self.root, labels, namespaced)

    def select(self, index: LabelBits, namespaced: bool = True) -> int:
        """The positions of ``index`` the selector matches, as a bitset: a few set operations per node,
        never one evaluation per position."""
        return _select(self.root, index, namespaced)


def prefixed(selector: Selector, prefix: str, all_becomes: Node | None = None,
             global_becomes: Node | None = None) -> Selector:
    """``selector`` with every label name prefixed, as Calico rewrites namespace and service-account selectors
    onto the labels an endpoint inherits (``pcns.``, ``pcsa.``; libcalico-go
    ``lib/backend/syncersv1/updateprocessors/selectors.go``: parseSelectorAttachPrefix with the parser's
    PrefixVisitor). ``all_becomes``/``global_becomes`` replace ``all()``/``global()`` where Calico substitutes
    them (rules.go getEndpointSelector: a rule's namespaceSelector ``all()`` means "in some namespace",
    ``global()`` "in none").

    >>> str(prefixed(parse('!has(env) || all()'), "pcns.", all_becomes=Has("projectcalico.org/namespace")))
    '(!has(pcns.env) || has(projectcalico.org/namespace))'
    """
    def walk(node: Node) -> Node:
        if isinstance(node, All):
            return all_becomes if all_becomes is not None else node
        if isinstance(node, Global):
            return global_becomes if global_becomes is not None else node
        if isinstance(node, Has):
            return Has(prefix + node.key)
        if isinstance(node, Compare):
            return Compare(prefix + node.key, node.op, node.value)
        if isinstance(node, InSet):
            return InSet(prefix + node.key, node.values, node.negated)
        if isinstance(node, Not):
            return Not(walk(node.operand))
        if isinstance(node, And):
            return And(tuple(walk(o) for o in node.operands))
        return Or(tuple(walk(o) for o in node.operands))
    return Selector(selector.text, walk(selector.root))


def label_keys(selector: Selector) -> frozenset[str]:
    """The label names a selector tests.

    >>> sorted(label_keys(parse('a == "x" && !has(b) || c in {"y"}')))
    ['a', 'b', 'c']
    """
    def walk(node: Node) -> frozenset[str]:
        if isinstance(node, (Has, Compare, InSet)):
            return frozenset({node.key})
        if isinstance(node, Not):
            return walk(node.operand)
        if isinstance(node, (And, Or)):
            return frozenset().union(*(walk(o) for o in node.operands))
        return frozenset()
    return walk(selector.root)


def conjunction(*selectors: Selector | None) -> Selector | None:
    """The selectors given (None skipped) joined by ``&&``; None when none is given."""
    given = [s for s in selectors if s is not None]
    if not given:
        return None
    if len(given) == 1:
        return given[0]
    return Selector(" && ".join(f"({s.text})" for s in given), And(tuple(s.root for s in given)))


# -- tokens ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # label string ( ) { } , == != ! && || op has all global end
    value: str
    offset: int

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the selector"
        if self.kind == "label":
            return f"label {self.value!r}"
        if self.kind == "string":
            return f"string {_quote(self.value)}"
        if self.kind == "has":
            return f"has({self.value})"
        if self.kind in ("all", "global"):
            return f"{self.kind}()"
        return repr(self.value or self.kind)


def _skip_blank(text: str, i: int) -> int:
    while i < len(text) and text[i] in _BLANK:
        i += 1
    return i


def _label_end(text: str, i: int) -> int:
    j = i
    while j < len(text) and text[j] in _LABEL_CHARS:
        j += 1
    return j


def _word(text: str, i: int, *words: str) -> int:
    """The end of ``words`` at ``i`` (blanks allowed between them, none required), or -1; the last word must
    end at a word boundary."""
    j = i
    for word in words:
        if not text.startswith(word, j):
            return -1
        j = _skip_blank(text, j + len(word)) if word != words[-1] else j + len(word)
    return j if j == len(text) or text[j] not in _LABEL_CHARS else -1


def _label(text: str, i: int) -> tuple[str, int]:
    j = _label_end(text, i)
    if j == i:
        if i < len(text) and text[i] in "\r\n":
            raise SelectorError("a line break inside the selector (Calico separates terms with spaces and tabs "
                                "only: write the selector on one line, e.g. a YAML plain or quoted scalar)", i)
        found = repr(text[i]) if i < len(text) else "the end of the selector"
        raise SelectorError(f"expected a label name, found {found}", i)
    if j - i > MAX_LABEL:
        raise SelectorError(f"label name longer than {MAX_LABEL} characters", i)
    return text[i:j], j


def _call(text: str, i: int, name: str) -> int:
    """The end of ``name()`` at ``i`` (blanks inside the parentheses), or -1 when ``name(`` is not there."""
    if not text.startswith(name + "(", i):
        return -1
    j = _skip_blank(text, i + len(name) + 1)
    if j >= len(text) or text[j] != ")":
        raise SelectorError(f"{name}( takes no argument and needs its closing ')'", j)
    return j + 1


def tokenize(text: str) -> list[_Token]:
    """The tokens of ``text``; an operator is looked for right after a label, as Calico does."""
    out: list[_Token] = []
    i = 0
    simple = {"(": "(", ")": ")", "{": "{", "}": "}", ",": ","}
    while True:
        i = _skip_blank(text, i)
        if i == len(text):
            out.append(_Token("end", "", i))
            return out
        c = text[i]
        after_label = bool(out) and out[-1].kind == "label"
        if c in simple:
            out.append(_Token(simple[c], c, i))
            i += 1
        elif c in "\"'":
            end = text.find(c, i + 1)
            if end < 0:
                raise SelectorError(f"string opened with {c} is never closed", i)
            out.append(_Token("string", text[i + 1:end], i))
            i = end + 1
        elif c == "=":
            if not text.startswith("==", i):
                raise SelectorError("'=' must be '=='", i)
            out.append(_Token("==", "==", i))
            i += 2
        elif c == "!":
            if text.startswith("!=", i):
                out.append(_Token("!=", "!=", i))
                i += 2
            else:
                out.append(_Token("!", "!", i))
                i += 1
        elif c in "&|":
            if not text.startswith(c * 2, i):
                raise SelectorError(f"'{c}' must be '{c * 2}'", i)
            out.append(_Token(c * 2, c * 2, i))
            i += 2
        elif after_label:
            for words, op in ((("contains",), "contains"), (("starts", "with"), "starts with"),
                              (("ends", "with"), "ends with"), (("not", "in"), "not in"), (("in",), "in")):
                end = _word(text, i, *words)
                if end >= 0:
                    out.append(_Token("op", op, i))
                    i = end
                    break
            else:
                raise SelectorError(f"expected an operator (==, !=, in, not in, contains, starts with, ends with) "
                                    f"after label {out[-1].value!r}", i)
        elif text.startswith("has(", i):
            j = _skip_blank(text, i + 4)
            key, j = _label(text, j)
            j = _skip_blank(text, j)
            if j >= len(text) or text[j] != ")":
                raise SelectorError(f"has({key} needs its closing ')'", j)
            out.append(_Token("has", key, i))
            i = j + 1
        elif (end := _call(text, i, "all")) >= 0:
            out.append(_Token("all", "", i))
            i = end
        elif (end := _call(text, i, "global")) >= 0:
            out.append(_Token("global", "", i))
            i = end
        else:
            key, end = _label(text, i)
            out.append(_Token("label", key, i))
            i = end


# -- the parser --------------------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        if token.kind != "end":
            self.at += 1
        return token

    def or_expression(self) -> Node:
        terms = [self.and_expression()]
        while self.peek().kind == "||":
            self.take()
            terms.append(self.and_expression())
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def and_expression(self) -> Node:
        terms = [self.operation()]
        while self.peek().kind == "&&":
            self.take()
            terms.append(self.operation())
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def operation(self) -> Node:
        negated = False
        while self.peek().kind == "!":
            self.take()
            negated = not negated
        node = self._positive()
        return Not(node) if negated else node

    def _string_after(self, op: str) -> str:
        token = self.take()
        if token.kind != "string":
            raise SelectorError(f"expected a quoted string after {op!r}, found {token.describe()}", token.offset)
        return token.value

    def _positive(self) -> Node:
        token = self.take()
        if token.kind == "has":
            return Has(token.value)
        if token.kind == "all":
            return All()
        if token.kind == "global":
            return Global()
        if token.kind == "(":
            inner = self.or_expression()
            close = self.take()
            if close.kind != ")":
                raise SelectorError(f"expected ')' to close the '(' at offset {token.offset}, found "
                                    f"{close.describe()}", close.offset)
            return inner
        if token.kind != "label":
            raise SelectorError(f"expected a label, has(), all(), global(), '!' or '(', found {token.describe()}",
                                token.offset)
        op = self.take()
        if op.kind in ("==", "!="):
            return Compare(token.value, op.kind, self._string_after(op.kind))
        if op.kind == "op" and op.value in ("contains", "starts with", "ends with"):
            return Compare(token.value, op.value, self._string_after(op.value))
        if op.kind == "op":  # in, not in
            brace = self.take()
            if brace.kind != "{":
                raise SelectorError(f"expected a set such as {{\"a\", \"b\"}} after {op.value!r}, found "
                                    f"{brace.describe()}", brace.offset)
            values: set[str] = set()
            while self.peek().kind == "string":
                values.add(self.take().value)
                if self.peek().kind != ",":
                    break
                self.take()
            close = self.take()
            if close.kind != "}":
                raise SelectorError(f"expected a quoted string, ',' or '}}' in the set, found {close.describe()}",
                                    close.offset)
            return InSet(token.value, tuple(sorted(values)), op.value == "not in")
        raise SelectorError(f"expected an operator after label {token.value!r}, found {op.describe()}", op.offset)


def parse(text: str) -> Selector:
    """``text`` parsed (raises :class:`SelectorError` with the offset of the problem)."""
    parser = _Parser(text)
    if parser.peek().kind == "end":
        return Selector(text, All())
    root = parser.or_expression()
    rest = parser.peek()
    if rest.kind != "end":
        raise SelectorError(f"unexpected {rest.describe()} after a complete selector (join terms with && or ||)",
                            rest.offset)
    return Selector(text, root)


ALL = Selector("", All())

__all__ = ["ALL", "MAX_LABEL", "All", "And", "Compare", "Global", "Has", "InSet", "LabelBits", "Node", "Not", "Or",
           "Selector", "SelectorError", "conjunction", "label_keys", "parse", "prefixed", "tokenize"]
