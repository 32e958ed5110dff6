"""The connectivity matrix as a heat map: sources down, destinations across, a cell per allowed pair.

Input is the list of allowed connections of ``netmodel matrix`` (aggregated by workload or namespace): each
``(source, destination, ports)``. Entities are ordered by namespace, with a rule between namespaces; a cell is
coloured when anything is allowed and shows its ports when they fit. Past ``MAX_ENTITIES`` the view folds
workloads into their namespaces, so the picture stays readable at any size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from netmodel.report.diagrams.common import STATE_COLOURS, new_figure

MAX_ENTITIES = 60


@dataclass(frozen=True, slots=True)
class Connection:
    """One allowed connection of the connectivity matrix."""

    source: str
    destination: str
    ports: str  # "TCP 80,443"
    via: str = ""  # the Services or Gateway listeners an outside network enters through, "; "-separated


@dataclass(frozen=True, slots=True)
class ConnectivityGrid:
    """The connectivity matrix as a grid: the entities on both axes and the ports text of each cell."""

    entities: tuple[str, ...]
    cells: Mapping[tuple[int, int], str]  # (row, column) → ports text
    folded: bool


def namespace_of(entity: str) -> str:
    """``shop/web[Deployment]`` → ``shop``; outside networks and IPs are their own group."""
    if entity.startswith(("network:", "ip:", "node:")) or "/" not in entity:
        return "(outside)" if not entity.startswith("node:") else "(nodes)"
    return entity.split("/", 1)[0]


def connectivity_grid(connections: Sequence[Connection], focus: str = "") -> ConnectivityGrid:
    """The grid of ``connections`` (only those touching ``focus`` when given), folded when too big to read."""
    conns = list(connections)
    if focus.startswith("gateway:"):
        # The rows entering through the Gateway's listeners (``via``, netmodel/analyze/gateway_entries.py).
        from netmodel.analyze.gateway_entries import parse_via

        conns = [c for c in conns if any((parse_via(v) or ("", 0))[0] == focus for v in c.via.split("; "))]
    elif focus:
        needle = focus.split(":", 1)[-1]
        conns = [c for c in conns if focus in (c.source, c.destination) or needle in (c.source, c.destination)
                 or c.source.startswith(needle) or c.destination.startswith(needle)]
    entities = {e for c in conns for e in (c.source, c.destination)}
    folded = len(entities) > MAX_ENTITIES
    if folded:
        merged: dict[tuple[str, str], set[str]] = defaultdict(set)
        for c in conns:
            merged[(namespace_of(c.source) if "/" in c.source else c.source,
                    namespace_of(c.destination) if "/" in c.destination else c.destination)].add(c.ports)
        conns = [Connection(s, d, "; ".join(sorted(p))) for (s, d), p in merged.items()]
        entities = {e for c in conns for e in (c.source, c.destination)}
    order = tuple(sorted(entities, key=lambda e: (namespace_of(e).startswith("("), namespace_of(e), e)))
    index = {e: i for i, e in enumerate(order)}
    cells: dict[tuple[int, int], list[str]] = defaultdict(list)
    for c in conns:
        cells[(index[c.source], index[c.destination])].append(c.ports)
    return ConnectivityGrid(order, {k: "; ".join(sorted(set(v))) for k, v in cells.items()}, folded)


def short_ports(ports: str, limit: int = 11) -> str:
    """``TCP 53,9153; UDP 53`` → ``53,9153 53/udp`` cut to fit a cell (the CSV and tables have it all).

    >>> short_ports("TCP 80")
    '80'
    >>> short_ports("TCP 53,9153; UDP 53")
    '53,9153\n53/udp'
    """
    if all(item.endswith(" any") for item in ports.split("; ")):
        return "any port"
    parts = []
    for item in ports.split("; "):
        protocol, _, numbers = item.partition(" ")
        parts.append(numbers if protocol == "TCP" else f"{numbers}/{protocol.lower()}")
    return "\n".join(p if len(p) <= limit else p[: limit - 1] + "…" for p in parts[:2]) + (
        "…" if len(parts) > 2 else "")


def draw_matrix(connections: Sequence[Connection], title: str = "Connectivity", focus: str = "") -> Figure:
    """The connectivity matrix as a figure."""
    grid = connectivity_grid(connections, focus)
    n = max(len(grid.entities), 1)
    cell = 0.55 if n <= 25 else 0.32
    label_w = 0.07 * max((len(e) for e in grid.entities), default=10) + 0.4
    fig = new_figure(label_w + n * cell + 0.6, label_w + n * cell + 1.4)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_aspect("equal")
    for (r, c), ports in sorted(grid.cells.items()):
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=STATE_COLOURS["ok"], edgecolor="white", lw=1))
        if cell >= 0.5:
            ax.text(c, r, short_ports(ports), ha="center", va="center", fontsize=6, color="white")
    for i in range(n):
        for j in range(n):
            if (i, j) not in grid.cells:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=STATE_COLOURS["not-required"],
                                       edgecolor="white", lw=1))
    groups = [namespace_of(e) for e in grid.entities]
    for i in range(1, len(groups)):
        if groups[i] != groups[i - 1]:
            ax.axhline(i - 0.5, color="#455a64", lw=1.2)
            ax.axvline(i - 0.5, color="#455a64", lw=1.2)
    ax.set_xticks(range(len(grid.entities)), grid.entities, rotation=60, ha="left", fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(grid.entities)), grid.entities, fontsize=7)
    ax.tick_params(length=0)
    ax.set_xlabel("destination", fontsize=9)
    ax.xaxis.set_label_position("top")
    ax.set_ylabel("source", fontsize=9)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if not grid.cells:
        ax.text((n - 1) / 2, (n - 1) / 2, "no allowed connection", ha="center", va="center", color="#616161")
    suffix = " (folded by namespace)" if grid.folded else ""
    longest = max((len(e) for e in grid.entities), default=10)
    ax.set_title(title + suffix + (f" — focus {focus}" if focus else ""), loc="left", fontsize=11,
                 fontweight="bold", pad=longest * 3.7 + 24)
    ax.legend(handles=[Patch(facecolor=STATE_COLOURS["ok"], label="allowed (ports shown)"),
                       Patch(facecolor=STATE_COLOURS["not-required"], edgecolor="#9e9e9e", label="denied / none")],
              loc="upper left", bbox_to_anchor=(0.0, -0.01), ncol=2, frameon=False, fontsize=8)
    return fig


__all__ = ["Connection", "ConnectivityGrid", "connectivity_grid", "draw_matrix"]
