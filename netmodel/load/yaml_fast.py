"""The fast YAML path: rapidyaml parses and writes JSON, the standard library's C decoder reads it back.

Walking a YAML event stream in Python (``yaml_reader``) costs about a microsecond per value; rapidyaml (the
``ryml`` module of PyPI ``rapidyaml``) parses in C++ and emits the whole stream as JSON, which ``json.loads``
turns into Python values about ten times faster. A stream is handed to rapidyaml a megabyte of whole documents
at a time, into one reused tree (see CHUNK_BYTES: a growing tree is what costs). What that pipeline does not give
by itself, this module adds:

* **Exactly PyYAML's typing.** rapidyaml types scalars the JSON way (YAML 1.2 core), netmodel the YAML 1.1 way
  PyYAML resolves them (``yes``/``on``/``off`` are booleans, ``0755`` is octal, ``1:30`` is sexagesimal, ``~``
  and ``Null`` are null, tags such as ``!!str`` apply, mapping keys are typed). A document in which a plain
  scalar *could* be typed differently — its text is one of YAML 1.1's non-string forms, other than a decimal
  integer, a decimal float, ``true``, ``false`` or ``null`` written as a value — is read by PyYAML instead, as is
  every document with a tag, an explicit (``?``) or empty key, or a tab. The test is textual and errs towards
  PyYAML: a ``yes`` inside a comment or a quoted string sends its document to PyYAML too, which is only slower.
  Numbers rapidyaml writes that PyYAML reads as text (``1e3``) or that JSON cannot hold make ``json.loads``
  refuse, and the whole file is read by PyYAML.
* **The same refusals.** Anchors and aliases (their expansion budget spans the whole stream), directives, ``...``
  document ends, line breaks other than ``\\n``, byte-order marks and characters YAML forbids, duplicate keys,
  integers beyond 64 bits, nesting deeper than ``yaml_reader.MAX_DEPTH`` and anything rapidyaml itself rejects
  send the whole file to PyYAML's event reader, which then reports the located error (or reads it, when only
  this path was more cautious).
* **Locations, found lazily.** A file is split at its ``---`` lines; each document keeps the span of its own text
  and the line it starts on. When a location inside a document is read, that document alone is parsed again by
  rapidyaml and the location read off its tree where the syntax settles what PyYAML would say, else the document
  is read by the event reader to record its spans (see :class:`LazyYamlSpanIndex`), so a 150,000-Pod file pays
  for the handful of documents its findings cite, not for all of them.

Without the ``ryml`` module, or with ``NETMODEL_YAML_READER=pyyaml`` in the environment, every file is read by
the event reader.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
import weakref
from bisect import bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from netmodel.errors import LoadError, Problem
from netmodel.load.document import Document, Path
from netmodel.load.yaml_reader import MAX_DEPTH, parse_yaml_events
from netmodel.load.yaml_tree_marks import UNSURE, LineBreaks, TreeMarks

try:
    import ryml as _ryml
except ImportError:  # pragma: no cover - depends on the environment; PyYAML reads everything then
    _ryml = None

ENV_READER = "NETMODEL_YAML_READER"

_BOOL = "yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
_NULL = "~|null|Null|NULL"
_FLOAT = (r"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
          r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_INT = (r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+")
# The plain scalars PyYAML (YAML 1.1) types as something other than a string, or treats as a merge key.
_TYPED = f"{_BOOL}|{_NULL}|{_FLOAT}|{_INT}|<<"
# Of those, the ones rapidyaml's JSON carries with the same type and value when they are a mapping's or a
# sequence's value: JSON's own integer, decimal float, true, false and null forms.
_AGREED = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+][0-9]+)?)?|true|false|null")
# ... and the places where such a plain scalar can only be a value: after `key: ` (ended by the line, a comment
# or a flow indicator), after a block sequence's `- `, or as the first item of a flow sequence.
_END = r"(?:[ \t]*(?:\n|\Z)|[ \t]+\#)"
_VALUE_HERE = re.compile(rf"(?:(?<=: )[^\s,\]}}]+(?={_END}|[ \t]*[,\]}}])"
                         rf"|(?<=- )[^\s]+(?={_END})"
                         rf"|(?<=\[)[^\s,\]]+(?=[ \t]*[,\]]))")
# JSON strings (and keys) that may hold exactly such a text — the words, and anything shaped like a YAML 1.1
# number (checked against _TYPED afterwards: the shapes here are looser, but hold each of its numbers; not an
# address with three dots or a hash with letters, which would only be checked and dropped). They came from a
# quoted scalar, a block scalar, or a plain one rapidyaml typed differently from PyYAML; which, the YAML text
# tells. (The lookahead, the first characters of the alternatives, lets the search pass most strings at once.)
_SUSPECT_JSON = re.compile(
    r'"(?=[yYnNtTfFoO~<+.0-9-])'
    r'((?:y(?:es)|Y(?:es|ES)|n(?:o|ull)|N(?:o|O|ull|ULL)|t(?:rue)|T(?:rue|RUE)|f(?:alse)|F(?:alse|ALSE)'
    r'|o(?:n|ff)|O(?:n|N|ff|FF)|~|<<'
    r'|[-+]?(?:\.(?:inf|Inf|INF|nan|NaN|NAN)|0x[0-9a-fA-F_]+|0b[01_]+'
    r'|(?:\.[0-9]|[0-9])[0-9_:]*(?:\.[0-9_]*)?(?:[eE][-+][0-9]+)?)))"(:?)')
_TYPED_FULL = re.compile(_TYPED)
_SCALAR_END = r"(?=[\s\[\]{},:\#]|\Z)"
_PLAIN_START = " \n[]{},"
# Bytes the YAML text may hold for rapidyaml to read it: tab, line feed, printable ASCII (anything else is
# looked at closely, see _ODD).
_PLAIN_BYTES = bytes([9, 10, *range(0x20, 0x7F)])
_HIGH_BYTES = bytes(range(0x80, 0x100))
_ODD = re.compile(  # PyYAML's non-printable characters, and its other line breaks (line numbers, `---` lines)
    r"[^\x09\x0A\x20-\x7E\xA0-\u2027\u202A-\uD7FF\uE000-\uFEFE\uFF00-\uFFFD\U00010000-\U0010FFFF]")
_ANCHOR = re.compile(r"[&*](?<![^\s\[\]{},:][&*])")
_MARKER = re.compile(r"\n(?:%|\.\.\.(?=[ \t\n]|\Z))")  # a directive or a document end
# Scalars PyYAML refuses or reads differently, each behind a character the text must hold for it to occur
# (finding one character is far cheaper than a regular expression over the whole text; None: no such gate):
_DOUBTFUL = (
    # `?` or `:` starting a scalar: plain text in block context, refused by PyYAML in flow context
    ("?", re.compile(r"\?(?<=[\s\[\]{},]\?)(?=\S)")),
    (None, re.compile(r":(?<=[\s\[\]{},]:)(?=\S)")),
    # a block sequence entry inside a flow collection
    ("[", re.compile(r"\[[ \t]*-(?=\s)")),
    ("{", re.compile(r"\{[ \t]*-(?=\s)")),
    ("{", re.compile(r",[ \t]*-(?=\s)")),  # (apart: a search for one character is far cheaper than for a class)
    # a signed float with no digit before its dot (`-.5`): text for PyYAML, rewritten `-0.5` by rapidyaml
    (None, re.compile(r"\.[0-9](?<=[-+]\.[0-9])(?<![^\s\[\]{},:][-+]\.[0-9])")),
    # the reserved indicators
    ("@", re.compile(r"@(?<=[\s\[\]{},:]@)")),
    ("`", re.compile(r"`(?<=[\s\[\]{},:]`)")),
    # `%` starting a scalar: the directive indicator, which no plain scalar may start with (rapidyaml reads it)
    ("%", re.compile(r"%(?<=[\s\[\]{},:]%)")),
    # a tag (`!!str 1`: rapidyaml ignores tags in JSON)
    ("!", re.compile(r"!(?<=[\s\[\]{},:]!)")),
    # a tab (PyYAML and rapidyaml differ on where one may be)
    ("\t", re.compile(r"\t")),
)
# Every digit as a zero, to find a run of _LONG_DIGITS (the shortest integer that may not fit in 64 bits) in bytes.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19
# A bracket opening a flow collection that is not empty (a search for one character, then one more).
_OPENING = (("[", re.compile(r"\[(?!\])")), ("{", re.compile(r"\{(?!\})")))
_EMPTY_KEY_JSON = re.compile('"":')  # (re's search for a literal beats str's `in` here: `:` is everywhere in JSON)
_EMPTY_KEY = re.compile(r"(?:^|[\n\[{,?-])[ \t]*:(?=\s|\Z)")
_CONTENT = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)


class _Unsure(Exception):
    """The fast path cannot promise PyYAML's answer for this file; the event reader reads it."""


