"""AdminNetworkPolicy and BaselineAdminNetworkPolicy (``policy.networking.k8s.io/v1alpha1``) → typed objects.

The fields and their limits are those of the API types and CRD validation of kubernetes-sigs/network-policy-api
(``apis/v1alpha1``; docs/input.md, "AdminNetworkPolicy and BaselineAdminNetworkPolicy"). What the API server would
refuse is an error located at the field; unknown fields are ignored, as for the other Kubernetes kinds.
"""

from __future__ import annotations

from netmodel.load.document import Document
from netmodel.model.fields import Fields, Problems, is_port_name, read_selector
from netmodel.model.labels import LabelSelector
from netmodel.model.objects import AdminNetworkPolicy, AdminPeer, AdminRule, PolicyPort
from netmodel.model.read_kubernetes import PROTOCOLS, Meta
from netmodel.sets import protocol_number

ANP = "AdminNetworkPolicy"
BANP = "BaselineAdminNetworkPolicy"
MAX_RULES = 100  # per direction, and peers and ports per rule (CRD MaxItems)
MAX_NETWORKS = 25
MAX_RULE_NAME = 100
_PEER_FIELDS = {"ingress": ("namespaces", "pods"), "egress": ("namespaces", "pods", "nodes", "networks",
                                                              "domainNames")}


def _protocol(f: Fields) -> int:
    return protocol_number(f.string("protocol", default="TCP", choices=PROTOCOLS))


def _one_of(f: Fields, names: tuple[str, ...], what: str) -> str | None:
    """The one field of ``names`` set in ``f`` (the API's "exactly one field must be set")."""
    present = [n for n in names if f.data.get(n) is not None]
    if len(present) == 1:
        return present[0]
    if not present:
        f.error(None, f"{what} needs exactly one of {', '.join(names)}", f"set one of {', '.join(names)}")
    else:
        f.error(present[1], f"{what} sets {' and '.join(present)}; exactly one is allowed",
                "split it into one entry per field")
    return None


# The API's first releases (v0.1.0-v0.1.2, the same apiVersion v1alpha1) wrote a peer's namespaces as a
# NamespacedPeer holding exactly one of these (apis/v1alpha1/shared_types.go at tag v0.1.1); v0.1.3 made it a
# plain label selector. CRDs of those releases are still installed (OVN-Kubernetes shipped them), so both are read.
_NAMESPACED_PEER = ("namespaceSelector", "sameLabels", "notSameLabels")


def _namespaces(f: Fields, key: str, unevaluated: list[str]) -> LabelSelector | None:
    """A peer's namespaces at ``key``: a label selector, or a v0.1.0-v0.1.2 NamespacedPeer. Its
    ``namespaceSelector`` is that selector; ``sameLabels``/``notSameLabels`` (namespaces sharing, or not, the
    subject's values of those labels) are not evaluated: the policy is left out (``unevaluated``)."""
    sub = f.mapping(key, required=True)
    if sub is None:
        return None
    if not any(k in sub.data for k in _NAMESPACED_PEER):
        return read_selector(sub)
    field = _one_of(sub, _NAMESPACED_PEER, "namespaces (a NamespacedPeer of the API's v0.1.0-v0.1.2)")
    if field == "namespaceSelector":
        return sub.selector("namespaceSelector")
    if field is not None:
        unevaluated.append(f"{sub.dotted(field)} (namespaces relative to the subject's, API v0.1.0-v0.1.2)")
    return LabelSelector.everything()  # a placeholder: a policy with an unevaluated field is left out


def _namespaced_pod(f: Fields, unevaluated: list[str]) -> tuple[LabelSelector, LabelSelector] | None:
    """A ``pods`` entry: namespaceSelector AND podSelector, both required (empty selects all); in a peer of the
    API's v0.1.0-v0.1.2, ``namespaces`` (a NamespacedPeer) in place of namespaceSelector."""
    old = "namespaces" in f.data and "namespaceSelector" not in f.data
    ns = _namespaces(f, "namespaces", unevaluated) if old else f.selector("namespaceSelector") \
        if f.mapping("namespaceSelector", required=True) is not None else None
    pod = f.mapping("podSelector", required=True)
    if ns is None or pod is None:
        return None
    return ns, read_selector(pod)


