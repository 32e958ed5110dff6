"""Where the topology diagram puts things: a fixed, grid-based layout computed from the compiled graph.

No force-directed placement (it is neither stable nor readable at 200 Pods): outside networks stand in a column on
the left; the cluster frame holds a band of control-plane nodes, the underlay, a band of workers, then one panel
per namespace with its Ingresses, Gateways and routes, Services and workloads in three rows. Pods are folded
into one box per workload (its owner), so 200 Pods are a few dozen boxes. Many nodes of one role fold into one box too.

Edges: network → node band, coloured by the port matrix (worst state among the cells between them);
network → ingress-controller Service; network → Gateway → the Service in front of its Pods and the routes attached
to it; Ingress or route → Service (backend); Service → workload (endpoints).
Findings are attached to the boxes of the objects they name.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx

from netmodel.analyze.diff import cell_state
from netmodel.model.gateway import ROUTE_KINDS

BOX_W, BOX_H, GAP = 2.0, 0.78, 0.28
PANEL_COLUMNS = 4          # boxes per row inside a namespace panel
PANELS_PER_ROW = 2  # full-width panels per row; narrower ones share rows
MAX_NODES_SHOWN = 8        # per role; more fold into one box
NETWORK_COLUMN_W = 3.1
STATE_RANK = {"exposed": 4, "blocked": 3, "ok": 2, "open": 1, "not-required": 0}
EDGE_STATE = {"exposed": "exposed", "blocked": "blocked", "ok": "allowed", "open": "allowed",
              "not-required": "closed"}


@dataclass(frozen=True, slots=True)
class Box:
    key: str
    kind: str  # network | control-plane | worker | workload | service | ingress | gateway | route | namespace |
    #           cluster | underlay
    title: str
    lines: tuple[str, ...]
    x: float
    y: float  # top edge; y grows downwards
    w: float
    h: float
    findings: tuple[str, ...] = ()
    focused: bool = False
    tones: tuple[str, ...] = ()  # per line: "" or an edge state (exposed, blocked, allowed) to colour it


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    state: str  # allowed | blocked | exposed | closed
    label: str = ""


@dataclass(frozen=True, slots=True)
class TopologyLayout:
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float
    title: str

    def box(self, key: str) -> Box:
        return next(b for b in self.boxes if b.key == key)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def workload_key(graph: nx.MultiDiGraph, pod: str) -> str:
    """The box a Pod folds into: its owner, else its ``app`` label, else the namespace's standalone Pods."""
    data = graph.nodes[pod]
    if data.get("owner"):
        return "workload:" + data["owner"]
    labels = data.get("labels", {})
    app = labels.get("app.kubernetes.io/name") or labels.get("app") or ""
    return f"workload:Pod/{data['namespace']}/" + (app or "*")


def _element_of(graph: nx.MultiDiGraph, ref: str, folded_nodes: Mapping[str, str]) -> list[str]:
    """Box keys a finding's object reference lands on (``Node/cp-1`` → the node's box, ``Pod/..`` → its
    workload, ``Firewall/x`` → the nodes it filters)."""
    kind, _, rest = ref.partition("/")
    if kind == "Node":
        return [folded_nodes.get(f"node:{rest}", f"node:{rest}")]
    if kind == "Pod":
        return [workload_key(graph, f"pod:{rest}")] if f"pod:{rest}" in graph else []
    if kind == "Service":
        return [f"service:{rest}"]
    if kind == "Ingress":
        return [f"ingress:{rest}"]
    if kind == "Gateway":
        return [f"gateway:{rest}"]
    if kind in ROUTE_KINDS:
        return [f"route:{ref}"]
    if kind == "Firewall":
        return sorted({folded_nodes.get(n, n) for n, d in graph.nodes(data=True)
                       if d.get("kind") == "node" and rest in d.get("firewalls", ())})
    if kind in ("NetworkPolicy", "Namespace"):
        return [f"namespace:{rest.split('/')[0]}"]
    if kind == "Cluster":
        return ["cluster"]
    if ref.startswith("network:"):
        return [ref]
    return [f"workload:{ref}"]  # a workload kind: Deployment/NS/NAME, ...


