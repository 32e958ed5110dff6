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
    """One box of the topology diagram: what it stands for, its text, where it is and the findings that
    mark it."""

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
    """An arrow of the topology diagram, coloured by ``state``."""

    source: str
    target: str
    state: str  # allowed | blocked | exposed | closed
    label: str = ""


@dataclass(frozen=True, slots=True)
class TopologyLayout:
    """The whole topology diagram before drawing: boxes, edges, size and title."""

    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float
    title: str

    def box(self, key: str) -> Box:
        """The box with ``key``."""
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


ENTRY_KINDS = ("routes", "fronted-by", "backend", "endpoint")  # graph edges an entry path follows


def entry_path(graph: nx.MultiDiGraph, focus: str) -> set[str] | None:
    """The graph keys on the entry paths through a Gateway or to a Service, for ``--focus gateway:NS/NAME`` or
    ``service:NS/NAME``; None for other foci and for a Service no Gateway or Ingress sends to (its namespace
    is drawn).

    For a Gateway: the Service its clients enter through and that Service's Pods, the routes attached to it,
    their backend Services and those Services' Pods. For a Service: the routes and Ingresses sending to it, the
    Gateways (and the ingress controller) those hang off, with their entry Services, and its own Pods. Edges:
    ``routes``, ``fronted-by``, ``backend``, ``endpoint`` (:mod:`netmodel.compile.graph`)."""
    if not focus.startswith(("gateway:", "service:")) or focus not in graph:
        return None
    keep = {focus}

    def down(key: str) -> None:
        for _, target, kind in graph.out_edges(key, keys=True):
            if kind in ENTRY_KINDS and target not in keep:
                keep.add(target)
                down(target)

    if focus.startswith("gateway:"):
        down(focus)
        return keep
    senders = [src for src, _, kind in graph.in_edges(focus, keys=True) if kind == "backend"]
    if not senders:
        return None
    for route in senders:
        keep.add(route)
        for parent, _, kind in graph.in_edges(route, keys=True):
            if kind == "routes":
                keep.add(parent)
                keep.update(t for _, t, k in graph.out_edges(parent, keys=True) if k == "fronted-by")
    services = [key for key in keep if key.startswith("service:")]
    for key in services:
        keep.update(t for _, t, k in graph.out_edges(key, keys=True) if k == "endpoint")
    return keep


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
    """Lay out the compiled graph: outside networks on the left, then the cluster frame with its node bands,
    the underlay and one panel per namespace (only ``focus``'s namespace when it names one). ``payload`` (a
    check result) colours the network edges by the port matrix and marks boxes with findings."""
    return _TopologyLayoutBuilder(graph, payload or {}, focus).build()


