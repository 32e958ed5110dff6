"""netmodel: a Kubernetes cluster network model and port-reachability analyzer.

The pipeline (docs/architecture.md): ``load`` (files → documents with spans) → ``model`` (validated Topology) →
``compile`` (address book, firewalls, Pod index, graph) → ``analyze`` (checks, queries) → ``report``
(renderers). :mod:`netmodel.pipeline` runs a whole check: :func:`run_check` from paths,
:func:`check_topology` for a topology already loaded.
"""

from typing import TYPE_CHECKING, Any

from netmodel.errors import LoadError, NetmodelError, UsageError, ValidationError

if TYPE_CHECKING:
    from netmodel.model.build import build_topology, load_topology
    from netmodel.pipeline import check_topology, run_check

__version__ = "0.1.0"

__all__ = ["LoadError", "NetmodelError", "UsageError", "ValidationError", "build_topology", "check_topology",
           "load_topology", "run_check"]

# Where each function this package exports lives. They are imported on first use: every netmodel module (the
# emulator's in-namespace agent and ``netmodel --help`` among them) runs this file, and most never build or
# check anything (importing the model builder alone took a quarter of a second).
_LAZY = {"build_topology": "netmodel.model.build", "load_topology": "netmodel.model.build",
         "check_topology": "netmodel.pipeline", "run_check": "netmodel.pipeline"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'netmodel' has no attribute {name!r}")
