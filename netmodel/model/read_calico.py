"""Calico kinds (both API groups Calico serves them under, ``projectcalico.org/v3`` and
``crd.projectcalico.org/v1``; :data:`netmodel.model.kinds.READ`).

* ``IPPool``: only what decides where Pod addresses come from, ``spec.cidr`` and ``spec.disabled`` (Calico IPPool
  reference: https://docs.tigera.io/calico/latest/reference/resources/ippool).
* ``NetworkPolicy`` and ``GlobalNetworkPolicy``: tier, order, selector, namespaceSelector (global only),
  serviceAccountSelector, types and the ingress/egress rules: action, protocol/notProtocol, source/destination
  nets/notNets, selector/notSelector, namespaceSelector, serviceAccounts (names, selector), destination
  ports/notPorts (numbers, ``min:max`` ranges, named ports). Fields netmodel does not evaluate (services, source
  ports, http, ipVersion, and the host-endpoint-only doNotTrack/preDNAT/applyOnForward) make the policy
  *unevaluated*: reported and left out (docs/input.md, "Calico policies"). What Calico's validation refuses is a
  located error (exit 2); a selector that does not parse names the offset of the problem in it.
* ``NetworkSet`` and ``GlobalNetworkSet``: labels and ``spec.nets`` (docs/reachability.md, "Calico network sets").
* ``Tier``: order and defaultAction, with the built-in tiers' fixed values
  (https://docs.tigera.io/calico/latest/reference/resources/tier; projectcalico/calico
  api/pkg/apis/projectcalico/v3/tier.go).
"""

from __future__ import annotations

import math

from netmodel.errors import Problem
from netmodel.load.document import Document
from netmodel.model.calico_selector import ALL, Selector, SelectorError, parse
from netmodel.model.fields import Fields, Problems, is_port_name, shown
from netmodel.model.objects import (
    CALICO_ACTIONS,
    CalicoEntity,
    CalicoNetworkSet,
    CalicoPolicy,
    CalicoRule,
    CalicoTier,
    IPPool,
    PolicyPort,
    ServiceAccountMatch,
)
from netmodel.model.read_kubernetes import Meta
from netmodel.sets.ports import SCTP, TCP, UDP

# The tiers Calico always has: name → (order, defaultAction) (api/pkg/apis/projectcalico/v3/tier.go).
DEFAULT_TIER = "default"
BUILTIN_TIERS = {"kube-admin": (1_000.0, "Pass"), DEFAULT_TIER: (1_000_000.0, "Deny"),
                 "kube-baseline": (10_000_000.0, "Pass")}
MAX_RULES = 1024  # per direction (CRD MaxItems)
MAX_SELECTOR = 1024  # characters (CRD MaxLength)
# Protocol names Calico accepts (numorstring.Protocol), with their numbers; UDPLite is 136.
PROTOCOL_NAMES = {"tcp": TCP, "udp": UDP, "icmp": 1, "icmpv6": 58, "sctp": SCTP, "udplite": 136}
PORT_PROTOCOLS = (TCP, UDP, SCTP)
HOST_ENDPOINT_ONLY = ("doNotTrack", "preDNAT", "applyOnForward")


def read_ip_pool(doc: Document, problems: Problems) -> IPPool | None:
    """A Calico IPPool (its CIDR), or None when the document has no usable one (problems say why)."""
    meta = Meta(doc, problems, "IPPool", namespaced=False)
    spec = meta.fields.mapping("spec", required=True)
    if spec is None:
        return None
    cidr = spec.network("cidr", spec.string("cidr", required=True))
    if cidr is None:
        return None
    return IPPool(meta.name, cidr, spec.boolean("disabled"), doc.span())


def _selector(f: Fields, key: str, allow_global: bool = False) -> Selector | None:
    """The selector at ``key`` parsed (None when absent); a located problem, with the offset, when it does not
    parse."""
    if f.data.get(key) is None:
        return None
    text = f.string(key)
    if len(text) > MAX_SELECTOR:
        f.error(key, f"is {len(text)} characters long; Calico allows at most {MAX_SELECTOR}", "shorten the selector")
        return None
    try:
        sel = parse(text)
    except SelectorError as err:
        f.problems.items.append(Problem(
            f"{f.what}: {f.dotted(key)}: the Calico selector does not parse at offset {err.offset} (character "
            f"{err.offset + 1} of the selector): {err.message}", f.span(key),
            'write it in Calico\'s selector syntax, e.g. app == "web" && has(tier), role in {"a", "b"}, all()',
            text + "\n    | " + " " * err.offset + "^"))
        return None
    if not allow_global and "global()" in str(sel):
        f.error(key, "global() can only be used in a rule's namespaceSelector (Calico refuses it here)",
                "remove global(), or move it to source/destination namespaceSelector")
        return None
    return sel


