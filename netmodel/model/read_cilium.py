"""CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (``cilium.io/v2``) → typed objects.

The fields and what the agent refuses follow Cilium's API types and their validation (pkg/policy/api in
cilium/cilium; docs.cilium.io, "Policy Language"); docs/input.md, "Cilium policies", lists them with netmodel's
reading. What Cilium refuses is an error located at the field (exit 2); what netmodel cannot judge offline (L7
rules, toFQDNs, ...) is kept on the rule (``unjudged``) and reported as NM-INPUT-045.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from netmodel.load.document import Document
from netmodel.model.cilium import (
    CCNP,
    CLUSTER_KEY,
    CNP,
    ENTITIES,
    NAMESPACE_KEY,
    CiliumCIDR,
    CiliumPolicy,
    CiliumRule,
    CiliumServiceRef,
    CiliumSpec,
)
from netmodel.model.fields import Fields, Problems, is_port_name
from netmodel.model.labels import LabelSelector, SelectorRequirement
from netmodel.model.objects import PolicyPort
from netmodel.model.read_kubernetes import Meta
from netmodel.sets import protocol_number
from netmodel.sets.numbers import is_decimal

SECTIONS = ("ingress", "ingressDeny", "egress", "egressDeny")
# Extended IP protocols (Cilium's enable-extended-ip-protocols; pkg/policy/api, isExtendedIPProtocol): they carry
# no transport port, and netmodel's flows are TCP, UDP and SCTP, so an entry naming one matches no flow netmodel
# asks about (as an `icmps` entry does), and changes no answer.
_EXTENDED_PROTOCOLS = ("VRRP", "IGMP", "GRE", "IPIP", "IPv6", "ESP", "AH")
_PROTOCOLS = ("TCP", "UDP", "SCTP", "ANY", *_EXTENDED_PROTOCOLS)
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
# Peer fields of each section (Cilium IngressCommonRule / EgressCommonRule and the allow-only extras).
_PEERS = {
    "ingress": ("fromEndpoints", "fromEntities", "fromCIDR", "fromCIDRSet", "fromNodes", "fromGroups"),
    "egress": ("toEndpoints", "toEntities", "toCIDR", "toCIDRSet", "toNodes", "toGroups", "toServices", "toFQDNs"),
}
_NOT_IN_DENY = ("toServices", "toFQDNs")
# Entities netmodel has no addresses for: a rule naming one is judged without them and marked.
UNMODELED_ENTITIES = ("ingress", "init", "health", "unmanaged")


def normalize_key(key: str) -> str:
    """A Cilium selector key as netmodel matches it: the ``k8s:`` and ``any:`` sources name the Pod's
    Kubernetes labels (and the labels Cilium derives from them), so the prefix goes; other sources
    (``reserved:``, ``container:``, ...) stay, and no Pod carries them. Cilium also reads a key with no ``:``
    that starts with ``reserved.`` or ``$`` as a reserved label (cilium/cilium pkg/labels, ParseSource: its
    examples/policies/l4/init.yaml selects ``reserved.init``), so those are written ``reserved:`` here.

    >>> normalize_key("k8s:io.kubernetes.pod.namespace"), normalize_key("any:app"), normalize_key("reserved:host")
    ('io.kubernetes.pod.namespace', 'app', 'reserved:host')
    >>> normalize_key("reserved.init"), normalize_key("$host"), normalize_key("reserved-app")
    ('reserved:init', 'reserved:host', 'reserved-app')
    """
    for prefix in ("k8s:", "any:"):
        if key.startswith(prefix):
            return key[len(prefix):]
    if ":" not in key:
        for prefix in ("reserved.", "$"):
            if key.startswith(prefix):
                return "reserved:" + key[len(prefix):]
    return key


def _selector(f: Fields, unjudged: list[str]) -> LabelSelector | None:
    """A Cilium EndpointSelector (a Kubernetes label selector whose keys may carry a source prefix)."""
    labels: dict[str, str] = {}
    sub = f.mapping("matchLabels")
    if sub is not None:
        for key, value in sub.data.items():
            if not isinstance(key, str) or not key or isinstance(value, (dict, list, bool)) or value is None:
                sub.error(str(key), f"must map a label key to a text value, not {value!r}",
                          "write `key: value` with a string value")
                continue
            labels[normalize_key(key)] = str(value)
    requirements: list[SelectorRequirement] = []
    for expr in f.each_mapping("matchExpressions"):
        key = expr.string("key", required=True)
        operator = expr.string("operator", required=True, choices=_OPERATORS)
        values = [v for _, v in expr.strings("values")]
        if operator in ("In", "NotIn") and not values:
            expr.error("values", f"operator {operator} needs at least one value", "add `values: [...]`")
            continue
        if operator in ("Exists", "DoesNotExist") and values:
            expr.error("values", f"operator {operator} takes no values", "remove `values`")
            continue
        if key and operator:
            requirements.append(SelectorRequirement(normalize_key(key), operator, frozenset(values)))
    for key in list(labels) + [r.key for r in requirements]:
        if ":" in key:
            unjudged.append(f"selector key {key!r} (a label source no Pod label carries)")
        elif key == CLUSTER_KEY:
            unjudged.append(f"selector key {key!r} (the cluster's name in Cilium, which the input does not give)")
    return LabelSelector.of(labels, requirements)


def _names_namespace(selector: LabelSelector) -> bool:
    return any(k == NAMESPACE_KEY for k, _ in selector.match_labels) or \
        any(r.key == NAMESPACE_KEY for r in selector.match_expressions)


def scoped(selector: LabelSelector, namespace: str) -> LabelSelector:
    """A peer selector of a CiliumNetworkPolicy: Cilium limits it to the policy's namespace unless it names the
    namespace key itself (matchLabels or matchExpressions); clusterwide policies (``namespace`` "") leave it."""
    if not namespace or _names_namespace(selector) or any(k.startswith("reserved:") for k, _ in selector.match_labels):
        return selector
    return LabelSelector.of({**dict(selector.match_labels), NAMESPACE_KEY: namespace},
                            list(selector.match_expressions))


def _selectors(f: Fields, key: str, namespace: str, unjudged: list[str]) -> tuple[LabelSelector, ...]:
    out = []
    for sub in f.each_mapping(key):
        sel = _selector(sub, unjudged)
        if sel is not None:
            out.append(scoped(sel, namespace))
    return tuple(out)


def _cidrs(f: Fields, key: str, unjudged: list[str]) -> tuple[CiliumCIDR, ...]:
    out: list[CiliumCIDR] = []
    if key.endswith("CIDR"):
        for i, value in f.items(key):
            net = _network(f, key, i, value)
            if net is not None:
                out.append(CiliumCIDR(net))
        return tuple(out)
    for sub in f.each_mapping(key):
        if sub.has("cidrGroupRef") or sub.has("cidrGroupSelector"):
            # Valid Cilium (a CiliumCIDRGroup's externalCIDRs), but netmodel does not read CiliumCIDRGroup objects:
            # reported and read as matching none, never refused.
            which = "cidrGroupRef" if sub.has("cidrGroupRef") else "cidrGroupSelector"
            unjudged.append(f"{sub.dotted(which)} (the addresses of a CiliumCIDRGroup, which netmodel does not read: "
                            "read as matching none; write the group's CIDRs as `cidr:` entries to have them judged)")
            continue
        value = sub.data.get("cidr")
        if value is None:
            sub.error("cidr", "is required", "add `cidr: 203.0.113.0/24`")
            continue
        net = _network(sub, None, "cidr", value)
        if net is None:
            continue
        excepts = []
        for i, ex in sub.items("except"):
            sub_net = _network(sub, "except", i, ex)
            if sub_net is None:
                continue
            if sub_net.version != net.version or not sub_net.subnet_of(net):
                sub.item_error("except", i, f"{sub_net} is not inside {net}",
                               f"list only subnets of {net} under `except`")
                continue
            excepts.append(sub_net)
        out.append(CiliumCIDR(net, tuple(excepts)))
    return tuple(out)


def _network(f: Fields, key: str | None, index: str | int, value: Any) -> Any:
    """A CIDR (or a bare address, as Cilium accepts: a /32 or /128) at ``key[index]`` (or at ``index``)."""
    text = str(value)
    if "/" not in text and text.strip():
        text += "/128" if ":" in text else "/32"
    value = text
    if key is None:
        return f.network(index, value, host_bits=True)
    sub = Fields(f.doc, f.path + (key,), {}, f.problems, f.what)
    return sub.network(index, value, host_bits=True)


def _entities(f: Fields, key: str, unjudged: list[str]) -> tuple[str, ...]:
    out = []
    for i, name in f.strings(key):
        if name not in ENTITIES:
            f.item_error(key, i, f"unknown entity {name!r}", f"use one of: {', '.join(ENTITIES)}")
            continue
        if name in UNMODELED_ENTITIES:
            unjudged.append(f"entity {name!r} (netmodel models no such peer)")
        out.append(name)
    return tuple(out)


def _services(f: Fields, namespace: str) -> tuple[CiliumServiceRef, ...]:
    out = []
    for sub in f.each_mapping("toServices"):
        by_name, by_selector = sub.mapping("k8sService"), sub.mapping("k8sServiceSelector")
        if (by_name is None) == (by_selector is None):
            sub.error(None, "needs exactly one of k8sService and k8sServiceSelector", "set one of them")
            continue
        if by_name is not None:
            name = by_name.string("serviceName", required=True)
            if name:
                out.append(CiliumServiceRef(name, None, by_name.string("namespace") or namespace))
        elif by_selector is not None:
            sel = by_selector.mapping("selector", required=True)
            if sel is not None:
                labels = _selector(sel, [])
                if labels is not None:
                    out.append(CiliumServiceRef(None, labels, by_selector.string("namespace") or namespace))
    return tuple(out)


def _port(f: Fields) -> tuple[PolicyPort, ...]:
    """One PortProtocol: port (a number, a range start with endPort, or a named port; "0" or absent = every
    port) and protocol (TCP, UDP, SCTP or ANY = the three; absent = ANY)."""
    protocol = f.string("protocol", default="ANY", choices=_PROTOCOLS)
    raw = f.data.get("port")
    if protocol in _EXTENDED_PROTOCOLS:
        if raw is not None and str(raw) not in ("", "0"):
            f.error("port", f"{protocol} has no ports (Cilium: \"port must be empty or 0\")", "remove `port`")
        return ()
    number: int | str | None = None
    if raw is not None:
        text = str(raw)
        if isinstance(raw, (bool, dict, list)):
            f.error("port", f"must be a port number or name, not {raw!r}", 'write it as text, e.g. port: "80"')
            return ()
        if is_decimal(text):
            value = int(text)
            if not 0 <= value <= 65535:
                f.error("port", f"port {value} is outside 0-65535", "use a port from 1 to 65535 (0: every port)")
                return ()
            number = value or None
        elif is_port_name(text.lower()):
            # Cilium reads a port name as an IANA service name, case-insensitively (PortProtocol.Validate
            # lower-cases it), and container port names are lower-case: `port: HTTP` names containerPort http.
            number = text.lower()
        else:
            f.error("port", f"{text!r} is neither a port number nor a port name",
                    "use a number 1-65535 or a container port name (lower-case letters, digits, '-', max 15)")
            return ()
    end = f.integer("endPort", low=0, high=65535)
    if end is not None and isinstance(number, int):
        if end < number:
            f.error("endPort", f"endPort {end} is below port {number}", "make endPort at least port")
            return ()
    else:
        end = None  # ignored for named ports and with port 0 (Cilium: "EndPort is ignored if Port is a named port")
    protocols = ("TCP", "UDP", "SCTP") if protocol == "ANY" else (protocol,)
    return tuple(PolicyPort(protocol_number(p), number, end if end != number else None, f.span())
                 for p in protocols)


_L7_FIELDS = ("rules", "serverNames", "listener", "terminatingTLS", "originatingTLS")
# The other fields of a rule besides its peers (Cilium's IngressRule/EgressRule, their deny forms and PortRule).
_RULE_FIELDS = {"ingress": ("fromRequires", "toPorts", "icmps", "authentication"),
                "egress": ("toRequires", "toPorts", "icmps", "authentication")}


def _unknown_fields(f: Fields, known: tuple[str, ...], unjudged: list[str]) -> None:
    """A field Cilium's API does not have (a typo, another version's field: the API server drops it or, with
    kubectl's strict field validation, refuses the object) is not silently read as absent: the rule is read without
    it and reported, since it may have meant a peer or port the answers depend on."""
    for key in f.data:
        if key not in known:
            unjudged.append(f"unknown field {f.dotted(str(key))!r} (not a field of Cilium's API: netmodel reads the "
                            "rule without it)")


def _ports(rule: Fields, deny: bool, unjudged: list[str], narrowing: list[str]) -> tuple[PolicyPort, ...] | None:
    """The rule's toPorts (None: every port) and icmps (ICMP only: no TCP, UDP or SCTP port)."""
    ports: list[PolicyPort] | None = None
    if rule.is_list_present("toPorts"):
        ports = []
        for entry in rule.each_mapping("toPorts"):
            if not entry.is_list_present("ports") or not entry.items("ports"):
                ports.extend(PolicyPort(protocol_number(p), None, None, entry.span()) for p in ("TCP", "UDP", "SCTP"))
            _unknown_fields(entry, ("ports", *_L7_FIELDS), unjudged)
            for p in entry.each_mapping("ports"):
                _unknown_fields(p, ("port", "endPort", "protocol"), unjudged)
                ports.extend(_port(p))
            for key in _L7_FIELDS:
                if entry.has(key):
                    if deny:
                        entry.error(key, "a deny rule's toPorts takes ports only", f"remove `{key}`")
                    else:
                        why = f"toPorts.{key} (judged only at run time by Cilium's L7 proxy; netmodel reads the ports " \
                              "as allowed)"
                        unjudged.append(why)
                        narrowing.append(why)
    if rule.is_list_present("icmps") and ports is None:
        ports = []  # ICMP only: netmodel's ports are TCP, UDP and SCTP
    return tuple(ports) if ports is not None else None


