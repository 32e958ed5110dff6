"""netmodel: a Kubernetes cluster network model and port-reachability analyzer.

The pipeline: ``load`` (files → documents with spans) → ``model`` (validated Topology) → ``compile``
(graph, address book, firewalls) → ``analyze`` (checks, queries) → ``report`` (renderers).
"""

from netmodel.errors import LoadError, NetmodelError, UsageError, ValidationError
from netmodel.model.build import build_topology, load_topology

__version__ = "0.1.0"

__all__ = ["LoadError", "NetmodelError", "UsageError", "ValidationError", "build_topology", "load_topology"]
