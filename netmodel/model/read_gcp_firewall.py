"""GCP VPC firewall rules, as ``gcloud compute firewall-rules list --format=json`` prints them, read as netmodel
Firewall chains for the VMs (nodes) that carry some network tags and service accounts.

Semantics, from the Google Cloud documentation (docs/input.md, "Cloud firewalls", cites the pages):

* A rule applies to the VMs of its network that it targets: ``targetTags`` (a VM carrying any of them),
  ``targetServiceAccounts`` (a VM running as one of them), or every VM when it names neither.
* Rules are evaluated by ``priority`` (0-65535, default 1000; a lower number first). At equal priority a deny
  rule wins over an allow rule. The first rule that matches decides; rules with ``disabled: true`` are not
  enforced. Two implied rules end each direction at priority 65535: ingress denies everything, egress allows
  everything. Rules are stateful: replies pass.
* ``allowed[]``/``denied[]`` entries give an ``IPProtocol`` (``tcp``, ``udp``, ``icmp``, ``esp``, ``ah``,
  ``sctp``, ``ipip``, ``all`` or a number) and ``ports`` (``"22"``, ``"1024-65535"``; only for TCP, UDP and
  SCTP; none: every port). An entry matches when one of them matches.
* The far end: for ingress ``sourceRanges`` or ``sourceTags`` or ``sourceServiceAccounts`` (any of them; with
  none, 0.0.0.0/0), a tag or account meaning the VMs that carry it (member peers,
  :mod:`netmodel.model.read_cloud`); for egress ``destinationRanges`` (none: every destination). The VM's own
  end, when the rule names it: ``destinationRanges`` on ingress, ``sourceRanges`` on egress.
"""

from __future__ import annotations

from netmodel.errors import LoadError, Problem, SourceSpan
from netmodel.load.json_reader import parse_json
from netmodel.model.fields import Fields, Problems, shown
from netmodel.model.objects import FirewallChain, FirewallLocal, FirewallPeer, FirewallRule
from netmodel.model.read_cloud import CloudFirewall, rule_name
from netmodel.sets import ALL_PORTS, IntervalSet, parse_network
from netmodel.sets.ports import (
    ALL_PROTOCOLS,
    ICMP,
    IPIP,
    PORTED_PROTOCOLS,
    SCTP,
    TCP,
    UDP,
    parse_ports,
)

FORMAT = "gcp-firewall"
TAG, ACCOUNT = "gcp-tag", "gcp-sa"
IMPLIED_PRIORITY = 65535
_NAMED = {"tcp": TCP, "udp": UDP, "icmp": ICMP, "esp": 50, "ah": 51, "sctp": SCTP, "ipip": IPIP}


def _entry(e: Fields) -> tuple[IntervalSet, IntervalSet] | None:
    """(protocols, ports) of one allowed/denied entry."""
    raw = e.raw("IPProtocol")
    text = str(raw).lower() if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    if text is None:
        e.error("IPProtocol", "is required", "copy the rule from `gcloud compute firewall-rules list "
                "--format=json` unchanged")
        return None
    if text == "all":
        protocols = ALL_PROTOCOLS
    elif text in _NAMED:
        protocols = IntervalSet.of((_NAMED[text], _NAMED[text]))
    elif text.isascii() and text.isdigit() and int(text) <= 255:
        protocols = IntervalSet.of((int(text), int(text)))
    else:
        e.error("IPProtocol", f"unknown protocol {shown(raw)}",
                "use tcp, udp, icmp, esp, ah, sctp, ipip, all or a protocol number 0-255")
        return None
    ports = e.strings("ports")
    if not ports:
        return protocols, ALL_PORTS
    ported = len(protocols.ranges) == 1 and protocols.ranges[0][0] == protocols.ranges[0][1] \
        and protocols.ranges[0][0] in PORTED_PROTOCOLS
    if not ported:
        e.error("ports", f"ports are given for {shown(raw)}", "ports apply only to tcp, udp and sctp")
        return None
    try:
        return protocols, parse_ports([p for _, p in ports])
    except ValueError as err:
        e.error("ports", str(err), "write ports as \"22\" or \"1024-65535\"")
        return None


def _applies(rule: Fields, tags: frozenset[str], accounts: frozenset[str]) -> bool:
    target_tags = {t for _, t in rule.strings("targetTags")}
    target_accounts = {a for _, a in rule.strings("targetServiceAccounts")}
    if not target_tags and not target_accounts:
        return True
    return bool(target_tags & tags or target_accounts & accounts)


