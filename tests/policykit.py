"""Asking one flow of a compiled layout two independent ways: the traced query and the connectivity matrix.

The policy tests ask both and require them to agree, so a semantic wired into one path but not the other fails.
"""

from __future__ import annotations

from netmodel.analyze.connectivity import connectivity
from netmodel.analyze.reach import CompiledCluster, query
from netmodel.sets.ports import protocol_number


def allowed(compiled: CompiledCluster, src: str, dst: str, port: int | str = 80, protocol: str = "TCP") -> bool:
    """The traced query's verdict, which must be a decided one (not partial)."""
    answer = query(compiled, src, dst, port, protocol)
    assert answer.verdict != "partial"
    return answer.allowed


def matrix_allows(compiled: CompiledCluster, src: str, dst: str, port: int, protocol: str = "TCP") -> bool:
    """Whether the Pod-by-Pod matrix lists the flow as wholly allowed."""
    return any(c.source == src and c.destination == dst and c.protocol == protocol_number(protocol)
               and port in c.ports and not c.partial for c in connectivity(compiled, by="pod"))


def both(compiled: CompiledCluster, src: str, dst: str, port: int, protocol: str = "TCP") -> bool:
    """The trace and the matrix agree; their answer."""
    answer = allowed(compiled, src, dst, port, protocol)
    assert matrix_allows(compiled, src, dst, port, protocol) is answer, (src, dst, port, protocol)
    return answer
