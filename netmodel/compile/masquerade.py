"""Which Pod traffic leaves its node SNATed to the node's address: the CNI's outbound NAT and ip-masq-agent.

The one rule the reachability engine (:mod:`netmodel.analyze.reach.paths`), the port matrix
(:mod:`netmodel.analyze.portmatrix_sources`) and ``emulate`` (:mod:`netmodel.emulate.services`) apply. A packet a
Pod (not hostNetwork) sends to another node or out of the cluster is rewritten to its node's address when some
rule in force does not keep its destination; rules are iptables/nftables POSTROUTING rules, so any one of them
that masquerades wins. Traffic that stays on the Pod's node is never rewritten (locally delivered packets skip
POSTROUTING).

The CNI's outbound NAT, ``Cluster.spec.cni.natOutgoing`` (docs/input.md), per plugin's default:

=========  ================  ===================================================================================
plugin     default           what the plugin does, and where it says so
=========  ================  ===================================================================================
calico     ``true``          IPPool ``natOutgoing`` (on in the manifests' and the operator's default pool,
                             ``CALICO_IPV4POOL_NAT_OUTGOING``): traffic from a pool to any destination outside
                             every IP pool is masqueraded — the nodes' own addresses included (Calico IPPool
                             reference; felix's ``cali-nat-outgoing`` chain)
flannel    ``true``          ``--ip-masq`` (in the standard kube-flannel.yml): everything from the flannel network
                             to outside it, multicast excepted, is masqueraded (flannel's ``MasqRules``)
antrea     ``true``          ``noSNAT: false`` (antrea-agent.conf default): traffic from the node's pod CIDR to a
                             destination outside every pod CIDR, leaving through the uplink, is masqueraded
                             (antrea ``pkg/agent/route/route_linux.go``, "masquerade Pod to external packets")
weave      ``true``          the allocation range is masqueraded to anything outside it (weave ``net/expose.go``)
cilium     ``except-nodes``  ``enable-ipv4-masquerade: true``: traffic leaving the cluster is masqueraded, but not
                             traffic to the native-routing CIDR nor to cluster nodes (Cilium "Masquerading";
                             cilium/cilium#16603 skips nodes' InternalIPs in iptables mode)
other      ``except-nodes``  netmodel's assumption for an unnamed plugin: NAT leaving the cluster only
=========  ================  ===================================================================================

``true`` keeps the pod ranges (Pod-to-Pod is never rewritten); ``except-nodes`` also keeps the nodes' underlay
addresses (InternalIPs, else every address); ``false`` keeps everything. With a ``masquerade`` block
(ip-masq-agent) and no ``natOutgoing`` written, ip-masq-agent decides alone: the deployments that run it (GKE,
Cilium's ``ipMasqAgent``) hand it the job, and Cilium's agent mode replaces its own rule. Write ``natOutgoing``
as well when both run; then both apply.

>>> from netmodel.sets import parse_address
>>> book = AddressSet.parse("10.244.0.0/16")
>>> rule = SnatRule("CNI outbound NAT", book)
>>> rule.rewrites(parse_address("10.0.0.11")), rule.rewrites(parse_address("10.244.1.5"))
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from netmodel.compile.addresses import AddressBook
from netmodel.errors import SourceSpan
from netmodel.model.objects import NOWHERE, Cluster
from netmodel.model.topology import Topology
from netmodel.sets import ALL_ADDRESSES, AddressSet, IPAddress

NAT_ALL, NAT_EXCEPT_NODES, NAT_NONE = "all", "except-nodes", "none"  # CniSpec.nat_outgoing; defaults: read_netmodel
_PLUGIN_SETTING = {"calico": "IPPool natOutgoing", "flannel": "flannel --ip-masq", "antrea": "Antrea SNAT",
                   "weave": "Weave NAT", "cilium": "Cilium masquerading", "other": "CNI outbound NAT"}


@dataclass(frozen=True, slots=True)
class SnatRule:
    """One masquerading rule: Pod traffic to a destination outside ``kept`` is SNATed to the node."""

    why: str  # what the trace and findings say, e.g. "IPPool natOutgoing: destination outside the pod network"
    kept: AddressSet
    source: SourceSpan = NOWHERE  # the Cluster's cni block, or the Cluster for ip-masq-agent

    def rewrites(self, destination: IPAddress) -> bool:
        """Whether the rule SNATs Pod traffic to ``destination``."""
        return not self.kept.contains(destination)


@dataclass(frozen=True, slots=True)
class Masquerade:
    """Every rule in force for one topology, and what they keep together."""

    rules: tuple[SnatRule, ...]
    kept: AddressSet  # destinations Pod traffic reaches with its own address (every rule keeps them)

    @classmethod
    def of(cls, rules: tuple[SnatRule, ...]) -> Masquerade:
        """The masquerading of ``rules``: traffic keeps its Pod source only where no rule rewrites it."""
        kept = ALL_ADDRESSES
        for rule in rules:
            kept = kept & rule.kept
        return cls(rules, kept)

    def rule_for(self, destination: IPAddress) -> SnatRule | None:
        """The first rule that SNATs Pod traffic to ``destination``, or None when it keeps the Pod's address."""
        return next((r for r in self.rules if r.rewrites(destination)), None)

    def describe(self) -> str:
        """Why Pod traffic is SNATed, rule by rule (``no masquerading`` for none)."""
        return "; ".join(r.why for r in self.rules) or "no masquerading"


def cni_setting(cluster: Cluster) -> str:
    """The name of the plugin's own setting, for messages ("IPPool natOutgoing", "flannel --ip-masq", …)."""
    return _PLUGIN_SETTING.get(cluster.cni.plugin, "CNI outbound NAT")


def masquerade_of(topology: Topology, book: AddressBook | None = None) -> Masquerade:
    """The masquerading rules in force (module docstring)."""
    book = book or AddressBook(topology)
    cluster = topology.cluster
    rules: list[SnatRule] = []
    if cluster.non_masquerade_cidrs is not None:
        rules.append(SnatRule("ip-masq-agent: destination outside nonMasqueradeCIDRs",
                              AddressSet.of_networks(cluster.non_masquerade_cidrs), cluster.source))
    mode = cluster.cni.nat_outgoing
    setting = cni_setting(cluster)
    if mode == NAT_ALL:
        rules.append(SnatRule(f"{setting}: destination outside the pod network", book.pod_ranges,
                              cluster.cni.source))
    elif mode == NAT_EXCEPT_NODES:
        nodes = AddressSet.of_networks(ip for n in topology.nodes for ip in n.internal_ips or n.ips)
        rules.append(SnatRule(f"{setting}: destination outside the pod network and the cluster's nodes",
                              book.pod_ranges | nodes, cluster.cni.source))
    return Masquerade.of(tuple(rules))
