"""Where PyYAML's event reader places a value or a key of one document, read off rapidyaml's tree of it.

The event reader (``yaml_reader``) records, for every value, the start mark of the event that made it, and for
every mapping entry the start mark of its key. Re-reading a whole document with PyYAML to find a few of those
costs about 0.2 ms; rapidyaml parses the same text in a few microseconds, and its tree's scalars are views into
the parsed buffer, so where a scalar starts is where its view points. From that, PyYAML's mark follows by rules
of the YAML syntax:

* a plain scalar's mark is its first character; a quoted one's, the opening quote (the view starts after it);
* a block mapping's mark is its first key's; a block sequence's, its first ``-``; a flow collection's, its
  ``{`` or ``[`` (found before the first entry, or after the key of an empty one).

Whatever these rules do not settle for certain — an empty value (its mark depends on what follows it), a block
scalar ``|``/``>`` (the view holds the text below the indicator), an explicit ``?`` key, a collection whose first
entry starts on a later line than its indicator, anchors, tags, a view rapidyaml moved out of the buffer while
unescaping — is :data:`UNSURE`, and the caller asks the event reader. Documents reach this module only from the
fast path, after its checks (no anchors, tags, tabs, duplicate keys; keys are text as PyYAML reads them).
"""

from __future__ import annotations

import ctypes
import enum
import itertools
from typing import Any, Final, Literal

from netmodel.load.document import Path

try:
    import ryml as _ryml
except ImportError:  # pragma: no cover - the fast path (yaml_fast) is off then and never calls this module
    _ryml = None


class Declined(enum.Enum):
    """The tree cannot promise PyYAML's mark: the document is for the event reader."""

    UNSURE = "unsure"


UNSURE: Final = Declined.UNSURE
Answer = tuple[int, int] | None | Literal[Declined.UNSURE]

if _ryml is not None:
    _NONE = _ryml.NONE
    _MAP, _SEQ, _VAL = _ryml.MAP, _ryml.SEQ, _ryml.VAL
    _FLOW, _BLOCK = _ryml.FLOW_SL | _ryml.FLOW_ML, _ryml.BLOCK
    _PROPERTIES = (_ryml.KEYANCH | _ryml.VALANCH | _ryml.KEYTAG | _ryml.VALTAG | _ryml.KEYREF | _ryml.VALREF)
    # Scalar styles, the key's and the value's: what the view's start means.
    _KEY_STYLES = {_ryml.KEY_PLAIN: None, _ryml.KEY_SQUO: ord("'"), _ryml.KEY_DQUO: ord('"')}
    _VAL_STYLES = {_ryml.VAL_PLAIN: None, _ryml.VAL_SQUO: ord("'"), _ryml.VAL_DQUO: ord('"')}
    _KEY_STYLE, _VAL_STYLE = _ryml.KEY_STYLE, _ryml.VAL_STYLE

_SPACE, _NEWLINE, _DASH = ord(" "), ord("\n"), ord("-")
# A sequence's entries from this position on are found through an index of them (see _sequence_entries).
_INDEX_ENTRIES_FROM = 64
# bytes: in a document up to this long, line breaks are counted up to the point asked about; a longer one has them
# counted once per block of this size (LineBreaks).
_COUNT_LINES_UP_TO = 8192
# What may stand right before a quoted scalar's opening quote in a document the fast path reads: the quote
# then starts a token, so the view (which starts after it) did not start at an escaped quote inside the text.
_BEFORE_QUOTE = frozenset(b" \n[{,:")


class _Unsure(Exception):
    pass


class _PyBuffer(ctypes.Structure):
    """CPython's ``Py_buffer`` (part of the stable ABI since 3.11): a view's memory address."""

    _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p), ("len", ctypes.c_ssize_t),
                ("itemsize", ctypes.c_ssize_t), ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
                ("format", ctypes.c_char_p), ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p),
                ("suboffsets", ctypes.c_void_p), ("internal", ctypes.c_void_p)]


# Outside CPython (no ctypes.pythonapi) every document is located by the event reader.
_ADDRESSES = hasattr(ctypes, "pythonapi")
if _ADDRESSES:
    _get_buffer = ctypes.pythonapi.PyObject_GetBuffer
    _release_buffer = ctypes.pythonapi.PyBuffer_Release
    _get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
    _get_buffer.restype = ctypes.c_int
    _release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
    _release_buffer.restype = None


def _address(obj: Any) -> int:
    """Where the memory of a buffer (rapidyaml's read-only views included) starts."""
    view = _PyBuffer()
    _get_buffer(obj, ctypes.byref(view), 0)  # PyBUF_SIMPLE; ctypes raises the Python error if it fails
    try:
        return view.buf or 0
    finally:
        _release_buffer(ctypes.byref(view))