def _read_peer(p: Fields, direction: str, unevaluated: list[str]) -> AdminPeer | None:
    allowed = _PEER_FIELDS[direction]
    present = [n for n in ("namespaces", "pods", "nodes", "networks", "domainNames") if p.data.get(n) is not None]
    wrong = [n for n in present if n not in allowed]
    if wrong:
        p.error(wrong[0], f"an {direction} peer cannot select {wrong[0]}", f"use one of {', '.join(allowed)}")
        return None
    field = _one_of(p, allowed, "a peer")
    if field is None:
        return None
    if field == "namespaces":
        sel = _namespaces(p, "namespaces", unevaluated)
        return AdminPeer(field, sel, None, None, (), p.span()) if sel is not None else None
    if field == "pods":
        sub = p.mapping("pods")
        both = _namespaced_pod(sub, unevaluated) if sub is not None else None
        return AdminPeer(field, both[0], both[1], None, (), p.span()) if both is not None else None
    if field == "nodes":
        sel = p.selector("nodes")
        return AdminPeer(field, None, None, sel, (), p.span()) if sel is not None else None
    if field == "networks":
        entries = p.items("networks")
        if not entries:
            p.error("networks", "needs at least one CIDR", "list the networks (e.g. `- 10.0.0.0/8`)")
            return None
        if len(entries) > MAX_NETWORKS:
            p.error("networks", f"lists {len(entries)} CIDRs; the API allows at most {MAX_NETWORKS}",
                    "split them over several peers")
        networks = p.networks("networks", host_bits=True)
        return AdminPeer(field, None, None, None, networks, p.span()) if networks else None
    # domainNames: answered by DNS at run time; netmodel cannot tell which addresses they stand for.
    p.problems.warn("NM-INPUT-021", f"{p.what}: {p.dotted('domainNames')}: domain-name peers are not evaluated "
                    "(the addresses they stand for are only known to the cluster's DNS at run time); netmodel "
                    "reads the peer as matching no address, so connections it allows may be missing from answers: "
                    "replace it with a `networks` peer holding the addresses, to have them judged",
                    p.object_ref(), p.span("domainNames"))
    return AdminPeer(field, None, None, None, (), p.span())


def _read_port(f: Fields) -> tuple[PolicyPort, ...]:
    field = _one_of(f, ("portNumber", "namedPort", "portRange"), "a port")
    if field == "portNumber":
        sub = f.mapping("portNumber")
        if sub is None:
            return ()
        number = sub.port("port", required=True)
        return (PolicyPort(_protocol(sub), number, None, f.span()),) if number is not None else ()
    if field == "portRange":
        sub = f.mapping("portRange")
        if sub is None:
            return ()
        start, end = sub.port("start", required=True), sub.port("end", required=True)
        if start is None or end is None:
            return ()
        if start >= end:
            sub.error("end", f"end {end} is not above start {start}",
                      "make end greater than start (use portNumber for a single port)")
            return ()
        return (PolicyPort(_protocol(sub), start, end, f.span()),)
    if field == "namedPort":
        name = f.string("namedPort")
        if not is_port_name(name):
            f.error("namedPort", f"{name!r} is not a container port name",
                    "use the name of a containerPort (lower-case letters, digits, '-', at most 15)")
            return ()
        return tuple(PolicyPort(protocol_number(p), name, None, f.span()) for p in PROTOCOLS)
    return ()