def import_gcp_firewall(text: str, file: str, tags: tuple[str, ...] = (), accounts: tuple[str, ...] = (),
                        network: str = "") -> CloudFirewall:
    """The chains of the VMs (nodes) of ``network`` that carry network ``tags`` and run as service
    ``accounts``, read from ``firewall-rules list --format=json`` ``text`` of ``file``. ``network`` may be
    omitted when every rule is of one network.

    >>> rules = ('[{"name": "allow-ssh", "network": "https://www.googleapis.com/compute/v1/projects/p/global/'
    ...          'networks/prod", "priority": 1000, "direction": "INGRESS", "sourceRanges": ["203.0.113.0/24"],'
    ...          ' "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}]}]')
    >>> fw = import_gcp_firewall(rules, "rules.json")
    >>> [(r.name, r.action) for r in fw.ingress.rules], fw.ingress.default_action, fw.egress.default_action
    ([('allow-ssh', 'allow')], 'deny', 'allow')
    """
    problems = Problems()
    try:
        docs = parse_json(text, file)
    except LoadError as err:
        return _failed(file, tuple(err.problems))
    if not docs or not isinstance(docs[0].data, list):
        return _failed(file, (Problem(f"{file}: not `gcloud compute firewall-rules list --format=json` output (a "
                                      "JSON list of firewall rules)", SourceSpan(file, 1, 1),
                                      "run `gcloud compute firewall-rules list --format=json` and save its output"),))
    doc = docs[0]
    # the document is the list itself: each rule's path is its index
    rules = [Fields(doc, (i,), item, problems, "firewall-rules") if isinstance(item, dict) else None
             for i, item in enumerate(doc.data)]
    for i, r in enumerate(rules):
        if r is None:
            problems.add(f"[{i}]: a firewall rule must be a JSON object", doc.span((i,)),
                         "save the output of `gcloud compute firewall-rules list --format=json` unchanged")
    networks = {r.string("network").rsplit("/", 1)[-1] for r in rules if r is not None and r.string("network")}
    if network and networks and network not in networks:
        problems.add(f"no rule of network {network!r} (the rules are of {', '.join(sorted(networks))})",
                     SourceSpan(file, 1, 1), "name one of those networks")
    elif not network and len(networks) > 1:
        problems.add(f"the rules are of {len(networks)} networks ({', '.join(sorted(networks))})",
                     SourceSpan(file, 1, 1), "name the nodes' network (`network:` in the Firewall's import, "
                     "`--network` on `netmodel import`)")
    tag_set, account_set = frozenset(tags), frozenset(accounts)
    assumptions: list[tuple[SourceSpan, str]] = []
    notes: list[tuple[SourceSpan, str]] = []
    chosen: dict[str, list[tuple[int, int, int, FirewallRule]]] = {"INGRESS": [], "EGRESS": []}
    for order, r in enumerate(rules):
        if r is None:
            continue
        what = f"firewall rule {r.string('name') or f'[{order}]'}"
        r.what = what
        name = r.string("name", required=True)
        if network and r.string("network").rsplit("/", 1)[-1] not in ("", network):
            continue
        direction = r.string("direction", default="INGRESS", choices=("INGRESS", "EGRESS"))
        priority = r.integer("priority", default=1000, low=0, high=65535)
        if r.boolean("disabled"):
            notes.append((r.span("disabled"), f"{what} is disabled: not enforced, left out"))
            continue
        if not _applies(r, tag_set, account_set):
            continue
        allowed, denied = list(r.each_mapping("allowed")), list(r.each_mapping("denied"))
        if bool(allowed) == bool(denied):
            r.error(None, "needs either `allowed` or `denied` entries", "a VPC firewall rule allows or denies")
            continue
        peers, local = _ends(r, direction, what, assumptions)
        action = "allow" if allowed else "deny"
        for j, e in enumerate(allowed or denied):
            proto = _entry(e)
            if proto is None:
                continue
            suffix = "" if len(allowed or denied) == 1 else str(j + 1)
            rule = FirewallRule(rule_name(name, suffix), action, proto[0], proto[1], peers, e.span(), local)
            chosen[direction].append((priority if priority is not None else 1000, 0 if action == "deny" else 1,
                                      order, rule))
    if problems.items:
        return _failed(file, tuple(problems.items))
    whole = SourceSpan(file, 1, 1)
    ingress = tuple(rule for *_, rule in sorted(chosen["INGRESS"], key=lambda c: c[:3]))
    egress = tuple(rule for *_, rule in sorted(chosen["EGRESS"], key=lambda c: c[:3]))
    members = tuple([f"{TAG}:{t}" for t in tags] + [f"{ACCOUNT}:{a}" for a in accounts])
    # the implied rules: ingress deny all, egress allow all, at priority 65535
    return CloudFirewall(FirewallChain("deny", ingress, whole), FirewallChain("allow", egress, whole), members,
                         tuple(assumptions), notes=tuple(notes))


def _ends(r: Fields, direction: str, what: str, assumptions: list[tuple[SourceSpan, str]]
          ) -> tuple[tuple[FirewallPeer, ...] | None, tuple[FirewallLocal, ...] | None]:
    """The far end (peers; None: anywhere) and the VM's own end (None: any) of one rule."""
    source_ranges = r.networks("sourceRanges")
    destination_ranges = r.networks("destinationRanges")
    if direction == "INGRESS":
        peers: list[FirewallPeer] = [FirewallPeer(cidrs=source_ranges, source=r.span("sourceRanges"))] \
            if source_ranges else []
        peers += [FirewallPeer(member=f"{TAG}:{t}", source=r.span("sourceTags")) for _, t in r.strings("sourceTags")]
        peers += [FirewallPeer(member=f"{ACCOUNT}:{a}", source=r.span("sourceServiceAccounts"))
                  for _, a in r.strings("sourceServiceAccounts")]
        if not peers:  # no source at all: gcloud's default source range
            peers = [FirewallPeer(cidrs=(parse_network("0.0.0.0/0"),), source=r.span())]
        local = (FirewallLocal(cidrs=destination_ranges, source=r.span("destinationRanges")),) \
            if destination_ranges else None
        return tuple(peers), local
    if r.strings("sourceTags") or r.strings("sourceServiceAccounts"):
        r.error("sourceTags" if r.has("sourceTags") else "sourceServiceAccounts",
                "an EGRESS rule has no source tags or accounts", "remove them (GCP refuses them on egress rules)")
    far = (FirewallPeer(cidrs=destination_ranges, source=r.span("destinationRanges")),) \
        if destination_ranges else None
    local_end = (FirewallLocal(cidrs=source_ranges, source=r.span("sourceRanges")),) if source_ranges else None
    return far, local_end


def _failed(file: str, problems: tuple[Problem, ...]) -> CloudFirewall:
    empty = FirewallChain("deny", (), SourceSpan(file, 1, 1))
    return CloudFirewall(empty, empty, (), (), problems)


__all__ = ["FORMAT", "import_gcp_firewall"]
