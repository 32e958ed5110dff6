"""netmodel's own kinds (``netmodel.io/v1alpha1``): Cluster, Firewall, Expectations.

Unlike the standard kinds, these are strict: an unknown field is an error, because a typo such as ``defaultAcion``
would otherwise silently change a verdict.
"""

from __future__ import annotations

import os
from pathlib import Path as FsPath
from pathlib import PurePosixPath

from netmodel.errors import LoadError
from netmodel.load.document import Document
from netmodel.load.files import decode
from netmodel.model.cloud_formats import CLOUD_FORMATS, import_cloud_fields
from netmodel.model.fields import Fields, Problems, shown
from netmodel.model.fwimport import FORMATS, MAX_IMPORT_BYTES, Imported, Layer, import_text
from netmodel.model.kinds import IMPORTED_RULE
from netmodel.model.labels import Labels
from netmodel.model.names import DNS1123_LABEL, is_dns1123_subdomain, object_name_rule
from netmodel.model.objects import (
    ENTRY_POINTS,
    Cluster,
    CniSpec,
    ControlPlane,
    ControlPlanePorts,
    Expectations,
    ExpectedFlow,
    Firewall,
    FirewallChain,
    FirewallLocal,
    FirewallPeer,
    FirewallRule,
    OutsideNetwork,
    SkippedObject,
)
from netmodel.model.topology import Note
from netmodel.sets import (
    ALL_PORTS,
    IntervalSet,
    IPNetwork,
    parse_network,
    parse_ports,
    protocols_of,
)
from netmodel.sets.numbers import is_decimal
from netmodel.sets.ports import PORTED_PROTOCOLS, SCTP, TCP, UDP

API_VERSION = "netmodel.io/v1alpha1"

CNI_MODES: dict[str, tuple[str, ...]] = {
    # plugin: modes, the first is the plugin's default
    "calico": ("ipip", "vxlan", "bgp"),
    "flannel": ("vxlan", "host-gw", "wireguard"),
    "cilium": ("vxlan", "geneve", "native"),
    "antrea": ("geneve", "vxlan"),
    "weave": ("fastdp",),
    "other": ("native", "encap"),
}
KUBE_PROXY_MODES = ("iptables", "ipvs", "nftables", "none")

DEFAULT_POD_CIDRS = ("10.244.0.0/16",)
DEFAULT_SERVICE_CIDRS = ("10.96.0.0/12",)
DEFAULT_NODE_PORT_RANGE = IntervalSet.of((30000, 32767))


def _meta_name(doc: Document, problems: Problems, kind: str) -> tuple[Fields, str]:
    top = Fields(doc, (), doc.data, problems, kind)
    meta = top.mapping("metadata", required=True)
    name = meta.string("name", required=True) if meta else ""
    valid = meta is None or not name or meta.check_name("name", name, object_name_rule(kind))
    top.what = f"{kind} {name if valid else repr(name)}" if name else kind
    top.unknown_keys({"apiVersion", "kind", "metadata", "spec", "status"})
    return top, name


# -- Cluster -------------------------------------------------------------------------------------------------------


# The CNI's outbound NAT by plugin (netmodel/compile/masquerade.py says what each plugin does and where).
NAT_OUTGOING_DEFAULTS = {"calico": "all", "flannel": "all", "antrea": "all", "weave": "all",
                         "cilium": "except-nodes", "other": "except-nodes"}


def _read_nat_outgoing(f: Fields | None, plugin: str, ip_masq_agent: bool) -> str:
    """``natOutgoing``: true, false or "except-nodes"; omitted, the plugin's default (none under ip-masq-agent)."""
    value = f.raw("natOutgoing") if f is not None else None
    if value is None:
        return "none" if ip_masq_agent else NAT_OUTGOING_DEFAULTS[plugin]
    if value is True or value is False:
        return "all" if value else "none"
    if value == "except-nodes":
        return value
    assert f is not None
    f.error("natOutgoing", f"unknown value {value!r}",
            "write true (every destination outside the pod network, nodes included), false, or except-nodes")
    return NAT_OUTGOING_DEFAULTS[plugin]


