"""``netmodel matrix``: every allowed connection, as grouped rules (default) or pairwise by Pod, workload or
namespace."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from netmodel.analyze.connectivity import (
    GROUPINGS,
    Block,
    Connection,
    Entry,
    apply_changes,
    connection_blocks,
    connectivity,
)
from netmodel.analyze.grouped import LOOPBACK, grouped_json
from netmodel.analyze.reach import CompiledCluster
from netmodel.analyze.unevaluated import Unevaluated, kinds, matrix_json
from netmodel.analyze.unscheduled import unscheduled_json, unscheduled_line
from netmodel.cli.app import command
from netmodel.cli.outputs import TABLE_ROWS, fold_note, format_option, output_option, resolve, write
from netmodel.errors import Problem, UsageError
from netmodel.load.files import paused_gc
from netmodel.model.build import load_topology
from netmodel.model.topology import Topology
from netmodel.report.json_text import dumps_indented
from netmodel.sets import IntervalSet, format_ports, protocol_label

# table, json and csv here; markdown, html, junit and dot from the renderer registry (sarif is refused:
# netmodel.cli.outputs).
CSV_COLUMNS = ("from", "to", "protocol", "ports", "partial", "via")
GROUPED_COLUMNS = ("from", "to", "connections")
VIEWS = ("group",) + GROUPINGS


def render_json(payload: dict[str, object]) -> str:
    """The matrix payload as indented JSON, ending in a newline."""
    return dumps_indented(payload) + "\n"


def render_csv(payload: dict[str, Any]) -> str:
    """One row per connection; with objects netmodel does not evaluate, a last column ``notEvaluated`` names the
    kinds that could change each row."""
    marked = "notEvaluated" in payload
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + (("notEvaluated",) if marked else ()))
    for c in payload["connections"]:
        row = [c["from"], c["to"], c["protocol"], c["ports"], "true" if c["partial"] else "false", c.get("via", "")]
        writer.writerow(row + (["; ".join(c.get("notEvaluated", ()))] if marked else []))
    return out.getvalue()


def _csv_field(value: str) -> str:
    """``value`` as csv.writer writes it inside a row (quoted only when it must be)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([value, ""])
    return out.getvalue()[:-2]


class _Text:
    """Writes blocks of rows (:class:`~netmodel.analyze.connectivity.Block`): each row is the source's text
    then its entry's text; the text of an entry (destination, protocol, ports, partial, via) is made once per
    shared base, and the text of repeated values once."""

    def __init__(self, quote: Callable[[str], str], tail: Callable[[int, IntervalSet, bool, str], str]) -> None:
        self.quote, self.tail = quote, tail
        self.names: dict[str, str] = {}
        self.tails: dict[tuple[int, tuple[tuple[int, int], ...], bool, str], str] = {}
        self.bases: dict[int, tuple[list[Entry], list[str]]] = {}

    def name(self, value: str) -> str:
        out = self.names.get(value)
        if out is None:
            out = self.names[value] = self.quote(value)
        return out

    def entry(self, entry: Entry) -> str:
        dst, protocol, via, ports, partial = entry
        key = (protocol, ports.ranges, partial, via)  # ranges: a tuple compares without a Python call
        tail = self.tails.get(key)
        if tail is None:
            tail = self.tails[key] = self.tail(protocol, ports, partial, via)
        return self.name(dst) + tail

    def entries(self, block: Block) -> list[str]:
        cached = self.bases.get(id(block.base))
        if cached is not None and cached[0] is block.base:
            texts = cached[1]
        else:
            texts = [self.entry(e) for e in block.base]
            if not block.last:  # the cache holds the base, so its id cannot be reused while cached
                self.bases[id(block.base)] = (block.base, texts)
        if block.last:
            self.bases.pop(id(block.base), None)
        return apply_changes(texts, [(p, r, self.entry(e)) for p, r, e in block.changes])


def _csv_tail(protocol: int, ports: IntervalSet, partial: bool, via: str) -> str:
    return "," + ",".join(_csv_field(v) for v in (protocol_label(protocol), format_ports(ports),
                                                   "true" if partial else "false", via)) + "\n"


