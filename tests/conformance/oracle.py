"""Independent test oracle for the NetworkPolicy conformance corpus (no netmodel imports).

It evaluates NetworkPolicy v1 the way the Kubernetes API documents it, for the 9 Pods of
``base.yaml``:

* a Pod is isolated for a direction only when some policy in its namespace selects it and lists
  that direction in ``policyTypes`` (default: Ingress always, Egress when the policy has egress
  rules);
* an isolated Pod accepts (or sends) what the union of the selecting policies' rules allows;
* within a rule, peers are OR'ed, ports are OR'ed, and peers AND ports must both match; an absent
  or empty ``from``/``to`` or ``ports`` list matches everything;
* a peer with ``namespaceSelector`` and ``podSelector`` matches Pods satisfying both;
  ``podSelector`` alone means the policy's own namespace; ``ipBlock`` matches Pod IPs (netmodel's
  documented choice);
* named ports resolve on the destination Pod, by name and protocol; ``endPort`` makes a range;
* a connection is allowed when egress is allowed at the source AND ingress at the destination;
* a Pod reaching itself is loopback: the packet stays inside the Pod's network namespace (over
  ``lo``), where no CNI enforces NetworkPolicy, so it is allowed whatever the policies say (as long
  as a named port resolves on the Pod). The upstream e2e suite leaves these pairs out of its
  verdicts because CNIs used to disagree; netmodel follows what the kernel does.

Usage (from the repository root)::

    python tests/conformance/oracle.py            # verify every case's expect.yaml
    python tests/conformance/oracle.py --write    # regenerate expect.yaml (policy.yaml + PROBES)
"""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

# Probes per case: (port, protocol); a string port is a named port.
# Cases not listed probe (80, "TCP").
PROBES: dict[str, list[tuple[int | str, str]]] = {
    "named-port-ingress": [("serve-80-tcp", "TCP"), ("serve-81-tcp", "TCP")],
    "named-port-udp": [("serve-80-udp", "UDP"), ("serve-81-udp", "UDP"), (81, "TCP")],
    "named-port-protocol-mismatch": [(80, "TCP"), (80, "UDP")],
    "endport-range": [(80, "TCP"), (81, "TCP")],
    "endport-80-81-from-namespace": [(80, "TCP"), (81, "TCP"), (80, "UDP")],
    "sctp-port": [(80, "SCTP"), (81, "SCTP"), (80, "TCP")],
    "udp-any-port": [(80, "UDP"), (81, "UDP"), (80, "TCP")],
    "egress-ports-only": [(80, "TCP"), (81, "TCP")],
    "egress-named-port": [("serve-80-tcp", "TCP"), ("serve-81-tcp", "TCP")],
    "multiple-ports-or": [(80, "TCP"), (81, "TCP"), (80, "UDP"), (81, "UDP")],
    "empty-from-list-allows-all": [(80, "TCP"), (81, "TCP")],
    "rules-pair-peers-with-ports": [(80, "TCP"), (81, "TCP")],
}


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    labels: dict
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    ports: tuple[tuple[str, int, str], ...]  # (name, number, protocol)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def __hash__(self) -> int:
        return hash(self.ref)


def load_docs(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d]


def load_base(path: Path) -> tuple[dict[str, dict], list[Pod]]:
    namespaces: dict[str, dict] = {}
    pods: list[Pod] = []
    for doc in load_docs(path):
        meta = doc["metadata"]
        if doc["kind"] == "Namespace":
            # Kubernetes always sets kubernetes.io/metadata.name on a Namespace.
            labels = meta.get("labels", {})
            namespaces[meta["name"]] = {**labels, "kubernetes.io/metadata.name": meta["name"]}
        elif doc["kind"] == "Pod":
            ports = tuple((p.get("name", ""), p["containerPort"], p.get("protocol", "TCP"))
                          for c in doc["spec"]["containers"] for p in c.get("ports", []))
            pods.append(Pod(meta["namespace"], meta["name"], meta.get("labels", {}),
                            ipaddress.ip_address(doc["status"]["podIP"]), ports))
    return namespaces, pods


