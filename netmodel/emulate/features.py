"""Which kernel features a lab can use on this machine, found by trying them in a scratch namespace.

Kernels differ (a container host may lack ipip, geneve or SCTP modules, and cannot load them), so
the emulator asks instead of assuming, and tests skip what is missing with the reason.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass, fields

from netmodel.emulate import host
from netmodel.emulate.errors import EmulateError
from netmodel.emulate.host import Job

# Each feature is one `ip link add` line, tried on its own so one failure does not hide the others.
_DEVICE_LINES = {
    "veth": "link add t0 type veth peer name t1",
    "bridge": "link add t2 type bridge",
    "vxlan": "link add t3 type vxlan id 1 local 192.0.2.1 remote 192.0.2.2 dstport 4789",
    "ipip": "link add t4 type ipip local 192.0.2.1 remote 192.0.2.2",
    "geneve": "link add t5 type geneve id 1 remote 192.0.2.2",
}
_NFT_PROBE = """table inet netmodel_probe {
  chain input {
    type filter hook input priority 0; policy accept;
    ct state established,related accept
    meta l4proto ipencap drop
    udp dport 4789 drop
  }
}
"""
_SCTP_PROBE = (
    "import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)"
)


@dataclass(frozen=True, slots=True)
class KernelFeatures:
    """What worked in a scratch namespace. ``nft`` means a stateful (conntrack) ruleset loaded."""

    netns: bool
    veth: bool
    bridge: bool
    vxlan: bool
    ipip: bool
    geneve: bool
    nft: bool
    sctp: bool

    def missing(self) -> list[str]:
        """The names of the features this kernel lacks."""
        return [f.name for f in fields(self) if not getattr(self, f.name)]


def detect_features(prefix: str = "nm-") -> KernelFeatures:
    """Try every feature in a throw-away namespace (deleted before returning) and report."""
    host.check_environment(need_nft=False)
    run_id = secrets.token_hex(host.RUN_ID_HEX // 2)
    name = f"{prefix}{run_id}-features"
    host.mark_owner(run_id, [name])  # so a cleanup knows it, and a run killed here leaves it to --cleanup
    try:
        host.run(["ip", "netns", "add", name])
    except EmulateError:
        host.unmark_owner(run_id)
        return KernelFeatures(False, False, False, False, False, False, False, False)
    try:
        jobs = [Job(("ip", "-n", name, *line.split())) for line in _DEVICE_LINES.values()]
        jobs.append(Job(("ip", "netns", "exec", name, "nft", "-f", "-"), _NFT_PROBE))
        jobs.append(
            Job(("ip", "netns", "exec", name, sys.executable, "-I", "-S", "-c", _SCTP_PROBE))
        )
        failures, _ = host.run_parallel(jobs)
        failed = {id(f.job) for f in failures}
        ok = [id(job) not in failed for job in jobs]
        devices = dict(zip(_DEVICE_LINES, ok))
        return KernelFeatures(netns=True, nft=ok[-2], sctp=ok[-1], **devices)
    finally:
        host.delete_namespaces([name])
        host.unmark_owner(run_id)