def stream_csv(blocks: Iterable[Block], by: str, skipped: Unevaluated, out: TextIO) -> None:
    """:func:`render_csv` of the matrix of ``blocks``, written a source at a time (memory does not grow with
    the output)."""
    marked = bool(skipped)
    out.write(",".join(CSV_COLUMNS + (("notEvaluated",) if marked else ())) + "\n")
    text = _Text(_csv_field, _csv_tail)
    for block in blocks:
        src = block.source
        if marked:
            line = io.StringIO()
            writer = csv.writer(line, lineterminator="\n")
            for dst, protocol, via, ports, partial in block.entries():
                found = skipped.for_groups(src, dst, by=by)
                writer.writerow([src, dst, protocol_label(protocol), format_ports(ports),
                                 "true" if partial else "false", via, "; ".join(kinds(found)) if found else ""])
            out.write(line.getvalue())
            continue
        entries = text.entries(block)
        if entries:
            head = text.name(src) + ","
            out.write(head + head.join(entries))


def _json_tail(protocol: int, ports: IntervalSet, partial: bool, via: str) -> str:
    return (f',\n      "protocol": {json.dumps(protocol_label(protocol))},\n'
            f'      "ports": {json.dumps(format_ports(ports))},\n'
            f'      "partial": {"true" if partial else "false"}'
            + (f',\n      "via": {json.dumps(via)}' if via else "") + "\n    }")


def _json_name(value: str) -> str:
    return f',\n      "to": {json.dumps(value)}'


_ROWS = "\0rows"  # stands for the rows in the JSON text of the rest of the answer


def stream_json(blocks: Iterable[Block], by: str, skipped: Unevaluated, extra: dict[str, Any],
                out: TextIO) -> None:
    """:func:`render_json` of the matrix of ``blocks`` plus ``extra`` keys, written a source at a time."""
    payload = matrix_json((), by, skipped)
    payload.update(extra)
    payload["connections"] = [_ROWS]
    head, _, rest = render_json(payload).partition(f"    {json.dumps(_ROWS)}\n")
    text = _Text(_json_name, _json_tail)
    separator = ""
    for block in blocks:
        src = block.source
        if skipped:
            rows = []
            for dst, protocol, via, ports, partial in block.entries():
                record = Connection(src, dst, protocol, ports, partial, via).to_json()
                found = skipped.for_groups(src, dst, by=by)
                if found:
                    record["notEvaluated"] = kinds(found)
                rows.append("    " + dumps_indented(record).replace("\n", "\n    "))
            entries = rows
            start = ""
        else:
            entries = text.entries(block)
            start = f'    {{\n      "from": {json.dumps(src)}'
        if not entries:
            continue
        if not separator:
            out.write(head)
            separator = ",\n"
        else:
            out.write(separator)
        out.write(start + (separator + start).join(entries))
    if separator:
        out.write("\n" + rest)
    else:
        payload["connections"] = []
        out.write(render_json(payload))


@contextmanager
def _opened(output: str) -> Iterator[TextIO]:
    """The ``--output`` file (the same message as :func:`write` when it cannot be written), else stdout."""
    if not output:
        yield sys.stdout
        return
    try:
        with Path(output).open("w", encoding="utf-8") as f:
            yield f
    except OSError as err:
        raise UsageError([Problem(f"cannot write {output!r}: {err.strerror}", None,
                                  "choose a writable path for --output")]) from None


def _stream(topology: Topology, by: str, output_format: str, output: str) -> None:
    skipped = Unevaluated.of(topology)
    blocks = connection_blocks(CompiledCluster(topology), by)
    with _opened(output) as out:
        if output_format == "csv":
            stream_csv(blocks, by, skipped, out)
        else:
            extra = {"unscheduled": unscheduled_json(topology.unscheduled)} if topology.unscheduled else {}
            stream_json(blocks, by, skipped, extra, out)


