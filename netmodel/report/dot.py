"""Graphviz DOT: the graph behind each payload, for ``dot -Tsvg`` and tools that read DOT.

* ``matrix``: groups (workloads, namespaces, outside networks) as vertices, one edge per allowed connection
  labelled with its protocol and ports (dashed when only some members get it);
* ``check``: source classes → node roles, one edge per port row that is open, red and bold when exposed,
  orange and dashed when a required flow is blocked;
* ``query``: each path as a chain of hops, the deciding rules on the edges;
* ``diff``: the port-matrix cells that changed, coloured by their new state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from netmodel.analyze.diff import cell_state
from netmodel.report.sections import Payload

COLOUR = {"ok": "#2e7d32", "open": "#1565c0", "blocked": "#ef6c00", "exposed": "#b71c1c", "not-required": "#9e9e9e"}


def quote(text: str) -> str:
    """A DOT string literal.

    >>> quote('a "b"')
    '"a \\\\"b\\\\""'
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**attrs: str) -> str:
    return "[" + ", ".join(f"{k}={quote(v)}" for k, v in attrs.items() if v) + "]"


def _header(name: str) -> list[str]:
    return [f"digraph {quote(name)} {{", '  graph [rankdir="LR", fontname="Helvetica"];',
            '  node [shape="box", style="rounded,filled", fillcolor="#f5f5f5", fontname="Helvetica"];',
            '  edge [fontname="Helvetica", fontsize="10"];']


def _matrix(payload: Payload) -> list[str]:
    lines = _header(f"connectivity by {payload.get('by', 'workload')}")
    if "rules" in payload:  # the grouped map: one edge per rule
        payload = {"connections": [{"from": r["from"], "to": r["to"], "label": r["connections"]}
                                   for r in payload["rules"]]}
    vertices = sorted({c[k] for c in payload.get("connections", ()) for k in ("from", "to")})
    for v in vertices:
        fill = "#fff3e0" if v.startswith(("network:", "ip:")) else "#f3e5f5"
        lines.append(f"  {quote(v)} {_attrs(fillcolor=fill)};")
    for c in payload.get("connections", ()):
        attrs = _attrs(label=c.get("label") or f"{c['protocol']} {c['ports']}",
                       style="dashed" if c.get("partial") else "")
        lines.append(f"  {quote(c['from'])} -> {quote(c['to'])} {attrs};")
    return lines + ["}"]


def _check(payload: Payload) -> list[str]:
    lines = _header("port matrix")
    edges: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    rank = {"exposed": 4, "blocked": 3, "ok": 2, "open": 1, "not-required": 0}
    for c in payload.get("portMatrix", ()):
        state = cell_state(c)
        if state == "not-required":
            continue
        label = f"{c['protocol']} {c['ports']} {c['purpose']}"
        slot = edges[(c["source"], c["role"])]
        if rank[state] > rank.get(slot.get(label, "not-required"), 0):
            slot[label] = state
    for role in sorted({r for _, r in edges}):
        lines.append(f"  {quote(role)} {_attrs(fillcolor='#e3f2fd', label=f'{role} nodes')};")
    for (source, role), labels in sorted(edges.items()):
        for label, state in sorted(labels.items()):
            bad = state in ("exposed", "blocked")
            attrs = _attrs(label=label + (f" {state.upper()}" if bad else ""), color=COLOUR[state],
                           fontcolor=COLOUR[state], style="dashed" if state == "blocked" else "",
                           penwidth="2.5" if bad else "")
            lines.append(f"  {quote(source)} -> {quote(role)} {attrs};")
    return lines + ["}"]


def _query(payload: Payload) -> list[str]:
    lines = _header(f"{payload.get('from', '')} to {payload.get('to', '')}")
    for n, path in enumerate(payload.get("paths", ()), 1):
        previous = None
        for i, hop in enumerate(path.get("hops", ())):
            vid = f"p{n}h{i}"
            failed = any(not s.get("ok", True) for s in hop.get("steps", ()))
            steps = "\n".join(s.get("step", "") + ("" if s.get("ok", True) else " ✗") for s in hop.get("steps", ()))
            attrs = _attrs(label=hop.get("location", "") + "\n" + steps, fillcolor="#fdecea" if failed else "#f5f5f5")
            lines.append(f"  {quote(vid)} {attrs};")
            if previous:
                lines.append(f"  {quote(previous)} -> {quote(vid)};")
            previous = vid
    return lines + ["}"]


def _diff(payload: Payload) -> list[str]:
    lines = _header("port matrix changes")
    for c in payload.get("portMatrix", ()):
        after = c.get("after") or "not-required"
        attrs = _attrs(label=f"{c['protocol']} {c['ports']}: {c.get('before')} → {c.get('after')}",
                       color=COLOUR.get(after, "#616161"))
        lines.append(f"  {quote(c['source'])} -> {quote('node ' + c['node'])} {attrs};")
    return lines + ["}"]


def render_dot(payload: Mapping[str, Any], kind: str = "check", **_options: Any) -> str:
    """The payload as a Graphviz DOT graph (check, matrix, query or diff)."""
    builder = {"matrix": _matrix, "check": _check, "query": _query, "diff": _diff}.get(kind, _check)
    return "\n".join(builder(payload)) + "\n"


__all__ = ["render_dot"]