def enabled() -> bool:
    """Whether the rapidyaml fast path is used: rapidyaml is installed and the reader is not forced to
    PyYAML."""
    return _ryml is not None and os.environ.get(ENV_READER, "").lower() != "pyyaml"


# Text handed to rapidyaml at once: whole documents, about this much of them. A tree that grows costs rapidyaml
# far more than its parse (each growth moves every node: 5.9 million nodes for a 95 MB file took 2-3 s to grow,
# 0.5 s to parse into a tree reserved beforehand), so the stream is parsed a megabyte at a time into one tree that
# is cleared and reused, whose size soon stops changing; the JSON of each piece is small too, and json reads it
# from the cache. A single document larger than this is parsed whole, into a tree reserved for it.
CHUNK_BYTES = 1 << 20
# ... a tree for more text than this is reserved first, from an estimate of its nodes (growing a smaller one is
# cheap).
_RESERVE_FROM = 8 << 20


def parse_fast(text: str, file: str, chunk_bytes: int = CHUNK_BYTES) -> list[Document] | None:
    """The documents of ``text`` read by rapidyaml, or None when the event reader must read the whole file.

    ``chunk_bytes``: how much text rapidyaml parses at once (whole documents; see CHUNK_BYTES). The documents
    read are the same for every value; tests read with 1 (each document on its own) as well.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: PyYAML refuses it with its location
        return None
    odd = data.translate(None, _PLAIN_BYTES)
    if odd and (odd.translate(None, _HIGH_BYTES) or _ODD.search(text)):
        return None
    if ("&" in text or "*" in text) and _ANCHOR.search(text):
        return None
    # (`%` alone: one character is found far faster than two)
    if text.startswith(("%", "...")) or (("%" in text or "\n..." in text) and _MARKER.search(text)):
        return None
    segments, implicit = _segments(text)
    starts = [s for s, _, _ in segments]
    careful: set[int] = set()
    for gate, pattern in _DOUBTFUL:
        if gate is None or gate in text:
            _mark_matches(careful, segments, starts, pattern, text)
    if text.startswith(("?", ":", "-.", "+.", "@", "`", "!", "%")):
        careful.add(0)
    # Documents: every `---` starts one; the text before the first `---` is one if it holds more than comments.
    is_document = [i > 0 or not implicit or i in careful or _CONTENT.search(text, s, e) is not None
                   for i, (s, e, _) in enumerate(segments)]
    # The text's bytes are sliced when they are its characters (ASCII), else each piece is encoded again.
    ascii_bytes = data if len(data) == len(text) else None
    del data
    brackets = _open_brackets(text, MAX_DEPTH // 2)
    tree = _ryml.Tree()
    values: list[tuple[int, Any]] = []
    suspects: set[str] = set()
    empty_key = False

    def piece(*spans: tuple[int, int]) -> str | bytes:
        if ascii_bytes is None:
            return "".join(text[s:e] for s, e in spans)
        return b"".join(ascii_bytes[s:e] for s, e in spans)

    def read(source: str | bytes, max_depth: int = MAX_DEPTH) -> list[Any]:
        """_read, the JSON's suspects and empty keys gathered (the JSON itself is not kept)."""
        nonlocal empty_key
        found, emitted = _read(source, tree, max_depth, brackets)
        suspects.update(_suspects(emitted))
        empty_key = empty_key or _EMPTY_KEY_JSON.search(emitted) is not None
        return found

    try:
        for first, last in _chunks(segments, chunk_bytes):
            start, end = segments[first][0], segments[last - 1][1]
            if careful.isdisjoint(range(first, last)):
                found = None
                if last - first == 1 and end - start > chunk_bytes:
                    found = _read_in_pieces(text, start, end, piece, read, chunk_bytes)
                if found is None:
                    found = read(piece((start, end)))
            else:
                found = read("".join("---\n" if i in careful else text[s:e]
                                     for i, (s, e, _) in enumerate(segments[first:last], first)))
            documents_here = [i for i in range(first, last) if is_document[i]]
            if len(found) != len(documents_here):
                return None
            values.extend(zip(documents_here, found, strict=True))
    except _Unsure:
        return None
    _mark(careful, starts, _typed_differently(text, suspects, empty_key))
    documents: list[Document] = []
    for index, value in values:
        start, end, first = segments[index]
        if index in careful:
            documents.extend(_shifted_documents(parse_yaml_events, text[start:end], file, first))
        elif value is not None:
            documents.append(Document(file, value, _span_index(text, start, end, first, file, value)))
    return documents