class LineBreaks:
    """Line breaks in ``text[start:end]`` (text or bytes) before an offset in it, for a long document asked many
    times: counted once per block of ``block`` characters, then within the offset's block only."""

    __slots__ = ("_before", "_block", "_start", "_text")

    def __init__(self, text: str | bytes, start: int, end: int, block: int) -> None:
        newline: Any = "\n" if isinstance(text, str) else b"\n"
        self._text, self._start, self._block = text, start, block
        self._before = list(itertools.accumulate(
            (text.count(newline, at, min(at + block, end)) for at in range(start, end, block)), initial=0))

    def before(self, offset: int) -> int:
        """How many line breaks lie between the start and ``offset``."""
        text, block = self._text, (offset - self._start) // self._block
        newline: Any = "\n" if isinstance(text, str) else b"\n"
        return self._before[block] + text.count(newline, self._start + block * self._block, offset)


class TreeMarks:
    """One document's text parsed by rapidyaml, answering where PyYAML's event reader would place a path.

    ``lines`` is how many lines of the file precede ``text``; answers are (line, column) in the file, 1-based,
    the column counted in characters as PyYAML counts it.
    """

    __slots__ = ("_base", "_breaks", "_buffer", "_data", "_doc", "_doc_kind", "_entries", "_lines", "_tree")

    def __init__(self, text: str, lines: int, parse: Any) -> None:
        """``parse`` reads a bytearray in place into a rapidyaml tree (the caller's, quieting rapidyaml's
        messages); it may raise."""
        self._data = text.encode("utf-8")
        # Parsed in place, the tree's scalars are views into this copy (unescaping may rewrite parts of it, so
        # the syntax around them is read from _data).
        self._buffer = bytearray(self._data)
        self._tree = tree = parse(self._buffer)
        self._base = _address(self._buffer)
        self._lines = lines
        self._breaks: LineBreaks | None = None
        self._entries: dict[int, list[int]] = {}
        doc = tree.root_id()
        if tree.is_stream(doc):
            if tree.num_children(doc) != 1:
                raise _Unsure
            doc = tree.first_child(doc)
        self._doc = doc
        self._doc_kind = tree.type(doc)

    @classmethod
    def read(cls, text: str, lines: int, parse: Any) -> TreeMarks | None:
        """The tree of ``text``, or None when rapidyaml does not read it as one document (or cannot run here)."""
        if _ryml is None or not _ADDRESSES:
            return None
        try:
            return cls(text, lines, parse)
        except Exception:  # noqa: BLE001 - rapidyaml's exceptions share no useful base; the event reader decides
            return None

    def one_entry_sequence(self) -> bool:
        """Whether the document is a block sequence of exactly one entry (an entry's lines read alone)."""
        return bool(self._doc_kind & _SEQ) and not self._doc_kind & _FLOW and self._tree.num_children(self._doc) == 1

    def value(self, path: Path) -> Answer:
        """Where the value at ``path`` starts; None when there is no such value; :data:`UNSURE`."""
        try:
            found = self._node(path)
            return None if found is None else self._position(self._value_start(*found))
        except _Unsure:
            return UNSURE

    def key(self, path: Path) -> Answer:
        """Where the key of the mapping entry at ``path`` starts; None when it is no mapping entry;
        :data:`UNSURE`."""
        if not path:
            return None
        try:
            parent = self._node(path[:-1])
            if parent is None or not parent[1] & _MAP:
                return None
            node = self._child(*parent, path[-1])
            return None if node is None else self._position(self._key_start(node))
        except _Unsure:
            return UNSURE

    def _node(self, path: Path) -> tuple[int, int] | None:
        """The node at ``path`` and its type (flags), or None."""
        node, kind = self._doc, self._doc_kind
        for part in path:
            child = self._child(node, kind, part)
            if child is None:
                return None
            node, kind = child, self._tree.type(child)
        return node, kind

    def _child(self, node: int, kind: int, part: Any) -> int | None:
        """The child ``part`` names, as the event reader's path dictionary would match it (keys are text)."""
        if kind & _MAP:
            if isinstance(part, str):
                try:
                    found = self._tree.find_child(node, part.encode("utf-8"))
                except UnicodeEncodeError:
                    raise _Unsure from None
                return None if found == _NONE else found
            if isinstance(part, int):
                return None  # an int never equals a text key
            raise _Unsure  # some other type: equality with a key cannot be told here
        if kind & _SEQ:
            if isinstance(part, int):  # bool included: True is 1, as in the event reader's dictionary
                if part >= _INDEX_ENTRIES_FROM:
                    entries = self._sequence_entries(node)
                    return entries[part] if part < len(entries) else None
                # (rapidyaml answers NONE past the last entry; no position reaches NONE, its largest id)
                found = self._tree.child(node, part) if 0 <= part < _NONE else _NONE
                return None if found == _NONE else found
            if isinstance(part, str):
                return None
            raise _Unsure
        return None  # inside a scalar

    def _sequence_entries(self, node: int) -> list[int]:
        """The ids of a sequence's entries in order, gathered once per sequence: rapidyaml finds the n-th child
        by walking n siblings, milliseconds deep into a `kind: List` of 150,000 items, for every lookup."""
        entries = self._entries.get(node)
        if entries is None:
            tree = self._tree
            entries = []
            child = tree.first_child(node)
            while child != _NONE:
                entries.append(child)
                child = tree.next_sibling(child)
            self._entries[node] = entries
        return entries

    def _value_start(self, node: int, kind: int) -> int:
        tree = self._tree
        if kind & _PROPERTIES:
            raise _Unsure
        if kind & (_MAP | _SEQ):
            first = tree.first_child(node)
            if first == _NONE:
                return self._empty_collection_start(node, kind)
            inner = self._key_start(first) if kind & _MAP else self._value_start(first, tree.type(first))
            data = self._data
            before = inner - 1
            while before >= 0 and data[before] == _SPACE:
                before -= 1
            indicator = data[before] if before >= 0 else _NEWLINE
            if kind & _FLOW:
                if indicator != (ord("{") if kind & _MAP else ord("[")):
                    raise _Unsure  # e.g. `[a: 1]`: PyYAML's mapping starts at its key; or a line break between
                return before
            if not kind & _BLOCK:
                raise _Unsure
            entry = indicator == _DASH and (before == 0 or data[before - 1] in (_SPACE, _NEWLINE))
            if kind & _MAP:
                if indicator == _NEWLINE or entry:  # not after `?` (an explicit key starts the mapping there)
                    return inner
                raise _Unsure
            if entry:
                return before
            raise _Unsure  # the first entry on a later line than its `-`
        if not kind & _VAL:
            raise _Unsure
        return self._scalar_start(tree.val(node), _VAL_STYLES.get(kind & _VAL_STYLE, -1))

    def _key_start(self, node: int) -> int:
        kind = self._tree.type(node)
        if kind & _PROPERTIES:
            raise _Unsure
        return self._scalar_start(self._tree.key(node), _KEY_STYLES.get(kind & _KEY_STYLE, -1))

    def _scalar_start(self, view: Any, quote: int | None) -> int:
        """Where a scalar's token starts: its view's first character (plain), or the quote before it."""
        if view is None or quote == -1:
            raise _Unsure  # an empty value, a block scalar, or no style recorded
        data = self._data
        start = _address(view) - self._base
        if quote is None:
            if not 0 <= start < len(data) or not len(view) or data[start] != view[0]:
                raise _Unsure
            return start
        start -= 1
        if not 0 <= start < len(data) or data[start] != quote or (start and data[start - 1] not in _BEFORE_QUOTE):
            raise _Unsure
        return start

    def _empty_collection_start(self, node: int, kind: int) -> int:
        """An empty ``{}`` or ``[]``: found after the plain key it is the value of, on the same line."""
        tree = self._tree
        if not kind & _FLOW or not tree.has_key(node) or tree.type(node) & _KEY_STYLE != _ryml.KEY_PLAIN:
            raise _Unsure
        key = tree.key(node)
        start = self._key_start(node)
        data = self._data
        at = start + len(key)
        if data[start:at] != key:
            raise _Unsure
        while at < len(data) and data[at] == _SPACE:
            at += 1
        if at >= len(data) or data[at] != ord(":"):
            raise _Unsure
        at += 1
        while at < len(data) and data[at] == _SPACE:
            at += 1
        if at >= len(data) or data[at] != (ord("{") if kind & _MAP else ord("[")):
            raise _Unsure
        return at

    def _position(self, offset: int) -> tuple[int, int]:
        data = self._data
        if len(data) <= _COUNT_LINES_UP_TO:
            line = data.count(b"\n", 0, offset)
        else:  # a long document (a Firewall of thousands of rules, a `kind: List`) is asked many times
            if self._breaks is None:
                self._breaks = LineBreaks(data, 0, len(data), _COUNT_LINES_UP_TO)
            line = self._breaks.before(offset)
        line_start = data.rfind(b"\n", 0, offset) + 1
        before = data[line_start:offset]
        column = len(before) if before.isascii() else len(before.decode("utf-8"))
        return self._lines + line + 1, column + 1
