"""YAML (multi-document) to :class:`Document`, with a span for every value.

Built on PyYAML's event stream (libyaml's C parser when present) rather than its constructor, for three reasons:
spans are recorded as values are built, nesting depth is checked before anything recurses, and alias expansion
is budgeted so a "billion laughs" file fails fast instead of eating memory.
"""

from __future__ import annotations

import copy
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
    budget = len(text) + ALIAS_SLACK
    documents: list[Document] = []
    spans: dict[Path, tuple[int, int]] = {}
    key_spans: dict[Path, tuple[int, int]] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    stack: list[_Frame] = []
    root: Any = None
    built = 0

    def place(value: Any, mark: Any) -> Path | None:
        """Attach a finished value to its parent; return the path it now has (None for a mapping key)."""
        nonlocal root
        if not stack:
            root = value
            return ()
        frame = stack[-1]
        if isinstance(frame.container, list):
            path = frame.path + (len(frame.container),)
            frame.container.append(value)
            return path
        if frame.key is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise LoadError([Problem("a mapping key must be a plain value, not a mapping or list",
                                         _span(file, mark), "quote the key or restructure the mapping")])
            frame.key = value
            frame.key_mark = mark
            return None
        key = frame.key
        frame.key = _NO_KEY
        if key == "<<" and isinstance(value, (dict, list)):  # YAML merge key
            merged = value if isinstance(value, list) else [value]
            for source in merged:
                if isinstance(source, dict):
                    for k, v in source.items():
                        if k not in frame.container:
                            frame.container[k] = v
                            frame.merged.add(k)
            return None
        if key in frame.container and key not in frame.merged:
            raise LoadError([Problem(f"duplicate key {key!r} in one mapping", _span(file, frame.key_mark),
                                     "remove one of the two entries")])
        frame.container[key] = value
        frame.merged.discard(key)
        path = frame.path + (key if isinstance(key, (str, int)) else str(key),)
        key_spans[path] = (frame.key_mark.line + 1, frame.key_mark.column + 1)
        return path

    # Dispatch is on type(event), which mypy does not narrow; the parser always sets the marks it reads.
    event: Any
    try:
        for event in yaml.parse(text, Loader=_Loader):
            kind = type(event)
            if kind is yaml.ScalarEvent:
                try:
                    value = _scalar(event)
                except BadScalar as err:
                    raise LoadError([Problem(str(err), _span(file, event.start_mark), err.hint)]) from None
                built += 1
                path = place(value, event.start_mark)
                if path is not None:
                    spans[path] = (event.start_mark.line + 1, event.start_mark.column + 1)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if len(stack) >= MAX_DEPTH:
                    raise LoadError([Problem(f"nesting deeper than {MAX_DEPTH} levels",
                                             _span(file, event.start_mark),
                                             "no Kubernetes object nests this deep; check the indentation")])
                container: Any = {} if kind is yaml.MappingStartEvent else []
                built += 1
                parent_path = _pending_path(stack)
                frame = _Frame(container, parent_path if parent_path is not None else (),
                               event.anchor, event.start_mark)
                if parent_path is not None:
                    spans[parent_path] = (event.start_mark.line + 1, event.start_mark.column + 1)
                stack.append(frame)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                if frame.anchor:
                    anchors[frame.anchor] = (frame.container, _count(frame.container))
                place(frame.container, frame.start)
            elif kind is yaml.AliasEvent:
                if event.anchor not in anchors:
                    raise LoadError([Problem(f"alias *{event.anchor} refers to no anchor",
                                             _span(file, event.start_mark), "define the anchor first")])
                value, size = anchors[event.anchor]
                built += size
                if built > budget:
                    raise LoadError([Problem("aliases expand to far more values than the file holds "
                                             "(an alias bomb?)", _span(file, event.start_mark),
                                             "expand the aliases by hand or remove them")])
                value = copy.deepcopy(value) if isinstance(value, (dict, list)) else value
                path = place(value, event.start_mark)
                if path is not None:
                    spans[path] = (event.start_mark.line + 1, event.start_mark.column + 1)
            elif kind is yaml.DocumentStartEvent:
                root, spans, key_spans, anchors = None, {}, {}, {}
                start_span = (event.start_mark.line + 1, event.start_mark.column + 1)
            elif kind is yaml.DocumentEndEvent and root is not None:
                spans.setdefault((), start_span)
                documents.append(Document(file, root, DictSpanIndex(spans, key_spans)))
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
    return documents


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