def _read_in_pieces(text: str, start: int, end: int, piece: Callable[..., str | bytes],
                    read: Callable[..., list[Any]], chunk_bytes: int) -> list[Any] | None:
    """One large document whose top-level mapping holds a long block sequence at column 0 (a `kind: List`'s
    `items`, as `kubectl get -o yaml` writes it), read as pieces: its other lines (the key then holds nothing),
    then its entries, about ``chunk_bytes`` of them at a time, each piece a sequence of its own (one level less
    deep). None when the text does not have that shape beyond doubt; then the document is read whole.

    The pieces must agree with what they were cut from: the other lines a mapping in which the key (written
    plainly) is null, each piece a sequence of exactly as many entries as it has `- ` lines at column 0 (a line
    cut from a multi-line scalar would make a piece fail to parse or hold fewer), and every column-0 line
    between the key and the next such line an entry, a comment or blank.
    """
    # The lines at column 0 that are neither entries nor comments (keys, `---`), each from its line break before
    # (the document's first line, at the start of the text, has none).
    tops = [0] if start == 0 and _TOP_LEVEL_LINE.match("\n" + text[:2]) else []
    tops += (m.start() + 1 for m in itertools.islice(_TOP_LEVEL_LINE.finditer(text, max(start - 1, 0), end), 65))
    if not 0 < len(tops) <= 64 or tops[0] != start and _CONTENT.search(text, start, tops[0]) is not None:
        return None  # (many keys at column 0, or content before the first: not a List's shape)
    bounds = [*tops, end]
    widest = max(range(len(tops)), key=lambda i: bounds[i + 1] - bounds[i])
    head, region_end = bounds[widest], bounds[widest + 1]
    key = _PLAIN_KEY_LINE.match(text, head)
    if key is None or region_end - key.end() < chunk_bytes:
        return None
    below = _entries_below(text, key.end(), region_end)
    if below is None or len(below[0]) < 2:
        return None
    try:
        return _read_entries(start, end, key.group(1), *below, piece, read, chunk_bytes)
    except _Unsure:  # a piece rapidyaml or json refused: the whole document decides
        return None


