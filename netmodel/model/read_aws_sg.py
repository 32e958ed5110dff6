"""AWS security groups, as ``aws ec2 describe-security-groups`` prints them, read as netmodel Firewall chains.

Semantics, from the AWS documentation (docs/input.md, "Cloud firewalls", cites the pages):

* A security group is a list of allow rules, ingress (``IpPermissions``) and egress (``IpPermissionsEgress``);
  there are no deny rules, and what no rule allows is refused. Rules are stateful: replies to allowed traffic
  pass whatever the rules say (VPC user guide, "Security group rules").
* An instance with several groups gets the union of their rules ("the rules from all the security groups
  associated with the instance are aggregated"): the groups a Firewall names (``groups``) are read as one
  Firewall whose chains allow what any of them allows, then deny the rest.
* ``IpProtocol`` is ``tcp``, ``udp``, ``icmp``, ``icmpv6``, a protocol number, or ``-1`` for every protocol;
  ``FromPort``/``ToPort`` are the port range for TCP and UDP (every port for ``-1`` and for protocols other
  than TCP, UDP, ICMP and ICMPv6, "regardless of any port range you specify") and the ICMP type and code for
  ICMP (``-1``: all). netmodel's ICMP has no type, so a rule for one ICMP type is read as allowing ICMP and
  listed as an assumption (EC2 API reference, ``IpPermission``).
* The far end is ``IpRanges[].CidrIp``, ``Ipv6Ranges[].CidrIpv6``, ``UserIdGroupPairs[].GroupId`` (the
  instances carrying that group: a member peer, :mod:`netmodel.model.read_cloud`) and ``PrefixListIds[]``
  (managed prefix lists, whose CIDRs the export does not hold: named in an assumption, read as no address).
"""

from __future__ import annotations

from netmodel.errors import LoadError, Problem, SourceSpan
from netmodel.load.json_reader import parse_json
from netmodel.model.fields import Fields, Problems, shown
from netmodel.model.objects import FirewallChain, FirewallPeer, FirewallRule
from netmodel.model.read_cloud import CloudFirewall, rule_name
from netmodel.sets import ALL_PORTS, IntervalSet
from netmodel.sets.ports import ALL_PROTOCOLS, ICMP, ICMPV6, TCP, UDP

FORMAT = "aws-sg"
_NAMED = {"tcp": TCP, "udp": UDP, "icmp": ICMP, "icmpv6": ICMPV6}


def _protocol(p: Fields, where: str) -> tuple[IntervalSet, IntervalSet, str] | None:
    """(protocols, ports, assumption or "") of one IpPermission."""
    raw = p.raw("IpProtocol")
    text = str(raw).lower() if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    if text is None:
        p.error("IpProtocol", "is required: tcp, udp, icmp, icmpv6, a protocol number or -1",
                "copy the group from `aws ec2 describe-security-groups` output unchanged")
        return None
    if text == "-1":
        return ALL_PROTOCOLS, ALL_PORTS, ""
    number = _NAMED.get(text)
    if number is None:
        if not text.isascii() or not text.isdigit() or int(text) > 255:
            p.error("IpProtocol", f"unknown protocol {shown(raw)}", "use tcp, udp, icmp, icmpv6, 0-255 or -1")
            return None
        number = int(text)
    protocols = IntervalSet.of((number, number))
    low, high = p.integer("FromPort", low=-1, high=65535), p.integer("ToPort", low=-1, high=65535)
    if number in (TCP, UDP):
        if low is None or high is None or low < 0 or high < 0:
            return protocols, ALL_PORTS, ""
        if low > high:
            p.error("ToPort", f"port range {low}-{high} runs backwards", "write FromPort <= ToPort")
            return None
        return protocols, IntervalSet.of((low, high)), ""
    if number in (ICMP, ICMPV6) and low is not None and low >= 0:
        kind = "ICMP" if number == ICMP else "ICMPv6"
        code = f" code {high}" if high is not None and high >= 0 else ""
        return protocols, ALL_PORTS, (f"{where} allows {kind} type {low}{code} only; netmodel's {kind} has no "
                                      f"type, so the rule is read as allowing all {kind}")
    return protocols, ALL_PORTS, ""


def _peers(p: Fields, direction: str, where: str, assumptions: list[tuple[SourceSpan, str]]
           ) -> tuple[FirewallPeer, ...]:
    peers: list[FirewallPeer] = []
    for key, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
        for r in p.each_mapping(key):
            value = r.raw(field)
            if value is None:
                r.error(field, "is required", f"each {key} entry has a {field}")
                continue
            net = r.network(field, value)
            if net is not None:
                peers.append(FirewallPeer(cidrs=(net,), source=r.span(field)))
    for g in p.each_mapping("UserIdGroupPairs"):
        group = g.string("GroupId") or g.string("GroupName")
        if not group:
            g.error(None, "names no group (GroupId)", "copy the rule from `aws ec2 describe-security-groups`")
            continue
        peers.append(FirewallPeer(member=f"{FORMAT}:{group}", source=g.span()))
    for pl in p.each_mapping("PrefixListIds"):
        name = pl.string("PrefixListId") or "a prefix list"
        way = "from" if direction == "ingress" else "to"
        text = (f"{where} allows {way} managed prefix list {name}, whose CIDRs the export does not hold: read "
                "as no address (add its CIDRs as an IpRanges entry to model them)")
        assumptions.append((pl.span(), text))
    return tuple(peers)


