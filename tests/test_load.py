"""The loader: files, folders, stdin, YAML and JSON, ``kind: List``, and the span of every value."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netmodel.errors import LoadError
from netmodel.load import parse_text, read_documents
from netmodel.load.json_reader import LazyJsonSpanIndex

POD_YAML = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: c
    ports:
    - containerPort: 80
      name: http
    - containerPort: 443
"""


def where(doc, *path) -> tuple[int, int]:
    span = doc.span(tuple(path))
    return span.line, span.column


# An independent oracle for JSON locations: tokenize the whole text and record where every value starts.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


def _index(text: str) -> dict[tuple[str | int, ...], tuple[int, int]]:
    spans: dict[tuple[str | int, ...], tuple[int, int]] = {}
    stack: list[list] = []  # [path, is_object, pending key, next index]
    expecting_key = False
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in (",", ":"):
            expecting_key = tok == "," and bool(stack) and stack[-1][1]
            continue
        if tok in ("}", "]"):
            stack.pop()
            expecting_key = False
            if stack and not stack[-1][1]:
                stack[-1][3] += 1
            continue
        top = stack[-1] if stack else None
        if expecting_key and top is not None:
            top[2] = json.loads(tok)
            expecting_key = False
            continue
        path = () if top is None else top[0] + ((top[2],) if top[1] else (top[3],))
        line = text.count("\n", 0, m.start()) + 1
        spans[path] = (line, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1)
        if tok in ("{", "["):
            stack.append([path, tok == "{", None, 0])
            expecting_key = tok == "{"
        elif top is not None and not top[1]:
            top[3] += 1
    return spans


def _lazy_agrees_with_oracle(text: str) -> dict[tuple[str | int, ...], tuple[int, int]]:
    whole = _index(text)
    index = LazyJsonSpanIndex(text)
    assert {path: index.lookup(path) for path in whole} == whole
    return whole


# -- YAML ----------------------------------------------------------------------------------------------------------


def test_multi_document_yaml_gives_one_document_each_with_its_own_lines() -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Namespace\n" \
           "metadata: {name: b}\n...\n"
    docs = parse_text(text, "ns.yaml")
    assert [d.data["metadata"]["name"] for d in docs] == ["a", "b"]  # the empty document is skipped
    assert where(docs[0], "kind") == (2, 7)
    assert where(docs[1], "kind") == (7, 7)
    assert where(docs[1], "metadata", "name") == (8, 18)


def test_yaml_spans_of_nested_values_and_list_items() -> None:
    (doc,) = parse_text(POD_YAML, "pod.yaml")
    assert where(doc, "metadata", "labels", "app") == (5, 17)
    assert where(doc, "spec", "containers", 0) == (8, 5)
    assert where(doc, "spec", "containers", 0, "ports", 1, "containerPort") == (12, 22)
    assert where(doc, "spec", "containers", 0, "ports", 0, "name") == (11, 13)
    # An unknown path falls back to the nearest known ancestor.
    assert where(doc, "spec", "containers", 0, "ports", 1, "nope", 3) == where(doc, "spec", "containers", 0,
                                                                                "ports", 1)
    assert doc.span(("spec",)).file == "pod.yaml"


def test_yaml_scalars_follow_yaml_1_1_as_kubernetes_reads_them() -> None:
    (doc,) = parse_text("a: 80\nb: '80'\nc: true\nd: null\ne: 1.5\nf: 2024-01-01\ng: !!str 7\nh: ~\n", "x.yaml")
    assert doc.data == {"a": 80, "b": "80", "c": True, "d": None, "e": 1.5, "f": "2024-01-01", "g": "7",
                        "h": None}


def test_yaml_anchors_aliases_and_merge_keys() -> None:
    text = "base: &b {app: web, tier: front}\ncopy: *b\nmerged:\n  <<: *b\n  tier: back\n"
    (doc,) = parse_text(text, "x.yaml")
    assert doc.data["copy"] == {"app": "web", "tier": "front"}
    assert doc.data["merged"] == {"app": "web", "tier": "back"}
    assert doc.data["copy"] is not doc.data["base"]  # aliases are copies: editing one never edits the other


def test_yaml_alias_to_a_missing_anchor_is_located() -> None:
    with pytest.raises(LoadError) as err:
        parse_text("a: 1\nb: *nowhere\n", "x.yaml")
    (problem,) = err.value.problems
    assert (problem.span.line, problem.span.column) == (2, 4)
    assert "no anchor" in problem.message


# -- JSON ----------------------------------------------------------------------------------------------------------