def _read_rule(r: Fields, kind: str, direction: str, index: int, unevaluated: list[str]) -> AdminRule | None:
    reported = len(r.problems.items)
    actions = ("Allow", "Deny", "Pass") if kind == ANP else ("Allow", "Deny")
    action = r.string("action", required=True, choices=actions)
    name = r.string("name")
    if len(name) > MAX_RULE_NAME:
        r.error("name", f"is {len(name)} characters long; the API allows at most {MAX_RULE_NAME}",
                "shorten the rule name")
    peers_key = "from" if direction == "ingress" else "to"
    entries = r.items(peers_key, required=True)
    if r.data.get(peers_key) is not None and isinstance(r.data.get(peers_key), list) and not entries:
        r.error(peers_key, "needs at least one peer", f"list the peers under `{peers_key}:`")
    if len(entries) > MAX_RULES:
        r.error(peers_key, f"lists {len(entries)} peers; the API allows at most {MAX_RULES}",
                "split the rule into several rules")
    peers = tuple(peer for p in r.each_mapping(peers_key)
                  if (peer := _read_peer(p, direction, unevaluated)) is not None)
    ports: tuple[PolicyPort, ...] | None = None
    if r.data.get("ports") is not None:
        port_entries = r.items("ports")
        if isinstance(r.data.get("ports"), list) and not port_entries:
            r.error("ports", "needs at least one port when present", "list ports, or remove `ports` for all ports")
        if len(port_entries) > MAX_RULES:
            r.error("ports", f"lists {len(port_entries)} ports; the API allows at most {MAX_RULES}",
                    "split the rule into several rules")
        ports = tuple(port for p in r.each_mapping("ports") for port in _read_port(p))
        if any(isinstance(p.port, str) for p in ports) and any(p.field in ("nodes", "networks") for p in peers):
            r.error("ports", "a named port cannot be used with a nodes or networks peer (nodes and networks have "
                    "no named ports)", "use portNumber or portRange, or move the named port to a pods rule")
    if len(r.problems.items) > reported:
        return None  # the rule's problems fail the run; it is left out of the model meanwhile
    assert action and peers and len(peers) == len(entries), "a rule is only left out with a problem reported"
    return AdminRule(name, action, peers, ports, r.span())


def read_admin_network_policy(doc: Document, problems: Problems, kind: str) -> AdminNetworkPolicy | None:
    """An AdminNetworkPolicy or BaselineAdminNetworkPolicy; None when it is too broken to use (the problems
    are recorded)."""
    meta = Meta(doc, problems, kind, namespaced=False)
    spec = meta.fields.mapping("spec", required=True)
    if spec is None:
        return None
    priority: int | None = None
    if kind == ANP:
        priority = spec.integer("priority", required=True, low=0, high=1000)
    elif meta.name and meta.name != "default":
        meta.fields.error("metadata", f"a BaselineAdminNetworkPolicy must be named `default`, not {meta.name!r} "
                          "(the API admits only one, named default)", "rename it to `default`")
    subject = spec.mapping("subject", required=True)
    selectors: tuple[LabelSelector, LabelSelector] | None = None
    if subject is not None:
        field = _one_of(subject, ("namespaces", "pods"), "the subject")
        if field == "namespaces":
            sel = subject.selector("namespaces")
            selectors = (sel, LabelSelector.everything()) if sel is not None else None
        elif field == "pods":
            sub = subject.mapping("pods")
            selectors = _namespaced_pod(sub, []) if sub is not None else None
    rules: dict[str, list[AdminRule]] = {"ingress": [], "egress": []}
    unevaluated: list[str] = []
    for direction in ("ingress", "egress"):
        entries = spec.items(direction)
        if len(entries) > MAX_RULES:
            spec.error(direction, f"lists {len(entries)} rules; the API allows at most {MAX_RULES}",
                       "merge rules or split the policy")
        for i, r in enumerate(spec.each_mapping(direction)):
            rule = _read_rule(r, kind, direction, i, unevaluated)
            if rule is not None:
                rules[direction].append(rule)
    if selectors is None or (kind == ANP and priority is None):
        return None
    return AdminNetworkPolicy(kind, meta.name, priority, selectors[0], selectors[1], tuple(rules["ingress"]),
                              tuple(rules["egress"]), doc.span(), tuple(unevaluated))


__all__ = ["ANP", "BANP", "read_admin_network_policy"]
