"""Labels and label selectors, with Kubernetes' matching rules.

>>> sel = LabelSelector.of({"app": "web"}, [SelectorRequirement("tier", "NotIn", frozenset({"db"}))])
>>> sel.matches(Labels({"app": "web", "tier": "front"}))
True
>>> sel.matches(Labels({"app": "web", "tier": "db"}))
False
>>> LabelSelector.everything().matches(Labels({}))
True
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar, overload

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
T = TypeVar("T")


class Labels(Mapping[str, str]):
    """An immutable, hashable string-to-string mapping (labels, annotations, nodeSelector)."""

    __slots__ = ("_hash", "_items")

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(items or {})
        self._hash: int | None = None

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    # Mapping's own ``in`` goes through __getitem__ and catches KeyError for a missing key: asked hundreds of
    # thousands of times (node roles, selectors), the dict answers directly.
    def __contains__(self, key: object) -> bool:
        return key in self._items

    @overload
    def get(self, key: str, /) -> str | None:
        """The value at ``key``, or None."""

    @overload
    def get(self, key: str, /, default: str | T) -> str | T:
        """The value at ``key``, or ``default``."""

    def get(self, key: str, /, default: object = None) -> object:
        """The value at ``key``, else ``default``: the dict's own answer (Mapping's raises and catches KeyError
        for a missing key; load-balancer exclusions, node selectors and ingress classes ask 40,000 times)."""
        return self._items.get(key, default)

    def items(self) -> ItemsView[str, str]:
        """The (key, value) pairs: the dict's own view (Mapping's walks the keys in Python and looks each up;
        selectors and Service selections read 200,000 of them per envelope check)."""
        return self._items.items()

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._items.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Labels):
            return self._items == other._items
        return isinstance(other, Mapping) and self._items == dict(other)

    def __repr__(self) -> str:
        return f"Labels({self._items!r})"

    def __str__(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self._items.items()))

    def with_items(self, extra: Mapping[str, str]) -> Labels:
        """These labels with ``extra`` added (``extra`` wins)."""
        return Labels({**self._items, **extra})


NO_LABELS = Labels()


@dataclass(frozen=True, slots=True)
class SelectorRequirement:
    """One ``matchExpressions`` entry."""

    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` meet the requirement (In, NotIn, Exists, DoesNotExist)."""
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        # NotIn: a missing key satisfies it, as in Kubernetes.
        return self.key not in labels or labels[self.key] not in self.values

    def __str__(self) -> str:
        if self.operator in ("Exists", "DoesNotExist"):
            return f"{'!' if self.operator == 'DoesNotExist' else ''}{self.key}"
        return f"{self.key} {self.operator.lower()} ({','.join(sorted(self.values))})"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """``matchLabels`` AND every ``matchExpressions`` entry. The empty selector selects everything.

    Whether a *missing* selector means "everything" or "nothing" depends on the field, so callers keep
    ``None`` for absent and this class for present.
    """

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[SelectorRequirement, ...] = ()

    @classmethod
    def of(cls, match_labels: Mapping[str, str] | None = None,
           match_expressions: list[SelectorRequirement] | None = None) -> LabelSelector:
        """A selector from ``matchLabels`` and ``matchExpressions``."""
        return cls(tuple(sorted((match_labels or {}).items())), tuple(match_expressions or ()))

    @classmethod
    def everything(cls) -> LabelSelector:
        """The empty selector, which matches everything."""
        return cls()

    def is_empty(self) -> bool:
        """Whether the selector has no term (it then matches everything)."""
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` meet every term (matchLabels and matchExpressions AND)."""
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        return all(req.matches(labels) for req in self.match_expressions)

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.match_labels] + [str(r) for r in self.match_expressions]
        return ",".join(parts) if parts else "(all)"
