"""Pods read alike (`read_pod` with what the Pods before share) are read exactly as each alone: the same Pod,
template and addresses, and the same problems at the same places, whatever differs between them."""

from __future__ import annotations

import json

import pytest

from netmodel.load import parse_text
from netmodel.model import read_kubernetes
from netmodel.model.fields import Problems
from netmodel.model.read_kubernetes import PodsRead, read_pod


def _pod(name: object = "web-1", node: object = "n1", ip: object = "10.0.0.5", ips: object = None,
         labels: object = None, phase: object = "Running", port: object = 8080, **status: object) -> dict:
    doc: dict = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "web"} if labels is None else labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "nginx",
                                                    "ports": [{"containerPort": port, "name": "http"}]}]},
        "status": {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}] if ips is None else ips, **status},
    }
    if node is None:
        del doc["spec"]["nodeName"]
    return doc


PODS = [
    _pod(), _pod("web-2", "n2", "10.0.0.6"), _pod("Web-3"), _pod("web-4", 7), _pod("web-5", ip="10.0.0.300"),
    _pod("web-6", ips=[{"ip": "10.0.0.9"}, {"ip": "fd00::9"}]), _pod("web-7", ip="fd00::7", ips=[]),
    _pod("web-8", None, ip=None, ips=[]), _pod("web-9", labels={"app": 8080}), _pod("web-10", labels={"app": "web"}),
    _pod("web-11", port=8080.0), _pod("web-12", port="8080"), _pod("web-13", port=True), _pod("web-14", port=8080),
    _pod("web-15", phase="Pending", conditions=[{"type": "PodScheduled", "status": "False", "message": "0/3"}]),
    _pod("web-16", phase="Pending", conditions=[{"type": "PodScheduled", "status": "False", "message": "1/3"}]),
    _pod("web-17", ips=[{"ip": ""}, "x"]), _pod("web-18", ip=""), _pod("web-19", ips=[{"ip": "10.0.0.19%eth0"}]),
    _pod("web-20", phase="running"), _pod("web-21", name_extra=1), _pod(""), _pod(5), _pod("web-24"),
]


def _read(docs: list, shared: bool) -> tuple[list, list[str]]:
    problems, read = Problems(), PodsRead() if shared else None
    out = [read_pod(d, problems, read) for d in docs]
    return out, [f"{p.span}: {p.message}" for p in problems.items] + \
        [f"{n.id} {n.sources}: {n.message}" for n in problems.notes]


@pytest.mark.parametrize("order", [1, -1])
def test_pods_read_alike_as_alone(order: int, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = parse_text("\n".join("---\n" + json.dumps(p) for p in PODS[::order]), "pods.yaml")
    alone, alone_problems = _read(docs, shared=False)
    taken = []
    alike_of = read_kubernetes._pod_alike
    monkeypatch.setattr(read_kubernetes, "_pod_alike", lambda *a: taken.append(found := alike_of(*a)) or found)
    alike, alike_problems = _read(docs, shared=True)
    assert sum(found is not None for found in taken) >= 8  # the Pods that differ only in name, node, addresses
    assert alike == alone
    assert alike_problems == alone_problems
    assert len(alone_problems) >= 8  # the bad name, node, addresses, phase are each reported
    # The spans are each Pod's own (equality of spans compares file, line and column).
    assert [p.source.line for p, _, _ in alike] == [p.source.line for p, _, _ in alone]
    assert [[c.source.line for c in p.containers] for p, _, _ in alike] == \
        [[c.source.line for c in p.containers] for p, _, _ in alone]
    assert [[cp.source.line for cp in p.ports] for p, _, _ in alike] == \
        [[cp.source.line for cp in p.ports] for p, _, _ in alone]
    assert [t.source.line for _, t, _ in alike] == [t.source.line for _, t, _ in alone]


def test_pods_alike_claim_host_ports_at_their_own_ports() -> None:
    """Pods read alike share what their ports claim (Pod.alike), each claim still located at its own Pod."""
    from checkkit import base, findings, topology

    text = base(*(f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: default, labels: {{app: x}}}}
spec:
  nodeName: w-1
  containers: [{{name: main, ports: [{{containerPort: 80, hostPort: 8080}}]}}]
""" for name in ("a", "b", "c")))
    pods = [p for p in topology(text).pods if p.name in ("a", "b", "c")]
    assert pods[1].alike is pods[2].alike  # read alike (the first is read in full)
    own = [p.ports[0].source for p in pods]
    assert len({(s.line, s.column) for s in own}) == 3
    clashes = findings(text, "NM-LOOP-002")
    assert clashes and all(any(s == span for f in clashes for s in f.sources) for span in own[1:])


def test_pods_without_containers_are_not_alike() -> None:
    """The empty containers tuple is one object: Pods holding it are alike only when read alike."""
    from checkkit import topology

    text = "\n---\n".join(f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: default, labels: {{app: {name}}}}}
spec: {{nodeName: w-1, containers: []}}
""" for name in ("a", "b"))
    a, b = [p for p in topology(text).pods if p.name in ("a", "b")]
    assert a.containers is b.containers and a.alike is not b.alike
