"""What an answer leaves out because the Pods are not there: Pods that fit no node stay Pending, hold no
address and take part in no flow, so a ``query`` or ``matrix`` over an input with such Pods says how many and why
instead of silently showing fewer rows.

>>> from netmodel.model.topology import Unscheduled
>>> unscheduled_json([Unscheduled("a", "x-0", "0/1 nodes are available"),
...                   Unscheduled("a", "x-1", "0/1 nodes are available")])["count"]
2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from netmodel.model.topology import Unscheduled


def unscheduled_json(pods: Sequence[Unscheduled]) -> dict[str, Any]:
    """``{"count": N, "reasons": [{"reason": R, "count": n, "pods": ["NS/NAME", ...]}, ...]}``, reasons in
    first-seen order."""
    by_reason: dict[str, list[str]] = {}
    for p in pods:
        by_reason.setdefault(p.reason, []).append(p.qualified_name)
    return {"count": len(pods),
            "reasons": [{"reason": r, "count": len(names), "pods": names} for r, names in by_reason.items()]}


def unscheduled_line(data: dict[str, Any]) -> str:
    """One line for a table, from :func:`unscheduled_json`: how many Pods are missing from the answer and why."""
    return f"{data['count']} Pod(s) fit no node, stay Pending and are not in this answer — {_reasons(data)}"


def _reasons(data: dict[str, Any]) -> str:
    """Each reason of :func:`unscheduled_json` with the first three of its Pods."""
    return "; ".join(f"{r['reason']}: {', '.join(r['pods'][:3])}"
                     + (f" and {len(r['pods']) - 3} more" if len(r["pods"]) > 3 else "") for r in data["reasons"])


def pending_clause(pods: Sequence[Unscheduled]) -> str:
    """For a finding about a selector that matches no Pod of the model although it matches ``pods`` (Pending: they
    fit no node): the clause saying so, so the finding does not send the reader to fix labels that are right.

    >>> pending_clause([Unscheduled("a", "x-0", "0/1 nodes are available")])
    'the 1 Pod(s) it selects fit no node and stay Pending (0/1 nodes are available: a/x-0)'
    """
    data = unscheduled_json(pods)
    return f"the {data['count']} Pod(s) it selects fit no node and stay Pending ({_reasons(data)})"


__all__ = ["pending_clause", "unscheduled_json", "unscheduled_line"]
