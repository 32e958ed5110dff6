"""Reading plain document data into typed values, collecting every problem with its location.

A :class:`Fields` wraps one mapping inside a document. Its getters return a typed value, or a fallback after
recording a :class:`Problem` that says where the bad value is and what would be valid. Validation therefore never
stops at the first mistake: the whole input is read and every problem reported together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, TypeVar

from netmodel.errors import Problem, SourceSpan
from netmodel.load.document import Document, Path
from netmodel.model.labels import NO_LABELS, OPERATORS, Labels, LabelSelector, SelectorRequirement
from netmodel.model.names import (
    LABEL_VALUE,
    QUALIFIED_NAME,
    NameRule,
    is_label_value,
    is_qualified_name,
)
from netmodel.model.topology import Note
from netmodel.sets import IPAddress, IPNetwork, parse_address, parse_network, parse_network_loose
from netmodel.sets.numbers import brief, is_decimal

T = TypeVar("T")
_MISSING = object()


class Problems:
    """The problems found so far in a run, and the warnings about input that is accepted as it is.

    ``items`` fail the run; ``notes`` become findings (see :class:`netmodel.model.topology.Note`).
    """

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.notes: list[Note] = []

    def add(self, message: str, span: SourceSpan, hint: str) -> None:
        """Record a located problem (an error: nothing is analyzed)."""
        self.items.append(Problem(message, span, hint))

    def warn(self, note_id: str, message: str, obj: str, span: SourceSpan) -> None:
        """Record a warning note about ``obj`` (the input is read anyway)."""
        self.notes.append(Note(note_id, message, (obj,), (span,), "warning"))


def shown(value: Any) -> str:
    """``value`` quoted for a message: long text cut short, an integer too long to print summarised."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return "a number too large"
    return repr(brief(value)) if isinstance(value, str) else brief(repr(value))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)