def _protocol(f: Fields, key: str) -> int | None:
    value = f.data.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= 255:
            return value
    elif isinstance(value, str):
        if value.lower() in PROTOCOL_NAMES:
            return PROTOCOL_NAMES[value.lower()]
        if value.isdigit() and 1 <= int(value) <= 255:
            return int(value)
    f.error(key, f"{shown(value)} is not a protocol", "use TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or a number 1-255")
    return None


def _ports(f: Fields, key: str, protocol: int | None) -> tuple[PolicyPort, ...]:
    """``ports``/``notPorts``: numbers, ``min:max`` ranges and named ports, each for ``protocol``."""
    out: list[PolicyPort] = []
    for i, value in f.items(key):
        span = f.doc.span(f.path + (key, i))
        where = f"{f.what}: {f.dotted(key)}[{i}]"
        text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else None
        number: int | str | None = None
        end: int | None = None
        if text is not None and text.isdigit():
            number = int(text)
        elif text is not None and ":" in text and all(p.strip().isdigit() for p in text.split(":", 1)):
            low, high = (int(p) for p in text.split(":", 1))
            number, end = low, high
            if low > high:
                f.problems.add(f"{where}: range {text!r} runs backwards", span, "write min:max with min <= max")
                continue
        elif text is not None and is_port_name(text):
            number = text
        else:
            f.problems.add(f"{where}: {shown(value)} is not a port", span,
                           "write a number (80), a range (8000:8100) or a container port name (http)")
            continue
        if isinstance(number, int) and (number > 65535 or (end is not None and end > 65535)):
            f.problems.add(f"{where}: {text!r} is beyond port 65535", span, "use ports 0-65535")
            continue
        if protocol is None and isinstance(number, str):
            # A named port with no protocol: the container ports of that name, whatever their protocol (Felix's
            # named-port sets with ProtocolAny, felix/calc/rule_scanner.go).
            out.extend(PolicyPort(p, number, None, span) for p in PORT_PROTOCOLS)
            continue
        if protocol is None or protocol not in PORT_PROTOCOLS:
            f.problems.add(f"{where}: a numeric port or range needs the rule's protocol to be TCP, UDP or SCTP "
                           "(Calico refuses it otherwise)", span, "set `protocol: TCP` (or UDP, SCTP) on the rule")
            continue
        out.append(PolicyPort(protocol, number, end if end != number else None, span))
    return tuple(out)


def _entity(r: Fields, key: str, protocol: int | None, unevaluated: list[str]) -> CalicoEntity:
    e = r.mapping(key)
    if e is None:
        return CalicoEntity()
    if e.data.get("services") is not None:
        unevaluated.append(f"{e.dotted('services')}")
    ports: tuple[PolicyPort, ...] | None = None
    not_ports: tuple[PolicyPort, ...] = ()
    if key == "source":
        for field in ("ports", "notPorts"):
            if e.items(field):
                unevaluated.append(f"{e.dotted(field)} (source ports)")
    else:
        if e.items("ports"):
            ports = _ports(e, "ports", protocol)
        not_ports = _ports(e, "notPorts", protocol)
    return CalicoEntity(e.networks("nets", host_bits=True), e.networks("notNets", host_bits=True),
                        _selector(e, "selector"), _selector(e, "notSelector"),
                        _selector(e, "namespaceSelector", allow_global=True), ports, not_ports,
                        _service_accounts(e))


def _service_accounts(e: Fields) -> ServiceAccountMatch | None:
    """A rule side's ``serviceAccounts``: names (each a ServiceAccount name) and a selector over the service
    account's labels, AND'ed (api/pkg/apis/projectcalico/v3/policy_common.go, ServiceAccountMatch)."""
    sam = e.mapping("serviceAccounts")
    if sam is None:
        return None
    names = tuple(dict.fromkeys(name for _, name in sam.strings("names")))
    return ServiceAccountMatch(names, _selector(sam, "selector"))


def _rule(r: Fields, unevaluated: list[str]) -> CalicoRule:
    action = r.string("action", required=True, choices=CALICO_ACTIONS)
    for field in ("http", "ipVersion"):
        if r.data.get(field) is not None:
            unevaluated.append(r.dotted(field))
    protocol, not_protocol = _protocol(r, "protocol"), _protocol(r, "notProtocol")
    return CalicoRule(action, protocol, not_protocol, _entity(r, "source", protocol, unevaluated),
                      _entity(r, "destination", protocol, unevaluated), r.span())


def _order(f: Fields, key: str) -> float | None:
    value = f.data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        f.error(key, f"{shown(value)} is not a number", f"write `{key}` as a number, e.g. 100")
        return None
    return float(value)