# ICMP echo request by family, as Cilium's ICMPField names it (pkg/policy/api/icmp.go, its type name maps: family
# IPv4 by default, type a number or a message name).
_ECHO = {"IPv4": (1, {"8", "Echo", "EchoRequest"}), "IPv6": (58, {"128", "EchoRequest"})}


def _icmp_echo(rule: Fields) -> tuple[int, ...]:
    """The IP protocols (ICMP 1, ICMPv6 58) whose echo request the rule's ``icmps`` name: the only ICMP message
    netmodel's answers ask about (the node health echo); other types match nothing netmodel probes."""
    out: list[int] = []
    for entry in rule.each_mapping("icmps"):
        for field in entry.each_mapping("fields"):
            family = field.string("family", default="IPv4", choices=tuple(_ECHO))
            raw = field.data.get("type")
            if raw is None or isinstance(raw, (bool, dict, list)):
                field.error("type", "is required: an ICMP type number or name", "write e.g. `type: EchoRequest`")
                continue
            protocol, names = _ECHO.get(family, _ECHO["IPv4"])
            if str(raw) in names and protocol not in out:
                out.append(protocol)
    return tuple(out)


def _rule(r: Fields, section: str, index: int, spec_index: int | None, namespace: str) -> CiliumRule | None:
    reported = len(r.problems.items)
    direction = "ingress" if section.startswith("ingress") else "egress"
    deny = section.endswith("Deny")
    unjudged: list[str] = []
    narrowing: list[str] = []  # the reasons that can only take away from what the rule allows (an allow rule's)
    # A field written null is absent (Go's JSON decoding leaves the slice nil, as if omitted); an explicitly empty
    # list is present and matches none (below). Cilium refuses only two peer fields that both list something
    # (pkg/policy/api, IngressCommonRule/EgressCommonRule Validate: "combining %s and %s is not supported yet",
    # counting len() > 0).
    given = {k for k, v in r.data.items() if v is not None}
    peers = [k for k in _PEERS[direction] if k in given]
    listing = [k for k in peers if not (isinstance(r.data[k], list) and not r.data[k])]
    _unknown_fields(r, (*_PEERS[direction], *_RULE_FIELDS[direction]), unjudged)
    if deny:
        for key in _NOT_IN_DENY:
            if key in given:
                r.error(key, f"{section} rules cannot use {key}", f"move it to an `{direction}` rule")
    if len(listing) > 1:
        r.error(listing[1], f"combines {listing[0]} and {listing[1]}; Cilium accepts one peer field per rule",
                "split it into one rule per peer field")
    for key in ("fromRequires", "toRequires"):
        if key in given:
            unjudged.append(f"{key} (netmodel ignores it, so it may {'deny' if deny else 'allow'} more than Cilium "
                            "does)")
            narrowing.append(unjudged[-1])
    if "authentication" in given:
        unjudged.append("authentication (decided by mutual authentication at run time)")
        narrowing.append(unjudged[-1])
    side = "from" if direction == "ingress" else "to"
    endpoints = _selectors(r, f"{side}Endpoints", namespace, unjudged) if f"{side}Endpoints" in given else None
    entities = _entities(r, f"{side}Entities", unjudged) if f"{side}Entities" in given else None
    cidrs: tuple[CiliumCIDR, ...] | None = None
    for key in (f"{side}CIDR", f"{side}CIDRSet"):
        if key in given:
            cidrs = (cidrs or ()) + _cidrs(r, key, unjudged)
    nodes = _selectors(r, f"{side}Nodes", "", unjudged) if f"{side}Nodes" in given else None
    services = _services(r, namespace) if direction == "egress" and "toServices" in given and not deny else None
    for key in (f"{side}Groups", "toFQDNs"):
        if key in given and (key != "toFQDNs" or direction == "egress"):
            unjudged.append(f"{key} (its addresses are known only at run time; read as matching none)")
    ports = _ports(r, deny, unjudged, narrowing)
    icmp_echo = _icmp_echo(r)
    if len(r.problems.items) > reported:
        return None
    if unjudged:
        r.problems.warn("NM-INPUT-045", f"{r.what}: {r.dotted()}: not judged offline: "
                        f"{'; '.join(dict.fromkeys(unjudged))}; every query, matrix row and --expect answer this "
                        "rule could change says so (notEvaluated)", _ref(r, namespace), r.span())
    # No peer field: Cilium's rule translation (pkg/policy/rule.go, mergeIngress/mergeEgress) selects every peer
    # only for the rule's ports (toPorts or icmps); with no port either — the empty rule `{}`, Cilium's documented
    # default-deny idiom `ingress: [{}]` — it adds no entry: it selects the endpoint (default deny) and allows
    # (denies) nothing. Requirements (fromRequires/toRequires) are folded into fromEndpoints/toEndpoints only, so
    # they neither make nor unmake the wildcard.
    wildcard = not peers and (ports is not None)
    # In an allow rule, L7 and TLS rules, authentication and requirements only take away from what netmodel lets
    # the rule allow; in a deny rule, ignored requirements make it deny more than Cilium does.
    narrows_only = not deny and bool(unjudged) and set(unjudged) == set(narrowing)
    return CiliumRule(section, index, spec_index, endpoints, entities, cidrs, services, nodes, ports,
                      tuple(dict.fromkeys(unjudged)), wildcard, r.span(), icmp_echo, narrows_only)


