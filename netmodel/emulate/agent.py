"""The helper process that runs *inside* a lab namespace: it serves listeners or fires probes.

Python 3.11 has no ``os.setns``, so the lab starts this file with ``ip netns exec NS python ...``.
It uses the standard library only and imports nothing from netmodel, so the lab can start it by file
path in isolated mode (fast, and independent of what the rest of the package imports).

Modes, each reading one JSON document from stdin:

``serve``
    ``{"listeners": [{"proto": "tcp", "ip": "10.0.0.2", "port": 80}, ...]}``. Binds them all, prints one
    JSON line ``{"listeners": [{..., "status": "listening" | "unsupported" | "error", "detail": ""}]}``,
    then serves until stdin reaches end of file (the lab closes it, or dies): TCP and SCTP connections
    are accepted and closed, UDP datagrams are echoed to their sender.
``probe``
    ``{"timeout": 0.5, "concurrency": 256, "probes": [{"proto", "dst_ip", "dst_port", "src_ip", "src_port"}]}``.
    Runs every probe concurrently, each bounded by ``timeout`` seconds, and prints
    ``{"results": [{"outcome", "detail", "elapsed"}]}`` in probe order. Outcomes: ``reachable``,
    ``refused`` (a RST or an ICMP port unreachable came back), ``timeout`` (silence: dropped),
    ``unreachable`` (ICMP host/net unreachable or no route), ``unsupported`` (protocol missing from the
    kernel), ``error``.

Usage by hand: ``ip netns exec NS python -m netmodel.emulate.agent probe < probes.json``.
"""

from __future__ import annotations

import errno
import json
import os
import selectors
import signal
import socket
import sys
import time
from typing import Any

_ECHO_BYTES = 2048


def _family(ip: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def _new_socket(proto: str, ip: str) -> socket.socket:
    """A socket of the right family and type; raises OSError(EPROTONOSUPPORT) when SCTP is missing."""
    if proto == "udp":
        return socket.socket(_family(ip), socket.SOCK_DGRAM)
    if proto == "sctp":
        return socket.socket(_family(ip), socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    return socket.socket(_family(ip), socket.SOCK_STREAM)


def _unsupported(exc: OSError) -> bool:
    return exc.errno in (errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT, errno.EAFNOSUPPORT)


# ---------------------------------------------------------------------------------------------- serve


def serve(spec: dict[str, Any], stdin: Any, stdout: Any) -> None:
    """Bind every listener of ``spec``, report, and serve until ``stdin`` closes."""
    # The lab owns our lifetime through stdin; a Ctrl-C on the terminal must not kill us half-way
    # through the lab's own cleanup.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sel = selectors.DefaultSelector()
    report = []
    for item in spec["listeners"]:
        status, detail = "listening", ""
        try:
            sock = _new_socket(item["proto"], item["ip"])
        except OSError as exc:
            status = "unsupported" if _unsupported(exc) else "error"
            report.append({**item, "status": status, "detail": str(exc)})
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if sock.family == socket.AF_INET6:
                # "::" must not also claim the IPv4 port: the plan lists IPv4 listeners separately.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((item["ip"], item["port"]))
            if item["proto"] != "udp":
                sock.listen(128)
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ, item["proto"])
        except OSError as exc:
            sock.close()
            status, detail = "error", str(exc)
        report.append({**item, "status": status, "detail": detail})
    stdout.write(json.dumps({"listeners": report}) + "\n")
    stdout.flush()

    sel.register(stdin, selectors.EVENT_READ, "control")
    while True:
        for key, _ in sel.select():
            if key.data == "control":
                if not os.read(stdin.fileno(), 4096):
                    return
                continue
            server = key.fileobj
            assert isinstance(server, socket.socket)
            try:
                if key.data == "udp":
                    data, peer = server.recvfrom(_ECHO_BYTES)
                    server.sendto(data, peer)
                else:
                    conn, _ = server.accept()
                    conn.close()
            except OSError:
                # A peer that vanished or an ICMP error queued on the socket: keep serving the rest.
                continue


# ---------------------------------------------------------------------------------------------- probe
# A hand-written selector loop rather than asyncio: importing asyncio costs a slow machine ~0.1 s per
# agent, and a probe run starts one agent per source namespace.


class _Attempt:
    """One probe in flight: its socket, what it waits for, and when it gives up."""

    def __init__(self, index: int, item: dict[str, Any], timeout: float) -> None:
        self.index = index
        self.item = item
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.nonce = os.urandom(16)
        self.sock: socket.socket | None = None

    def result(self, outcome: str, detail: str = "") -> dict[str, Any]:
        if self.sock is not None:
            self.sock.close()
        return {
            "outcome": outcome,
            "detail": detail,
            "elapsed": round(time.monotonic() - self.started, 4),
        }

    def failed(self, exc: OSError) -> dict[str, Any]:
        if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
            return self.result("refused", os.strerror(errno.ECONNREFUSED))
        if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM):
            return self.result("unreachable", str(exc))
        if _unsupported(exc):
            return self.result("unsupported", str(exc))
        return self.result("error", str(exc))

    def start(self) -> dict[str, Any] | int:
        """Open and fire; return a finished result, or the selector events to wait for."""
        item = self.item
        try:
            self.sock = _new_socket(item["proto"], item["dst_ip"])
            self.sock.setblocking(False)
            if item.get("src_ip") or item.get("src_port"):
                wildcard = "::" if self.sock.family == socket.AF_INET6 else "0.0.0.0"
                self.sock.bind((item.get("src_ip") or wildcard, item.get("src_port") or 0))
            dst = (item["dst_ip"], item["dst_port"])
            if item["proto"] == "udp":
                self.sock.connect(dst)  # fixes the peer, so an ICMP error comes back to us
                self.sock.send(self.nonce)
                return selectors.EVENT_READ
            code = self.sock.connect_ex(dst)
        except OSError as exc:
            return self.failed(exc)
        if code == 0:
            return self.result("reachable", "connected")
        if code != errno.EINPROGRESS:
            return self.failed(OSError(code, os.strerror(code)))
        return selectors.EVENT_WRITE

    def ready(self) -> dict[str, Any] | None:
        """The socket became readable/writable: a result, or None to keep waiting."""
        assert self.sock is not None
        try:
            if self.item["proto"] == "udp":
                if self.sock.recv(_ECHO_BYTES) == self.nonce:
                    return self.result("reachable", "echo received")
                return None  # a stray datagram: keep waiting for our own echo
            code = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        except BlockingIOError:
            return None
        except OSError as exc:
            return self.failed(exc)
        if code == 0:
            return self.result("reachable", "connected")
        return self.failed(OSError(code, os.strerror(code)))


