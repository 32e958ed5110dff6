"""Which Pods a Service selector picks, answered from set indexes instead of scanning every Pod.

Pods are numbered by their position in ``Topology.pods``. The index maps each ``(namespace, key, value)`` to the
set of Pod numbers carrying that label, so an equality selector (a Service's ``spec.selector``) is the
intersection of a few sets, smallest first: a Service picking 250 Pods out of 150,000 costs about 250 steps.

A Service ``selector`` that is absent or empty selects nothing here: the API server drops an empty map, and
such a Service gets its endpoints from EndpointSlices the user manages.

>>> from netmodel.model.labels import Labels
>>> index = PodIndex.from_pods([("shop", Labels({"app": "web"})), ("shop", Labels({"app": "db"}))])
>>> sorted(index.select("shop", Labels({"app": "web"})))
[0]
>>> sorted(index.select("other", Labels({"app": "web"})))
[]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain

from netmodel.model.objects import Pod
from netmodel.model.topology import Topology

EMPTY: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class PodIndex:
    """Pod numbers by namespace and by ``(namespace, label key, label value)``."""

    by_namespace: Mapping[str, frozenset[int]]
    by_label: Mapping[tuple[str, str, str], frozenset[int]]

    @classmethod
    def from_pods(cls, pods: Iterable[tuple[str, Mapping[str, str]]]) -> PodIndex:
        """The index of (namespace, labels) pairs, positions in their order."""
        # The runs of numbers of each namespace and label, made into one frozenset each at the end.
        namespaces: dict[str, list[range]] = {}
        labels: dict[tuple[str, str, str], list[range]] = {}

        def add(namespace: str, pod_labels: Mapping[str, str], numbers: range) -> None:
            namespaces.setdefault(namespace, []).append(numbers)
            for key, value in pod_labels.items():
                labels.setdefault((namespace, key, value), []).append(numbers)

        # The Pods of one workload come in a row and share one labels object: each such run is indexed at once
        # (a run ends where the labels object or the namespace changes; equal labels in another object start
        # a new run, which only costs time).
        run: tuple[str, Mapping[str, str]] | None = None
        start = end = 0
        for end, (namespace, pod_labels) in enumerate(pods):
            if run is not None and pod_labels is run[1] and namespace == run[0]:
                continue
            if run is not None:
                add(*run, range(start, end))
            run, start = (namespace, pod_labels), end
        if run is not None:
            add(*run, range(start, end + 1))
        return cls({k: frozenset(chain.from_iterable(v)) for k, v in namespaces.items()},
                   {k: frozenset(chain.from_iterable(v)) for k, v in labels.items()})

    @classmethod
    def of(cls, topology: Topology) -> PodIndex:
        """The index of ``topology``'s Pods, by their positions in ``topology.pods``."""
        return cls.from_pods((p.namespace, p.labels) for p in topology.pods)

    def select(self, namespace: str, selector: Mapping[str, str] | None) -> frozenset[int]:
        """Pod numbers in ``namespace`` whose labels include every ``key: value`` of ``selector``."""
        if not selector:
            return EMPTY
        sets = sorted((self.by_label.get((namespace, k, v), EMPTY) for k, v in selector.items()), key=len)
        if not sets[0]:
            return EMPTY
        return sets[0].intersection(*sets[1:]) if len(sets) > 1 else sets[0]


def selected_pods(topology: Topology, numbers: Iterable[int]) -> list[Pod]:
    """The Pods behind a set of Pod numbers, in input order (deterministic output)."""
    return [topology.pods[i] for i in sorted(numbers)]