def grouped_rows(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The grouped map as flat rows (from, to, connections[, notEvaluated]), the loopback line last."""
    rows = [{"from": r["from"], "to": r["to"], "connections": r["connections"],
             **({"notEvaluated": ", ".join(r["notEvaluated"])} if r.get("notEvaluated") else {})}
            for r in payload["rules"]]
    return rows + ([dict(LOOPBACK)] if payload["loopback"] else [])


def render_grouped_csv(payload: dict[str, Any]) -> str:
    """The grouped map as CSV: one row per rule (from, to, connections), marked when some input is not evaluated."""
    marked = "notEvaluated" in payload
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GROUPED_COLUMNS + (("notEvaluated",) if marked else ()))
    for row in grouped_rows(payload):
        writer.writerow([row[c] for c in GROUPED_COLUMNS] + ([row.get("notEvaluated", "")] if marked else []))
    return out.getvalue()


def render_grouped_table(payload: dict[str, Any], console: Console, limit: int = TABLE_ROWS) -> None:
    """At most ``limit`` rules, then how many more and which formats list them all."""
    rows = grouped_rows(payload)
    table = Table(title=f"allowed connections, grouped ({len(payload['rules']):,} rules; exact: --by pod lists "
                        "every pair)", title_justify="left")
    for column in ("from", "to", "connections", "note"):
        table.add_column(column, overflow="fold")
    for r in rows[:limit]:
        # Cells are text, not rich markup: "ns in [billing, shop]" would otherwise lose its brackets.
        table.add_row(escape(r["from"]), escape(r["to"]), escape(r["connections"]),
                      escape(f"may differ: {r['notEvaluated']}") if r.get("notEvaluated") else "")
    console.print(table)
    if len(rows) > limit:
        console.print(fold_note(limit, len(rows), "rules"))
    _notes(payload, console)


def _notes(payload: dict[str, Any], console: Console) -> None:
    if payload.get("notEvaluated"):
        console.print(f"[yellow]{payload['notEvaluated']['message']}[/yellow] (they may also allow connections "
                      "not listed here)")
    if payload.get("unscheduled"):
        console.print(f"[yellow]note[/yellow]: {unscheduled_line(payload['unscheduled'])}")


def render_table(payload: dict[str, Any], console: Console, limit: int = TABLE_ROWS) -> None:
    """At most ``limit`` rows, then how many more and which formats list them all."""
    rows = payload["connections"]
    table = Table(title=f"allowed connections by {payload['by']} ({len(rows):,})", title_justify="left")
    for column in ("from", "to", "protocol", "ports", "note"):
        table.add_column(column, overflow="fold")
    for c in rows[:limit]:
        note = ", ".join(x for x in (f"via {c['via']}" if c.get("via") else "", "partial" if c["partial"] else "",
                                     "may differ: " + ", ".join(c["notEvaluated"]) if c.get("notEvaluated")
                                     else "") if x)
        table.add_row(escape(c["from"]), escape(c["to"]), c["protocol"], c["ports"], escape(note))
    console.print(table)
    if len(rows) > limit:
        console.print(fold_note(limit, len(rows), "connections"))
    _notes(payload, console)


@command("matrix")
def matrix_command(
    paths: list[str] = typer.Argument(..., help="Files, folders or - (stdin) describing the cluster."),
    by: str = typer.Option("group", "--by", help="group (default): the grouped map, rules that expand exactly to "
                                                 "the allowed connections; pod, workload or namespace: pairwise."),
    output_format: str = format_option(),
    output: str = output_option(),
) -> None:
    """`netmodel matrix`: its help text is COMMANDS["matrix"] in netmodel/cli/app.py (typer shows that, not this)."""
    if by not in VIEWS:
        raise UsageError([Problem(f"unknown grouping {by!r}", None, f"use one of: {', '.join(VIEWS)}")])
    output_format, output = resolve("matrix", output_format, output)
    topology = load_topology(paths)
    # Computing the matrix builds many small containers that live until the answer is written (the engine's
    # remembered walks and port spaces, the class pairs) and frees almost none: the cyclic collector would
    # rescan them, and the model, for nothing (paused_gc; a quarter to a half of the matrix's CPU time with
    # 500 AdminNetworkPolicies). Reference counting still frees what is dropped.
    with paused_gc():
        _matrix(topology, by, output_format, output)


def _matrix(topology: Topology, by: str, output_format: str, output: str) -> None:
    grouped = by == "group"
    if not grouped and output_format in ("csv", "json"):  # written as computed: it may run to millions of rows
        _stream(topology, by, output_format, output)
        return
    if grouped:
        payload = grouped_json(CompiledCluster(topology), Unevaluated.of(topology))
    else:
        payload = matrix_json(connectivity(CompiledCluster(topology), by), by, Unevaluated.of(topology))
    if topology.unscheduled:
        payload["unscheduled"] = unscheduled_json(topology.unscheduled)
    if output_format == "json":
        text = render_json(payload)
    elif output_format == "csv":
        text = render_grouped_csv(payload) if grouped else render_csv(payload)
    elif output_format != "table":
        from netmodel.report import RENDERERS

        # The other renderers read records: the grouped map as its flat rows.
        view = {"by": "group", "rules": grouped_rows(payload),
                **{k: v for k, v in payload.items() if k in ("notEvaluated", "unscheduled")}} if grouped else payload
        text = RENDERERS[output_format](view, "matrix")
    else:
        terminal = not output and sys.stdout.isatty()
        buffer = io.StringIO()
        console = Console(file=buffer, highlight=False, force_terminal=terminal, no_color=not terminal,
                          width=None if terminal else 200)
        (render_grouped_table if grouped else render_table)(payload, console)
        text = buffer.getvalue()
    write(text, output)