def _spec(s: Fields, kind: str, namespace: str, spec_index: int | None) -> CiliumSpec | None:
    reported = len(s.problems.items)
    unjudged: list[str] = []
    endpoint = s.mapping("endpointSelector")
    node = s.mapping("nodeSelector")
    if (endpoint is None) == (node is None):
        s.error(None, "needs exactly one of endpointSelector and nodeSelector" if endpoint is None else
                "sets both endpointSelector and nodeSelector; Cilium accepts one",
                "select endpoints with `endpointSelector: {}` (or nodes with nodeSelector, clusterwide only)")
    if node is not None and kind == CNP:
        s.error("nodeSelector", "is for CiliumClusterwideNetworkPolicy only",
                "make it a CiliumClusterwideNetworkPolicy, or select Pods with endpointSelector")
    endpoint_selector = _selector(endpoint, unjudged) if endpoint is not None else None
    if unjudged and endpoint is not None:
        # The subject names labels no Pod netmodel models carries (a reserved identity such as health or init,
        # another cluster's name): it selects no Pod here, and every answer its rules could change is marked.
        s.problems.warn("NM-INPUT-045", f"{s.what}: {s.dotted('endpointSelector')}: not judged offline: "
                        f"{'; '.join(dict.fromkeys(unjudged))}, so it selects no Pod netmodel models; every query, "
                        "matrix row and --expect answer its rules could change says so (notEvaluated)",
                        _ref(s, namespace), s.span("endpointSelector"))
    if endpoint_selector is not None and namespace:
        # A CNP selects endpoints of its own namespace only (Cilium adds the namespace label to its subject): AND
        # it, so a selector naming another namespace selects nothing.
        endpoint_selector = LabelSelector.of(dict(endpoint_selector.match_labels),
                                             [*endpoint_selector.match_expressions,
                                              SelectorRequirement(NAMESPACE_KEY, "In", frozenset({namespace}))])
    # A host policy (Cilium's host firewall): model/cilium_host.py makes it the Firewall of the nodes it selects.
    node_selector = _selector(node, []) if node is not None else None
    rules: list[CiliumRule] = []
    for section in SECTIONS:
        for i, r in enumerate(s.each_mapping(section)):
            rule = _rule(r, section, i, spec_index, namespace)
            if rule is not None:
                rules.append(rule)
    if unjudged:
        rules = [_with_unjudged(r, unjudged) for r in rules]
    defaults = s.mapping("enableDefaultDeny")
    has = {d: bool(s.items(d)) or bool(s.items(f"{d}Deny")) for d in ("ingress", "egress")}
    deny = {d: defaults.boolean(d, has[d]) if defaults is not None and defaults.has(d) else has[d]
            for d in ("ingress", "egress")}
    for d in ("ingress", "egress"):
        if s.is_list_present(d) and not s.items(d) and not s.items(f"{d}Deny") or (d in s.data and s.data[d] is None):
            s.problems.warn("NM-INPUT-046", f"{s.what}: {s.dotted(d)} is empty: Cilium reads an empty or null "
                            f"`{d}` as no {d} section (\"if omitted or empty, this rule does not apply at {d}\"), "
                            f"so it puts no endpoint in default deny for {d}; to deny all {d}, add an `{d}Deny` rule "
                            f"with `{'from' if d == 'ingress' else 'to'}Entities: [all]`",
                            _ref(s, namespace), s.span(d))
    if len(s.problems.items) > reported:
        return None
    return CiliumSpec(endpoint_selector, node_selector, tuple(rules), deny["ingress"], deny["egress"],
                      has["ingress"], has["egress"], s.span(), tuple(dict.fromkeys(unjudged)))


