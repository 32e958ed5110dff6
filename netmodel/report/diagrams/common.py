"""What every diagram shares: the Agg backend, the palette, and deterministic saving."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display, and the same pixels on every machine with the same fonts

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

FORMATS = ("png", "svg")
DPI = 110

# One colour per meaning, used by every view and its legend.
STATE_COLOURS = {
    "ok": "#2e7d32",          # required and open
    "allowed": "#2e7d32",
    "open": "#90caf9",        # open, not required, not sensitive
    "blocked": "#ef6c00",     # required but closed
    "exposed": "#b71c1c",     # sensitive and open to who must not reach it
    "not-required": "#eceff1",
    "closed": "#9e9e9e",
    "partial": "#fbc02d",
}
KIND_STYLE = {  # face, edge
    "network": ("#fff3e0", "#e65100"),
    "control-plane": ("#e3f2fd", "#0d47a1"),
    "worker": ("#e8f5e9", "#1b5e20"),
    "workload": ("#f3e5f5", "#6a1b9a"),
    "service": ("#fffde7", "#f57f17"),
    "ingress": ("#e0f7fa", "#006064"),
    "gateway": ("#e0f2f1", "#004d40"),
    "route": ("#f1f8e9", "#33691e"),
    "namespace": ("#fafafa", "#9e9e9e"),
    "cluster": ("#f7f7f7", "#616161"),
}
FINDING_COLOUR = "#c62828"


def new_figure(width: float, height: float) -> Figure:
    """A matplotlib figure of the given size in inches, with settings that make SVG output stable."""
    plt.rcParams["svg.hashsalt"] = "netmodel"  # stable ids inside SVG files
    plt.rcParams["font.size"] = 9
    return Figure(figsize=(width, height), dpi=DPI)


def save(figure: Figure, fmt: str) -> bytes:
    """PNG or SVG bytes without creation dates or software versions, so equal input gives equal bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown image format {fmt!r}")
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata=metadata, dpi=DPI, bbox_inches="tight", pad_inches=0.2)
    return buffer.getvalue()