class Fields:
    """A typed view of one mapping at ``path`` in ``doc``; ``what`` names it in messages (``Service web``)."""

    __slots__ = ("data", "doc", "path", "problems", "what")

    def __init__(self, doc: Document, path: Path, data: dict[str, Any], problems: Problems, what: str) -> None:
        self.doc = doc
        self.path = path
        self.data = data
        self.problems = problems
        self.what = what

    # -- locations and reporting -------------------------------------------------------------------------------
    def span(self, key: str | int | None = None) -> SourceSpan:
        """Where this mapping (or its ``key``) is in the input."""
        return self.doc.span(self.path if key is None else self.path + (key,))

    def dotted(self, key: str | int | None = None) -> str:
        """The path of this mapping (or its ``key``) as messages write it: ``spec.ports[0].port``."""
        parts = list(self.path) + ([] if key is None else [key])
        text = ""
        for p in parts:
            text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
        return text or "(document)"

    def error(self, key: str | int | None, message: str, hint: str) -> None:
        """Record a problem with ``key`` (or the mapping), located there."""
        self.problems.add(f"{self.what}: {self.dotted(key)}: {message}", self.span(key), hint)

    def item_error(self, key: str, index: int, message: str, hint: str) -> None:
        """A problem with entry ``index`` of the list at ``key``, located at that entry."""
        self.problems.add(f"{self.what}: {self.dotted(key)}[{index}]: {message}",
                          self.doc.span(self.path + (key, index)), hint)

    def object_ref(self) -> str:
        """``Kind/namespace/name`` of the (namespaced) object this mapping belongs to, for notes."""
        data = self.doc.data if isinstance(self.doc.data, dict) else {}
        found = data.get("metadata")
        meta = found if isinstance(found, dict) else {}
        return f"{data.get('kind', '')}/{meta.get('namespace') or 'default'}/{meta.get('name') or ''}"

    def has(self, key: str) -> bool:
        """Whether ``key`` is present and not null."""
        return self.data.get(key) is not None

    # -- typed getters -----------------------------------------------------------------------------------------
    def raw(self, key: str, default: Any = None) -> Any:
        """The value at ``key`` as read, or ``default`` when absent or null."""
        value = self.data.get(key)
        return default if value is None else value

    def string(self, key: str, default: str = "", required: bool = False,
               choices: tuple[str, ...] | None = None) -> str:
        """A string field (``default`` when absent); a problem when required and missing, not text, or not
        among ``choices``."""
        value = self.data.get(key)
        if type(value) is str and (choices is None or value in choices):
            return value  # the common case, as the lines below would read it (read a million times per envelope)
        if value is None:
            if required:
                self.error(key, "is required", f"add `{key}:`")
            return default
        if isinstance(value, (bool, dict, list)):
            self.error(key, f"must be a string, not {_type_name(value)}", f"write `{key}` as text")
            return default
        text = str(value)
        if choices is not None and text not in choices:
            # Enumerations are case-sensitive, as the API server treats them; say so when only the case is off.
            same = [c for c in choices if c.lower() == text.lower()]
            hint = (f"write {same[0]!r} (values are case-sensitive)" if same
                    else f"use one of: {', '.join(choices)}")
            self.error(key, f"unknown value {text!r}", hint)
            return default
        return text

    def integer(self, key: str, default: int | None = None, required: bool = False,
                low: int | None = None, high: int | None = None) -> int | None:
        """An integer field within [``low``, ``high``]; a problem when it is not one."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(key, "is required", f"add `{key}:`")
            return default
        if isinstance(value, str) and is_decimal(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"must be an integer, not {_type_name(value)} ({shown(value)})",
                       f"write `{key}` as a whole number")
            return default
        if (low is not None and value < low) or (high is not None and value > high):
            self.error(key, f"{shown(value)} is outside {low}-{high}", f"use a value from {low} to {high}")
            return default
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        """A boolean field (``default`` when absent); a problem when it is not one."""
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(key, f"must be true or false, not {shown(value)}", f"write `{key}: true` or `{key}: false`")
            return default
        return value

    def port(self, key: str, required: bool = False, zero_is_unset: bool = False) -> int | None:
        """A port number field (1-65535). ``zero_is_unset``: 0 reads as absent (None), for the fields the API
        declares as plain (not pointer) int32 with ``omitempty`` — a container's ``hostPort``, a Service port's
        ``nodePort``, ``healthCheckNodePort``: Go cannot tell 0 from a missing field, and the API server validates
        them only when non-zero (kubernetes/kubernetes pkg/apis/core/validation/validation.go: ``if
        port.HostPort != 0``), so a cluster accepts ``nodePort: 0`` as "allocate one"."""
        if zero_is_unset and _is_zero(self.data.get(key)):
            return None
        return self.integer(key, required=required, low=1, high=65535)

    def port_or_name(self, key: str, required: bool = False, zero_is_unset: bool = False) -> int | str | None:
        """An IntOrString port: a number 1-65535 or an IANA_SVC_NAME (a container port name). ``zero_is_unset``:
        0 and "" read as absent (None), as the API server's defaulting takes a Service port's ``targetPort``
        (kubernetes/kubernetes pkg/apis/core/v1/defaults.go, SetDefaults_Service: ``if sp.TargetPort ==
        intstr.FromInt32(0) || sp.TargetPort == intstr.FromString("")`` it becomes ``port``)."""
        value = self.data.get(key)
        if zero_is_unset and (_is_zero(value) or value == ""):
            return None
        if value is None:
            if required:
                self.error(key, "is required", f"add `{key}:`")
            return None
        if isinstance(value, str) and is_decimal(value):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= 65535:
                self.error(key, f"port {shown(value)} is outside 1-65535", "use a port from 1 to 65535")
                return None
            return value
        if isinstance(value, str) and is_port_name(value):
            return value
        self.error(key, f"{shown(value)} is neither a port number nor a port name",
                   "use a number 1-65535 or a container port name (lower-case letters, digits, '-', max 15)")
        return None

    def mapping(self, key: str, required: bool = False) -> Fields | None:
        """The mapping at ``key``, or None (a problem when required, or when it is not a mapping)."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(key, "is required", f"add `{key}:` as a mapping")
            return None
        if not isinstance(value, dict):
            self.error(key, f"must be a mapping, not {_type_name(value)}", f"write `{key}:` as key: value pairs")
            return None
        return Fields(self.doc, self.path + (key,), value, self.problems, self.what)

    def items(self, key: str, required: bool = False) -> list[tuple[int, Any]]:
        """The entries of a list field with their indexes (an empty list when absent or invalid)."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(key, "is required", f"add `{key}:` as a list")
            return []
        if not isinstance(value, list):
            self.error(key, f"must be a list, not {_type_name(value)}", f"write `{key}:` as a list (`- ...`)")
            return []
        return list(enumerate(value))

    def is_list_present(self, key: str) -> bool:
        """Whether ``key`` is given at all (an empty list counts)."""
        return key in self.data and self.data[key] is not None

    def each_mapping(self, key: str, required: bool = False) -> Iterator[Fields]:
        """Each entry of the list at ``key`` that is a mapping (a problem for any that is not)."""
        for i, item in self.items(key, required):
            if not isinstance(item, dict):
                self.error(key, f"entry {i} must be a mapping, not {_type_name(item)}",
                           "write each entry as key: value pairs")
                continue
            yield Fields(self.doc, self.path + (key, i), item, self.problems, self.what)

    def strings(self, key: str, required: bool = False) -> list[tuple[int, str]]:
        """(index, text) of each string in the list at ``key`` (a problem for any that is not one)."""
        out: list[tuple[int, str]] = []
        for i, item in self.items(key, required):
            if isinstance(item, (dict, list, bool)) or item is None:
                self.problems.add(f"{self.what}: {self.dotted(key)}[{i}]: must be a string, not "
                                  f"{_type_name(item)}", self.doc.span(self.path + (key, i)), "write it as text")
                continue
            out.append((i, str(item)))
        return out

    def check_name(self, key: str | int, value: str, rule: NameRule, prefix: bool = False) -> bool:
        """Record a problem at ``key`` when ``value`` breaks ``rule`` (see `netmodel.model.names`)."""
        why = rule.problem(value, prefix)
        if why is not None:
            self.error(key, why, rule.fix)
        return why is None

    def labels(self, key: str, annotations: bool = False) -> Labels:
        """A label map (keys qualified names, values label values, as the API server validates them).

        ``annotations``: only the keys are held to a rule (lower-cased, as ``ValidateAnnotations`` does);
        annotation values are free text.
        """
        value = self.data.get(key)
        if value is None or value == {}:
            return NO_LABELS  # one shared empty map: most Pods have no annotations and no nodeSelector
        if not isinstance(value, dict):
            self.error(key, f"must be a mapping of strings, not {_type_name(value)}", "write `key: value` pairs")
            return NO_LABELS
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                self.error(key, f"value of {k!r} must be a string, not {_type_name(v)}", "quote the value")
                continue
            name = str(k)
            text = "" if v is None else ("true" if v is True else "false" if v is False else str(v))
            where = self.path + (key, name)
            if not is_qualified_name(name.lower() if annotations else name):
                self.problems.add(f"{self.what}: {self.dotted(key)}: {name!r} is not a valid {QUALIFIED_NAME.title}",
                                  self.doc.key_span(where), QUALIFIED_NAME.fix)
                continue
            if not annotations and not is_label_value(text):
                self.problems.add(f"{self.what}: {self.dotted(key)}.{name}: {text!r} is not a valid "
                                  f"{LABEL_VALUE.title}", self.doc.span(where), LABEL_VALUE.fix)
                continue
            out[name] = text
        return Labels(out)

    def network(self, key: str | int, value: Any, host_bits: bool = False) -> IPNetwork | None:
        """Parse a CIDR found at ``key`` (already extracted as ``value``).

        With ``host_bits``, a CIDR with bits set after the prefix (``192.168.1.1/24``) is read as its network
        (``192.168.1.0/24``) with a warning located at the value, as the API server does for legacy CIDR fields
        such as NetworkPolicy ipBlock (docs/input.md, "ipBlock CIDRs with host bits set").
        """
        try:
            return parse_network(str(value))
        except ValueError as err:
            loose = parse_network_loose(str(value)) if host_bits else None
            if loose is not None:
                self.problems.warn("NM-INPUT-009", f"{self.what}: {self.dotted(key)}: {shown(value)} has host bits set; "
                                   f"Kubernetes accepts it and uses the network {loose}: write {loose}",
                                   self.object_ref(), self.span(key))
                return loose
            self.problems.add(f"{self.what}: {self.dotted(key)}: invalid CIDR {shown(value)} ({err})",
                              self.span(key), "remove the '%' and what follows it" if "%" in str(value)
                              else "write an IPv4/IPv6 network like 10.0.0.0/16 with host bits zero")
            return None

    def networks(self, key: str, required: bool = False, host_bits: bool = False) -> tuple[IPNetwork, ...]:
        """The CIDRs in the list at ``key``, each problem located at its entry."""
        out = []
        for i, text in self.strings(key, required):
            sub = Fields(self.doc, self.path + (key,), {}, self.problems, self.what)
            net = sub.network(i, text, host_bits)
            if net is not None:
                out.append(net)
        return tuple(out)

    def addresses(self, key: str, required: bool = False) -> tuple[IPAddress, ...]:
        """A list of IP addresses, each problem located at its entry."""
        entries = Fields(self.doc, self.path + (key,), {}, self.problems, self.what)
        return tuple(ip for i, text in self.strings(key, required) if (ip := entries.address(i, text)) is not None)

    def address(self, key: str | int, value: Any) -> IPAddress | None:
        """``value`` as an IP address, or None with a problem located at ``key``."""
        try:
            return parse_address(str(value))
        except ValueError as err:
            zoned = "%" in str(value)
            self.problems.add(f"{self.what}: {self.dotted(key)}: invalid IP address {shown(value)}"
                              + (f" ({err})" if zoned else ""), self.span(key),
                              "remove the '%' and what follows it" if zoned
                              else "write an IPv4 or IPv6 address like 10.0.0.5")
            return None

    def selector(self, key: str) -> LabelSelector | None:
        """A metav1.LabelSelector; None when absent."""
        sub = self.mapping(key)
        if sub is None:
            return None
        return read_selector(sub)

    def unknown_keys(self, known: set[str]) -> None:
        """A key not in ``known`` is an error located at it: in netmodel's own kinds (there is no server to ignore
        them for the user), and in the Kubernetes structures whose every field netmodel reads (label selectors,
        NetworkPolicy's spec), where the API server refuses it too and reading without it would change a verdict.
        """
        for key in self.data:
            if key not in known:
                self.problems.add(f"{self.what}: {self.dotted(str(key))}: unknown field",
                                  self.doc.key_span(self.path + (str(key),)),
                                  f"remove it or use one of: {', '.join(sorted(known))}")

    def list_of(self, key: str, read: Callable[[Fields], T | None], required: bool = False) -> tuple[T, ...]:
        """``read`` applied to each mapping of the list at ``key``, the entries it refuses left out."""
        out = []
        for sub in self.each_mapping(key, required):
            item = read(sub)
            if item is not None:
                out.append(item)
        return tuple(out)


def read_selector(sub: Fields) -> LabelSelector:
    """A label selector (``matchLabels`` and ``matchExpressions``), each problem located at its field."""
    match_labels = sub.labels("matchLabels")
    requirements: list[SelectorRequirement] = []
    for expr in sub.each_mapping("matchExpressions"):
        expr.unknown_keys({"key", "operator", "values"})
        key = expr.string("key", required=True)
        if key and not expr.check_name("key", key, QUALIFIED_NAME):
            key = ""
        operator = expr.string("operator", required=True, choices=OPERATORS)
        values = [v for _, v in expr.strings("values")]
        if operator in ("In", "NotIn") and not values:
            expr.error("values", f"operator {operator} needs at least one value", "add `values: [...]`")
        if operator in ("Exists", "DoesNotExist") and values:
            expr.error("values", f"operator {operator} takes no values", "remove `values`")
        if key and operator:
            requirements.append(SelectorRequirement(key, operator, frozenset(values)))
    sub.unknown_keys({"matchLabels", "matchExpressions"})
    return LabelSelector.of(dict(match_labels), requirements)


_PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # ASCII only: 'é' and '²' are not in IANA_SVC_NAME


@lru_cache(maxsize=4096)  # a cluster uses a few port names on every Pod
def is_port_name(text: str) -> bool:
    """IANA_SVC_NAME: 1-15 chars, lower-case alphanumerics and '-', at least one letter, no '--', no edge '-'.

    Kubernetes ``IsValidPortName`` (``k8s.io/apimachinery/pkg/util/validation``), from RFC 6335.

    >>> is_port_name("http-alt"), is_port_name("80"), is_port_name("web--1"), is_port_name("café")
    (True, False, False, False)
    """
    return (len(text) <= 15 and _PORT_NAME.fullmatch(text) is not None and "--" not in text
            and any("a" <= c <= "z" for c in text))


def _is_zero(value: object) -> bool:
    """Whether ``value`` is the integer 0 (not ``false``, which YAML 1.1 reads from ``no``/``off``: a type error)."""
    return type(value) is int and value == 0
