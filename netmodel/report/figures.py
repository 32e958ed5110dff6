"""The diagrams a report embeds, drawn from what the report already holds.

A check payload alone gives the port heat map; with the compiled graph, the topology too; a matrix payload (or
connections given next to a check) gives the connectivity heat map. The HTML renderer calls this when no
figures are handed to it, so ``netmodel check --format html`` is self-contained without extra work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from netmodel.report.diagrams import draw_matrix, draw_ports, draw_topology, save
from netmodel.report.diagrams.matrix import Connection

Figures = dict[str, tuple[bytes, str]]


def connections_of(matrix: Mapping[str, Any]) -> list[Connection]:
    """The matrix payload's connections as diagram input (``partial`` ones marked with a ``~``)."""
    if "rules" in matrix:  # the grouped map (netmodel matrix --by group): one edge per rule
        return [Connection(r["from"], r["to"], r["connections"],
                           "; ".join(sorted({a["via"] for a in r.get("allowed", ()) if a.get("via")})))
                for r in matrix["rules"]]
    return [Connection(c["from"], c["to"], f"{c['protocol']} {c['ports']}" + ("~" if c.get("partial") else ""),
                       c.get("via") or "") for c in matrix.get("connections", ())]


def payload_figures(payload: Mapping[str, Any], kind: str, graph: nx.MultiDiGraph | None = None,
                    matrix: Mapping[str, Any] | None = None, fmt: str = "png", focus: str = "") -> Figures:
    """The figures of a payload by caption: topology and port matrix for a check, the connectivity matrix
    when given."""
    out: Figures = {}
    if kind == "check":
        if graph is not None:
            out["Topology"] = (save(draw_topology(graph, payload, focus), fmt), fmt)
        if payload.get("portMatrix"):
            out["Port matrix"] = (save(draw_ports(payload["portMatrix"], focus=focus), fmt), fmt)
    if kind == "matrix":
        matrix = payload
    if matrix is not None and kind in ("check", "matrix"):
        by = matrix.get("by", "workload")
        out[f"Connectivity by {by}"] = (save(draw_matrix(connections_of(matrix), f"Connectivity by {by}", focus),
                                             fmt), fmt)
    return out


def figure_files(figures: Figures) -> Sequence[tuple[str, str]]:
    """(caption, file name) for each figure, in order: ``Port matrix`` → ``port-matrix.png``."""
    return [(caption, caption.lower().replace(" ", "-") + "." + fmt) for caption, (_, fmt) in figures.items()]


__all__ = ["Figures", "connections_of", "figure_files", "payload_figures"]
