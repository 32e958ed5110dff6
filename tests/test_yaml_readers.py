"""The two YAML readers agree: rapidyaml's fast path (``netmodel/load/yaml_fast.py``) and PyYAML's event reader.

For every YAML file of the repository's inputs (topologies/ and everything under tests/: corpus, conformance,
bad inputs, ...) and for generated YAML (Hypothesis), both readers must give the same documents — the same
values of the same types, in the same order — with the same location for every value and every key, or refuse
with the same located problems. The fast path is checked where it actually runs: ``parse_fast`` is called
directly, and the corpus test fails if it leaves too many files to PyYAML.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from netmodel.errors import LoadError
from netmodel.load import yaml_fast
from netmodel.load.files import decode
from netmodel.load.yaml_reader import parse_yaml_events
from netmodel.load.yaml_text import parse_yaml
from netmodel.load.yaml_tree_marks import UNSURE

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(p for folder in ("topologies", "tests") for p in (ROOT / folder).rglob("*")
               if p.suffix in (".yaml", ".yml") and p.is_file())

pytestmark = pytest.mark.skipif(not yaml_fast.enabled(), reason="rapidyaml (the ryml module) is not installed")


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_paths(v, path + (k if isinstance(k, (str, int)) else str(k),)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_paths(v, path + (i,)))
    return found


def _outcome(documents: list[Any]) -> list[tuple[str, str, list[tuple[Any, ...]]]]:
    """Every document as its file, its value (repr: types, order and NaN included) and every location."""
    out = []
    for doc in documents:
        spans = [(p, str(doc.span(p)), str(doc.key_span(p)) if p else "") for p in _paths(doc.data)]
        out.append((doc.file, repr(doc.data), spans))
    return out


def _run(read: Any, text: str, file: str) -> tuple[str, Any]:
    try:
        documents = read(text, file)
    except LoadError as err:
        return "error", [(p.message, str(p.span), p.hint) for p in err.problems]
    if documents is None:
        return "left to PyYAML", None
    return "documents", _outcome(documents)


def _compare(text: str, file: str = "in.yaml") -> bool:
    """Assert both readers agree on ``text``; True if the fast path read (part of) it.

    The fast path is run twice: as the command line runs it, and with rapidyaml given one document at a time,
    each into a tree reserved beforehand (``_RESERVE_FROM`` 0), every top-level sequence located entry by entry
    as a large document's are (``_PIECES_FROM``, ``_ENTRIES_FROM``), so that every way it can cut the text and
    size its tree is held to the event reader's answer, and the two ways make the same choice of reader.
    """
    events = _run(parse_yaml_events, text, file)
    fast = _run(yaml_fast.parse_fast, text, file)
    limits = yaml_fast._RESERVE_FROM, yaml_fast._PIECES_FROM, yaml_fast._ENTRIES_FROM
    yaml_fast._RESERVE_FROM, yaml_fast._PIECES_FROM, yaml_fast._ENTRIES_FROM = 0, 0, 1
    try:
        by_document = _run(lambda t, f: yaml_fast.parse_fast(t, f, chunk_bytes=1), text, file)
    finally:
        yaml_fast._RESERVE_FROM, yaml_fast._PIECES_FROM, yaml_fast._ENTRIES_FROM = limits
    assert by_document == fast
    if fast[0] == "left to PyYAML":
        assert _run(parse_yaml, text, file) == events
        return False
    assert fast == events
    if fast[0] == "documents":
        _tree_marks_agree(text, file)
    return True


def _probes(value: Any, path: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Paths next to ``path`` that name nothing (or name an entry through a bool index, as a dict key would)."""
    if isinstance(value, dict):
        return [path + ("no such key",), path + (0,)]
    if isinstance(value, list):
        return [path + (len(value),), path + (True,)]
    return [path + ("x",)]


TREE_ANSWERS: Counter[str] = Counter()  # over every call of _tree_marks_agree: lookups the trees answered, asked