def _read_cni(f: Fields | None, default_span: Fields, ip_masq_agent: bool = False) -> CniSpec:
    if f is None:
        return CniSpec("other", "native", "none", False, False, default_span.span(),
                       _read_nat_outgoing(None, "other", ip_masq_agent))
    f.unknown_keys({"plugin", "mode", "encryption", "kubeProxyReplacement", "typha", "natOutgoing", "hostFirewall"})
    plugin = f.string("plugin", default="other", choices=tuple(CNI_MODES))
    modes = CNI_MODES[plugin]
    mode = f.string("mode", default=modes[0])
    if plugin != "other" and mode.lower() not in modes:
        f.error("mode", f"{plugin} has no mode {mode!r}", f"use one of: {', '.join(modes)}")
        mode = modes[0]
    encryption = f.string("encryption", default="none", choices=("none", "wireguard", "ipsec"))
    kpr = f.boolean("kubeProxyReplacement")
    if kpr and plugin != "cilium":
        f.error("kubeProxyReplacement", f"{plugin} cannot replace kube-proxy in netmodel's model",
                "remove it, or use cilium")
    host_firewall = f.boolean("hostFirewall")
    if host_firewall and plugin != "cilium":
        f.error("hostFirewall", "is Cilium's host firewall (Helm hostFirewall.enabled)", "remove it, or use cilium")
    if plugin == "flannel" and mode == "wireguard":
        encryption = "wireguard"
    return CniSpec(plugin, mode.lower(), encryption, kpr, f.boolean("typha"), f.span(),
                   _read_nat_outgoing(f, plugin, ip_masq_agent), host_firewall)


def _read_control_plane(f: Fields | None, span_of: Fields) -> ControlPlane:
    if f is None:
        return ControlPlane("", 6443, ControlPlanePorts(), False, (), span_of.span())
    f.unknown_keys({"endpoint", "ports", "etcd"})
    ports = ControlPlanePorts()
    pf = f.mapping("ports")
    if pf is not None:
        pf.unknown_keys({"apiserver", "etcd", "kubelet", "scheduler", "controllerManager"})
        etcd = ports.etcd
        if pf.has("etcd"):
            try:
                etcd = parse_ports(pf.raw("etcd"))
            except ValueError as err:
                pf.error("etcd", str(err), 'write a port or range like "2379-2380"')
        ports = ControlPlanePorts(
            apiserver=pf.port("apiserver") or 6443, etcd=etcd, kubelet=pf.port("kubelet") or 10250,
            scheduler=pf.port("scheduler") or 10259, controller_manager=pf.port("controllerManager") or 10257)
    host, port = "", ports.apiserver
    endpoint = f.string("endpoint")
    if endpoint:
        host, sep, port_text = endpoint.rpartition(":")
        if not sep or host.endswith(":") and not host.endswith("]"):  # a bare address or IPv6 without port
            host, port_text = endpoint, str(ports.apiserver)
        host = host.strip("[]")
        if not is_decimal(port_text) or not 1 <= int(port_text) <= 65535:
            f.error("endpoint", f"{shown(endpoint)} has no valid port", 'write "HOST:PORT", e.g. "10.0.0.10:6443"')
        else:
            port = int(port_text)
    etcd_external = False
    etcd_endpoints: list = []
    ef = f.mapping("etcd")
    if ef is not None:
        ef.unknown_keys({"external", "endpoints"})
        etcd_external = ef.boolean("external")
        for i, text in ef.strings("endpoints"):
            addr_text, _, port_text = text.rpartition(":")
            ip = ef.address("endpoints", addr_text.strip("[]") or text)
            if ip is not None and is_decimal(port_text) and 1 <= int(port_text) <= 65535:
                etcd_endpoints.append((ip, int(port_text)))
            elif ip is not None:
                ef.item_error("endpoints", i, f"{shown(text)} has no valid port",
                              'write "ADDRESS:PORT" with a port 1-65535, e.g. "10.0.0.50:2379"')
        if etcd_external and not etcd_endpoints:
            ef.error("endpoints", "external etcd needs its endpoints", 'add `endpoints: ["10.0.0.50:2379"]`')
    return ControlPlane(host, port, ports, etcd_external, tuple(etcd_endpoints), f.span())