def _ref(f: Fields, namespace: str) -> str:
    data = f.doc.data if isinstance(f.doc.data, dict) else {}
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    name = meta.get("name") or "" if isinstance(meta, dict) else ""
    return f"{data.get('kind', '')}/{namespace + '/' if namespace else ''}{name}"


def _with_unjudged(rule: CiliumRule, more: list[str]) -> CiliumRule:
    """The rule of a spec whose subject netmodel cannot select: it may select Pods, so it may allow or deny."""
    return replace(rule, unjudged=tuple(dict.fromkeys(rule.unjudged + tuple(more))), narrows_only=False)


def read_cilium_policy(doc: Document, problems: Problems, kind: str) -> CiliumPolicy | None:
    """A CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy; None when it is too broken to use (the problems
    are recorded)."""
    meta = Meta(doc, problems, kind, namespaced=kind == CNP)
    top = meta.fields
    namespace = meta.namespace if kind == CNP else ""
    if not top.has("spec") and not top.has("specs"):
        top.error(None, "has neither spec nor specs", "add `spec:` with an endpointSelector and rules")
        return None
    specs: list[CiliumSpec] = []
    ok = True
    spec = top.mapping("spec")
    if spec is not None:
        one = _spec(spec, kind, namespace, None)
        ok = ok and one is not None
        if one is not None:
            specs.append(one)
    for i, s in enumerate(top.each_mapping("specs")):
        one = _spec(s, kind, namespace, i)
        ok = ok and one is not None
        if one is not None:
            specs.append(one)
    if not ok:
        return None
    return CiliumPolicy(kind, namespace, meta.name, tuple(specs), doc.span())


__all__ = ["CCNP", "CNP", "SECTIONS", "UNMODELED_ENTITIES", "normalize_key", "read_cilium_policy", "scoped"]