def _entries_below(text: str, after: int, end: int) -> tuple[list[int], int] | None:
    """Offsets of the lines starting `- ` at column 0 from ``after`` (the start of the line below a key) up to the
    next column-0 line that is neither an entry nor a comment, and where that is (``end`` if none); None when
    something other than blank lines and comments comes before the first entry, or there is none."""
    stop = _TOP_LEVEL_LINE.search(text, after - 1, end)
    region_end = stop.start() + 1 if stop is not None else end
    entries = [m.start() + 1 for m in _ENTRY_LINE.finditer(text, after - 1, region_end)]
    if not entries or _CONTENT.search(text, after, entries[0]) is not None:
        return None
    return entries, region_end


def _read_entries(start: int, end: int, name: str, entries: list[int], region_end: int,
                  piece: Callable[..., str | bytes], read: Callable[..., list[Any]],
                  chunk_bytes: int) -> list[Any] | None:
    found = read(piece((start, entries[0]), (region_end, end)))
    if len(found) != 1 or not isinstance(found[0], dict) or name not in found[0] or found[0][name] is not None:
        return None
    sequence: list[Any] = []
    entries.append(region_end)
    first = 0
    while first < len(entries) - 1:
        last = bisect_right(entries, entries[first] + chunk_bytes, first + 1)
        last = min(max(last, first + 1), len(entries) - 1)
        part = read(piece((entries[first], entries[last])), MAX_DEPTH - 1)
        if len(part) != 1 or not isinstance(part[0], list) or len(part[0]) != last - first:
            return None
        sequence.extend(part[0])
        first = last
    found[0][name] = sequence
    return found


def _span_index(text: str, start: int, end: int, lines: int, file: str, value: Any) -> LazyYamlSpanIndex:
    if end - start > _PIECES_FROM and isinstance(value, dict):
        lengths = {k: len(v) for k, v in value.items()
                   if isinstance(k, str) and isinstance(v, list) and len(v) >= _ENTRIES_FROM}
        if lengths:
            return _LargeYamlSpanIndex(text, start, end, lines, file, lengths)
    return LazyYamlSpanIndex(text, start, end, lines, file)


def _chunks(segments: list[tuple[int, int, int]], chunk_bytes: int) -> Iterator[tuple[int, int]]:
    """(first, last + 1) segment indexes of consecutive pieces of about ``chunk_bytes`` of text (at least one
    segment each)."""
    first = 0
    bound = segments[0][0] + chunk_bytes
    for i, (_, end, _) in enumerate(segments):
        if end >= bound:
            yield first, i + 1
            first = i + 1
            bound = end + chunk_bytes
    if first < len(segments):
        yield first, len(segments)


