"""What a probe observed on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from netmodel.emulate.plan import Probe


class ProbeOutcome(Enum):
    """How a connection attempt ended. Only `REACHABLE` means the listener answered."""

    REACHABLE = "reachable"  # TCP/SCTP handshake completed, or the UDP echo came back
    REFUSED = "refused"  # a RST or ICMP port-unreachable: the packet arrived, nothing listens
    TIMEOUT = "timeout"  # silence: dropped somewhere (a firewall drop, a broken tunnel)
    UNREACHABLE = "unreachable"  # no route, or an ICMP host/net/admin-prohibited came back
    UNSUPPORTED = "unsupported"  # the kernel lacks the protocol (SCTP)
    ERROR = "error"  # anything else, with the detail in `ProbeResult.detail`


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one `Probe`, with the agent's explanation and the time it took."""

    probe: Probe
    outcome: ProbeOutcome
    detail: str
    elapsed_s: float

    @property
    def reachable(self) -> bool:
        """Whether the listener answered."""
        return self.outcome is ProbeOutcome.REACHABLE


@dataclass(frozen=True, slots=True)
class ListenerStatus:
    """Whether a `Listener` could be opened: ``listening``, ``unsupported`` (kernel lacks SCTP)."""

    ns: str
    proto: str
    ip: str
    port: int
    status: str
    detail: str
