"""The port matrix as a heat map: rows are role + port, columns are source classes.

Each cell folds every node of the role: its colour is the worst state among them (exposed, then blocked, then
ok, open, not required) and, when the nodes disagree, the text says how many are in that state ("blocked 1/3").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from netmodel.analyze.diff import cell_state
from netmodel.report.diagrams.common import STATE_COLOURS, new_figure

WORST_FIRST = ("exposed", "blocked", "ok", "open", "not-required")
LABEL = {"exposed": "EXPOSED", "blocked": "BLOCKED", "ok": "ok", "open": "open", "not-required": "—"}
ROLE_ORDER = {"control-plane": 0, "worker": 1}
INTERNAL_SOURCES = ("self", "control-plane", "workers", "worker", "nodes", "pods")


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One cell of the port heat map: its row, column, worst state and text."""

    row: int
    column: int
    state: str
    text: str


@dataclass(frozen=True, slots=True)
class PortHeatMap:
    """The port matrix as a heat map: rows (role, ports, purpose) × columns (sources)."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[HeatCell, ...]


def _port_key(ports: str) -> int:
    head = ports.split(",")[0].split("-")[0]
    return int(head) if head.isdigit() else 1 << 20


def _source_key(source: str) -> tuple[int, str]:
    return (INTERNAL_SOURCES.index(source), "") if source in INTERNAL_SOURCES else (len(INTERNAL_SOURCES), source)


def port_heat_map(cells: Sequence[Mapping[str, Any]], focus: str = "") -> PortHeatMap:
    """Fold the port-matrix cells of a check payload over nodes; ``focus`` keeps one node's cells (``node:cp-1``
    or ``cp-1``)."""
    node = focus.removeprefix("node:")
    if node:
        cells = [c for c in cells if c["node"] == node]
    states: dict[tuple[tuple[str, str, str, str], str], Counter[str]] = defaultdict(Counter)
    for c in cells:
        states[((c["role"], c["ports"], c["protocol"], c["purpose"]), c["source"])][cell_state(c)] += 1
    row_keys = sorted({k for k, _ in states}, key=lambda k: (ROLE_ORDER.get(k[0], 9), k[0], _port_key(k[1]), k[2]))
    columns = sorted({s for _, s in states}, key=_source_key)
    rows = tuple(f"{role}  {proto} {ports}  {purpose}" for role, ports, proto, purpose in row_keys)
    out = []
    for i, rk in enumerate(row_keys):
        for j, source in enumerate(columns):
            counts = states.get((rk, source))
            if not counts:
                continue
            worst = next(s for s in WORST_FIRST if counts[s])
            total = sum(counts.values())
            text = LABEL[worst] if counts[worst] == total else f"{LABEL[worst]} {counts[worst]}/{total}"
            out.append(HeatCell(i, j, worst, text))
    return PortHeatMap(rows, tuple(columns), tuple(out))


def draw_ports(cells: Sequence[Mapping[str, Any]], title: str = "Port matrix", focus: str = "") -> Figure:
    """The port matrix as a heat-map figure."""
    heat = port_heat_map(cells, focus)
    n_rows, n_cols = max(len(heat.rows), 1), max(len(heat.columns), 1)
    cell_w, cell_h = 1.25, 0.34
    fig = new_figure(3.6 + n_cols * cell_w, 1.9 + n_rows * cell_h)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    for c in heat.cells:
        colour = STATE_COLOURS[c.state]
        ax.add_patch(Rectangle((c.column - 0.5, c.row - 0.5), 1, 1, facecolor=colour, edgecolor="white", lw=2))
        dark = c.state in ("exposed", "ok", "blocked")
        ax.text(c.column, c.row, c.text, ha="center", va="center", fontsize=8,
                color="white" if dark else "#263238", fontweight="bold" if dark else "normal")
    ax.set_xticks(range(len(heat.columns)), heat.columns, rotation=30, ha="left")
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(heat.rows)), heat.rows, fontfamily="monospace", fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if not heat.cells:
        ax.text((n_cols - 1) / 2, 0, "no port-matrix cells", ha="center", va="center", color="#616161")
    ax.set_title(title + (f" — focus {focus}" if focus else ""), loc="left", pad=48, fontsize=11,
                 fontweight="bold")
    legend = [Patch(facecolor=STATE_COLOURS[s], edgecolor="#9e9e9e", label=label) for s, label in (
        ("ok", "ok: required, open"), ("blocked", "blocked: required, closed"),
        ("exposed", "exposed: sensitive, open"), ("open", "open: allowed, not required"),
        ("not-required", "— closed, not required"))]
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(0.0, -0.02), ncol=3, frameon=False, fontsize=8)
    return fig


__all__ = ["HeatCell", "PortHeatMap", "draw_ports", "port_heat_map"]
