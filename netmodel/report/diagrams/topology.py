"""Draw the topology view: the layout of :mod:`netmodel.report.diagrams.layout`, boxes, edges and a legend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

from netmodel.report.diagrams.common import FINDING_COLOUR, KIND_STYLE, STATE_COLOURS, new_figure
from netmodel.report.diagrams.layout import Box, Edge, TopologyLayout, layout_topology

EDGE_STYLE = {  # colour, line width, line style
    "allowed": (STATE_COLOURS["allowed"], 1.4, "-"),
    "exposed": (STATE_COLOURS["exposed"], 3.0, "-"),
    "blocked": (STATE_COLOURS["blocked"], 2.0, (0, (5, 3))),
    "closed": (STATE_COLOURS["closed"], 1.0, ":"),
}
SCALE = 1.0  # inches per layout unit


def _draw_box(ax: Axes, box: Box) -> None:
    if box.kind in ("cluster", "namespace", "band"):
        face, edge = KIND_STYLE.get(box.kind, ("#ffffff", "#bdbdbd"))
        if box.kind == "band":
            face, edge = "none", "#b0bec5"
        ax.add_patch(FancyBboxPatch((box.x, box.y), box.w, box.h, boxstyle="round,pad=0,rounding_size=0.12",
                                    facecolor=face, edgecolor=FINDING_COLOUR if box.findings else edge,
                                    lw=2.0 if box.findings else 1.0, linestyle="-" if box.kind != "band" else "--",
                                    zorder=0 if box.kind == "cluster" else 1))
        ax.text(box.x + 0.12, box.y + 0.12, box.title, ha="left", va="top", fontsize=9 if box.kind != "band" else 8,
                fontweight="bold" if box.kind != "band" else "normal", color="#37474f", zorder=2)
        if box.findings:
            ax.text(box.x + box.w - 0.1, box.y + 0.12, "⚠ " + " ".join(box.findings), ha="right", va="top",
                    fontsize=8, color=FINDING_COLOUR, fontweight="bold", zorder=2)
        return
    face, edge = KIND_STYLE.get(box.kind, ("#eceff1", "#607d8b"))
    if box.kind == "underlay":
        face, edge = "#eceff1", "#607d8b"
    marked = bool(box.findings)
    ax.add_patch(FancyBboxPatch((box.x, box.y), box.w, box.h, boxstyle="round,pad=0,rounding_size=0.08",
                                facecolor=face, edgecolor=FINDING_COLOUR if marked else edge,
                                lw=3.0 if box.focused else (2.2 if marked else 1.2), zorder=3))
    ax.text(box.x + 0.08, box.y + 0.07, box.title, ha="left", va="top", fontsize=8.5, fontweight="bold",
            color=edge, zorder=4, clip_on=True)
    for i, line in enumerate(box.lines):
        tone = box.tones[i] if i < len(box.tones) else ""
        colour = FINDING_COLOUR if line == "no endpoints" else (EDGE_STYLE[tone][0] if tone else "#37474f")
        ax.text(box.x + 0.08, box.y + 0.27 + i * 0.15, _fit(line, box.w), ha="left", va="top", fontsize=7,
                color=colour, zorder=4, fontweight="bold" if tone in ("exposed", "blocked") else "normal")
    if marked:
        ids = box.findings[:2]
        text = "⚠ " + " ".join(ids) + (f" +{len(box.findings) - 2}" if len(box.findings) > 2 else "")
        ax.text(box.x + box.w, box.y - 0.04, text, ha="right", va="bottom", fontsize=7.5, fontweight="bold",
                color="white", zorder=6,
                bbox={"boxstyle": "round,pad=0.18", "facecolor": FINDING_COLOUR, "edgecolor": "none"})


def _fit(text: str, width: float) -> str:
    limit = int(width * 15)  # characters of 7-point text per inch, roughly
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _anchor(box: Box, toward: Box) -> tuple[float, float]:
    """Where an edge leaves/enters a box: the side facing the other box."""
    if box.kind == "band" or toward.x >= box.x + box.w:  # left-to-right edges
        return (box.x + box.w, box.y + box.h / 2) if toward.x >= box.x + box.w else (box.x, box.y + box.h / 2)
    if toward.x + toward.w <= box.x:
        return box.x, box.y + box.h / 2
    return (box.x + box.w / 2, box.y + box.h) if toward.y > box.y else (box.x + box.w / 2, box.y)


def _draw_edge(ax: Axes, layout: TopologyLayout, edge: Edge, index: int) -> None:
    source, target = layout.box(edge.source), layout.box(edge.target)
    start = _anchor(source, target)
    end = _anchor(target, source)
    if target.kind == "band":
        end = (target.x, target.y + target.h * (0.3 + 0.4 * ((index % 3) / 2)))
    colour, width, style = EDGE_STYLE[edge.state]
    rad = 0.0 if abs(end[1] - start[1]) < 0.05 else (0.08 if source.kind == "network" else 0.0)
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=colour, lw=width,
                                 linestyle=style, connectionstyle=f"arc3,rad={rad}", zorder=5 if
                                 edge.state != "allowed" else 2, shrinkA=2, shrinkB=2))
    if edge.label:
        t = 0.22
        lx, ly = start[0] + (end[0] - start[0]) * t + 0.05, start[1] + (end[1] - start[1]) * t
        ax.text(lx, ly, edge.label, fontsize=7, ha="left", va="center", color=colour, zorder=7,
                fontweight="bold" if edge.state in ("exposed", "blocked") else "normal",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": colour, "lw": 0.6})


def draw_layout(layout: TopologyLayout) -> Figure:
    """Draw a :class:`TopologyLayout` (boxes, edges and a legend) as a figure."""
    legend_h = 0.9
    fig = new_figure(layout.width * SCALE, (layout.height + legend_h) * SCALE)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(-0.1, layout.width)
    ax.set_ylim(layout.height + legend_h, -0.2)
    ax.axis("off")
    ax.text(0.0, 0.1, layout.title, fontsize=13, fontweight="bold", va="top", color="#263238")
    for box in layout.boxes:
        _draw_box(ax, box)
    for i, edge in enumerate(layout.edges):
        _draw_edge(ax, layout, edge, i)
    handles = [
        Patch(facecolor=KIND_STYLE["network"][0], edgecolor=KIND_STYLE["network"][1], label="outside network"),
        Patch(facecolor=KIND_STYLE["control-plane"][0], edgecolor=KIND_STYLE["control-plane"][1],
              label="control-plane node"),
        Patch(facecolor=KIND_STYLE["worker"][0], edgecolor=KIND_STYLE["worker"][1], label="worker node"),
        Patch(facecolor=KIND_STYLE["workload"][0], edgecolor=KIND_STYLE["workload"][1], label="workload (its Pods)"),
        Patch(facecolor=KIND_STYLE["service"][0], edgecolor=KIND_STYLE["service"][1], label="Service"),
        Patch(facecolor=KIND_STYLE["ingress"][0], edgecolor=KIND_STYLE["ingress"][1], label="Ingress"),
        *([Patch(facecolor=KIND_STYLE["gateway"][0], edgecolor=KIND_STYLE["gateway"][1], label="Gateway"),
           Patch(facecolor=KIND_STYLE["route"][0], edgecolor=KIND_STYLE["route"][1], label="Gateway API route")]
          if any(b.kind == "gateway" for b in layout.boxes) else []),
        Line2D([], [], color=EDGE_STYLE["allowed"][0], lw=1.4, label="allowed / required and open"),
        Line2D([], [], color=EDGE_STYLE["blocked"][0], lw=2.0, linestyle=(0, (5, 3)),
               label="BLOCKED: required, closed"),
        Line2D([], [], color=EDGE_STYLE["exposed"][0], lw=3.0, label="EXPOSED: sensitive port open"),
        Line2D([], [], color=EDGE_STYLE["closed"][0], lw=1.0, linestyle=":", label="closed, not required"),
        Patch(facecolor=FINDING_COLOUR, edgecolor=FINDING_COLOUR, label="⚠ finding on this object"),
    ]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 0.0), ncol=6, frameon=False, fontsize=8,
              handlelength=2.5)
    return fig


def draw_topology(graph: nx.MultiDiGraph, payload: Mapping[str, Any] | None = None, focus: str = "") -> Figure:
    """The topology view of a compiled graph, with the check payload's findings and port-matrix states."""
    return draw_layout(layout_topology(graph, payload, focus))


__all__ = ["draw_layout", "draw_topology"]
