"""YAML (multi-document) to :class:`Document`, with a span for every value.

Built on PyYAML's event stream (libyaml's C parser when present) rather than its constructor, for three reasons:
spans are recorded as values are built, nesting depth is checked before anything recurses, and alias expansion
is budgeted so a "billion laughs" file fails fast instead of eating memory.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml

from netmodel.errors import LoadError, Problem, SourceSpan
from netmodel.load.document import DictSpanIndex, Document, Path
from netmodel.sets.numbers import brief

try:  # libyaml: about ten times faster; the pure-Python parser gives the same events.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    # Another class with the same interface; mypy types the name from the first import.
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 100
# Characters an integer may take once underscores and sign are dropped: int64 in binary is 66 (0b + 64 digits).
_INT_TEXT_MAX = 70
# Without aliases a file cannot hold more values than characters; anything beyond that (plus slack for small
# files) comes from alias expansion and is refused.
ALIAS_SLACK = 100_000

_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_SCALAR_CONSTRUCTORS = {
    "tag:yaml.org,2002:null": lambda node: None,
    "tag:yaml.org,2002:bool": _constructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
}


def _scalar(event: yaml.ScalarEvent) -> Any:
    tag = event.tag
    if tag in (None, "!"):
        if event.style or tag == "!":  # quoted, block or non-specific: always a string (plain style is None or "")
            return event.value
        tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
    elif tag.startswith("!!"):
        tag = "tag:yaml.org,2002:" + tag[2:]
    build = _SCALAR_CONSTRUCTORS.get(tag)
    if build is None:
        # Timestamps, binary and application tags stay text: Kubernetes fields are strings there.
        return event.value
    kind = tag.rsplit(":", 1)[-1]
    if kind == "int" and len(event.value.replace("_", "").lstrip("+-")) > _INT_TEXT_MAX:
        raise BadScalar("a number too long to read", "quote it if it is meant as text")
    try:
        value = build(yaml.ScalarNode(tag, event.value))
    except (ValueError, KeyError, TypeError, IndexError):  # e.g. ``!!bool maybe``, ``!!int x``
        raise BadScalar(f"{brief(event.value)!r} is not a valid !!{kind}",
                        f"write a {kind} value, or drop the !!{kind} tag") from None
    if isinstance(value, int) and not isinstance(value, bool) and not -(1 << 63) <= value < 1 << 63:
        # YAML 1.1 reads sexagesimal (1:00:00) and hex: a short text can still be a huge number.
        raise BadScalar("a number beyond 64 bits", "no Kubernetes integer field holds it; quote it if it is text")
    return value


class BadScalar(ValueError):
    """A scalar whose tag or size netmodel cannot take: message and hint for the located problem."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _span(file: str, mark: Any) -> SourceSpan:
    return SourceSpan(file, mark.line + 1, mark.column + 1)


class _Frame:
    """An open mapping or sequence: where it sits, its pending key, and its anchor."""

    __slots__ = ("anchor", "container", "key", "key_mark", "merged", "path", "start")

    def __init__(self, container: Any, path: Path, anchor: str | None, start: Any) -> None:
        self.container = container
        self.path = path
        self.key: Any = _NO_KEY
        self.key_mark: Any = None
        self.anchor = anchor
        self.start = start
        self.merged: set[Any] = set()  # keys that came from a ``<<`` merge; explicit keys override them


_NO_KEY = object()


def parse_yaml_events(text: str, file: str) -> list[Document]:
    """The event reader: every document of ``text`` from PyYAML's event stream, every span recorded."""
    builder = _DocumentBuilder(file, budget=len(text) + ALIAS_SLACK)
    try:
        handlers = builder.handlers()
        for event in yaml.parse(text, Loader=_Loader):
            handle = handlers.get(type(event))
            if handle is not None:
                handle(event)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = " ".join(x for x in (err.context, err.problem) if x) or "malformed YAML"
        raise LoadError([Problem(f"malformed YAML: {message}", _span(file, mark) if mark else None,
                                 "fix the YAML syntax at this position (indentation, quotes, colons)")]) from None
    except yaml.reader.ReaderError as err:  # a character YAML does not allow (NUL, other control characters)
        before = text[: err.position]
        span = SourceSpan(file, before.count("\n") + 1, err.position - (before.rfind("\n") + 1) + 1)
        code = err.character if isinstance(err.character, int) else ord(err.character)
        raise LoadError([Problem(f"malformed YAML: character U+{code:04X} is not allowed in YAML", span,
                                 "remove the control character (is this a binary file?)")]) from None
    except yaml.YAMLError as err:
        raise LoadError([Problem(f"malformed YAML: {err}", SourceSpan(file, 1, 1),
                                 "fix the YAML syntax")]) from None
    return builder.documents