def _read_networks(spec: Fields) -> tuple[OutsideNetwork, ...]:
    out: list[OutsideNetwork] = []
    seen: set[str] = set()
    for n in spec.each_mapping("networks"):
        n.unknown_keys({"name", "cidrs", "uses"})
        name = n.string("name", required=True)
        if name in seen:
            n.error("name", f"network {name!r} is defined twice", "give each network a unique name")
        seen.add(name)
        if name:
            n.check_name("name", name, DNS1123_LABEL)  # no ':' either, so never read as pod:/node:/...
        uses = []
        for i, use in n.strings("uses"):
            if use not in ENTRY_POINTS:
                n.item_error("uses", i, f"unknown entry point {use!r}", f"use any of: {', '.join(ENTRY_POINTS)}")
            else:
                uses.append(use)
        cidrs = n.networks("cidrs", required=True)
        if name:
            out.append(OutsideNetwork(name, cidrs, frozenset(uses), n.span()))
    return tuple(out)


def _port_range(f: Fields, key: str, default: IntervalSet) -> IntervalSet:
    if not f.has(key):
        return default
    try:
        ports = parse_ports(f.raw(key))
    except ValueError as err:
        f.error(key, str(err), 'write a range like "30000-32767"')
        return default
    if len(ports.ranges) != 1:
        f.error(key, "must be one contiguous range", 'write "LOW-HIGH"')
        return default
    return ports


