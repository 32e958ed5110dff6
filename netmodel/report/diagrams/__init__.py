"""Diagrams drawn with matplotlib (Agg backend): the topology, the port matrix, the connectivity matrix.

Each view is a pure layout step (data in, boxes/cells out — testable without drawing) and a drawing step.
Output is deterministic: fixed layouts (no random seeds at all), no timestamps or software versions in the file
metadata, a fixed SVG hash salt.
"""

from netmodel.report.diagrams.common import FORMATS, save
from netmodel.report.diagrams.matrix import draw_matrix
from netmodel.report.diagrams.ports import draw_ports
from netmodel.report.diagrams.topology import draw_topology

VIEWS = ("topology", "ports", "matrix")

__all__ = ["FORMATS", "VIEWS", "draw_matrix", "draw_ports", "draw_topology", "save"]
