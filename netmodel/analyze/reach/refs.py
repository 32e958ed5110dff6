"""Endpoint references, as users write them in ``--from``/``--to`` and in Expectations.

========================  ====================================================================================
``NS/NAME``, ``pod:NS/NAME``  one Pod
``deployment:NS/NAME``    every Pod of a workload (also statefulset, daemonset, replicaset,
                          replicationcontroller, job, cronjob)
``namespace:NS``          every Pod of the namespace
``service:NS/NAME``       as a destination the Service's ClusterIP (DNAT to its endpoints; from outside the
                          cluster, ``query`` asks its outside entry points instead); as a source, its
                          endpoint Pods
``node:NAME``             the node's first InternalIP (else its first address)
``network:NAME``          the outside network's own addresses (longest prefix, minus the cluster); one sample
                          usable address per IP family and region that some policy ipBlock, firewall peer,
                          source range or masquerade range treats differently
``ip:ADDRESS``            whatever owns the address: a Pod, a node, a Service IP, or an outside address
========================  ====================================================================================

An unknown reference raises :class:`UsageError` listing the closest names. Every command that takes a reference
(``query``, Expectations, ``diagram --focus``) resolves it here, so they accept and reject the
same ones.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from netmodel.analyze.reach.compiled_cluster import CompiledCluster
from netmodel.errors import Problem, UsageError
from netmodel.model.objects import WORKLOAD_KINDS, Node, Pod, Service
from netmodel.sets import AddressSet, IPAddress, parse_address

WORKLOAD_PREFIXES = {k.lower(): k for k in WORKLOAD_KINDS}
MAX_NETWORK_SAMPLES = 32
# No packet can carry these as its source: "this network" (0.0.0.0/8, ::), loopback, multicast, and the
# reserved 240.0.0.0/4 with the limited broadcast 255.255.255.255.
_V4, _V6 = AddressSet.parse("0.0.0.0/0"), AddressSet.parse("::/0")
UNUSABLE_SOURCES = AddressSet.parse("0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4", "::/127",
                                    "ff00::/8")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One concrete end of a flow."""

    kind: str  # pod | node | service | outside
    label: str  # pod:x/a, node:cp-1, service:shop/web, ip:203.0.113.9 (network:internet)
    address: IPAddress | None
    pod: Pod | None = None
    node: Node | None = None
    service: Service | None = None
    network: str = ""  # the outside network owning the address, if any


@dataclass(frozen=True, slots=True)
class Target:
    """What a query reference resolved to: the reference as written and its endpoints."""

    ref: str
    endpoints: tuple[Endpoint, ...]


def _unknown(what: str, ref: str, candidates: list[str], hint: str) -> UsageError:
    close = difflib.get_close_matches(ref, candidates, n=5, cutoff=0.5)
    suggestion = f"did you mean {', '.join(close)}? " if close else ""
    return UsageError([Problem(f"unknown {what} {ref!r}", None, suggestion + hint)])


def pod_endpoint(compiled: CompiledCluster, pod: Pod) -> Endpoint:
    """The endpoint of a Pod: its first address, on its node."""
    return Endpoint("pod", f"pod:{pod.qualified_name}", pod.ips[0] if pod.ips else None, pod=pod,
                    node=compiled.node_of(pod))


def node_endpoint(node: Node) -> Endpoint:
    """The endpoint of a node: its first InternalIP, else its first address."""
    address = (node.internal_ips or node.ips or (None,))[0]
    return Endpoint("node", f"node:{node.name}", address, node=node)


def _split_namespaced(ref: str, body: str) -> tuple[str, str]:
    if body.count("/") != 1 or not all(body.split("/")):
        raise UsageError([Problem(f"reference {ref!r} needs NAMESPACE/NAME", None,
                                  "write it as e.g. pod:shop/web-0 or shop/web-0")])
    ns, name = body.split("/")
    return ns, name