def test_json_document_and_lazy_spans_of_nested_values() -> None:
    data = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}, {"containerPort": 443}]}]}}
    text = json.dumps(data, indent=2)
    (doc,) = parse_text(text, "pod.json")
    assert doc.data == data
    lines = text.splitlines()
    line, column = where(doc, "spec", "containers", 0, "ports", 1, "containerPort")
    assert lines[line - 1][column - 1:].startswith("443")
    line, column = where(doc, "spec", "containers", 0, "ports", 1)
    assert lines[line - 1][column - 1] == "{"
    line, column = where(doc, "metadata", "name")
    assert lines[line - 1][column - 1:].startswith('"web"')


def test_json_spans_survive_escaped_strings_and_tricky_keys() -> None:
    text = '{"a": "x\\"}{[,:", "b\\u0022c": [1, {"d": "\\\\"}, [], {}], "e": {"f": null}}'
    spans = _lazy_agrees_with_oracle(text)
    assert spans[("a",)] == (1, 7)
    assert text[spans[('b"c', 1, "d")][1] - 1:].startswith('"\\\\"')
    assert text[spans[('b"c', 3)][1] - 1] == "{"
    assert text[spans[("e", "f")][1] - 1:].startswith("null")
    # Values after an empty object and an empty array keep the right index.
    assert ('b"c', 2) in spans and ('b"c', 3) in spans


def test_json_compact_one_line_spans() -> None:
    text = '{"kind":"List","apiVersion":"v1","items":[{"kind":"Pod","metadata":{"name":"a"}},' \
           '{"kind":"Pod","metadata":{"name":"b"}}]}'
    spans = _lazy_agrees_with_oracle(text)
    column = spans[("items", 1, "metadata", "name")][1]
    assert text[column - 1:].startswith('"b"')


# -- kind: List ----------------------------------------------------------------------------------------------------


def test_kind_list_unpacks_items_and_nested_lists_with_spans(tmp_path: Path) -> None:
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: a}
- apiVersion: v1
  kind: PodList
  items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p}