def read_calico_policy(doc: Document, problems: Problems, kind: str, api_version: str) -> CalicoPolicy | None:
    """A Calico NetworkPolicy or GlobalNetworkPolicy; None when too broken to use (the problems are
    recorded)."""
    namespaced = kind == "NetworkPolicy"
    meta = Meta(doc, problems, kind, namespaced=namespaced)
    meta.fields.what = f"Calico {meta.fields.what}"
    spec = meta.fields.mapping("spec")
    if spec is None:
        spec = Fields(doc, ("spec",), {}, problems, meta.fields.what)
    reported = len(problems.items)
    unevaluated: list[str] = []
    tier = spec.string("tier") or DEFAULT_TIER
    if tier in ("kube-admin", "kube-baseline"):
        unevaluated.append(f"spec.tier {tier} (Calico policies among AdminNetworkPolicies)")
    if not namespaced:
        for field in HOST_ENDPOINT_ONLY:
            if spec.data.get(field):
                unevaluated.append(f"spec.{field} (host endpoints)")
    selector = _selector(spec, "selector") or ALL
    service_account_selector = _selector(spec, "serviceAccountSelector")
    namespace_selector = None
    if not namespaced:
        namespace_selector = _selector(spec, "namespaceSelector")
    elif spec.data.get("namespaceSelector") is not None:
        spec.error("namespaceSelector", "a namespaced Calico NetworkPolicy has no namespaceSelector (it selects "
                   "endpoints of its own namespace)", "remove it, or make the policy a GlobalNetworkPolicy")
    rules: dict[str, list[CalicoRule]] = {"ingress": [], "egress": []}
    for direction in ("ingress", "egress"):
        entries = spec.items(direction)
        if len(entries) > MAX_RULES:
            spec.error(direction, f"lists {len(entries)} rules; Calico allows at most {MAX_RULES}",
                       "split the policy")
        rules[direction] = [_rule(r, unevaluated) for r in spec.each_mapping(direction)]
    written = [t for _, t in spec.strings("types")]
    for i, t in enumerate(written):
        if t not in ("Ingress", "Egress"):
            spec.item_error("types", i, f"unknown type {t!r}", "use Ingress or Egress")
    if spec.data.get("types") is not None and not written:
        spec.error("types", "lists no type", "list Ingress and/or Egress, or remove `types`")
    if written:
        types = tuple(t.lower() for t in ("Ingress", "Egress") if t in written)
    elif rules["egress"] and not rules["ingress"]:
        types = ("egress",)
    elif rules["egress"]:
        types = ("ingress", "egress")
    else:
        types = ("ingress",)
    if len(problems.items) > reported:
        return None
    return CalicoPolicy(kind, api_version, meta.namespace, meta.name, tier, _order(spec, "order"), selector,
                        namespace_selector, types, tuple(rules["ingress"]), tuple(rules["egress"]), doc.span(),
                        tuple(unevaluated), service_account_selector)


def read_network_set(doc: Document, problems: Problems, kind: str) -> CalicoNetworkSet | None:
    """A Calico NetworkSet (namespaced) or GlobalNetworkSet: its labels and ``spec.nets`` (CIDRs or single
    addresses, api/pkg/apis/projectcalico/v3/networkset.go and globalnetworkset.go)."""
    meta = Meta(doc, problems, kind, namespaced=kind == "NetworkSet")
    meta.fields.what = f"Calico {meta.fields.what}"
    spec = meta.fields.mapping("spec")
    if spec is None:
        spec = Fields(doc, ("spec",), {}, problems, meta.fields.what)
    reported = len(problems.items)
    nets = spec.networks("nets", host_bits=True)
    if len(problems.items) > reported or not meta.name:
        return None
    return CalicoNetworkSet(kind, meta.namespace, meta.name, meta.labels, tuple(dict.fromkeys(nets)), doc.span())


def read_tier(doc: Document, problems: Problems) -> CalicoTier | None:
    """A Calico Tier; the built-in ones must keep their fixed order and defaultAction (as Calico's validation
    demands)."""
    meta = Meta(doc, problems, "Tier", namespaced=False)
    meta.fields.what = f"Calico {meta.fields.what}"
    spec = meta.fields.mapping("spec")
    if spec is None:
        spec = Fields(doc, ("spec",), {}, problems, meta.fields.what)
    order = _order(spec, "order")
    action = spec.string("defaultAction", default="Deny", choices=("Deny", "Pass"))
    fixed = BUILTIN_TIERS.get(meta.name)
    if fixed is not None:
        if order is not None and order != fixed[0]:
            spec.error("order", f"the {meta.name} tier's order is fixed at {fixed[0]:g}", f"write {fixed[0]:g}")
        if spec.data.get("defaultAction") is not None and action != fixed[1]:
            spec.error("defaultAction", f"the {meta.name} tier's defaultAction is fixed at {fixed[1]}",
                       f"write {fixed[1]}")
        order, action = fixed
    if not meta.name:
        return None
    # An omitted order is read as the default tier's (libcalico-go/lib/resources/tier.go: DefaultTierFields).
    return CalicoTier(meta.name, BUILTIN_TIERS[DEFAULT_TIER][0] if order is None else order, action, doc.span())


__all__ = ["BUILTIN_TIERS", "DEFAULT_TIER", "read_calico_policy", "read_ip_pool", "read_network_set", "read_tier"]