class _DocumentBuilder:
    """Builds values from PyYAML events, one document at a time, recording where each value and key starts.

    ``budget`` caps how many values the file may expand to, aliases included: a file without aliases cannot
    hold more values than characters, so going far beyond that is an alias bomb and fails at the alias.
    Events are typed ``Any``: dispatch is on ``type(event)``, which mypy does not narrow, and the parser always
    sets the marks read here.
    """

    def __init__(self, file: str, budget: int) -> None:
        self.file = file
        self.budget = budget
        self.documents: list[Document] = []
        self.built = 0  # values built so far in the file, alias copies included
        self._start_document(None)

    def _start_document(self, mark: Any) -> None:
        self.spans: dict[Path, tuple[int, int]] = {}
        self.key_spans: dict[Path, tuple[int, int]] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.document_start = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        """The method for each kind of parser event (a table: this runs once per value of the file)."""
        return {yaml.ScalarEvent: self._scalar,
                yaml.MappingStartEvent: lambda event: self._open(event, {}),
                yaml.SequenceStartEvent: lambda event: self._open(event, []),
                yaml.MappingEndEvent: self._close, yaml.SequenceEndEvent: self._close,
                yaml.AliasEvent: self._alias,
                yaml.DocumentStartEvent: lambda event: self._start_document(event.start_mark),
                yaml.DocumentEndEvent: self._end_document}

    def _end_document(self, _event: Any) -> None:
        if self.root is not None:
            self.spans.setdefault((), self.document_start)
            self.documents.append(Document(self.file, self.root, DictSpanIndex(self.spans, self.key_spans)))

    def _scalar(self, event: Any) -> None:
        try:
            value = _scalar(event)
        except BadScalar as err:
            raise LoadError([Problem(str(err), _span(self.file, event.start_mark), err.hint)]) from None
        self.built += 1
        self._place_value(value, event.start_mark)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)

    def _open(self, event: Any, container: Any) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise LoadError([Problem(f"nesting deeper than {MAX_DEPTH} levels", _span(self.file, event.start_mark),
                                     "no Kubernetes object nests this deep; check the indentation")])
        self.built += 1
        parent_path = _pending_path(self.stack)
        if parent_path is not None:
            self.spans[parent_path] = (event.start_mark.line + 1, event.start_mark.column + 1)
        self.stack.append(_Frame(container, parent_path if parent_path is not None else (), event.anchor,
                                 event.start_mark))

    def _close(self, _event: Any) -> None:
        frame = self.stack.pop()
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.container, _count(frame.container))
        self._place(frame.container, frame.start)

    def _alias(self, event: Any) -> None:
        if event.anchor not in self.anchors:
            raise LoadError([Problem(f"alias *{event.anchor} refers to no anchor", _span(self.file, event.start_mark),
                                     "define the anchor first")])
        value, size = self.anchors[event.anchor]
        self.built += size
        if self.built > self.budget:
            raise LoadError([Problem("aliases expand to far more values than the file holds (an alias bomb?)",
                                     _span(self.file, event.start_mark),
                                     "expand the aliases by hand or remove them")])
        self._place_value(copy.deepcopy(value) if isinstance(value, (dict, list)) else value, event.start_mark)

    def _place_value(self, value: Any, mark: Any) -> None:
        """Place a scalar or an alias's copy, and record its span unless it became a mapping key."""
        path = self._place(value, mark)
        if path is not None:
            self.spans[path] = (mark.line + 1, mark.column + 1)

    def _place(self, value: Any, mark: Any) -> Path | None:
        """Attach a finished value to its parent; return the path it now has (None for a mapping key)."""
        if not self.stack:
            self.root = value
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            path = frame.path + (len(frame.container),)
            frame.container.append(value)
            return path
        if frame.key is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise LoadError([Problem("a mapping key must be a plain value, not a mapping or list",
                                         _span(self.file, mark), "quote the key or restructure the mapping")])
            frame.key = value
            frame.key_mark = mark
            return None
        key = frame.key
        frame.key = _NO_KEY
        if key == "<<" and isinstance(value, (dict, list)):  # YAML merge key
            _merge(frame, value if isinstance(value, list) else [value])
            return None
        if key in frame.container and key not in frame.merged:
            raise LoadError([Problem(f"duplicate key {key!r} in one mapping", _span(self.file, frame.key_mark),
                                     "remove one of the two entries")])
        frame.container[key] = value
        frame.merged.discard(key)
        path = frame.path + (key if isinstance(key, (str, int)) else str(key),)
        self.key_spans[path] = (frame.key_mark.line + 1, frame.key_mark.column + 1)
        return path


def _merge(frame: _Frame, sources: list[Any]) -> None:
    """A ``<<`` merge: each source mapping's keys join the open mapping unless it already has them."""
    for source in sources:
        if isinstance(source, dict):
            for k, v in source.items():
                if k not in frame.container:
                    frame.container[k] = v
                    frame.merged.add(k)


def _pending_path(stack: list[_Frame]) -> Path | None:
    """The path the next value will take in the innermost open container (None if it is a mapping key)."""
    if not stack:
        return ()
    frame = stack[-1]
    if isinstance(frame.container, list):
        return frame.path + (len(frame.container),)
    if frame.key is _NO_KEY:
        return None
    key = frame.key
    return frame.path + (key if isinstance(key, (str, int)) else str(key),)


def _count(value: Any) -> int:
    """How many values a constructed value holds (the cost of copying it for an alias)."""
    stack, n = [value], 0
    while stack:
        v = stack.pop()
        n += 1
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return n
