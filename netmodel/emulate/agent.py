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
    ``{"timeout": 0.5, "concurrency": 256, "probes": [{"proto", "dst_ip", "dst_port", "src_ip"}]}``.
    Runs every probe concurrently, each bounded by ``timeout`` seconds, and prints
    ``{"results": [{"outcome", "detail", "elapsed"}]}`` in probe order. Outcomes: ``reachable``,
    ``refused`` (a RST or an ICMP port unreachable came back), ``timeout`` (silence: dropped),
    ``unreachable`` (ICMP host/net unreachable or no route), ``unsupported`` (protocol missing from the
    kernel), ``error``.

Usage by hand: ``ip netns exec NS python -m netmodel.emulate.agent probe < probes.json``.
"""

from __future__ import annotations

import asyncio
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
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                if key.data == "udp":
                    data, peer = sock.recvfrom(_ECHO_BYTES)
                    sock.sendto(data, peer)
                else:
                    conn, _ = sock.accept()
                    conn.close()
            except OSError:
                # A peer that vanished or an ICMP error queued on the socket: keep serving the rest.
                continue


# ---------------------------------------------------------------------------------------------- probe


async def _probe_one(item: dict[str, Any], timeout: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    started = time.monotonic()

    def result(outcome: str, detail: str = "") -> dict[str, Any]:
        return {"outcome": outcome, "detail": detail, "elapsed": round(time.monotonic() - started, 4)}

    try:
        sock = _new_socket(item["proto"], item["dst_ip"])
    except OSError as exc:
        return result("unsupported" if _unsupported(exc) else "error", str(exc))
    with sock:
        sock.setblocking(False)
        try:
            if item.get("src_ip"):
                sock.bind((item["src_ip"], 0))
            dst = (item["dst_ip"], item["dst_port"])
            if item["proto"] == "udp":
                nonce = os.urandom(16)
                sock.connect(dst)  # a UDP connect only fixes the peer; ICMP errors then reach us
                await loop.sock_sendall(sock, nonce)
                deadline = started + timeout
                while True:
                    reply = await asyncio.wait_for(
                        loop.sock_recv(sock, _ECHO_BYTES), max(0.0, deadline - time.monotonic())
                    )
                    if reply == nonce:
                        return result("reachable", "echo received")
            else:
                await asyncio.wait_for(loop.sock_connect(sock, dst), timeout)
                return result("reachable", "connected")
        except TimeoutError:
            return result("timeout", f"no answer within {timeout}s")
        except ConnectionRefusedError as exc:
            return result("refused", str(exc))
        except OSError as exc:
            if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM):
                return result("unreachable", str(exc))
            if _unsupported(exc):
                return result("unsupported", str(exc))
            return result("error", str(exc))


async def _probe_all(spec: dict[str, Any]) -> list[dict[str, Any]]:
    timeout = float(spec.get("timeout", 0.5))
    gate = asyncio.Semaphore(int(spec.get("concurrency", 256)))  # bounds open file descriptors

    async def gated(item: dict[str, Any]) -> dict[str, Any]:
        async with gate:
            return await _probe_one(item, timeout)

    return list(await asyncio.gather(*(gated(p) for p in spec["probes"])))


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("serve", "probe"):
        sys.stderr.write("usage: agent (serve|probe) < spec.json\n")
        return 2
    if argv[0] == "serve":
        # Only the first line is the spec; the rest of stdin is the lifetime channel.
        serve(json.loads(sys.stdin.buffer.readline()), sys.stdin, sys.stdout)
        return 0
    results = asyncio.run(_probe_all(json.load(sys.stdin)))
    sys.stdout.write(json.dumps({"results": results}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