def selects(selector: dict | None, labels: dict) -> bool:
    """LabelSelector semantics: matchLabels and matchExpressions all AND'ed; {} selects all."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and not (key in labels and labels[key] in values):
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError(f"unknown operator {op}")
    return True


def policy_types(policy: dict) -> list[str]:
    spec = policy["spec"]
    if spec.get("policyTypes"):
        return spec["policyTypes"]
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def peer_matches(peer: dict, policy_ns: str, other: Pod, namespaces: dict[str, dict]) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        if other.ip not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(other.ip in ipaddress.ip_network(e) for e in block.get("except") or [])
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], namespaces[other.namespace]):
            return False
    elif other.namespace != policy_ns:
        return False  # podSelector alone: the policy's own namespace
    return selects(peer.get("podSelector"), other.labels)  # absent podSelector: every Pod


def port_matches(entries: list[dict] | None, port: int, protocol: str, destination: Pod) -> bool:
    if not entries:
        return True
    for entry in entries:
        proto = entry.get("protocol", "TCP")
        if proto != protocol:
            continue
        if "port" not in entry:
            return True  # every port of that protocol
        want = entry["port"]
        if isinstance(want, str):
            # A named port means the destination Pod's port of that name on this protocol.
            if any(name == want and number == port and p == protocol
                   for name, number, p in destination.ports):
                return True
        elif want <= port <= entry.get("endPort", want):
            return True
    return False


def direction_allows(direction: str, pod: Pod, peer_pod: Pod, port: int, protocol: str,
                     policies: list[dict], namespaces: dict[str, dict]) -> bool:
    """Does `pod` allow traffic in `direction` ("Ingress" from peer_pod, "Egress" to peer_pod)?"""
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    destination = pod if direction == "Ingress" else peer_pod
    isolated = False
    for policy in policies:
        ns = policy["metadata"]["namespace"]
        if ns != pod.namespace or direction not in policy_types(policy):
            continue
        if not selects(policy["spec"].get("podSelector"), pod.labels):
            continue
        isolated = True
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(peer_matches(p, ns, peer_pod, namespaces) for p in peers)
            if peer_ok and port_matches(rule.get("ports"), port, protocol, destination):
                return True
    return not isolated


def resolve_port(port: int | str, protocol: str, destination: Pod) -> int | None:
    if isinstance(port, int):
        return port
    for name, number, proto in destination.ports:
        if name == port and proto == protocol:
            return number
    return None


def allowed(src: Pod, dst: Pod, port: int | str, protocol: str, policies: list[dict],
            namespaces: dict[str, dict]) -> bool:
    number = resolve_port(port, protocol, dst)
    if number is None:
        return False
    if src == dst:
        return True  # loopback: policies never see it
    return (direction_allows("Egress", src, dst, number, protocol, policies, namespaces)
            and direction_allows("Ingress", dst, src, number, protocol, policies, namespaces))


def policy_header(case_dir: Path) -> list[str]:
    lines = []
    for line in (case_dir / "policy.yaml").read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def render(case: str, flows: list[tuple[Pod, Pod, int | str, str, bool]], header: list[str]) -> str:
    out = [f"# Conformance case `{case}`: expected flows, generated by oracle.py from policy.yaml",
           "# (every ordered pair of the 9 Pods of base.yaml, self included).",
           *header,
           "apiVersion: netmodel.io/v1alpha1",
           "kind: Expectations",
           f"metadata: {{name: {case}}}",
           "spec:",
           "  flows:"]
    for src, dst, port, protocol, ok in flows:
        out.append(f"  - {{from: {src.ref}, to: {dst.ref}, port: {port}, protocol: {protocol}, "
                   f"allowed: {'true' if ok else 'false'}}}")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    write = "--write" in argv
    namespaces, pods = load_base(HERE / "base.yaml")
    by_ref = {p.ref: p for p in pods}
    cases = sorted(d for d in HERE.iterdir() if (d / "policy.yaml").exists())
    failures = 0
    for case_dir in cases:
        case = case_dir.name
        policies = [d for d in load_docs(case_dir / "policy.yaml") if d["kind"] == "NetworkPolicy"]
        if write:
            flows = [(s, d, port, proto, allowed(s, d, port, proto, policies, namespaces))
                     for port, proto in PROBES.get(case, [(80, "TCP")]) for s in pods for d in pods]
            (case_dir / "expect.yaml").write_text(render(case, flows, policy_header(case_dir)))
            continue
        doc = load_docs(case_dir / "expect.yaml")[0]
        seen: dict[tuple[int | str, str], set[tuple[str, str]]] = {}
        for flow in doc["spec"]["flows"]:
            src, dst = by_ref[flow["from"]], by_ref[flow["to"]]
            got = allowed(src, dst, flow["port"], flow.get("protocol", "TCP"), policies, namespaces)
            probe = (flow["port"], flow.get("protocol", "TCP"))
            seen.setdefault(probe, set()).add((src.ref, dst.ref))
            if got != flow["allowed"]:
                failures += 1
                print(f"{case}: {flow} -> oracle says {got}")
        for probe, pairs in seen.items():
            if len(pairs) != len(pods) ** 2:
                failures += 1
                print(f"{case}: probe {probe} lists {len(pairs)} pairs, want {len(pods) ** 2}")
    if not write:
        print(f"{len(cases)} cases checked, {failures} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
