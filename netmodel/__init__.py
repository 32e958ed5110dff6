"""netmodel: a Kubernetes cluster network model and port-reachability analyzer.

The pipeline (docs/architecture.md): ``load`` (files → documents with spans) → ``model`` (validated Topology) →
``compile`` (address book, firewalls, Pod index, graph) → ``analyze`` (checks, queries) → ``report``
(renderers). :mod:`netmodel.pipeline` runs a whole check: :func:`run_check` from paths,
:func:`check_topology` for a topology already loaded.
"""

from typing import Any

from netmodel.errors import LoadError, NetmodelError, UsageError, ValidationError
from netmodel.model.build import build_topology, load_topology

__version__ = "0.1.0"

__all__ = ["LoadError", "NetmodelError", "UsageError", "ValidationError", "build_topology", "check_topology",
           "load_topology", "run_check"]


def __getattr__(name: str) -> Any:
    # The check pipeline is imported on first use: every netmodel module (the emulator's in-namespace agent
    # among them) runs this file, and most never check anything.
    if name in ("check_topology", "run_check"):
        from netmodel import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'netmodel' has no attribute {name!r}")
