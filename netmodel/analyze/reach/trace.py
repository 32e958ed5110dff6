"""Reachability results: hops made of steps, dispositions, and the rules that decided them.

In the spirit of Batfish's flow traces: a :class:`Path` is a sequence of :class:`Hop` (a place: a Pod, a node,
a Service, an outside network), each with the :class:`StepRecord` taken there. A step that decided something
carries :class:`Decision` objects naming the rule and its source line. Every stage of a path is evaluated even
after a denial, so a path blocked in several places lists every blocker, in path order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from netmodel.errors import SourceSpan


class Step(str, Enum):
    """A stage a packet passes on its path, in path order."""

    ORIGINATE = "originate"
    POLICY_EGRESS = "policy-egress"
    FIREWALL_EGRESS = "firewall-egress"
    ROUTE = "route"
    ENCAP = "encap"
    FIREWALL_INGRESS = "firewall-ingress"
    DNAT = "dnat"
    SNAT = "snat"
    POLICY_INGRESS = "policy-ingress"
    DELIVER = "deliver"
    PROXY = "proxy"  # a proxy (Gateway, ingress controller) ends the connection and opens one to a backend


class Disposition(str, Enum):
    """How a path ends: delivered, or why not."""

    DELIVERED = "delivered"
    DENIED_BY_POLICY = "denied-by-policy"
    DENIED_BY_FIREWALL = "denied-by-firewall"
    DENIED_BY_SOURCE_RANGES = "denied-by-source-ranges"  # a LoadBalancer's loadBalancerSourceRanges
    NO_ROUTE = "no-route"
    NO_ENDPOINTS = "no-endpoints"
    NO_LISTENER = "no-listener"  # the Service has no such port
    PORT_CLOSED = "port-closed"  # nothing listens on the destination host or Pod
    PARTIAL = "partial"  # a reference standing for many addresses: some allowed, some not


@dataclass(frozen=True, slots=True)
class Decision:
    """The rule that decided a step: ``kind``/``name`` of the object, the ``rule`` in words, its line."""

    kind: str  # NetworkPolicy | Firewall | Service | Pod | Node | Cluster
    name: str
    rule: str
    allowed: bool
    source: SourceSpan | None = None

    def to_json(self) -> dict[str, object]:
        """The decision as JSON: kind, name, rule, action and where it is written."""
        out: dict[str, object] = {"kind": self.kind, "name": self.name, "rule": self.rule,
                                  "action": "allow" if self.allowed else "deny"}
        if self.source is not None and self.source.line > 0:
            out["source"] = {"file": self.source.file, "line": self.source.line, "column": self.source.column}
        return out


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step of a hop: what was checked, whether the packet passed, and the decisions that said so."""

    step: Step
    detail: str
    ok: bool = True
    disposition: Disposition | None = None  # what the path ends as when this step denies
    decisions: tuple[Decision, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The step as JSON."""
        return {"step": self.step.value, "detail": self.detail, "ok": self.ok,
                "decisions": [d.to_json() for d in self.decisions]}


@dataclass(frozen=True, slots=True)
class Hop:
    """Where a packet is (a Pod, node, Service, network or address) and the steps it passes there."""

    location: str  # "pod:x/a", "node:cp-1", "service:shop/web", "network:internet", "ip:203.0.113.9"
    steps: tuple[StepRecord, ...]

    def to_json(self) -> dict[str, object]:
        """The hop as JSON."""
        return {"location": self.location, "steps": [s.to_json() for s in self.steps]}


@dataclass(frozen=True, slots=True)
class Path:
    """One concrete packet's journey, from one address to one endpoint."""

    source: str
    destination: str
    hops: tuple[Hop, ...]

    @property
    def steps(self) -> tuple[StepRecord, ...]:
        """Every step of every hop, in order."""
        return tuple(s for h in self.hops for s in h.steps)

    @property
    def delivered(self) -> bool:
        """Whether every step passed."""
        return all(s.ok for s in self.steps)

    @property
    def disposition(self) -> Disposition:
        """How the path ends: delivered, or the disposition of its first failing step."""
        first = next((s for s in self.steps if not s.ok), None)
        if first is None:
            return Disposition.DELIVERED
        return first.disposition or Disposition.NO_ROUTE

    @property
    def blocked_by(self) -> tuple[Decision, ...]:
        """The decisions that denied the packet, without repeats."""
        out: list[Decision] = []
        for s in self.steps:
            if not s.ok:
                out.extend(d for d in s.decisions if not d.allowed and d not in out)
        return tuple(out)

    def to_json(self) -> dict[str, object]:
        """The path as JSON."""
        return {"source": self.source, "destination": self.destination, "disposition": self.disposition.value,
                "hops": [h.to_json() for h in self.hops]}


@dataclass(frozen=True, slots=True)
class Answer:
    """The verdict for a question about references that may each stand for many addresses.

    ``allowed`` is True only when every path is delivered; ``denied`` only when none is; otherwise the
    disposition is ``partial`` and ``examples`` hold one delivered and one blocked path.
    """

    source: str
    destination: str
    port: int | str
    protocol: str
    paths: tuple[Path, ...]

    @property
    def allowed(self) -> bool:
        """Whether there is a path and every path delivers."""
        return bool(self.paths) and all(p.delivered for p in self.paths)

    @property
    def denied(self) -> bool:
        """Whether no path delivers."""
        return not any(p.delivered for p in self.paths)

    @property
    def verdict(self) -> str:
        """``allowed``, ``denied``, or ``partial`` when only some paths deliver."""
        return "allowed" if self.allowed else "denied" if self.denied else "partial"

    @property
    def disposition(self) -> Disposition:
        """Delivered, partial, or the disposition of the first path that fails."""
        if self.allowed:
            return Disposition.DELIVERED
        if not self.denied:
            return Disposition.PARTIAL
        return self.paths[0].disposition if self.paths else Disposition.NO_ENDPOINTS

    @property
    def blocked_by(self) -> tuple[Decision, ...]:
        """The decisions that denied any path, without repeats."""
        out: list[Decision] = []
        for p in self.paths:
            out.extend(d for d in p.blocked_by if d not in out)
        return tuple(out)

    @property
    def examples(self) -> dict[str, Path]:
        """The first delivered and the first denied path, by verdict."""
        out: dict[str, Path] = {}
        for p in self.paths:
            out.setdefault("allowed" if p.delivered else "denied", p)
        return out

    def to_json(self) -> dict[str, object]:
        """The answer as JSON (query.schema.json)."""
        return {
            "from": self.source, "to": self.destination, "port": self.port, "protocol": self.protocol,
            "allowed": self.allowed, "verdict": self.verdict, "disposition": self.disposition.value,
            "paths": [p.to_json() for p in self.paths],
            "blockedBy": [d.to_json() for d in self.blocked_by],
        }