"""
    path = tmp_path / "list.yaml"
    path.write_text(text)
    docs = read_documents([str(path)])
    assert [d.data["kind"] for d in docs] == ["Namespace", "Pod"]
    assert where(docs[0], "metadata", "name") == (6, 20)
    assert where(docs[1], "kind") == (11, 11)
    assert where(docs[1]) == (10, 5)


def test_kind_list_in_json_keeps_item_spans(tmp_path: Path) -> None:
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"n{i}"}} for i in range(3)]
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1)
    path = tmp_path / "list.json"
    path.write_text(text)
    docs = read_documents([str(path)])
    assert [d.data["metadata"]["name"] for d in docs] == ["n0", "n1", "n2"]
    line, column = where(docs[2], "metadata", "name")
    assert text.splitlines()[line - 1][column - 1:].startswith('"n2"')


# -- files, folders, stdin -----------------------------------------------------------------------------------------


def _ns(name: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n"


def test_folders_are_read_recursively_in_sorted_order_and_only_manifest_suffixes(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / "a.yml").write_text(_ns("a"))
    (tmp_path / "b" / "deep" / "c.YAML").write_text(_ns("c"))
    (tmp_path / "b" / "b.json").write_text(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": "b"}}))
    (tmp_path / "notes.txt").write_text("not: a manifest\n")
    (tmp_path / "README.md").write_text("# hi\n")
    docs = read_documents([str(tmp_path)])
    assert [d.data["metadata"]["name"] for d in docs] == ["a", "b", "c"]
    assert docs[1].file.endswith("b.json")


def test_empty_folder_and_missing_path_are_both_reported(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(LoadError) as err:
        read_documents([str(tmp_path / "empty"), str(tmp_path / "missing.yaml")])
    messages = [p.message for p in err.value.problems]
    assert len(messages) == 2
    assert "holds no .yaml" in messages[0] and "no such file" in messages[1]


def test_an_explicit_file_is_read_whatever_its_suffix(tmp_path: Path) -> None:
    path = tmp_path / "manifest.txt"
    path.write_text(_ns("x"))
    assert read_documents([str(path)])[0].data["metadata"]["name"] == "x"


@pytest.mark.parametrize("content", [_ns("s"), json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                            "metadata": {"name": "s"}})])
def test_stdin_dash_reads_yaml_or_json(monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content.encode())))
    (doc,) = read_documents(["-"])
    assert doc.data["metadata"]["name"] == "s"
    assert doc.span(("kind",)).file == "<stdin>"


def test_stdin_flow_mapping_that_is_not_json_is_read_as_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"{apiVersion: v1, kind: Namespace, "
                                                                  b"metadata: {name: f}}\n")))
    (doc,) = read_documents(["-"])
    assert doc.data["metadata"]["name"] == "f"


def test_utf8_bom_and_utf16_files_are_decoded(tmp_path: Path) -> None:
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + _ns("bom").encode())
    (tmp_path / "wide.yaml").write_bytes(_ns("wide").encode("utf-16"))
    docs = read_documents([str(tmp_path)])
    assert sorted(d.data["metadata"]["name"] for d in docs) == ["bom", "wide"]


def test_problems_in_several_files_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"kind": ')
    (tmp_path / "b.yaml").write_text("a: [1,\n")
    (tmp_path / "c.yaml").write_text(_ns("fine"))
    with pytest.raises(LoadError) as err:
        read_documents([str(tmp_path)])
    assert [Path(p.span.file).name for p in err.value.problems] == ["a.json", "b.yaml"]


@pytest.mark.parametrize("indent", [None, 2])
def test_json_list_item_spans_are_found_per_item_and_match_a_whole_text_scan(tmp_path: Path,
                                                                            indent: int | None) -> None:
    items = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "labels": {"a\"b": "x"}},
              "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80 + i}]}]}} for i in range(4)]
    # "items" is not the first key, and other top-level values must be skipped correctly.
    text = json.dumps({"metadata": {"resourceVersion": "1", "x": [1, {"y": "]"}]}, "items": items,
                       "apiVersion": "v1", "kind": "List"}, indent=indent)
    path = tmp_path / "pods.json"
    path.write_text(text)
    docs = read_documents([str(path)])
    whole = _index(text)
    for i, doc in enumerate(docs):
        for sub in ((), ("metadata", "name"), ("metadata", "labels", 'a"b'),
                    ("spec", "containers", 0, "ports", 0, "containerPort")):
            span = doc.span(sub)
            assert (span.line, span.column) == whole[("items", i) + sub]
    assert docs[3].key_span(("spec",)).line == whole[("items", 3, "spec")][0]


def test_deferred_spans_equal_and_hash_like_plain_spans(tmp_path: Path) -> None:
    from netmodel.errors import SourceSpan

    path = tmp_path / "ns.json"
    path.write_text('{"apiVersion": "v1",\n "kind": "Namespace"}')
    (doc,) = read_documents([str(path)])
    deferred = doc.span(("kind",))
    plain = SourceSpan(str(path), 2, 10)
    assert deferred == plain and plain == deferred and hash(deferred) == hash(plain)
    assert str(deferred) == f"{path}:2:10" and deferred.to_json() == plain.to_json()


# -- JSON locations: the lazy index against the whole-text oracle ------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet='ab"\\{}[],: \n\u00e9\U0001f600', max_size=6),
    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(st.text(alphabet='ab"\\:{ ', max_size=4), inner,
                                                                  max_size=20),
    max_leaves=60)


@given(value=_JSON, indent=st.sampled_from([None, 0, 2]), ascii_only=st.booleans())
def test_json_locations_agree_with_a_whole_text_scan(value: object, indent: int | None, ascii_only: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    whole = _lazy_agrees_with_oracle(text)
    index = LazyJsonSpanIndex(text)
    for path in list(whole)[:50]:  # a path that is not there is not found
        assert index.lookup((*path, 10 ** 6)) is None and index.lookup((*path, "\0")) is None


@pytest.mark.parametrize("indent", [None, 1])
def test_json_locations_in_large_containers(indent: int | None) -> None:
    # Large arrays (every 8th offset kept), objects with many keys (a dictionary) and with more keys than are kept
    # (walked), and values behind a large one (indexed for the distance): every location as the oracle says.
    value = {"big": "x" * 10_000, "items": [{"n": i, "s": [i] * (i % 20)} for i in range(203)],
             "wide": {f"k{i}": [i] for i in range(40)}, "widest": {f"k{i}": i for i in range(4200)}, "last": [1]}
    text = json.dumps(value, indent=indent)
    index = LazyJsonSpanIndex(text)
    whole = _index(text)
    for path in ([("items", i, "s", j) for i in (0, 7, 8, 9, 150, 202) for j in range(i % 20)]
                 + [("items", i) for i in range(203)] + [("wide", f"k{i}", 0) for i in range(40)]
                 + [("widest", f"k{i}") for i in (0, 4095, 4096, 4199)] + [("last", 0), ("big",)]):
        assert index.lookup(path) == whole[path], path
    assert index.lookup(("items", 203)) is None and index.lookup(("widest", "k4200")) is None
    key = index.lookup_key(("widest", "k4199"))
    assert key is not None and text.splitlines()[key[0] - 1][key[1] - 1:].startswith('"k4199"')