def _segments(text: str) -> tuple[list[tuple[int, int, int]], bool]:
    """(start, end, lines before it) of each piece of ``text`` cut at the lines that start a document, and
    whether the first piece precedes every ``---`` (then it is a document only if it holds more than comments).
    """
    bounds = _document_starts(text)
    implicit = not bounds or bounds[0] != 0
    edges = ([0] if implicit else []) + bounds + [len(text)]
    segments = []
    line = 0
    for start, end in itertools.pairwise(edges):
        segments.append((start, end, line))
        line += text.count("\n", start, end)
    return segments, implicit


def _mark_matches(careful: set[int], segments: list[tuple[int, int, int]], starts: list[int],
                  pattern: re.Pattern[str], text: str) -> None:
    """Mark each document holding a match of ``pattern`` (one search per such document, not per match)."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        index = bisect_right(starts, m.start()) - 1
        careful.add(index)
        pos = segments[index][1]


def _mark(careful: set[int], starts: list[int], offsets: Iterator[int]) -> None:
    for offset in offsets:
        careful.add(bisect_right(starts, offset) - 1)


def _suspects(emitted: str) -> set[str]:
    """The strings (and keys) of rapidyaml's JSON that PyYAML may type differently, as written in the YAML text."""
    return {token for token, key in set(_SUSPECT_JSON.findall(emitted))
            if _TYPED_FULL.fullmatch(token) and (key or not _AGREED.fullmatch(token))}


def _typed_differently(text: str, suspects: set[str], empty_key: bool) -> Iterator[int]:
    """Offsets in ``text`` of plain scalars (and empty keys) PyYAML types differently from rapidyaml's JSON,
    given the JSON's ``suspects`` (:func:`_suspects`) and whether it held an empty key."""
    for token in [t for t in suspects if t.lstrip("-+").lower() in (".inf", ".nan")]:
        # rapidyaml writes `.Inf`, `.NaN`, `-.INF` in lower case: look for every spelling PyYAML reads.
        sign = token[0] if token[0] in "-+" else ""
        suspects.update(sign + "." + w for w in (("inf", "Inf", "INF") if "inf" in token.lower()
                                                  else ("nan", "NaN", "NAN")))
    if suspects:
        pattern = re.compile("(?:" + "|".join(re.escape(t) for t in sorted(suspects, key=len, reverse=True))
                             + ")" + _SCALAR_END)
        for m in pattern.finditer(text):
            s = m.start()
            before = text[s - 1] if s else "\n"
            if before not in _PLAIN_START and not (before == ":" and s >= 2 and text[s - 2] in "\"']}"):
                continue  # inside a longer scalar
            if _AGREED.fullmatch(m.group()):
                value = _VALUE_HERE.match(text, s)
                if value is not None and value.end() == m.end():
                    continue  # a value rapidyaml's JSON carries as PyYAML types it
            yield s
    if empty_key:  # an empty key: null for PyYAML, "" in JSON (unless the YAML wrote "")
        yield from (m.end() - 1 for m in _EMPTY_KEY.finditer(text))


def _document_starts(text: str) -> list[int]:
    """Offsets of the lines that start a document (``---`` then a space, a tab, a line break or the end)."""
    found = []
    if text.startswith("---") and text[3:4] in ("", " ", "\t", "\n"):
        found.append(0)
    i = text.find("\n---")
    while i != -1:
        if text[i + 4:i + 5] in ("", " ", "\t", "\n"):
            found.append(i + 1)
        i = text.find("\n---", i + 4)
    return found


