"""CSV for matrices and other record lists, for spreadsheets and ``awk``.

A connectivity matrix (or any payload holding one list of records) becomes one row per record, columns in the
order the records first use them. A check's port matrix is its CSV; a diff's changed cells are its CSV.
"""

from __future__ import annotations

import csv as _csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from netmodel.report.sections import Payload, _scalar

# Which list of records a payload of each kind is "the matrix" of.
TABLE_KEY = {"check": "portMatrix", "diff": "portMatrix"}
# Columns written even when there is no row (a diff that changes no cell is a header, not an empty file).
EMPTY_COLUMNS = {"diff": ("node", "role", "ports", "protocol", "purpose", "source", "before", "after",
                          "decidedBy")}


def records_of(payload: Payload, kind: str) -> Sequence[Mapping[str, Any]]:
    """The records a CSV of ``kind`` lists: the payload's table for that kind, else its biggest list of
    records."""
    key = TABLE_KEY.get(kind)
    if key is not None:
        return payload[key]
    lists = [v for v in payload.values() if isinstance(v, list) and all(isinstance(r, Mapping) for r in v)]
    # The biggest list of records is the matrix (a matrix payload carries only one such list besides notes).
    return max(lists, key=len) if lists else []


def render_csv(payload: Payload, kind: str = "matrix", **_options: Any) -> str:
    """The payload's records as CSV, one column per field any record has."""
    records = records_of(payload, kind)
    columns: list[str] = []
    for r in records:
        columns.extend(k for k in r if k not in columns)
    if not columns:
        columns = list(EMPTY_COLUMNS.get(kind, ()))
    out = io.StringIO()
    writer = _csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for r in records:
        writer.writerow([_scalar(r.get(c)) for c in columns])
    return out.getvalue()


__all__ = ["render_csv"]