def resolve(compiled: CompiledCluster, ref: str, as_source: bool) -> Target:
    """The endpoints a reference stands for; raise :class:`UsageError` when it names nothing known."""
    t = compiled.topology
    prefix, sep, body = ref.partition(":")
    if not sep:
        prefix, body = "pod", ref
    prefix = prefix.lower()
    if prefix == "pod":
        ns, name = _split_namespaced(ref, body)
        pod = t.pod_by_key.get((ns, name))
        pending = next((u for u in t.unscheduled if (u.namespace, u.name) == (ns, name)), None) if pod is None \
            else None
        if pending is not None:
            raise UsageError([Problem(f"Pod {ns}/{name} fits no node and stays Pending without an address: "
                                      f"{pending.reason}", None,
                                      "make a node eligible (labels, taints) or fix the Pod's nodeSelector, "
                                      "affinity or tolerations")])
        if pod is None and (ns, name) in t.finished:
            raise UsageError([Problem(f"Pod {ns}/{name} has finished (status.phase Succeeded or Failed): it holds "
                                      "no address and takes no traffic", None,
                                      "ask about a running Pod, e.g. one of its workload's")])
        if pod is None:
            raise _unknown("Pod", body, [p.qualified_name for p in t.pods],
                           "use NS/NAME of a Pod in the input (workload Pods are NAME-0, NAME-1, ...)")
        return Target(ref, (pod_endpoint(compiled, pod),))
    if prefix in WORKLOAD_PREFIXES:
        ns, name = _split_namespaced(ref, body)
        kind = WORKLOAD_PREFIXES[prefix]
        if (prefix, ns, name) not in t.workload_by_key:
            raise _unknown(kind, body, [w.qualified_name for w in t.workloads if w.kind == kind],
                           f"use {prefix}:NS/NAME of a {kind} in the input")
        # Ownership is the model's one rule (Pod.owner, set when the Pods are placed), never a name prefix.
        pods = t.workload_pods(kind, ns, name)
        return Target(ref, tuple(pod_endpoint(compiled, p) for p in pods))
    if prefix == "namespace":
        known = {n.name for n in t.namespaces} | {p.namespace for p in t.pods} | {s.namespace for s in t.services}
        if body not in known:
            raise _unknown("namespace", body, sorted(known), "use namespace:NS of a namespace in the input")
        return Target(ref, tuple(pod_endpoint(compiled, p) for p in t.pods if p.namespace == body))
    if prefix == "service":
        ns, name = _split_namespaced(ref, body)
        svc = t.service_by_key.get((ns, name))
        if svc is None:
            raise _unknown("Service", body, [s.qualified_name for s in t.services],
                           "use service:NS/NAME of a Service in the input")
        if as_source or not svc.cluster_ips:
            # A Service does not send; headless Services are reached at their Pods' own addresses.
            backing = sorted({b.pod for sp in svc.ports for b in compiled.backends(svc, sp) if b.pod is not None},
                             key=lambda p: (p.namespace, p.name))
            return Target(ref, tuple(pod_endpoint(compiled, p) for p in backing))
        return Target(ref, (Endpoint("service", f"service:{ns}/{name}", svc.cluster_ips[0], service=svc),))
    if prefix == "node":
        node = t.node_by_name.get(body)
        if node is None:
            raise _unknown("node", body, [n.name for n in t.nodes], "use node:NAME of a Node in the input")
        return Target(ref, (node_endpoint(node),))
    if prefix == "network":
        addresses = compiled.outside_networks.get(body)
        if addresses is None:
            raise _unknown("network", body, list(compiled.outside_networks),
                           "use network:NAME of a network in the Cluster's spec.networks, or of a Calico network "
                           "set (network:globalnetworkset:NAME, network:networkset:NS/NAME)")
        return Target(ref, tuple(Endpoint("outside", f"network:{body} ({ip})", ip, network=body)
                                 for ip in network_samples(compiled, addresses)))
    if prefix == "ip":
        try:
            address = parse_address(body)
        except ValueError as err:
            zoned = "%" in body
            raise UsageError([Problem(f"{body!r} is not an IP address" + (f" ({err})" if zoned else ""), None,
                                      "write ip:10.0.0.5 or ip:2001:db8::5 (no zone ID)")]) from None
        return Target(ref, (endpoint_at(compiled, address),))
    raise UsageError([Problem(f"unknown reference kind {prefix!r} in {ref!r}", None,
                              "use NS/NAME, pod:, deployment: (or another workload kind), namespace:, service:, "
                              "node:, network: or ip:")])