def _read(source: str | bytes, tree: Any, max_depth: int, brackets: int) -> tuple[list[Any], str]:
    """rapidyaml (into ``tree``, cleared first), JSON, ``json.loads``: one value per document and the JSON;
    :class:`_Unsure` if in doubt."""
    try:
        data = source.encode("utf-8") if isinstance(source, str) else source
        if len(data) > _RESERVE_FROM:  # one large document: a tree of its own, reserved, freed before decoding
            tree = _ryml.Tree()
            tree.reserve(_node_estimate(data))
        else:
            tree.clear()
            tree.clear_arena()
        with _quiet_stderr():  # rapidyaml prints its parse errors on file descriptor 2 before raising
            _ryml.parse_in_arena(data, tree=tree)
            emitted = _ryml.emit_json(tree)
        stream = tree.is_stream(tree.root_id())
    except Exception:  # noqa: BLE001 - rapidyaml's exceptions (ExceptionParse, ...) share no useful base
        raise _Unsure from None
    del tree  # (the caller's tree stays for the next piece; a large document's goes before its JSON is decoded)
    if emitted is None:  # nothing but comments and blank lines
        return [], ""
    # An integer beyond 64 bits has 19 digits or more, and rapidyaml writes an integer's digits as the YAML text
    # has them (it rewrites floats only: `.5` becomes `0.5`): without such a run, json's own int() reads them.
    parse_int = _int if _LONG_DIGITS in data.translate(_DIGITS_AS_ZERO) else None
    del data
    try:
        value = _decode(emitted, parse_int)
    except (ValueError, RecursionError, _Unsure):
        raise _Unsure from None
    # Nesting: rapidyaml writes block collections two spaces deeper each and flow ones inline (each from a
    # `[` or `{` of the YAML text: there are `brackets`, counted up to max_depth // 2); when neither the
    # indentation nor the inline brackets rule out more than `max_depth` levels, count them.
    if brackets >= max_depth // 2:
        brackets = sum(emitted.count(c) - emitted.count(c + "\n") - emitted.count(c + e) for c, e in ("{}", "[]"))
    if (brackets >= max_depth // 2 or ("\n" + " " * (max_depth - 2)) in emitted) \
            and _depth(value) > max_depth + (1 if stream else 0):
        raise _Unsure
    return (value if stream else [value]), emitted


def _node_estimate(data: bytes | bytearray) -> int:
    """About as many tree nodes as rapidyaml makes of ``data``, rarely fewer: one per line (a key, an entry, a
    `---`), one more per sequence entry a line opens (`- `: `- k: v` is an entry and a key), one per flow item and
    flow collection (`,`, `[`, `{`), and the stream's own. Lines are counted rather than keys: one byte is
    counted several times faster than two. At most one per twelve bytes (a manifest has one per fifteen to twenty),
    so that blank lines or commas in long strings reserve no more than that (a denser text grows its tree)."""
    lines = data.count(b"\n") + data.count(b"- ") + data.count(b",") + data.count(b"[") + data.count(b"{")
    return min(lines + 16, len(data) // 12)


def _open_brackets(text: str, limit: int) -> int:
    """How many flow collections ``text`` can open at most (an empty ``{}`` or ``[]`` nests nothing), counted up
    to ``limit`` (the search stops there: a text of flow collections is not walked to its end)."""
    found = 0
    for bracket, opening in _OPENING:
        if bracket in text:
            found += sum(1 for _ in itertools.islice(opening.finditer(text), limit - found))
    return found


def _decode(emitted: str, parse_int: Any) -> Any:
    """``json.loads`` of rapidyaml's JSON, refusing (:class:`_Unsure`) a duplicate key and what PyYAML types
    differently.

    Finding a duplicate object by object costs json a list of pairs and a call for each object (about as much
    again as the decoding), so the objects are decoded as dicts and only their sizes gathered. rapidyaml writes
    every key as a quoted string followed by the colon, so each key ends in `":`; of the other `":`, those of an
    escaped quote (`\\":`, when no backslash precedes that backslash) are not counted either. What is left is at
    least the number of keys, which is at least the sum of the dicts' sizes, and the two are equal only when no
    key was lost to a duplicate. When they differ (a duplicate, or a string starting with `:`), the JSON is
    decoded again pair by pair.
    """
    sizes: list[int] = []
    add = sizes.append
    value = json.loads(emitted, object_hook=lambda obj: add(len(obj)) or obj, parse_float=_float,
                       parse_int=parse_int, parse_constant=_refuse)
    kept = sum(sizes)
    keys = emitted.count('":')
    if kept != keys and '\\\\":' not in emitted:
        keys -= emitted.count('\\":')
    if kept != keys:
        value = json.loads(emitted, object_pairs_hook=_unique_keys, parse_float=_float, parse_int=parse_int,
                           parse_constant=_refuse)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Unsure  # a duplicate key: the event reader reports it with its location
    return obj


def _float(text: str) -> float:
    # PyYAML's YAML 1.1 floats need a dot and a signed exponent; `1e3` is text there.
    if "." not in text or re.search(r"[eE][0-9]", text):
        raise _Unsure
    return float(text)


def _int(text: str) -> int:
    value = int(text)
    if len(text) > 18 and not -(1 << 63) <= value < 1 << 63:
        raise _Unsure  # the event reader refuses it with its location
    return value


def _refuse(text: str) -> Any:
    raise _Unsure


def _depth(value: Any) -> int:
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            deepest = max(deepest, d)
            stack.extend((c, d + 1) for c in v.values() if isinstance(c, (dict, list)))
        elif isinstance(v, list):
            deepest = max(deepest, d)
            stack.extend((c, d + 1) for c in v if isinstance(c, (dict, list)))
    return deepest


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        if not _devnull:
            _devnull.append(os.open(os.devnull, os.O_WRONLY))
        os.dup2(_devnull[0], 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# A descriptor on os.devnull, opened on first use and kept (not inherited by child processes): this runs for
# every document a location is read from, and opening the device costs more than parsing a small document.
_devnull: list[int] = []


def _shifted_documents(parse: Any, text: str, file: str, lines: int) -> list[Document]:
    """Documents of one document's text read by the event reader, located ``lines`` further down the file."""
    try:
        documents = parse(text, file)
    except LoadError as err:
        raise LoadError([_shift_problem(p, lines) for p in err.problems]) from None
    return [Document(file, d.data, _ShiftedSpans(d.spans, lines)) for d in documents]


def _shift_problem(problem: Problem, lines: int) -> Problem:
    if problem.span is None or lines == 0:
        return problem
    return replace(problem, span=replace(problem.span, line=problem.span.line + lines))


class _ShiftedSpans:
    """A span index of one document read on its own, answering in the lines of the whole file."""

    __slots__ = ("_index", "_lines")

    def __init__(self, index: Any, lines: int) -> None:
        self._index = index
        self._lines = lines

    def lookup(self, path: Path) -> tuple[int, int] | None:
        found = self._index.lookup(path)
        return None if found is None else (found[0] + self._lines, found[1])

    def lookup_key(self, path: Path) -> tuple[int, int] | None:
        found = self._index.lookup_key(path)
        return None if found is None else (found[0] + self._lines, found[1])


class LazyYamlSpanIndex:
    """Spans of one YAML document, found when asked for.

    The document's text (``text[start:end]``, which begins at a line start) is parsed by rapidyaml, and a span
    is read off its tree (:class:`TreeMarks`, a few microseconds). Where the tree cannot say for certain what
    PyYAML would, the text is read by the event reader, which records where every value and key starts, and
    that answers from then on. Lines are shifted by the lines before the document.
    """

    lazy = True  # Document.span hands out DeferredSpans for this index
    __slots__ = ("__weakref__", "_end", "_file", "_index", "_lines", "_start", "_text")

    def __init__(self, text: str, start: int, end: int, lines: int, file: str) -> None:
        self._text = text
        self._start = start
        self._end = end
        self._lines = lines
        self._file = file
        self._index: Any = None

    def _ensure(self) -> Any:
        if self._index is None:
            try:
                documents = parse_yaml_events(self._text[self._start:self._end], self._file)
            except LoadError:  # cannot happen for a document rapidyaml read the same way; locate nothing then
                documents = []
            self._index = _ShiftedSpans(documents[0].spans, self._lines) if documents else False
        return self._index

    def _marks(self) -> TreeMarks | None:
        """This document's rapidyaml tree: the one read last, kept while lookups stay in this document (they
        come in runs: a finding's spans, an object's fields), so a file's trees are not all held at once."""
        held, marks = _recent_marks[0]
        if held() is self:
            return marks
        marks = TreeMarks.read(self._text[self._start:self._end], self._lines, _parse_quietly)
        _recent_marks[0] = (weakref.ref(self), marks)
        return marks

    def lookup(self, path: Path) -> tuple[int, int] | None:
        """(line, column) of the value at ``path``; None when not found."""
        if self._index is None:
            marks = self._marks()
            found = marks.value(path) if marks is not None else UNSURE
            if found is not UNSURE:
                return found
        index = self._ensure()
        return index.lookup(path) if index else None

    def lookup_key(self, path: Path) -> tuple[int, int] | None:
        """(line, column) of the key at ``path``; None when not found."""
        if self._index is None:
            marks = self._marks()
            found = marks.key(path) if marks is not None else UNSURE
            if found is not UNSURE:
                return found
        index = self._ensure()
        return index.lookup_key(path) if index else None


class _LargeYamlSpanIndex(LazyYamlSpanIndex):
    """Spans of a large document whose top-level mapping holds long block sequences (a `kind: List`: `items`).

    Parsing a 100 MB document again to locate one Pod in it takes seconds and a gigabyte; the entries of such a
    sequence are found in the text instead, and a path into one entry is answered by that entry's lines alone,
    read as a one-entry sequence (its columns are the document's, its lines shifted). The text is trusted only
    where the syntax leaves no doubt: the key written plainly at column 0 on a line of its own, once in the
    document; its entries `- ` at column 0 up to the next line at column 0 that is neither an entry nor a
    comment, as many as the sequence read has; each entry's lines read by rapidyaml as one entry. Anything else
    is answered from the whole document, as for a small one.
    """

    __slots__ = ("_breaks", "_entries", "_last_piece", "_lengths")

    def __init__(self, text: str, start: int, end: int, lines: int, file: str, lengths: dict[str, int]) -> None:
        super().__init__(text, start, end, lines, file)
        self._lengths = lengths  # key -> number of entries, for the top-level sequences long enough to index
        self._entries: dict[str, list[int] | None] = {}  # key -> offsets of its entries and of their end
        self._breaks: LineBreaks | None = None
        self._last_piece: tuple[str, int, LazyYamlSpanIndex | None] | None = None

    def lookup(self, path: Path) -> tuple[int, int] | None:
        piece = self._piece(path)
        return piece.lookup((0, *path[2:])) if piece is not None else super().lookup(path)

    def lookup_key(self, path: Path) -> tuple[int, int] | None:
        piece = self._piece(path)
        return piece.lookup_key((0, *path[2:])) if piece is not None else super().lookup_key(path)

    def _piece(self, path: Path) -> LazyYamlSpanIndex | None:
        """The index of the entry's own lines when ``path`` leads into an entry of an indexed sequence."""
        if len(path) < 2 or path[0] not in self._lengths or type(path[1]) is not int:  # (not bool: True is 1)
            return None
        key, position = path[0], path[1]
        last = self._last_piece
        if last is not None and last[0] == key and last[1] == position:
            return last[2]
        piece = None
        if key not in self._entries:
            self._entries[key] = self._find_entries(key)
        found = self._entries[key]
        if found is not None and 0 <= position < self._lengths[key]:
            begin = found[position]
            piece = LazyYamlSpanIndex(self._text, begin, found[position + 1], self._line_at(begin), self._file)
            marks = piece._marks()
            if marks is None or not marks.one_entry_sequence():
                piece = None
        self._last_piece = (key, position, piece)
        return piece

    def _find_entries(self, key: str) -> list[int] | None:
        """Offsets of the entries' first lines, and where the last one ends; None when the text leaves doubt."""
        text, start, end = self._text, self._start, self._end
        head = "\n" + key + ":"  # (a literal is searched for far faster than a pattern anchored at line starts)
        # (at: the line break before the key, or just before the document when the key is on its first line)
        at = start - 1 if text.startswith(head[1:], start) else text.find(head, start, end)
        if at == -1 and start > 0 or text.find(head, max(at + 1, start), end) != -1 \
                or not _LINE_END.match(text, at + len(head)):
            return None
        below = _entries_below(text, text.index("\n", at + 1) + 1, end)
        if below is None or len(below[0]) != self._lengths[key]:
            return None
        offsets, region_end = below
        return [*offsets, region_end]

    def _line_at(self, offset: int) -> int:
        """Lines of the file before ``offset``."""
        if self._breaks is None:
            self._breaks = LineBreaks(self._text, self._start, self._end, _BLOCK)
        return self._lines + self._breaks.before(offset)


# Top-level sequences of a large document are indexed from this many entries on, in documents this large.
_PIECES_FROM = CHUNK_BYTES
_ENTRIES_FROM = 64
_LINE_END = re.compile(r"[ \t]*(?:#[^\n]*)?\n")
_ENTRY_LINE = re.compile(r"\n-(?=[ \n])")  # (from the line break before: see _find_entries)
_TOP_LEVEL_LINE = re.compile(r"\n(?:[^\s#-]|-[^ \n])")
# A key written plainly at column 0, its value on the lines below (a comment may follow it).
_PLAIN_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*):[ \t]*(?:#[^\n]*)?\n")
_BLOCK = 1 << 16


# The last document whose rapidyaml tree was read for spans: (a weak reference to its index, its TreeMarks), one
# tuple replaced at once.
_recent_marks: list[tuple[Callable[[], LazyYamlSpanIndex | None], TreeMarks | None]] = [(lambda: None, None)]


def _parse_quietly(buffer: bytearray) -> Any:
    tree = _ryml.Tree()
    if len(buffer) > _RESERVE_FROM:  # a large document (a `kind: List`): its tree reserved, not grown
        tree.reserve(_node_estimate(buffer))
    with _quiet_stderr():  # rapidyaml prints its parse errors on file descriptor 2 before raising
        return _ryml.parse_in_place(buffer, tree=tree)