def probe_all(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Run ``spec["probes"]``, at most ``concurrency`` at a time, each within ``timeout`` seconds."""
    timeout = float(spec.get("timeout", 0.5))
    concurrency = max(1, int(spec.get("concurrency", 256)))  # bounds open file descriptors
    pending = list(enumerate(spec["probes"]))
    pending.reverse()
    results: list[dict[str, Any] | None] = [None] * len(pending)
    sel = selectors.DefaultSelector()
    while pending or sel.get_map():
        while pending and len(sel.get_map()) < concurrency:
            index, item = pending.pop()
            attempt = _Attempt(index, item, timeout)
            started = attempt.start()
            if isinstance(started, dict):
                results[index] = started
            else:
                assert attempt.sock is not None
                sel.register(attempt.sock, started, attempt)
        if not sel.get_map():
            continue
        attempts = [key.data for key in sel.get_map().values()]
        wait = max(0.0, min(a.deadline for a in attempts) - time.monotonic())
        for key, _ in sel.select(wait):
            attempt = key.data
            outcome = attempt.ready()
            if outcome is not None:
                sel.unregister(key.fileobj)
                results[attempt.index] = outcome
        now = time.monotonic()
        for attempt in attempts:
            if results[attempt.index] is None and now >= attempt.deadline:
                assert attempt.sock is not None
                sel.unregister(attempt.sock)
                results[attempt.index] = attempt.result("timeout", f"no answer within {timeout}s")
    sel.close()
    return [r for r in results if r is not None]


def main(argv: list[str]) -> int:
    """The lab agent's entry point: ``serve`` listens, ``probe`` connects, each reading its spec on stdin."""
    if len(argv) != 1 or argv[0] not in ("serve", "probe"):
        sys.stderr.write("usage: agent (serve|probe) < spec.json\n")
        return 2
    if argv[0] == "serve":
        # Only the first line is the spec; the rest of stdin is the lifetime channel.
        serve(json.loads(sys.stdin.buffer.readline()), sys.stdin, sys.stdout)
        return 0
    results = probe_all(json.load(sys.stdin))
    sys.stdout.write(json.dumps({"results": results}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
