"""Label selectors evaluated as a few bitset operations over an index.

A :class:`LabelIndex` maps ``key → value → bitset`` (and ``key → bitset`` for "has the key"), so
``matchLabels`` is an AND of index entries, ``In`` an OR of entries, ``NotIn``/``DoesNotExist`` complements.
The bitsets are over whatever the caller indexed (Pod classes, namespaces).

>>> from netmodel.model.labels import Labels, LabelSelector, SelectorRequirement
>>> index = LabelIndex([Labels({"app": "web"}), Labels({"app": "db"}), Labels({})])
>>> index.select(LabelSelector.of({"app": "web"}))
1
>>> index.select(LabelSelector.of(None, [SelectorRequirement("app", "NotIn", frozenset({"web"}))]))
6
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from netmodel.analyze.policy.bits import full
from netmodel.model.labels import LabelSelector


class LabelIndex:
    """Which positions carry which labels; answers selectors without looking at any single item."""

    __slots__ = ("_by_value", "_has_key", "everything")

    def __init__(self, labels: Sequence[Mapping[str, str]]) -> None:
        self.everything = full(len(labels))
        self._by_value: dict[str, dict[str, int]] = {}
        self._has_key: dict[str, int] = {}
        for position, item in enumerate(labels):
            bit = 1 << position
            for key, value in item.items():
                values = self._by_value.setdefault(key, {})
                values[value] = values.get(value, 0) | bit
                self._has_key[key] = self._has_key.get(key, 0) | bit

    def with_value(self, key: str, value: str) -> int:
        """The entries whose label ``key`` is ``value``, as a bitset."""
        return self._by_value.get(key, {}).get(value, 0)

    def with_key(self, key: str) -> int:
        """The entries that have the label ``key``, as a bitset."""
        return self._has_key.get(key, 0)

    def values(self, key: str) -> Mapping[str, int]:
        """Each value of label ``key`` and the entries that have it (for Calico's string operators)."""
        return self._by_value.get(key, {})

    def select(self, selector: LabelSelector) -> int:
        """Positions whose labels satisfy ``matchLabels`` AND every ``matchExpressions`` entry."""
        selected = self.everything
        for key, value in selector.match_labels:
            selected &= self.with_value(key, value)
        for req in selector.match_expressions:
            if req.operator == "Exists":
                selected &= self._has_key.get(req.key, 0)
            elif req.operator == "DoesNotExist":
                selected &= self.everything & ~self._has_key.get(req.key, 0)
            else:
                listed = 0
                for value in req.values:
                    listed |= self.with_value(req.key, value)
                # NotIn: a missing key satisfies it, as in Kubernetes.
                selected &= listed if req.operator == "In" else self.everything & ~listed
            if not selected:
                break
        return selected
