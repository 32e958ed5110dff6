"""Reachability: endpoint references, the path engine with traces, and verdicts for references."""

from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.analyze.reach.paths import Tracer
from netmodel.analyze.reach.query import parse_port, parse_protocol, query
from netmodel.analyze.reach.refs import Endpoint, Target, resolve
from netmodel.analyze.reach.trace import Answer, Decision, Disposition, Hop, Path, Step, StepRecord

__all__ = [
           "Answer",
           "CompiledCluster",
           "Decision",
           "Disposition",
           "Endpoint",
           "Hop",
           "Path",
           "Step",
           "StepRecord",
           "Target",
           "Tracer",
           "parse_port",
           "parse_protocol",
           "query",
           "resolve",
]