def findings_by_box(graph: nx.MultiDiGraph, findings: Sequence[Mapping[str, Any]],
                    folded_nodes: Mapping[str, str]) -> dict[str, list[str]]:
    """Finding IDs per box. A Firewall only marks its nodes when the finding names no more specific object."""
    out: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        if f.get("severity") == "info":
            continue
        refs = list(f.get("objects", ()))
        specific = [r for r in refs if not r.startswith("Firewall/")]
        keys = {k for r in specific for k in _element_of(graph, r, folded_nodes)}
        if not keys:
            keys = {k for r in refs for k in _element_of(graph, r, folded_nodes)}
        for k in keys:
            if f["id"] not in out[k]:
                out[k].append(f["id"])
    return out


def _focus_namespace(focus: str) -> str:
    """``namespace:shop``, ``shop/web``, ``deployment:shop/web`` or ``service:shop/web`` → ``shop``."""
    if not focus or focus.startswith(("node:", "network:", "ip:")):
        return ""
    ref = focus.split(":", 1)[1] if ":" in focus else focus
    return ref.split("/")[0]


def _place(items: Sequence[str], wanted: Mapping[str, int], slots: dict[str, int]) -> None:
    """Give each item the slot it wants (the column of what it points to) when free, else the next free one."""
    taken: set[int] = set()
    for item in sorted(items, key=lambda v: (wanted[v], v)):
        slot = wanted[item] if wanted[item] < (1 << 30) else 0
        while slot in taken:
            slot += 1
        taken.add(slot)
        slots[item] = slot