class _TopologyLayoutBuilder:
    """One layout in the making: the boxes and edges so far, and the graph facts every step reads."""

    def __init__(self, graph: nx.MultiDiGraph, payload: Mapping[str, Any], focus: str) -> None:
        self.graph = graph
        self.payload = payload
        self.focus = focus
        self.attrs: dict[str, dict[str, Any]] = {key: data for key, data in graph.nodes(data=True)}
        self.by_kind: dict[str, list[str]] = defaultdict(list)  # graph node keys by their 'kind' attribute
        for key in sorted(self.attrs):
            self.by_kind[self.attrs[key]["kind"]].append(key)
        # Fold nodes: at most MAX_NODES_SHOWN boxes per role.
        self.roles = {
            "control-plane": [n for n in self.by_kind["node"] if self.attrs[n].get("role") == "control-plane"],
            "worker": [n for n in self.by_kind["node"] if self.attrs[n].get("role") != "control-plane"]}
        self.folded: dict[str, str] = {}
        for role, members in self.roles.items():
            if len(members) > MAX_NODES_SHOWN:
                self.folded.update({n: f"nodes:{role}" for n in members})
        self.marks = findings_by_box(graph, payload.get("findings", ()), self.folded)
        self.focus_key = focus if focus.startswith(("node:", "network:")) else ""
        # A Gateway or a Service it (or an Ingress) sends to: the entry path, across its namespaces.
        self.path = entry_path(graph, focus)
        self.path_groups = {workload_key(graph, p) for p in self.path or () if p.startswith("pod:")}
        self.boxes: list[Box] = []
        self.edges: list[Edge] = []

    def add(self, key: str, kind: str, title: str, lines: Sequence[str], x: float, y: float, w: float = BOX_W,
            h: float = BOX_H) -> None:
        """Append one box, with the findings that name it and whether the focus is on it."""
        focus = self.focus
        focused = key == self.focus_key or (bool(focus) and key.endswith(focus.split(":")[-1])
                                            and kind in ("workload", "service", "ingress", "gateway", "route"))
        self.boxes.append(Box(key, kind, title, tuple(lines), x, y, w, h, tuple(self.marks.get(key, ())),
                              focused=focused))

    def build(self) -> TopologyLayout:
        """Every step in drawing order: the frames go first so they are drawn beneath what they hold."""
        states = self._network_states()
        networks_bottom = self._networks_column(states)
        x0 = NETWORK_COLUMN_W + 2.6
        inner_x = x0 + 0.3
        y, band_right, band_rows = self._node_bands(inner_x)
        controller_services = {v for v in self.by_kind["service"] if self.attrs[v].get("ingress_controller")}
        panel_top, row_height, panels_right = self._namespace_panels(inner_x, y, band_right, controller_services)
        cluster_bottom = panel_top + row_height + 0.3
        cluster_right = max(band_right + 0.2, panels_right) + 0.3
        name = self.graph.graph.get("name", "")
        self.boxes.insert(0, Box("cluster", "cluster", f"cluster {name}", (), x0, 0.3, cluster_right - x0,
                                 cluster_bottom - 0.3, tuple(self.marks.get("cluster", ()))))
        for role, (top, bottom) in band_rows.items():
            self.boxes.insert(1, Box(f"band:{role}", "band", f"{role} nodes", (), inner_x, top + 0.05,
                                     band_right - inner_x + 0.2, bottom - top - 0.2))
        self._edges(states, controller_services)
        width = cluster_right + 0.3
        height = max(cluster_bottom, networks_bottom) + 0.3
        title = f"Topology of {name}" if name else "Topology"
        return TopologyLayout(tuple(self.boxes), tuple(dict.fromkeys(self.edges)), width, height,
                              title + (f" — focus {self.focus}" if self.focus else ""))

    def _network_states(self) -> dict[tuple[str, str], dict[str, tuple[int, str]]]:
        """What each network reaches on each node role, from the port matrix: ports → (rank, worst state)."""
        states: dict[tuple[str, str], dict[str, tuple[int, str]]] = defaultdict(dict)
        for cell in self.payload.get("portMatrix", ()):
            if cell["source"].startswith("network:"):
                state = cell_state(cell)
                slot = states[(cell["source"], cell["role"])]
                if STATE_RANK[state] > slot.get(cell["ports"], (-1, ""))[0]:
                    slot[cell["ports"]] = (STATE_RANK[state], state)
        return states

    def _networks_column(self, states: Mapping[tuple[str, str], Mapping[str, tuple[int, str]]]) -> float:
        """The left column: outside networks, each with what it reaches written inside (edges stay unlabelled).
        Returns the column's bottom."""
        y = 0.9
        for net in self.by_kind["network"]:
            data = self.attrs[net]
            lines = [", ".join(data.get("cidrs", ())),
                     "meant to use: " + (", ".join(data.get("uses", ())) or "nothing")]
            tones = ["", ""]
            for role in ("control-plane", "worker"):
                reached = sorted(states.get((net, role), {}).items(), key=lambda kv: (-kv[1][0], kv[0]))
                for ports, (_, state) in reached:
                    if state != "not-required":
                        word = EDGE_STATE[state].upper() if state in ("exposed", "blocked") else EDGE_STATE[state]
                        lines.append(f"→ {role}: {ports} {word}")
                        tones.append(EDGE_STATE[state])
            h = 0.32 + 0.15 * len(lines)
            self.add(net, "network", data["name"], lines, 0.0, y, NETWORK_COLUMN_W, h)
            self.boxes[-1] = replace(self.boxes[-1], tones=tuple(tones))
            y += h + 0.6
        return y

    def _node_bands(self, inner_x: float) -> tuple[float, float, dict[str, tuple[float, float]]]:
        """A band of nodes per role (folded into one box past MAX_NODES_SHOWN), the underlay after the
        control plane. Returns where the next row starts, the bands' right edge and each band's (top, bottom)."""
        attrs = self.attrs
        pods_on: Counter[str] = Counter(attrs[p].get("node", "") for p in self.by_kind["pod"])
        y = 0.9
        band_right = inner_x
        band_rows: dict[str, tuple[float, float]] = {}
        for role, members in self.roles.items():
            if not members:
                continue
            top = y
            if self.folded and members and self.folded.get(members[0]):
                n_pods = sum(pods_on[attrs[n]["name"]] for n in members)
                self.add(f"nodes:{role}", role, f"{len(members)} {role} nodes",
                         (f"{members[0][5:]} … {members[-1][5:]}", _plural(n_pods, "Pod")), inner_x + 0.2,
                         y + 0.55, BOX_W * 1.4)
                band_right = max(band_right, inner_x + 0.2 + BOX_W * 1.4)
            else:
                for column, node in enumerate(members):
                    data = attrs[node]
                    lines = [", ".join(data.get("addresses", ())[:2]),
                             "pods " + ", ".join(data.get("pod_cidrs", ())[:2]), _plural(pods_on[data["name"]], "Pod")]
                    left = inner_x + 0.2 + column * (BOX_W + GAP)
                    self.add(node, role, data["name"], lines, left, y + 0.55)
                    band_right = max(band_right, left + BOX_W)
            y += BOX_H + 0.55 + 0.25
            band_rows[role] = (top, y)
            if role == "control-plane" and "underlay" in attrs:
                y = self._underlay(inner_x, y, band_right)
        return y, band_right, band_rows

    def _underlay(self, inner_x: float, y: float, band_right: float) -> float:
        """The underlay strip under the control-plane band: the CNI and the flows it encapsulates."""
        data = self.attrs["underlay"]
        flows = sorted({flow for _, _, key, edge in self.graph.out_edges(keys=True, data=True)
                        if key == "encapsulation" for flow in edge.get("flows", ())})
        text = f"underlay: {data.get('cni', '')} {data.get('mode', '')} ({data.get('encapsulation', '')})"
        self.add("underlay", "underlay", text, ("; ".join(flows[:3]),), inner_x + 0.2, y + 0.05,
                 max(band_right - inner_x - 0.2, BOX_W * 2), 0.55)
        return y + (0.55 + 0.35)  # as one step: the sum is rounded before it is added

    def _namespace_panels(self, inner_x: float, y: float, band_right: float,
                          controller_services: set[str]) -> tuple[float, float, float]:
        """One panel per namespace, left to right and wrapping; the ingress controller's namespaces first
        (their Services are where outside traffic enters). Returns the last row's top and height and the
        panels' right edge."""
        attrs, by_kind = self.attrs, self.by_kind
        namespaces = sorted({attrs[v]["namespace"] for v in by_kind["pod"] + by_kind["service"] + by_kind["ingress"]
                             + by_kind["gateway"] + by_kind["route"]})
        focus_ns = _focus_namespace(self.focus)
        if self.path is not None:
            namespaces = [ns for ns in namespaces if any(attrs[k].get("namespace") == ns for k in self.path
                                                         if k in attrs)]
        elif focus_ns:
            namespaces = [ns for ns in namespaces if ns == focus_ns]
        pods_by_group: dict[str, list[str]] = defaultdict(list)
        for pod in by_kind["pod"]:
            pods_by_group[workload_key(self.graph, pod)].append(pod)
        entry_services = controller_services | {v for v in by_kind["service"] if attrs[v].get("gateway_entry")}
        gateway_namespaces = {attrs[v]["namespace"] for v in by_kind["gateway"]}
        namespaces.sort(key=lambda ns: (ns not in gateway_namespaces,
                                        not any(attrs[s]["namespace"] == ns for s in entry_services), ns))
        full_w = PANEL_COLUMNS * (BOX_W + GAP) + GAP
        max_right = max(band_right, inner_x + PANELS_PER_ROW * (full_w + 0.4))
        panel_top = y + 0.2
        row_height = 0.0
        px = inner_x
        panels_right = inner_x
        for ns in namespaces:
            rows, slots, cols = self._panel_slots(ns, pods_by_group)
            panel_w = cols * (BOX_W + GAP) + GAP
            n_lines = sum(max(slots[v] for v in row) // cols + 1 for row in rows)
            panel_h = 0.55 + n_lines * (BOX_H + 0.55) + 0.1
            if px > inner_x and px + panel_w > max_right:
                px, panel_top, row_height = inner_x, panel_top + row_height + 0.4, 0.0
            self.add(f"namespace:{ns}", "namespace", f"namespace {ns}", (), px, panel_top, panel_w, panel_h)
            ry = panel_top + 0.6
            for row in rows:
                for element in row:
                    slot = slots[element]
                    self._panel_box(element, px + GAP + (slot % cols) * (BOX_W + GAP),
                                    ry + (slot // cols) * (BOX_H + 0.55), pods_by_group)
                ry += (max(slots[v] for v in row) // cols + 1) * (BOX_H + 0.55)
            row_height = max(row_height, panel_h)
            panels_right = max(panels_right, px + panel_w)
            px += panel_w + 0.4
        return panel_top, row_height, panels_right

    def _panel_slots(self, ns: str, pods_by_group: Mapping[str, list[str]]) \
            -> tuple[list[list[str]], dict[str, int], int]:
        """A namespace panel's rows (Ingresses, Services, workloads), each element's slot and the columns.

        Workloads by name; each Service above the first workload it selects, each Ingress above its first
        backend, so most edges run straight down."""
        graph, attrs, by_kind = self.graph, self.attrs, self.by_kind
        groups = sorted((g for g in pods_by_group if g.split("/")[1] == ns and self._on_path(g)),
                        key=lambda g: (g.split("/")[-1], g))
        position = {g: i for i, g in enumerate(groups)}
        services = sorted((v for v in by_kind["service"] if attrs[v]["namespace"] == ns and self._on_path(v)),
                          key=lambda v: (min((position.get(workload_key(graph, p), len(groups))
                                              for _, p, k in graph.out_edges(v, keys=True) if k == "endpoint"),
                                             default=len(groups)), v))
        service_position = {v: i for i, v in enumerate(services)}
        # The entry row: Ingresses, Gateways and Gateway API routes of the namespace.
        ingresses = sorted((v for v in by_kind["ingress"] + by_kind["gateway"] + by_kind["route"]
                            if attrs[v]["namespace"] == ns and self._on_path(v)),
                           key=lambda v: (min((service_position.get(t, len(services)) for _, t, k in
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
        return rows, slots, cols

    def _on_path(self, key: str) -> bool:
        """Whether a panel element is drawn: always, unless the focus is an entry path it is not on."""
        if self.path is None:
            return True
        return key in self.path or key in self.path_groups

    def _panel_box(self, element: str, x: float, y: float, pods_by_group: Mapping[str, list[str]]) -> None:
        """The box of one workload (its Pods folded), Service or Ingress inside a namespace panel."""
        if element.startswith("workload:"):
            members = pods_by_group[element]
            kind, _, name = element[len("workload:"):].partition("/")
            on = sorted({self.attrs[p].get("node", "") for p in members})
            where = ", ".join(on) if len(on) <= 3 else _plural(len(on), "node")
            extra = ["hostNetwork"] if any(self.attrs[p].get("host_network") for p in members) else []
            title = name.split("/", 1)[1] if kind != "Pod" else (name.split("/", 1)[1]
                                                                .replace("*", "standalone Pods"))
            self.add(element, "workload", title, [f"{kind} · {_plural(len(members), 'Pod')}", f"on {where}", *extra],
                     x, y)
        elif element.startswith("service:"):
            data = self.attrs[element]
            ports = ", ".join(data.get("ports", ())[:2]) + (" …" if len(data.get("ports", ())) > 2 else "")
            lines = [f"{data.get('type', '')} {', '.join(data.get('cluster_ips', ())[:1])}", ports]
            if not any(k == "endpoint" for _, _, k in self.graph.out_edges(element, keys=True)):
                lines.append("no endpoints")
            self.add(element, "service", data["name"], lines, x, y)
        elif element.startswith("gateway:"):
            data = self.attrs[element]
            listeners = ", ".join(data.get("listeners", ())[:2]) + (" …" if len(data.get("listeners", ())) > 2
                                                                    else "")
            self.add(element, "gateway", data["name"], [f"Gateway · class {data.get('gateway_class', '')}",
                                                        listeners], x, y)
        elif element.startswith("route:"):
            data = self.attrs[element]
            self.add(element, "route", data["name"], [data.get("route_kind", "")], x, y)
        else:
            data = self.attrs[element]
            self.add(element, "ingress", data["name"], [f"class {data.get('ingress_class') or '(default)'}"], x, y)

    def _edges(self, states: Mapping[tuple[str, str], Mapping[str, tuple[int, str]]],
               controller_services: set[str]) -> None:
        """Networks → node bands by port-matrix state (closed ones are not drawn: nothing flows); networks →
        ingress controller Services; Ingress or route → backend Service; networks → Gateway → its Service and
        routes; Service → the workloads of its endpoints."""
        graph = self.graph
        keys = {b.key for b in self.boxes}
        for (net, role), cells in sorted(states.items()):
            if net not in keys or f"band:{role}" not in keys:
                continue
            worst = max(cells.values())[1]
            if worst != "not-required":
                self.edges.append(Edge(net, f"band:{role}", EDGE_STATE[worst]))
        for net in self.by_kind["network"]:
            if "ingress" in self.attrs[net].get("uses", ()):
                for svc in sorted(controller_services):
                    if svc in keys:
                        self.edges.append(Edge(net, svc, "allowed", "ingress"))
        for entry in self.by_kind["ingress"] + self.by_kind["route"]:
            for _, target, kind in graph.out_edges(entry, keys=True):
                if kind == "backend" and entry in keys and target in keys:
                    self.edges.append(Edge(entry, target, "allowed"))
        # A Gateway is an entry node: networks using the ingress → the Gateway → the Service in front of its
        # Pods, and the Gateway → each route attached to it.
        for gateway in self.by_kind["gateway"]:
            if gateway not in keys:
                continue
            for net, _, kind in graph.in_edges(gateway, keys=True):
                if kind == "entry" and net in keys:
                    self.edges.append(Edge(net, gateway, "allowed", "ingress"))
            for _, target, kind in graph.out_edges(gateway, keys=True):
                if kind in ("fronted-by", "routes") and target in keys:
                    self.edges.append(Edge(gateway, target, "allowed"))
        for svc in self.by_kind["service"]:
            targets = sorted({workload_key(graph, p) for _, p, k in graph.out_edges(svc, keys=True)
                              if k == "endpoint"})
            self.edges.extend(Edge(svc, t, "allowed") for t in targets if svc in keys and t in keys)


__all__ = ["Box", "Edge", "TopologyLayout", "entry_path", "findings_by_box", "layout_topology", "workload_key"]