def endpoint_at(compiled: CompiledCluster, address: IPAddress) -> Endpoint:
    """Whoever owns an address, as an endpoint (a Service when it is a ClusterIP, LB or external IP)."""
    owner = compiled.addresses.owner(address)
    if owner.kind == "pod" and isinstance(owner.obj, Pod):
        return Endpoint("pod", f"pod:{owner.name}", address, pod=owner.obj, node=compiled.node_of(owner.obj))
    if owner.kind == "node" and isinstance(owner.obj, Node):
        return Endpoint("node", f"node:{owner.name}", address, node=owner.obj)
    if owner.kind == "service" and isinstance(owner.obj, Service):
        return Endpoint("service", f"service:{owner.name} ({address})", address, service=owner.obj)
    network = owner.name if owner.kind == "network" else ""
    return Endpoint("outside", f"ip:{address}", address, network=network)


def _cuts(compiled: CompiledCluster) -> list[AddressSet]:
    """Address sets some rule treats as one: policy ipBlocks, firewall peers, source ranges, masquerade."""
    cuts: dict[AddressSet, None] = {}
    for rules in compiled.policies.rules.values():
        for r in rules:
            cuts[r.peer_addresses] = None
    if compiled.policies.calico is not None:  # Calico rules' nets and network sets
        for tier in compiled.policies.calico.tiers.values():
            for calico_rule in tier.every_rule():
                cuts[calico_rule.peer_addresses] = None
    for node in compiled.topology.nodes:
        for direction in ("ingress", "egress"):
            for chain in compiled.firewalls.chains(node, direction):
                for rule_box in chain:
                    cuts[rule_box.box.peers] = None
    for svc in compiled.topology.services:
        if svc.load_balancer_source_ranges:
            cuts[AddressSet.of_networks(svc.load_balancer_source_ranges)] = None
    for rule in compiled.masquerade.rules:
        cuts[rule.kept] = None
    return list(cuts)


def network_samples(compiled: CompiledCluster, addresses: AddressSet) -> list[IPAddress]:
    """One address per region of ``addresses`` that the rules cannot tell apart inside (up to 32)."""
    atoms = [addresses] if addresses else []
    for cut in _cuts(compiled):
        refined: list[AddressSet] = []
        for atom in atoms:
            inside, outside = atom & cut, atom - cut
            refined.extend(a for a in (inside, outside) if a)
        if len(refined) > MAX_NETWORK_SAMPLES:
            break
        atoms = refined
    # One sample per IP family: an IPv4 address cannot be the source of a packet to an IPv6 destination.
    families = [part for atom in atoms for part in (atom & _V4, atom & _V6) if part]
    return [a for a in (usable_sample(part) for part in families) if a is not None]


def usable_sample(addresses: AddressSet) -> IPAddress | None:
    """A first host address that a packet can carry, preferring IPv4: never a block's network address (the
    sample of 0.0.0.0/0 is 1.0.0.1, not 0.0.0.0) nor its broadcast. Falls back to any member when the set
    holds nothing usable (then the flow cannot be sent, but the question still has an answer).

    >>> str(usable_sample(AddressSet.parse("0.0.0.0/0"))), str(usable_sample(AddressSet.parse("::/0")))
    ('1.0.0.1', '::2')
    >>> str(usable_sample(AddressSet.parse("198.51.100.0/24"))), str(usable_sample(AddressSet.parse("10.0.0.7")))
    ('198.51.100.1', '10.0.0.7')
    """
    blocks = sorted((addresses - UNUSABLE_SOURCES).cidrs(), key=lambda c: c.version)
    if not blocks:
        return addresses.sample()
    first = blocks[0]
    # Skip a block's network address (the next one is never its broadcast); /31, /32 pieces are all hosts.
    return first.network_address + 1 if first.num_addresses > 2 else first.network_address