def _tree_marks_agree(text: str, file: str) -> None:
    """Every path of every document the fast path locates lazily, its value and its key, and paths next to them
    that name nothing: rapidyaml's tree (TreeMarks) answers what the event reader recorded, or declines (UNSURE).
    Counts, in TREE_ANSWERS, how many of the documents' own paths' lookups it answered and how many there were."""
    answered = asked = 0
    try:
        documents = yaml_fast.parse_fast(text, file) or []
    except LoadError:
        return
    for doc in documents:
        index = doc.spans
        if not isinstance(index, yaml_fast.LazyYamlSpanIndex):
            continue
        marks, events = index._marks(), index._ensure()  # the index's two sources of answers, compared
        assert marks is not None and events
        paths = _paths(doc.data)
        probes = [q for p, v in _paths_and_values(doc.data) for q in _probes(v, p)]
        for n, path in enumerate(paths + probes):
            full = doc.base + path
            for found, recorded in ((marks.value(full), events.lookup(full)), (marks.key(full), events.lookup_key(full))):
                if found is not UNSURE:
                    assert found == recorded, (text, full)
                if n < len(paths):
                    asked += 1
                    answered += found is not UNSURE
    TREE_ANSWERS.update(answered=answered, asked=asked)


def _paths_and_values(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    found = [(path, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_paths_and_values(v, path + (k if isinstance(k, (str, int)) else str(k),)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_paths_and_values(v, path + (i,)))
    return found


def test_every_yaml_file_of_the_repository_reads_the_same_with_both_readers() -> None:
    assert len(FILES) > 200  # the corpus is there
    answered_before, asked_before = TREE_ANSWERS["answered"], TREE_ANSWERS["asked"]
    fast = 0
    not_text = []
    for path in FILES:
        name = str(path.relative_to(ROOT))
        try:
            text = decode(path.read_bytes(), name)
        except LoadError:
            not_text.append(name)  # refused before any YAML reader sees it
            continue
        fast += _compare(text, name)
    assert not_text == ["tests/bad_inputs/not-utf8.yaml"]
    # The fast path must really be what reads the corpus, or this test compares PyYAML with itself.
    assert fast >= 0.9 * len(FILES), f"only {fast} of {len(FILES)} files took the fast path"
    # ... and rapidyaml's trees must answer the locations themselves: declining every one would pass the
    # comparison in _tree_marks_agree and leave every lookup to the event reader.
    answered, asked = TREE_ANSWERS["answered"] - answered_before, TREE_ANSWERS["asked"] - asked_before
    assert asked > 20_000
    assert answered >= 0.99 * asked, f"the trees answered {answered} of {asked} lookups"


def test_paths_of_other_types_are_located_as_the_event_reader_locates_them() -> None:
    text = "a:\n- x\n- y\nb: {c: 1}\n"
    index = yaml_fast.parse_fast(text, "in.yaml")[0].spans
    marks, events = index._marks(), index._ensure()
    for path in [("a", -1), ("a", "0"), ("a", 1.0), ("a", None), ("b", None), ("b", 0), ("b", 1.5), (None,),
                 ("a", 0, 0), ("b", "c", "d"), ("a", 2), ("a", 10**30)]:
        for found, recorded in ((marks.value(path), events.lookup(path)), (marks.key(path), events.lookup_key(path))):
            assert found is UNSURE or found == recorded, path
    assert marks.value(("a", True)) == events.lookup(("a", 1)) == (3, 3)


def test_the_bad_inputs_are_refused_alike_and_located() -> None:
    for path in sorted((ROOT / "tests" / "bad_inputs").glob("*.y*ml")):
        name = str(path.relative_to(ROOT))
        try:
            text = decode(path.read_bytes(), name)
        except LoadError:
            continue
        events = _run(parse_yaml_events, text, name)
        assert events[0] == "error", name
        assert _run(parse_yaml, text, name) == events
        assert all(span.startswith(name + ":") for _, span, _ in events[1])


# Plain scalars YAML 1.1 (PyYAML) and JSON/YAML 1.2 (rapidyaml) may read differently, and ordinary ones.
SCALARS = [
    "yes", "No", "ON", "off", "y", "n", "true", "True", "TRUE", "false", "null", "Null", "NULL", "~", "",
    "0", "-0", "+0", "7", "-12", "+12", "012", "0o17", "0x1F", "-0x1f", "0b101", "1_000", "1:30", "-1:30:00",
    "190:20:30.15", "1.0", "-1.5", "1.", ".5", "-.5", "1e3", "1E3", "1.5e3", "1.5e+3", "6.8523015e+5", "1.e+3",
    "0.1000000000000000055511151231257827", ".inf", "-.Inf", ".NaN", "00", "09", "1_0.5", "12345678901234567890",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
    "=", "<<", "a", "abc def", "10.0.0.0/8", "app:1.0", "a:b", "80/TCP", "x#y", "-", "--", "a-b", "http://x/y?z",
    "éclair", "日本", "@x", "`x", "%x", "!x", "&a", "*a", "?x", ":x", "a: b", "[a]", "{a}", "a,b", "#c", "...",
    "---", "a\tb",
]
KEYS = ["a", "b", "name", "1", "0x10", "yes", "null", "~", "", "1.5", "<<", "true", "on", "k k", "-1"]


def _quote(s: str, how: int) -> str:
    if how == 1:
        return "'" + s.replace("'", "''") + "'"
    if how == 2:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'
    return s


scalar = st.builds(_quote, st.sampled_from(SCALARS), st.sampled_from([0, 0, 0, 1, 2]))
key = st.builds(_quote, st.sampled_from(KEYS), st.sampled_from([0, 0, 0, 1, 2]))
tags = st.sampled_from(["", "", "", "", "!!str ", "!!int ", "!!bool ", "!!float ", "!!null ", "!custom "])
comments = st.sampled_from(["", "", "", " # c", " #yes"])
block_scalars = st.builds(lambda head, lines: head + "\n" + "".join(f"  {x}\n" for x in lines),
                          st.sampled_from(["|", ">", "|-", ">-", "|+", ">+", "|2"]),
                          st.lists(st.sampled_from(["yes", "1", "a b", "", "  indented", "x: y", "#no"]),
                                   min_size=1, max_size=3))


def _flow(values: list[str], mapping: bool, keys: list[str]) -> str:
    if mapping:
        return "{" + ", ".join(f"{k}: {v}" if v else f"{k}" for k, v in zip(keys, values, strict=False)) + "}"
    return "[" + ", ".join(values) + "]"


flow = st.builds(_flow, st.lists(scalar.filter(lambda s: s not in ("", "#c", "...", "---")), max_size=4),
                 st.booleans(), st.lists(key, min_size=4, max_size=4))


@st.composite
def block(draw: Any, indent: int = 0, depth: int = 0) -> str:
    """A block mapping or sequence at ``indent`` (each line ends with a newline)."""
    pad = " " * indent
    lines = []
    is_map = draw(st.booleans())
    for _ in range(draw(st.integers(1, 4))):
        head = f"{pad}{draw(key)}:" if is_map else f"{pad}-"
        choice = draw(st.integers(0, 9 if depth < 3 else 6))
        if choice <= 4:
            lines.append(f"{head} {draw(tags)}{draw(scalar)}{draw(comments)}".rstrip(" ") + "\n")
        elif choice == 5:
            lines.append(f"{head} {draw(flow)}\n")
        elif choice == 6:
            lines.append(f"{head} {draw(block_scalars)}".replace("\n  ", "\n" + pad + "  "))
        else:
            lines.append(head + "\n" + draw(block(indent + 2, depth + 1)))
    return "".join(lines)


@st.composite
def stream(draw: Any) -> str:
    docs = [draw(block()) for _ in range(draw(st.integers(1, 3)))]
    sep = draw(st.sampled_from(["---\n", "--- \n", "---\n# c\n"]))
    text = ("---\n" if draw(st.booleans()) else draw(st.sampled_from(["", "# head\n"]))) + sep.join(docs)
    extra = draw(st.sampled_from(["", "", "", "", "a: &x 1\nb: *x\n", "...\n", "%YAML 1.1\n", "\ta: 1\n",
                                  "a: 1\na: 2\n", "- [[[[1]]]]\n", "a: b: c\n", "\ufeffa: 1\n", "a: 1\r\n"]))
    return text + (("---\n" + extra) if extra else "")


@settings(max_examples=400)
@given(stream())
@example("a: yes\nb: '1'\nc: 1\nd: 1e3\n")
@example("{1}\n")
@example("- -.Inf\n- .NaN\n- .INF\n")
@example("a: @x\nb: `y\nc: [@z]\n")
@example("- -.5\n- .5\n- 1.\n- -1.\n- -.5e+3\n")
@example("a: .inf\nb: -.Inf\nc: .NaN\n")
@example("1: a\n'1': b\n")
@example(": x\n")
@example("a: !!str 1\n")
@example("- " * 101 + "x\n")
@example("a: 1\n---\n---\nb: [0x10, 1]\n")
def test_generated_yaml_reads_the_same_with_both_readers(text: str) -> None:
    _compare(text)


# Layouts whose locations are read off rapidyaml's tree (yaml_tree_marks) by rules of the syntax, or declined:
# compact nested entries (`- - x`, `- k: v`), indentless sequences, entries on the line after their indicator,
# comments in between, explicit keys, empty values and collections, multi-line scalars and flow collections,
# text before a value that is not ASCII.
LAYOUT_KEYS = ["a", "b", "name", "'q k'", '"d q"', "é", "日本", "k-1", "x.y/z"]
inline = st.one_of(
    scalar.filter(lambda s: s not in ("", "#c", "...", "---")),
    st.sampled_from(["{}", "[]", "{ }", "[ ]", "{a: 1}", "[1, 2]", "{é: [x, 'y']}", "[[], {}]", "[a: 1]",
                     "[\n  a, b]", "{\n  a: 1}", '"two\n  lines"', "'two\n  lines'", "plain\n  folded",
                     "# only a comment"]))


@st.composite
def layout_mapping(draw: Any, indent: int, depth: int) -> str:
    pad = " " * indent
    keys = draw(st.lists(st.sampled_from(LAYOUT_KEYS), min_size=1, max_size=3, unique=True))
    out = []
    for k in keys:
        head = f"{pad}? {k}\n{pad}:" if draw(st.integers(0, 9)) == 0 else f"{pad}{k}{draw(st.sampled_from([':', ':', ' :']))}"
        out.append(head + draw(layout_value(indent, depth, in_sequence=False)))
    return "".join(out)


@st.composite
def layout_sequence(draw: Any, indent: int, depth: int) -> str:
    pad = " " * indent
    return "".join(f"{pad}-" + draw(layout_value(indent, depth, in_sequence=True))
                   for _ in range(draw(st.integers(1, 3))))


@st.composite
def layout_value(draw: Any, indent: int, depth: int, in_sequence: bool) -> str:
    """What follows a key's `:` or an entry's `-`, up to and including the line break."""
    pad = " " * indent
    choice = draw(st.integers(0, 9 if depth < 3 else 3))
    if choice == 0:
        return "\n"  # an empty value
    if choice <= 2:
        return " " + draw(inline).replace("\n", "\n" + pad) + "\n"
    if choice == 3:
        return " |\n" + pad + "  text\n"
    nested = draw(st.booleans())
    inner = layout_mapping(indent + 2, depth + 1) if nested else layout_sequence(indent + 2, depth + 1)
    body = draw(inner)
    if choice <= 5 and in_sequence:  # compact: the nested collection starts on the entry's line
        return " " + body[indent + 2:]
    if choice == 6 and not in_sequence and not nested:  # an indentless sequence
        return "\n" + draw(layout_sequence(indent, depth + 1))
    return draw(st.sampled_from(["", " # c", "\n" + pad + "  # c"])) + "\n" + body


@settings(max_examples=400)
@given(st.lists(st.one_of(layout_mapping(0, 0), layout_sequence(0, 0)), min_size=1, max_size=3),
       st.sampled_from(["", "---\n", "# c\n---\n"]))
@example(["- - x\n  - y\n- a: 1\n  b: 2\n"], "")
@example(["a:\n- x\n- {}\nb: []\nc : {}\n'q k': [\n  1]\n"], "---\n")
@example(["- ? a\n  : b\n-\n  c: d\n- # c\n  e\n"], "")
@example(["é: [x, 'y']\n日本: {a: \"b\"}\n"], "")
def test_generated_layouts_are_located_alike(documents: list[str], head: str) -> None:
    _compare(head + "---\n".join(documents))
    _compare("--- {a: [1, {}], 'b': ''}\n--- [x, [y]]\n--- plain\n")


@given(st.lists(st.tuples(key, scalar), min_size=1, max_size=6))
def test_generated_mappings_of_scalars_read_the_same(pairs: list[tuple[str, str]]) -> None:
    _compare("".join(f"{k}: {v}\n" for k, v in pairs))
    _compare("{" + ", ".join(f"{k}: {v}" for k, v in pairs if v not in ("#c",)) + "}\n")


def test_nesting_limit_is_the_same() -> None:
    from netmodel.load.yaml_reader import MAX_DEPTH

    for depth in (MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1):
        _compare("a: " + "[" * depth + "]" * depth + "\n")
        _compare("".join(" " * (2 * i) + "k:\n" for i in range(depth)) + " " * (2 * depth) + "v: 1\n")
    with pytest.raises(LoadError, match="nesting deeper"):
        parse_yaml("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", "in.yaml")


def test_the_fast_path_reads_a_large_stream_and_leaves_only_doubtful_documents_to_pyyaml() -> None:
    plain = "".join(f"---\nkind: Pod\nmetadata: {{name: p{i}}}\nspec: {{port: {i}}}\n" for i in range(200))
    text = plain + "---\nkind: Pod\nmetadata: {name: odd}\nspec: {hostNetwork: yes}\n"
    documents = yaml_fast.parse_fast(text, "in.yaml")
    assert documents is not None
    assert [type(d.spans).__name__ for d in documents].count("LazyYamlSpanIndex") == 200
    assert documents[-1].data["spec"]["hostNetwork"] is True  # YAML 1.1, as PyYAML reads it
    assert str(documents[-1].span(("spec", "hostNetwork"))) == "in.yaml:804:21"
    assert str(documents[150].span(("spec", "port"))) == "in.yaml:604:14"


def test_errors_stay_located_through_the_command_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("".join(f"---\nkind: Namespace\nmetadata: {{name: n{i}}}\n" for i in range(50))
                   + "---\nkind: Namespace\nmetadata: {name: x, name: y}\n")
    result = subprocess.run([sys.executable, "-m", "netmodel", "check", str(bad)], capture_output=True,
                            text=True, check=False, cwd=ROOT)
    assert result.returncode == 2
    assert f"{bad}:153:" in result.stderr and "duplicate key" in result.stderr
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr  # nothing of rapidyaml's own


def test_a_percent_sign_starting_a_scalar_is_read_as_pyyaml_reads_it() -> None:
    # `%` is YAML's directive indicator: no plain scalar starts with it, which PyYAML enforces and rapidyaml does
    # not (found by the Hypothesis test above with the key `%x` in a flow mapping).
    for text in ("{%x: 1}\n", "[%x]\n", "a: [1, %x]\n", "a: {b: %x}\n"):
        _compare(text)
    assert _compare("maxSurge: 25%\n")  # inside a scalar it is plain text, and the fast path keeps reading it


# A mapping holding a key twice ({k} and {j} the same), at each depth and in each style, in a stream among plain
# documents; with {j} another key, it must stay on the fast path. Keys and strings holding `":` and backslashes are
# there because the fast path counts the JSON's `":` to prove that no key was lost (yaml_fast._decode).
DUPLICATES = [
    "{k}: 1\n{j}: 2\n",
    "{{{k}: 1, {j}: 2}}\n",
    "a:\n  b:\n    {k}: 1\n    c: x\n    {j}: 2\n",
    "a: [1, {{b: {{{k}: 1, {j}: 2}}}}]\n",
    "- x\n- {k}: 1\n  {j}: [1]\n",
    "a:\n- - {k}: {{}}\n    {j}: null\n",
    "s: 'x\": y'\nt: \"\\\\\"\na:\n  {k}: 1\n  {j}: 2\n",
    "last: |\n  {{\"{k}\":1,\"b\":{{\"c\":\"d\\\\\"}}}}\nm: {{{k}: 1, {j}: 1}}\n",
]
DUPLICATED_KEYS = ["k", "'k'", "\"k\"", "name", "'a\": b'", "\"a\\\\\"", "\"a\\\\\\\"\"", "1", "'1'", "yes", "''"]


@pytest.mark.parametrize("shape", DUPLICATES)
def test_duplicate_keys_at_every_depth_are_refused_alike(shape: str) -> None:
    plain = "kind: Pod\nmetadata: {name: p, labels: {'a\": b': '\\', 'x\\': 1}}\n"
    for key in DUPLICATED_KEYS:
        duplicated = shape.format(k=key, j=key)
        for text in (duplicated, f"---\n{plain}---\n{duplicated}---\n{plain}", f"{plain}---\n{duplicated}"):
            _compare(text)
            assert _run(parse_yaml_events, text, "in.yaml")[0] == "error"
        unique = f"---\n{plain}---\n" + shape.format(k=key, j="other")
        assert _compare(unique) or key in ("1", "yes", "''")  # (typed keys: those documents go to PyYAML)


def test_unique_keys_with_quotes_in_strings_are_decoded_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # kubectl's last-applied-configuration annotation: JSON inside a block scalar, written back with `\"`.
    text = "".join(f"---\nkind: Pod\nmetadata:\n  name: p{i}\n  annotations:\n    last: |\n"
                   f"      {{\"kind\":\"Pod\",\"metadata\":{{\"name\":\"p{i}\",\"x\":\"a\\\\\\\\\"}}}}\n"
                   for i in range(3))
    pairs: list[int] = []
    monkeypatch.setattr(yaml_fast, "_unique_keys", lambda p: pairs.append(len(p)) or dict(p))
    documents = yaml_fast.parse_fast(text, "in.yaml")
    assert documents is not None and len(documents) == 3
    assert documents[2].data["metadata"]["annotations"]["last"].startswith('{"kind":"Pod"')
    assert pairs == []  # no second decoding, pair by pair
    assert _compare(text)


@pytest.mark.parametrize("number", ["999999999999999999", "9223372036854775807", "-9223372036854775808",
                                    "9223372036854775808", "-9223372036854775809", "123456789012345678901234",
                                    "0000000000000000000001", "1234567890123456789.5", "'12345678901234567890'"])
def test_integers_beyond_64_bits_are_refused_alike_in_keys_and_values(number: str) -> None:
    plain = "kind: Namespace\nmetadata: {name: n}\n"
    for doc in (f"a: {number}\n", f"a: [1, {number}]\n", f"- {number}\n", f"{number}: a\n", f"{{{number}: a}}\n",
                f"a:\n  b: {{c: {number}}}\n"):
        for text in (doc, f"---\n{plain}---\n{doc}---\n{plain}"):
            _compare(text)


@pytest.mark.parametrize("doc", ["'': 1\n", "\"\": 1\n", ": 1\n", "{'': a, b: ''}\n", "a: ''\nb: [\"\", '']\n",
                                 "a:\n  '': {'': ''}\n", "- {\"\": \"\"}\n", "a: '\"\"'\nb: '\"\":'\n"])
def test_empty_keys_and_strings_read_the_same(doc: str) -> None:
    # An empty key is null for PyYAML and "" in rapidyaml's JSON: the suspect-string search finds `"":`.
    plain = "kind: Namespace\nmetadata: {name: n}\n"
    for text in (doc, f"---\n{plain}---\n{doc}---\n{plain}"):
        _compare(text)


@settings(max_examples=500)
@given(st.from_regex(yaml_fast._TYPED_FULL, fullmatch=True), st.sampled_from(["", "x", "a b", "10.0.0.1", "7d9f"]))
def test_the_suspect_string_search_finds_every_text_pyyaml_types(token: str, other: str) -> None:
    # Each YAML 1.1 typed form (yaml_fast._TYPED), written as a JSON string or key among others, is found by
    # _SUSPECT_JSON, whatever precedes it: the search's shapes may be looser than _TYPED, never narrower.
    emitted = json.dumps([other, token, {token: other, other: [token]}, f"{other}\"{token}"], indent=2)
    found = set(yaml_fast._SUSPECT_JSON.findall(emitted))
    assert (token, "") in found and (token, ":") in found


@given(st.text(alphabet="[]{} a\n", max_size=60), st.integers(0, 8))
def test_open_brackets_are_counted_up_to_the_limit(text: str, limit: int) -> None:
    opened = text.count("[") + text.count("{") - text.count("[]") - text.count("{}")
    assert yaml_fast._open_brackets(text, limit) == min(opened, limit)


def _whole_and_cut(text: str, chunk_bytes: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, list[int]]:
    """``text`` read whole and cut at about ``chunk_bytes``, asserted alike, and the sizes of the cut reads."""
    whole = yaml_fast.parse_fast(text, "in.yaml", chunk_bytes=len(text) + 1)
    sizes: list[int] = []
    read = yaml_fast._read
    monkeypatch.setattr(yaml_fast, "_read", lambda source, *rest: sizes.append(len(source)) or read(source, *rest))
    cut = yaml_fast.parse_fast(text, "in.yaml", chunk_bytes=chunk_bytes)
    assert whole is not None and cut is not None
    assert [d.data for d in cut] == [d.data for d in whole]
    return whole, cut, sizes


def test_a_stream_is_parsed_a_piece_at_a_time_with_the_same_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "".join(f"---\nkind: Pod\nmetadata: {{name: p{i}}}\nspec: {{port: {i}}}\n" for i in range(200))
    whole, cut, pieces = _whole_and_cut(text, 1000, monkeypatch)
    assert len(pieces) == len(text) // 1000 + 1 and max(pieces) < 1100  # whole documents, about 1000 bytes each
    assert str(cut[150].span(("spec", "port"))) == str(whole[150].span(("spec", "port"))) == "in.yaml:604:14"


def test_the_node_estimate_reserves_enough_for_every_yaml_file_of_the_repository() -> None:
    # A tree that grows while rapidyaml parses costs more than the parse (see yaml_fast.CHUNK_BYTES): the
    # estimate a large document's tree is reserved from must not fall short.
    import ryml

    checked = capped = 0
    for path in FILES:
        data = path.read_bytes()
        try:
            with yaml_fast._quiet_stderr():
                tree = ryml.parse_in_arena(data)
        except Exception:  # noqa: BLE001, S112 - files rapidyaml refuses are left to PyYAML, nothing is reserved
            continue
        estimate = yaml_fast._node_estimate(data)
        # (short of the count only where it is capped, in texts denser than a manifest: tiny or flow-written files)
        assert estimate >= tree.size() or estimate == len(data) // 12 < tree.size(), path
        capped += estimate < tree.size()
        checked += 1
    assert checked > 200
    assert capped < checked // 10


def test_a_long_list_document_is_located_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    # `kubectl get pods -o yaml` writes one `kind: List`: its items past yaml_tree_marks._INDEX_ENTRIES_FROM are
    # found through an index of the sequence, its lines counted per block of _COUNT_LINES_UP_TO bytes; in a
    # document larger than _PIECES_FROM, each item is located from its own lines.
    from netmodel.load import yaml_tree_marks

    items = "".join(f"- kind: Pod\n  metadata: {{name: p{i}, labels: {{app: é{i}}}}}\n"
                    f"  spec:\n    ports: [{i}, 8{i}]\n"
                    "    notes: [" + ", ".join(f"n{j}" for j in range(i % 70)) + "]\n" for i in range(300))
    text = f"# a dump\napiVersion: v1\nitems:\n{items}kind: List\nmetadata: {{resourceVersion: ''}}\n"
    assert len(text.encode()) > 4 * yaml_tree_marks._COUNT_LINES_UP_TO
    assert _compare(text)
    document = yaml_fast.parse_fast(text, "in.yaml")[0]
    at = text.index("8299")
    line, column = text.count("\n", 0, at) + 1, at - text.rindex("\n", 0, at)
    assert str(document.span(("items", 299, "spec", "ports", 1))) == f"in.yaml:{line}:{column}"
    monkeypatch.setattr(yaml_fast, "_PIECES_FROM", 0)
    pieces = yaml_fast.parse_fast("# a file\n---\n" + text, "in.yaml")[0]
    assert isinstance(pieces.spans, yaml_fast._LargeYamlSpanIndex)
    assert str(pieces.span(("items", 299, "spec", "ports", 1))) == f"in.yaml:{line + 2}:{column}"
    assert str(pieces.span(("metadata", "resourceVersion"))) == f"in.yaml:{text.count(chr(10)) + 2}:29"
    found = pieces.spans._entries["items"]
    assert found is not None and len(found) == 301  # every item's first line, and where the last one ends


@pytest.mark.parametrize("doc", [
    "items:\n- a: 'x\n- y'\n- b\nkind: List\n",  # a quoted scalar's line at column 0 that looks like an entry
    "items:\n- a\n# c\n- b\nother:\n- c\n- d\n",
    "items:\n  - a\n  - b\nkind: List\n",
    "# head\nitems:\n- [a,\n  b]\n- c\nkind: List\n",
    "items:\n- a\n- b\nitems:\n- c\n- d\n",  # a duplicate key, refused by both
    "items: # the pods\n\n- a\n-\n  b: 1\n- - c\nkind: List\n",
    "---\nitems:\n- " + "[" * 98 + "]" * 98 + "\n- x\n",  # nesting at the limit, one level deeper in the List
    "---\nitems:\n- " + "[" * 99 + "]" * 99 + "\n- x\n",
    "items:\n- a\n- b\nkind: yes\n",  # typed differently: the document goes to PyYAML after all
    "a: 1\nitems:\n- x\n  y\n- z\n",  # a plain scalar continued on the next line
])
def test_a_list_read_in_pieces_reads_as_pyyaml_reads_it(doc: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _compare(doc)
    pieces: list[Any] = []
    original = yaml_fast._read_entries
    monkeypatch.setattr(yaml_fast, "_read_entries", lambda *a: pieces.append(original(*a)) or pieces[-1])
    whole = _run(yaml_fast.parse_fast, doc, "in.yaml")
    cut = _run(lambda t, f: yaml_fast.parse_fast(t, f, chunk_bytes=1), doc, "in.yaml")
    assert cut == whole
    if doc.startswith("items:\n- a\n# c"):
        assert pieces and pieces[-1] is not None  # the shape kubectl writes is read in pieces


def test_a_large_list_is_read_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    items = "".join(f"- kind: Pod\n  metadata:\n    name: p{i}\n  spec:\n    ports: [{i}]\n" for i in range(2000))
    text = f"apiVersion: v1\nitems:\n{items}kind: List\nmetadata:\n  resourceVersion: ''\n"
    _, cut, reads = _whole_and_cut(text, 4096, monkeypatch)
    assert len(cut[0].data["items"]) == 2000 and list(cut[0].data) == ["apiVersion", "items", "kind", "metadata"]
    assert len(reads) == 1 + len(items) // 4096 + 1 and max(reads) < 4096 + 100  # the other lines, then pieces