def read_cluster(doc: Document, problems: Problems) -> Cluster:
    """The Cluster object: address ranges, CNI, kube-proxy, masquerade, control plane and networks,
    defaults filled in."""
    top, name = _meta_name(doc, problems, "Cluster")
    spec = top.mapping("spec") or Fields(doc, ("spec",), {}, problems, top.what)
    spec.unknown_keys({"podCIDRs", "serviceCIDRs", "nodeCIDRMaskSize", "nodeCIDRMaskSizeIPv6", "nodePortRange",
                       "cni", "kubeProxy", "masquerade", "controlPlane", "networks"})
    pod_cidrs = spec.networks("podCIDRs") if spec.has("podCIDRs") else _defaults(DEFAULT_POD_CIDRS)
    service_cidrs = spec.networks("serviceCIDRs") if spec.has("serviceCIDRs") else _defaults(DEFAULT_SERVICE_CIDRS)
    for key, cidrs in (("podCIDRs", pod_cidrs), ("serviceCIDRs", service_cidrs)):
        if len({c.version for c in cidrs}) != len(cidrs):
            spec.error(key, "lists two ranges of one IP family", "give at most one IPv4 and one IPv6 range")
    kp = spec.mapping("kubeProxy")
    if kp is not None:
        kp.unknown_keys({"mode", "masqueradeAll"})
    mq = spec.mapping("masquerade")
    non_masq: tuple[IPNetwork, ...] | None = None
    if mq is not None:
        mq.unknown_keys({"nonMasqueradeCIDRs"})
        non_masq = mq.networks("nonMasqueradeCIDRs") if mq.has("nonMasqueradeCIDRs") else _defaults(
            ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"))
    cni = _read_cni(spec.mapping("cni"), spec, ip_masq_agent=non_masq is not None)
    kube_proxy_mode = kp.string("mode", default="iptables", choices=KUBE_PROXY_MODES) if kp else "iptables"
    if cni.kube_proxy_replacement and kp is None:
        kube_proxy_mode = "none"
    return Cluster(
        name=name,
        pod_cidrs=pod_cidrs,
        service_cidrs=service_cidrs,
        node_cidr_mask_size_v4=spec.integer("nodeCIDRMaskSize", default=24, low=8, high=30) or 24,
        node_cidr_mask_size_v6=spec.integer("nodeCIDRMaskSizeIPv6", default=64, low=48, high=120) or 64,
        node_port_range=_port_range(spec, "nodePortRange", DEFAULT_NODE_PORT_RANGE),
        cni=cni,
        kube_proxy_mode=kube_proxy_mode,
        masquerade_all=kp.boolean("masqueradeAll") if kp else False,
        non_masquerade_cidrs=non_masq,
        control_plane=_read_control_plane(spec.mapping("controlPlane"), spec),
        networks=_read_networks(spec),
        source=doc.span(),
    )


def _defaults(texts: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(parse_network(t) for t in texts)


# -- Firewall ------------------------------------------------------------------------------------------------------


LOCAL_KEYS = ("node", "pods", "cidr", "cidrs")


def _read_firewall_peer(p: Fields) -> FirewallPeer | None:
    known = ("cidr", "cidrs", "network", "nodeSelector", "nodes")
    unknown = [str(k) for k in p.data if k not in known]
    for key in unknown:
        hint = (f"`{key}` names the node's own end of the packet: list it under `to` in an ingress rule, "
                "`from` in an egress rule" if key in LOCAL_KEYS else f"use one of: {', '.join(known)}")
        p.problems.add(f"{p.what}: {p.dotted(key)}: unknown field", p.doc.key_span(p.path + (key,)), hint)
    if unknown:
        return None
    present = [k for k in ("cidr", "cidrs", "network", "nodeSelector", "nodes") if p.has(k)]
    if len(present) != 1:
        p.error(None, "a peer needs exactly one of cidr, cidrs, network, nodeSelector, nodes"
                + (f" (found {', '.join(present)})" if present else ""), "split it into one peer per entry")
        return None
    key = present[0]
    if key == "cidr":
        net = p.network("cidr", p.string("cidr"))
        return FirewallPeer(cidrs=(net,), source=p.span()) if net else None
    if key == "cidrs":
        return FirewallPeer(cidrs=p.networks("cidrs"), source=p.span())
    if key == "network":
        return FirewallPeer(network=p.string("network"), source=p.span())
    if key == "nodeSelector":
        return FirewallPeer(node_selector=p.selector("nodeSelector"), source=p.span())
    return FirewallPeer(nodes=tuple(n for _, n in p.strings("nodes")), source=p.span())


def _read_firewall_local(p: Fields) -> FirewallLocal | None:
    """One entry of the node-side match: ``{node: {}}``, ``{pods: {}}``, ``{cidr: ...}`` or ``{cidrs: [...]}``."""
    unknown = [str(k) for k in p.data if k not in LOCAL_KEYS]
    for key in unknown:
        p.problems.add(f"{p.what}: {p.dotted(key)}: unknown field", p.doc.key_span(p.path + (key,)),
                       "the node's own end of a rule (`to` on ingress, `from` on egress) takes node, pods, cidr "
                       "or cidrs; the far end (network, nodes, nodeSelector, CIDRs) goes in the other key")
    if unknown:
        return None
    present = [k for k in LOCAL_KEYS if k in p.data]
    if len(present) != 1:
        p.error(None, "an entry needs exactly one of node, pods, cidr, cidrs"
                + (f" (found {', '.join(present)})" if present else ""), "split it into one entry per key")
        return None
    key = present[0]
    if key in ("node", "pods"):
        value = p.data[key]
        if key == "node" and isinstance(value, dict) and set(value) == {"within"}:
            inner = p.mapping("node")
            within = inner.networks("within", required=True) if inner else ()
            return FirewallLocal(node=True, source=p.span(), within=within)
        if value is not None and value != {}:
            hint = "write `node: {}`, or `node: {within: [CIDR, ...]}` for some of its addresses" \
                if key == "node" else f"write `{key}: {{}}`"
            p.error(key, f"takes no settings but within, found {value!r}" if key == "node"
                    else f"takes no settings, found {value!r}", hint)
            return None
        return FirewallLocal(node=key == "node", pods=key == "pods", source=p.span())
    if key == "cidr":
        net = p.network("cidr", p.string("cidr", required=True))
        return FirewallLocal(cidrs=(net,), source=p.span()) if net else None
    cidrs = p.networks("cidrs", required=True)
    return FirewallLocal(cidrs=cidrs, source=p.span()) if cidrs else None


def _ports(f: Fields, key: str) -> IntervalSet:
    """A port list (or one port or range), each bad entry reported where it is."""
    raw = f.raw(key)
    entries = raw if isinstance(raw, list) else [raw]
    ranges: list[tuple[int, int]] = []  # merged once at the end: a union per entry is quadratic in the list
    for i, entry in enumerate(entries):
        try:
            ranges.extend(parse_ports(entry).ranges)
        except ValueError as err:
            hint = 'list ports and ranges, e.g. ["6443", "30000-32767"]'
            if isinstance(raw, list):
                f.item_error(key, i, str(err), hint)
            else:
                f.error(key, str(err), hint)
    return IntervalSet(ranges)


def _read_rule(r: Fields, index: int, direction: str) -> FirewallRule | None:
    # The far end is `from` on ingress and `to` on egress; the other key names the node's own end.
    peer_key, local_key = ("from", "to") if direction == "ingress" else ("to", "from")
    r.unknown_keys({"name", "action", "protocol", "ports", peer_key, local_key})
    action = r.string("action", required=True, choices=("allow", "deny"))
    protocols = IntervalSet()
    try:
        protocols = protocols_of(r.raw("protocol", "any"))
    except ValueError as err:
        r.error("protocol", str(err), "use TCP, UDP, SCTP, ICMP, ICMPv6, any, or an IP protocol number 0-255")
    ports = ALL_PORTS
    if r.has("ports"):
        ports = _ports(r, "ports")
        if protocols and not protocols <= IntervalSet.of((TCP, TCP), (UDP, UDP), (SCTP, SCTP)):
            if protocols == protocols_of("any"):
                # "any" with ports means every protocol that has ports.
                protocols = IntervalSet((p, p) for p in PORTED_PROTOCOLS)
            else:
                r.error("ports", "ports only apply to TCP, UDP and SCTP",
                        "remove `ports` or set `protocol` to TCP, UDP or SCTP")
    peers = None
    if r.is_list_present(peer_key):
        peers = r.list_of(peer_key, _read_firewall_peer)
    local = None
    if r.is_list_present(local_key):
        if r.raw(local_key) == []:
            r.error(local_key, "an empty list matches no packet",
                    f"omit `{local_key}` to match every packet, or list node, pods or CIDRs")
        local = r.list_of(local_key, _read_firewall_local)
    name = r.string("name")
    if name:
        r.check_name("name", name, DNS1123_LABEL)
    name = name or f"{direction}[{index}]"
    if not action:
        return None
    return FirewallRule(name, action, protocols, ports, peers, r.span(), local)


def _read_chain(f: Fields | None, direction: str, fw: Fields) -> FirewallChain:
    if f is None:
        # An omitted direction filters nothing, like a node with no firewall.
        return FirewallChain("allow", (), fw.span())
    f.unknown_keys({"defaultAction", "rules"})
    default = f.string("defaultAction", default="allow" if direction == "egress" else "deny",
                       choices=("allow", "deny"))
    rules = []
    for i, r in enumerate(f.each_mapping("rules")):
        rule = _read_rule(r, i, direction)
        if rule is not None:
            rules.append(rule)
    return FirewallChain(default, tuple(rules), f.span())


def read_firewall(doc: Document, problems: Problems) -> Firewall:
    """A Firewall object: the nodes it selects, its ingress and egress chains, and whether it is stateful
    (the first one, for a Firewall that imports several layers: :func:`read_firewalls`)."""
    return read_firewalls(doc, problems)[0][0]


def read_firewalls(doc: Document, problems: Problems) -> tuple[list[Firewall], list[SkippedObject]]:
    """The Firewall objects one ``Firewall`` document stands for: itself, or with ``spec.import`` one per layer
    of the imported file (an nftables ruleset with several base chains on one hook gives several, AND'ed), and
    the rules of the file netmodel cannot model (each an object not evaluated, so answers say so)."""
    top, name = _meta_name(doc, problems, "Firewall")
    meta = top.mapping("metadata")
    annotations = meta.labels("annotations", annotations=True) if meta else None
    spec = top.mapping("spec", required=True) or Fields(doc, ("spec",), {}, problems, top.what)
    spec.unknown_keys({"nodeSelector", "nodes", "ingress", "egress", "stateful", "import"})
    selector = spec.selector("nodeSelector")
    nodes = tuple(n for _, n in spec.strings("nodes"))
    if selector is None and not nodes:
        spec.error(None, "selects no node", "add `nodeSelector:` or `nodes: [...]`")
    imp = spec.mapping("import")
    if imp is None:
        return [Firewall(name, selector, nodes, _read_chain(spec.mapping("ingress"), "ingress", spec),
                         _read_chain(spec.mapping("egress"), "egress", spec), spec.boolean("stateful", True),
                         annotations or Labels(), doc.span())], []
    for key in ("ingress", "egress", "stateful"):
        if spec.has(key):
            spec.error(key, "cannot be given with `import`: the imported file holds the rules and their state",
                       f"remove `{key}`, or remove `import` and write the rules here")
    imported = read_import(imp)
    empty = FirewallChain("allow", (), spec.span())
    if imported is None or not imported.layers:
        return [Firewall(name, selector, nodes, empty, empty, True, annotations or Labels(), doc.span())], []
    firewalls = [Firewall(name if i == 0 else f"{name}-{i + 1}", selector, nodes, layer.ingress, layer.egress,
                          layer.stateful, annotations or Labels(), doc.span(), members=imported.members,
                          imported=imported.file, replies=layer.replies,
                          native=(imported.format, imported.text, i) if imported.format else None)
                 for i, layer in enumerate(imported.layers)]
    for note_id, message, span in imported.notes:
        problems.notes.append(Note(note_id, f"Firewall {name}: {message}", (f"Firewall/{name}",), (span,), "info"))
    skipped = [SkippedObject(API_VERSION, IMPORTED_RULE, "", name, f"{span.file}:{span.line}: {what}", span, "not-evaluated",
                             "firewall") for span, what in imported.assumptions]
    return firewalls, skipped


def read_import(f: Fields) -> Imported | None:
    """``spec.import: {format, file}``: the file, relative to the YAML file's folder and inside it, read and
    parsed; None after a problem (recorded, located)."""
    fmt = f.string("format", required=True, choices=tuple(FORMATS) + tuple(CLOUD_FORMATS))
    f.unknown_keys({"format", "file", *CLOUD_FORMATS.get(fmt, ())})
    relative = f.string("file", required=True)
    if not fmt or not relative:
        return None
    found = resolve_import(f.doc.file, relative)
    if isinstance(found, str):
        f.error("file", found, "give a path relative to this YAML file's folder, to a file inside it (no "
                "absolute path, no `..` out of it, no symbolic link out of it)")
        return None
    path, shown_name = found
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_IMPORT_BYTES + 1)
    except OSError as err:
        f.error("file", f"cannot read {shown_name}: {err.strerror}", "check the path and permissions")
        return None
    if len(raw) > MAX_IMPORT_BYTES:
        f.error("file", f"{shown_name} is larger than {MAX_IMPORT_BYTES >> 20} MiB, netmodel's limit for an "
                "imported ruleset", "split the ruleset into several Firewalls")
        return None
    try:
        text = decode(raw, shown_name)
    except LoadError as err:
        f.problems.items.extend(err.problems)
        return None
    if fmt in CLOUD_FORMATS:
        cloud = import_cloud_fields(fmt, text, shown_name, f)
        imported = Imported([Layer(cloud.ingress, cloud.egress, True)], assumptions=list(cloud.assumptions),
                            notes=[("NM-FW-010", note, span) for span, note in cloud.notes],
                            problems=list(cloud.problems), members=cloud.members)
    else:
        imported = import_text(fmt, text, shown_name)
        imported.format, imported.text = fmt, text
    imported.file = shown_name
    f.problems.items.extend(imported.problems)
    return None if imported.problems else imported


def resolve_import(yaml_file: str, relative: str) -> tuple[FsPath, str] | str:
    """The file ``relative`` names next to ``yaml_file`` and the name to show for it, or why it is refused: the
    input is untrusted, so the path must stay inside the YAML file's folder."""
    if yaml_file == "<stdin>":
        return "a Firewall read from standard input cannot import a file (its folder is unknown)"
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or (len(relative) > 1 and relative[1] == ":"):
        return f"{shown(relative)} is an absolute path"
    if ".." in pure.parts:
        return f"{shown(relative)} leaves the folder of the YAML file (`..`)"
    folder = FsPath(yaml_file).parent
    try:
        real_folder = folder.resolve(strict=True)
        target = (folder / pure).resolve(strict=True)
    except (OSError, RuntimeError):
        return f"no such file: {shown(relative)} (next to {yaml_file})"
    if not target.is_relative_to(real_folder):
        return f"{shown(relative)} is a symbolic link out of the YAML file's folder"
    if not target.is_file():
        return f"{shown(relative)} is not a regular file"
    return target, os.path.normpath(str(folder / pure))


# -- Expectations --------------------------------------------------------------------------------------------------


def read_expectations(doc: Document, problems: Problems) -> Expectations:
    """An Expectations object: each flow (from, to, port, protocol) and whether it should be allowed."""
    top, name = _meta_name(doc, problems, "Expectations")
    spec = top.mapping("spec", required=True) or Fields(doc, ("spec",), {}, problems, top.what)
    spec.unknown_keys({"flows"})
    flows = []
    for f in spec.each_mapping("flows", required=True):
        f.unknown_keys({"from", "to", "port", "protocol", "allowed", "host"})
        src = f.string("from", required=True)
        dst = f.string("to", required=True)
        host = f.string("host").strip().lower().rstrip(".")
        if host and (not is_dns1123_subdomain(host) or host.replace(".", "").isdigit()):
            f.error("host", f"{host!r} is not a host name", "give the DNS name a client asks for "
                    "(api.example.com), without '*' or port")
            continue
        if host and not dst.lower().startswith(("gateway:", "ingress:")):
            f.error("host", "is the host name asked of a Gateway or an Ingress: it needs `to: gateway:NS/NAME` or "
                    "`to: ingress:NS/NAME`", "write to: gateway:NS/NAME or ingress:NS/NAME, or leave host out")
            continue
        port = f.port_or_name("port")
        protocol_text = f.string("protocol", default="TCP").upper()
        try:
            protocols_of(protocol_text)
        except ValueError as err:
            f.error("protocol", str(err), "use TCP, UDP, SCTP or ICMP")
        if port is None and protocol_text in ("TCP", "UDP", "SCTP"):
            if not f.has("port"):
                f.error("port", "is required for TCP, UDP and SCTP", "add `port: 80` (or a named port)")
            continue
        if not f.has("allowed") or not isinstance(f.raw("allowed"), bool):
            f.error("allowed", "must be true or false", "add `allowed: true` or `allowed: false`")
            continue
        if src and dst:
            flows.append(ExpectedFlow(src, dst, port if port is not None else 0, protocol_text,
                                      f.boolean("allowed"), f.span(), host))
    return Expectations(name, tuple(flows), doc.span())