def _group_rules(g: Fields, group: str, key: str, direction: str, assumptions: list[tuple[SourceSpan, str]]
                 ) -> list[FirewallRule]:
    rules: list[FirewallRule] = []
    short = "in" if direction == "ingress" else "out"
    for i, p in enumerate(g.each_mapping(key)):
        where = f"security group {group} {key}[{i}]"
        proto = _protocol(p, where)
        if proto is None:
            continue
        protocols, ports, assumption = proto
        if assumption:
            assumptions.append((p.span("IpProtocol"), assumption))
        peers = _peers(p, direction, where, assumptions)
        rules.append(FirewallRule(rule_name(group, f"{short}-{i}"), "allow", protocols, ports, peers, p.span()))
    return rules


def import_aws_sg(text: str, file: str, groups: tuple[str, ...] = ()) -> CloudFirewall:
    """The chains of the nodes that carry ``groups`` (GroupId or GroupName; all the file's groups when empty
    and it holds one), read from ``describe-security-groups`` JSON ``text`` of ``file``.

    >>> sg = '{"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "web", "IpPermissions": [{"IpProtocol": "tcp",'
    >>> sg += ' "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}], "IpPermissionsEgress": []}]}'
    >>> fw = import_aws_sg(sg, "sg.json")
    >>> [(r.name, r.action, str(r.peers[0].cidrs[0])) for r in fw.ingress.rules], fw.ingress.default_action
    ([('sg-1-in-0', 'allow', '0.0.0.0/0')], 'deny')
    """
    problems = Problems()
    try:
        docs = parse_json(text, file)
    except LoadError as err:
        return _failed(file, tuple(err.problems))
    if not docs or not isinstance(docs[0].data, dict):
        return _failed(file, (Problem(f"{file}: not `aws ec2 describe-security-groups` output (a JSON object with "
                                      "SecurityGroups)", SourceSpan(file, 1, 1),
                                      "run `aws ec2 describe-security-groups --output json` and save its output"),))
    top = Fields(docs[0], (), docs[0].data, problems, "describe-security-groups")
    found = list(top.each_mapping("SecurityGroups", required=True))
    by_name: dict[str, Fields] = {}
    for g in found:
        gid = g.string("GroupId", required=True)
        if gid:
            by_name.setdefault(gid, g)
        name = g.string("GroupName")
        if name:
            by_name.setdefault(name, g)
    if problems.items:
        return _failed(file, tuple(problems.items))
    if groups:
        wanted = []
        for name in groups:
            if name not in by_name:
                known = ", ".join(sorted({f"{g.string('GroupId')} ({g.string('GroupName')})" for g in found}))
                problems.add(f"no security group {name!r} in the export", top.span("SecurityGroups"),
                             f"name one of: {known}" if known else "export the groups the nodes carry")
                continue
            if by_name[name] not in wanted:
                wanted.append(by_name[name])
    elif len(found) == 1:
        wanted = found
    else:
        wanted = []
        listed = ", ".join(f"{g.string('GroupId')} ({g.string('GroupName')})" for g in found)
        problems.add(f"the export holds {len(found)} security groups ({listed}); a node's firewall is the "
                     "union of the groups it carries", top.span("SecurityGroups"),
                     "name the groups the nodes carry (`groups: [sg-…]` in the Firewall's import, `--groups` on "
                     "`netmodel import`)")
    assumptions: list[tuple[SourceSpan, str]] = []
    ingress: list[FirewallRule] = []
    egress: list[FirewallRule] = []
    for g in wanted:
        gid = g.string("GroupId")
        ingress += _group_rules(g, gid, "IpPermissions", "ingress", assumptions)
        egress += _group_rules(g, gid, "IpPermissionsEgress", "egress", assumptions)
    if problems.items:
        return _failed(file, tuple(problems.items))
    whole = top.span("SecurityGroups")
    members = tuple(dict.fromkeys(f"{FORMAT}:{n}" for g in wanted for n in (g.string("GroupId"),
                                                                            g.string("GroupName")) if n))
    return CloudFirewall(FirewallChain("deny", tuple(ingress), whole), FirewallChain("deny", tuple(egress), whole),
                         members, tuple(assumptions))


def _failed(file: str, problems: tuple[Problem, ...]) -> CloudFirewall:
    empty = FirewallChain("deny", (), SourceSpan(file, 1, 1))
    return CloudFirewall(empty, empty, (), (), problems)


__all__ = ["FORMAT", "import_aws_sg"]
