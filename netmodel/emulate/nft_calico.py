"""Calico NetworkPolicy and GlobalNetworkPolicy tiers as nftables chains for the Pod chains of
:mod:`netmodel.emulate.nft`.

What Calico does per workload endpoint and direction (docs/reachability.md, "Calico tiers", with its sources: the
Tier, NetworkPolicy and GlobalNetworkPolicy references at docs.tigera.io/calico/latest/reference/resources/ and
projectcalico/calico felix/rules/endpoints.go, which renders each tier as a chain the endpoint's chain jumps to),
replayed the same way, one chain per tier:

* The Pod's chain jumps to the chain of each tier in ascending ``order`` (ties by name) that has a policy applying
  to the Pod in this direction; a tier with none is skipped. The AdminNetworkPolicy and BaselineAdminNetworkPolicy
  chains (``_anp``, ``_banp``, written by nft.py) are jumped to at the places of the ``kube-admin`` (order 1,000)
  and ``kube-baseline`` (order 10,000,000) tiers.
* A tier's chain holds its policies in Felix's order (``order`` ascending, none last, ties by name, namespace,
  kind: the solver's :func:`~netmodel.analyze.policy.calico.policy_sort_key`), rules in written order: ``Allow``
  ``accept``s, ``Deny`` ``drop``s, ``Pass`` ``return``s to the Pod's chain (the next tier), ``Log`` writes no line
  (it decides nothing). The chain ends in ``drop`` when the tier's defaultAction is Deny, else falls through
  (Pass).
* Kubernetes NetworkPolicies are policies of the ``default`` tier at order 1000 (libcalico-go
  k8s/conversion/conversion.go): their rules (nft.py's) ``accept`` in that order among the Calico policies.
* Past the last tier the base chain's policy accepts (the namespace profile allows everything).

Selectors are resolved to addresses here, with the selector language's own evaluation
(:meth:`netmodel.model.calico_selector.Selector.matches`) of the solver's selectors — what a policy applies to
(:func:`~netmodel.analyze.policy.calico.subject_selector`: selector, namespace or namespaceSelector,
serviceAccountSelector) and the one selector of a rule side (:func:`~netmodel.analyze.policy.calico.entity_selector`:
selector, serviceAccounts, namespace scope) — on the labels Calico gives each endpoint and network set
(:func:`~netmodel.analyze.policy.calico.endpoint_labels`, :func:`~netmodel.analyze.policy.calico.network_set_labels`).
A rule's side is matched per packet address, as Felix's IP sets do: ``nets`` (any) and not ``notNets`` on the
address, the selector's IP set (the selected Pods' addresses and the selected network sets' nets), minus the
notSelector's; the peer side of a
rule becomes an ``ip saddr``/``ip daddr`` set and the Pod's own side a match on its own address (or no line when
it cannot match the Pod). Ports: the rule's ``protocol`` (``meta l4proto``, whatever its number) AND destination
``ports`` minus ``notPorts`` and ``notProtocol``; named ports resolve on the destination Pod (on egress, one line
per destination Pod; a named port matches no address that is not a Pod's).

Comments name rules by position only (``calico 3 egress 1``: the policy's index among the topology's Calico
policies, the rule's index), never by text from the input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from netmodel.analyze.policy.calico import (
    endpoint_labels,
    entity_selector,
    network_set_labels,
    policy_sort_key,
    subject_selector,
)
from netmodel.emulate.nft_common import (
    join,
    l4_match,
    nft_set,
    paired_matches,
    pod_addresses,
    policy_pods,
    resolve_port,
    resolve_port_number,
)
from netmodel.model.calico_selector import Selector
from netmodel.model.objects import (
    CalicoEntity,
    CalicoPolicy,
    CalicoRule,
    NetworkPolicy,
    Pod,
    PolicyPort,
)
from netmodel.model.read_calico import BUILTIN_TIERS, DEFAULT_TIER, PORT_PROTOCOLS
from netmodel.model.topology import Topology
from netmodel.sets import ALL_ADDRESSES, ALL_PORTS, AddressSet, IntervalSet

ADMIN_TIER, BASELINE_TIER = "kube-admin", "kube-baseline"
_VERDICTS = {"Allow": "accept", "Deny": "drop", "Pass": "return"}  # Log: no line, it decides nothing
# A Kubernetes NetworkPolicy's accept lines for a Pod and direction, or None when it does not apply to the Pod
# (netmodel.emulate.nft writes them).
KubernetesLines = Callable[[NetworkPolicy, Pod, str], list[str] | None]


def replayed(topology: Topology) -> bool:
    """Whether Calico's tiers decide, as the solver's engine chooses: a Calico policy or Tier in the input
    (without one, the tiers of nft.py answer the same)."""
    return bool(topology.calico_policies or topology.calico_tiers)


@dataclass(frozen=True, slots=True)
class CalicoTierChain:
    """One Calico tier: its default action and its policies (Calico and, for ``default``, Kubernetes) in order."""

    name: str
    default_action: str
    policies: tuple[CalicoPolicy | NetworkPolicy, ...]


Layer = CalicoTierChain | str  # a tier, or ADMIN_TIER / BASELINE_TIER (the admin chains of nft.py)


def layers(topology: Topology) -> list[Layer]:
    """Every tier in evaluation order: ascending order, ties by name; the admin tiers at their built-in places."""
    found = dict(BUILTIN_TIERS)
    for tier in topology.calico_tiers:
        found[tier.name] = (tier.order, tier.default_action)
    members: dict[str, list[CalicoPolicy | NetworkPolicy]] = {name: [] for name in found}
    for policy in topology.calico_policies:
        members[policy.tier].append(policy)  # the loader refuses a policy in a tier the input does not define
    members[DEFAULT_TIER].extend(topology.network_policies)
    placed: list[tuple[float, str, Layer]] = []
    for name, (order, action) in found.items():
        if name in (ADMIN_TIER, BASELINE_TIER):
            placed.append((order, name, name))
        else:
            placed.append((order, name, CalicoTierChain(name, action,
                                                        tuple(sorted(members[name], key=policy_sort_key)))))
    return [layer for _, _, layer in sorted(placed, key=lambda e: (e[0], e[1]))]


def _position(items: Sequence[object], item: object) -> int:
    return next(i for i, candidate in enumerate(items) if candidate is item)


class CalicoChains:
    """The Calico tiers of one topology as nftables chains per Pod and direction."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.layers = layers(topology)
        self.pods = policy_pods(topology)
        self.pod_space = pod_addresses(self.pods)
        self.endpoint = {id(p): endpoint_labels(topology, p.namespace, p.labels, p.service_account)
                         for p in self.pods}
        self.network_sets = [(n, network_set_labels(topology, n)) for n in topology.calico_network_sets if n.nets]
        self._sides: dict[tuple[int, int], tuple[CalicoEntity, AddressSet | None]] = {}  # by identity; holds the key

    # -- what a policy applies to, what a rule's side matches --------------------------------------------------
    def applies(self, policy: CalicoPolicy, pod: Pod, direction: str) -> bool:
        """Whether ``policy`` applies to ``pod`` in ``direction``: its types, and the solver's one selector of its
        namespace, namespaceSelector, selector and serviceAccountSelector."""
        labels = self.endpoint.get(id(pod))
        return labels is not None and direction in policy.types and subject_selector(policy).matches(labels)

    def _ip_set(self, selector: Selector) -> AddressSet:
        """What a selector matches, as Felix's IP set of it: the selected Pods' addresses and the nets of the
        selected network sets."""
        out = pod_addresses([p for p in self.pods if selector.matches(self.endpoint[id(p)])])
        for network_set, labels in self.network_sets:
            if selector.matches(labels, namespaced=bool(network_set.namespace)):
                out = out | AddressSet.of_networks(network_set.nets)
        return out

    def side(self, policy: CalicoPolicy, entity: CalicoEntity) -> AddressSet | None:
        """The addresses one side (source or destination) of a rule matches; None: any address."""
        key = (id(policy), id(entity))
        if key not in self._sides:
            self._sides[key] = (entity, self._side(policy, entity))
        return self._sides[key][1]

    def _side(self, policy: CalicoPolicy, entity: CalicoEntity) -> AddressSet | None:
        selector = entity_selector(policy, entity)  # the solver's: selector, serviceAccounts, namespace scope
        if selector is None and entity.not_selector is None and not entity.nets and not entity.not_nets:
            return None
        out = ALL_ADDRESSES if selector is None else self._ip_set(selector)
        if entity.not_selector is not None:
            out = out - self._ip_set(entity.not_selector)
        if entity.nets:
            out = out & AddressSet.of_networks(entity.nets)
        if entity.not_nets:
            out = out - AddressSet.of_networks(entity.not_nets)
        return out

    # -- protocols and ports -----------------------------------------------------------------------------------
    @staticmethod
    def _resolved(ports: Sequence[PolicyPort], destination: Pod | None) -> dict[int, IntervalSet]:
        out: dict[int, IntervalSet] = {}
        for port in ports:
            numbers = resolve_port(destination, port) if destination is not None else resolve_port_number(port)
            if numbers:
                out[port.protocol] = out[port.protocol] | numbers if port.protocol in out else numbers
        return out

    def l4(self, rule: CalicoRule, destination: Pod | None) -> list[str]:
        """The protocol/port matches of ``rule`` on ``destination`` (None: an address that is no Pod's); ``[""]``:
        any packet, ``[]``: none."""
        entity = rule.destination_entity
        other: list[int] | None = None  # the protocols without ports the rule matches: None none, [] all but these
        if rule.protocol is None:
            if entity.ports is None:
                ported = {p: ALL_PORTS for p in PORT_PROTOCOLS}
                other = []
            else:
                ported = self._resolved(entity.ports, destination)
        elif rule.protocol in PORT_PROTOCOLS:
            ported = {rule.protocol: ALL_PORTS} if entity.ports is None else self._resolved(entity.ports, destination)
        else:
            ported = {}
        excluded = self._resolved(entity.not_ports, destination)
        if rule.not_protocol in PORT_PROTOCOLS:
            excluded[rule.not_protocol] = ALL_PORTS
        if other == [] and not excluded and rule.not_protocol is None:
            return [""]
        out = []
        for protocol in sorted(ported):
            out += l4_match(IntervalSet.single(protocol), ported[protocol] - excluded.get(protocol, IntervalSet()))
        if other is not None:
            others = sorted(set(PORT_PROTOCOLS) | ({rule.not_protocol} if rule.not_protocol is not None else set()))
            out.append(f"meta l4proto != {nft_set(str(p) for p in others)}")
        elif rule.protocol is not None and rule.protocol not in PORT_PROTOCOLS and rule.protocol != rule.not_protocol:
            out.append(f"meta l4proto {rule.protocol}")
        return out

    # -- lines and chains --------------------------------------------------------------------------------------
    def rule_lines(self, policy: CalicoPolicy, index: int, rule: CalicoRule, pod: Pod, direction: str) -> Iterator[str]:
        """The lines of one rule of a policy applying to ``pod``: none when the rule's own side cannot match it."""
        verdict = _VERDICTS.get(rule.action)
        if verdict is None:
            return
        ingress = direction == "ingress"
        peer_entity, own_entity = ((rule.source_entity, rule.destination_entity) if ingress
                                   else (rule.destination_entity, rule.source_entity))
        own = self.side(policy, own_entity)
        own_addresses: AddressSet | None = None
        if own is not None:
            mine = pod_addresses([pod])
            inside = own & mine
            if not inside:
                return
            own_addresses = None if inside == mine else inside
        peer = self.side(policy, peer_entity)
        peer_field, own_field = ("saddr", "daddr") if ingress else ("daddr", "saddr")
        note = f'comment "calico {_position(self.topology.calico_policies, policy)} {direction} {index}"'

        def lines(peers: AddressSet | None, destination: Pod | None) -> Iterator[str]:
            for addresses in paired_matches((peer_field, peers), (own_field, own_addresses)):
                for l4 in self.l4(rule, destination):
                    yield join(addresses, l4, verdict, note)

        entity = rule.destination_entity
        named = any(isinstance(p.port, str) for p in (entity.ports or ()) + entity.not_ports)
        if ingress or not named:
            yield from lines(peer, pod if ingress else None)
            return
        # A named port means a number per destination Pod: one line per Pod inside the peers, then the rest.
        for target in self.pods:
            inside = pod_addresses([target]) if peer is None else pod_addresses([target]) & peer
            if inside:
                yield from lines(inside, target)
        rest = (ALL_ADDRESSES if peer is None else peer) - self.pod_space
        if rest:
            yield from lines(rest, None)

    def tier_lines(self, tier: CalicoTierChain, pod: Pod, direction: str,
                   kubernetes: KubernetesLines) -> list[str] | None:
        """The chain body of ``tier`` for ``pod`` in ``direction``; None when no policy of it applies there."""
        applies = False
        body: list[str] = []
        for policy in tier.policies:
            if isinstance(policy, NetworkPolicy):
                own = kubernetes(policy, pod, direction)
                if own is None:
                    continue
                applies = True
                body += own
                continue
            if not self.applies(policy, pod, direction):
                continue
            applies = True
            for index, rule in enumerate(policy.ingress if direction == "ingress" else policy.egress):
                body += self.rule_lines(policy, index, rule, pod, direction)
        if not applies:
            return None
        if tier.default_action == "Deny":
            body.append("drop")
        return body

    def chains(self, pod: Pod, direction: str, name: str, kubernetes: KubernetesLines, admin: bool,
               baseline: bool) -> tuple[list[str], list[str]]:
        """(the jumps of the Pod's chain ``name``, in tier order; the tier chains they jump to). No jumps: no tier
        has a say on the Pod in this direction."""
        jumps: list[str] = []
        chains: list[str] = []
        for number, layer in enumerate(self.layers):
            if layer == ADMIN_TIER:
                jumps += [f"jump {name}_anp"] if admin else []
            elif layer == BASELINE_TIER:
                jumps += [f"jump {name}_banp"] if baseline else []
            else:
                assert isinstance(layer, CalicoTierChain)
                body = self.tier_lines(layer, pod, direction, kubernetes)
                if body is None:
                    continue
                jumps.append(f"jump {name}_t{number}")
                chains += [f"  chain {name}_t{number} {{",
                           f"    # Calico tier {number} of {len(self.layers)} (default action {layer.default_action})"]
                chains += [f"    {line}" for line in body]
                chains.append("  }")
        return jumps, chains


__all__ = ["CalicoChains", "CalicoTierChain", "KubernetesLines", "layers", "replayed"]