def layout_topology(graph: nx.MultiDiGraph, payload: Mapping[str, Any] | None = None,
                    focus: str = "") -> TopologyLayout:
    payload = payload or {}
    nodes = {v: d for v, d in graph.nodes(data=True)}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for v in sorted(nodes):
        by_kind[nodes[v]["kind"]].append(v)

    # Fold nodes: at most MAX_NODES_SHOWN boxes per role.
    roles = {"control-plane": [n for n in by_kind["node"] if nodes[n].get("role") == "control-plane"],
             "worker": [n for n in by_kind["node"] if nodes[n].get("role") != "control-plane"]}
    folded: dict[str, str] = {}
    for role, members in roles.items():
        if len(members) > MAX_NODES_SHOWN:
            folded.update({n: f"nodes:{role}" for n in members})
    marks = findings_by_box(graph, payload.get("findings", ()), folded)
    focus_ns = _focus_namespace(focus)
    focus_key = focus if focus.startswith(("node:", "network:")) else ""

    boxes: list[Box] = []
    edges: list[Edge] = []

    def add(key: str, kind: str, title: str, lines: Sequence[str], x: float, y: float, w: float = BOX_W,
            h: float = BOX_H) -> None:
        boxes.append(Box(key, kind, title, tuple(lines), x, y, w, h, tuple(marks.get(key, ())),
                         focused=key == focus_key or (bool(focus) and key.endswith(focus.split(":")[-1])
                                                      and kind in ("workload", "service", "ingress", "gateway", "route"))))

    # What each network reaches on each node role, from the port matrix: ports → worst state.
    states: dict[tuple[str, str], dict[str, tuple[int, str]]] = defaultdict(dict)
    for c in payload.get("portMatrix", ()):
        if c["source"].startswith("network:"):
            state = cell_state(c)
            slot = states[(c["source"], c["role"])]
            if STATE_RANK[state] > slot.get(c["ports"], (-1, ""))[0]:
                slot[c["ports"]] = (STATE_RANK[state], state)

    # Left column: outside networks, each with what it reaches written inside (edges stay unlabelled).
    y = 0.9
    for net in by_kind["network"]:
        d = nodes[net]
        lines = [", ".join(d.get("cidrs", ())), "meant to use: " + (", ".join(d.get("uses", ())) or "nothing")]
        tones = ["", ""]
        for role in ("control-plane", "worker"):
            for ports, (_, state) in sorted(states.get((net, role), {}).items(), key=lambda kv: (-kv[1][0], kv[0])):
                if state != "not-required":
                    word = EDGE_STATE[state].upper() if state in ("exposed", "blocked") else EDGE_STATE[state]
                    lines.append(f"→ {role}: {ports} {word}")
                    tones.append(EDGE_STATE[state])
        h = 0.32 + 0.15 * len(lines)
        add(net, "network", d["name"], lines, 0.0, y, NETWORK_COLUMN_W, h)
        boxes[-1] = replace(boxes[-1], tones=tuple(tones))
        y += h + 0.6
    networks_bottom = y

    # Cluster frame contents.
    x0 = NETWORK_COLUMN_W + 2.6
    inner_x = x0 + 0.3
    pods_on: Counter[str] = Counter(nodes[p].get("node", "") for p in by_kind["pod"])
    y = 0.9
    band_right = inner_x
    band_rows: dict[str, tuple[float, float]] = {}
    for role, members in roles.items():
        if not members:
            continue
        top = y
        if folded and members and folded.get(members[0]):
            key = f"nodes:{role}"
            n_pods = sum(pods_on[nodes[n]["name"]] for n in members)
            add(key, role, f"{len(members)} {role} nodes", (f"{members[0][5:]} … {members[-1][5:]}",
                                                            _plural(n_pods, "Pod")), inner_x + 0.2, y + 0.55,
                BOX_W * 1.4)
            band_right = max(band_right, inner_x + 0.2 + BOX_W * 1.4)
        else:
            for i, n in enumerate(members):
                d = nodes[n]
                lines = [", ".join(d.get("addresses", ())[:2]), "pods " + ", ".join(d.get("pod_cidrs", ())[:2]),
                         _plural(pods_on[d["name"]], "Pod")]
                add(n, role, d["name"], lines, inner_x + 0.2 + i * (BOX_W + GAP), y + 0.55)
                band_right = max(band_right, inner_x + 0.2 + i * (BOX_W + GAP) + BOX_W)
        y += BOX_H + 0.55 + 0.25
        band_rows[role] = (top, y)
        if role == "control-plane" and "underlay" in nodes:
            d = nodes["underlay"]
            flows = sorted({f for _, _, k, a in graph.out_edges(keys=True, data=True) if k == "encapsulation"
                            for f in a.get("flows", ())})
            text = f"underlay: {d.get('cni', '')} {d.get('mode', '')} ({d.get('encapsulation', '')})"
            add("underlay", "underlay", text, ("; ".join(flows[:3]),), inner_x + 0.2, y + 0.05,
                max(band_right - inner_x - 0.2, BOX_W * 2), 0.55)
            y += 0.55 + 0.35

    # Namespace panels.
    namespaces = sorted({nodes[v]["namespace"] for v in by_kind["pod"] + by_kind["service"] + by_kind["ingress"]
                         + by_kind["gateway"] + by_kind["route"]})
    if focus_ns:
        namespaces = [ns for ns in namespaces if ns == focus_ns]
    pods_by_group: dict[str, list[str]] = defaultdict(list)
    for p in by_kind["pod"]:
        pods_by_group[workload_key(graph, p)].append(p)
    # Namespaces holding the ingress controller first: their Services are where outside traffic enters.
    controller_services = {v for v in by_kind["service"] if nodes[v].get("ingress_controller")}
    entry_services = controller_services | {v for v in by_kind["service"] if nodes[v].get("gateway_entry")}
    gateway_namespaces = {nodes[v]["namespace"] for v in by_kind["gateway"]}
    namespaces.sort(key=lambda ns: (ns not in gateway_namespaces,
                                    not any(nodes[s]["namespace"] == ns for s in entry_services), ns))
    full_w = PANEL_COLUMNS * (BOX_W + GAP) + GAP
    max_right = max(band_right, inner_x + PANELS_PER_ROW * (full_w + 0.4))
    panel_top = y + 0.2
    row_height = 0.0
    px = inner_x
    panels_right = inner_x
    for ns in namespaces:
        # Workloads by name; each Service above the first workload it selects, each Ingress above its first
        # backend, so most edges run straight down.
        groups = sorted((g for g in pods_by_group if g.split("/")[1] == ns), key=lambda g: (g.split("/")[-1], g))
        position = {g: i for i, g in enumerate(groups)}
        services = sorted((v for v in by_kind["service"] if nodes[v]["namespace"] == ns),
                          key=lambda v: (min((position.get(workload_key(graph, p), len(groups))
                                              for _, p, k in graph.out_edges(v, keys=True) if k == "endpoint"),
                                             default=len(groups)), v))
        spos = {v: i for i, v in enumerate(services)}
        # The entry row: Ingresses, Gateways and Gateway API routes of the namespace.
        ingresses = sorted((v for v in by_kind["ingress"] + by_kind["gateway"] + by_kind["route"]
                            if nodes[v]["namespace"] == ns),
                           key=lambda v: (min((spos.get(t, len(services)) for _, t, k in
                                               graph.out_edges(v, keys=True) if k == "backend"),
                                              default=len(services)), v))
        rows = [r for r in (ingresses, services, groups) if r]
        cols = max(2, min(PANEL_COLUMNS, max((len(r) for r in rows), default=1)))
        # Slots: each Service in its first workload's column, each Ingress in its first backend's column.
        slots: dict[str, int] = {g: i for i, g in enumerate(groups)}
        _place(services, {v: min((slots.get(workload_key(graph, p), 1 << 30) for _, p, k in
                                  graph.out_edges(v, keys=True) if k == "endpoint"), default=1 << 30)
                          for v in services}, slots)
        _place(ingresses, {v: min((slots.get(t, 1 << 30) for _, t, k in graph.out_edges(v, keys=True)
                                   if k == "backend"), default=1 << 30) for v in ingresses}, slots)
        panel_w = cols * (BOX_W + GAP) + GAP
        n_lines = sum(max(slots[v] for v in r) // cols + 1 for r in rows)
        panel_h = 0.55 + n_lines * (BOX_H + 0.55) + 0.1
        if px > inner_x and px + panel_w > max_right:
            px, panel_top, row_height = inner_x, panel_top + row_height + 0.4, 0.0
        add(f"namespace:{ns}", "namespace", f"namespace {ns}", (), px, panel_top, panel_w, panel_h)
        ry = panel_top + 0.6
        for row in rows:
            for v in row:
                i = slots[v]
                bx = px + GAP + (i % cols) * (BOX_W + GAP)
                by = ry + (i // cols) * (BOX_H + 0.55)
                if v.startswith("workload:"):
                    members = pods_by_group[v]
                    kind, _, name = v[len("workload:"):].partition("/")
                    on = sorted({nodes[p].get("node", "") for p in members})
                    where = ", ".join(on) if len(on) <= 3 else _plural(len(on), "node")
                    extra = ["hostNetwork"] if any(nodes[p].get("host_network") for p in members) else []
                    title = name.split("/", 1)[1] if kind != "Pod" else (name.split("/", 1)[1]
                                                                        .replace("*", "standalone Pods"))
                    add(v, "workload", title, [f"{kind} · {_plural(len(members), 'Pod')}", f"on {where}", *extra],
                        bx, by)
                elif v.startswith("service:"):
                    d = nodes[v]
                    ports = ", ".join(d.get("ports", ())[:2]) + (" …" if len(d.get("ports", ())) > 2 else "")
                    lines = [f"{d.get('type', '')} {', '.join(d.get('cluster_ips', ())[:1])}", ports]
                    if not any(k == "endpoint" for _, _, k in graph.out_edges(v, keys=True)):
                        lines.append("no endpoints")
                    add(v, "service", d["name"], lines, bx, by)
                elif v.startswith("gateway:"):
                    d = nodes[v]
                    listeners = ", ".join(d.get("listeners", ())[:2]) + (" …" if len(d.get("listeners", ())) > 2
                                                                         else "")
                    add(v, "gateway", d["name"], [f"Gateway · class {d.get('gateway_class', '')}", listeners], bx, by)
                elif v.startswith("route:"):
                    d = nodes[v]
                    add(v, "route", d["name"], [d.get("route_kind", "")], bx, by)
                else:
                    d = nodes[v]
                    add(v, "ingress", d["name"], [f"class {d.get('ingress_class') or '(default)'}"], bx, by)
            ry += (max(slots[v] for v in row) // cols + 1) * (BOX_H + 0.55)
        row_height = max(row_height, panel_h)
        panels_right = max(panels_right, px + panel_w)
        px += panel_w + 0.4
    cluster_bottom = panel_top + row_height + 0.3
    cluster_right = max(band_right + 0.2, panels_right) + 0.3
    name = graph.graph.get("name", "")
    boxes.insert(0, Box("cluster", "cluster", f"cluster {name}", (), x0, 0.3, cluster_right - x0,
                        cluster_bottom - 0.3, tuple(marks.get("cluster", ()))))
    for role, (top, bottom) in band_rows.items():
        boxes.insert(1, Box(f"band:{role}", "band", f"{role} nodes", (), inner_x, top + 0.05,
                            band_right - inner_x + 0.2, bottom - top - 0.2))

    # Edges: networks → node bands by port-matrix state (closed ones are not drawn: nothing flows);
    # networks → ingress controller Services.
    keys = {b.key for b in boxes}
    for (net, role), cells in sorted(states.items()):
        if net not in keys or f"band:{role}" not in keys:
            continue
        worst = max(cells.values())[1]
        if worst != "not-required":
            edges.append(Edge(net, f"band:{role}", EDGE_STATE[worst]))
    for net in by_kind["network"]:
        if "ingress" in nodes[net].get("uses", ()):
            for svc in sorted(controller_services):
                if svc in keys:
                    edges.append(Edge(net, svc, "allowed", "ingress"))
    for v in by_kind["ingress"] + by_kind["route"]:
        for _, target, k in graph.out_edges(v, keys=True):
            if k == "backend" and target in keys:
                edges.append(Edge(v, target, "allowed"))
    # A Gateway is an entry node: networks using the ingress → the Gateway → the Service in front of its Pods,
    # and the Gateway → each route attached to it.
    for v in by_kind["gateway"]:
        if v not in keys:
            continue
        for net, _, k in graph.in_edges(v, keys=True):
            if k == "entry" and net in keys:
                edges.append(Edge(net, v, "allowed", "ingress"))
        for _, target, k in graph.out_edges(v, keys=True):
            if k in ("fronted-by", "routes") and target in keys:
                edges.append(Edge(v, target, "allowed"))
    for v in by_kind["service"]:
        targets = sorted({workload_key(graph, p) for _, p, k in graph.out_edges(v, keys=True) if k == "endpoint"})
        edges.extend(Edge(v, t, "allowed") for t in targets if t in keys)
    width = cluster_right + 0.3
    height = max(cluster_bottom, networks_bottom) + 0.3
    title = f"Topology of {name}" if name else "Topology"
    return TopologyLayout(tuple(boxes), tuple(dict.fromkeys(edges)), width, height,
                          title + (f" — focus {focus}" if focus else ""))


__all__ = ["Box", "Edge", "TopologyLayout", "findings_by_box", "layout_topology", "workload_key"]
