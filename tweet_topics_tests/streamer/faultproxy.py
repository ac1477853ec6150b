"""A small TCP fault proxy on 127.0.0.1 between a real streamer process and the moto server.

Modes: ``pass`` (forward bytes both ways), ``refuse`` (accept and reset at once; live connections are reset
too) and ``blackhole`` (accept, read, never answer; live connections stop forwarding). The mode can change at
any time. Bounded: every thread is a daemon and the proxy stops by itself after ``lifetime`` seconds.

``damage(kind, times, match)`` (in ``pass`` mode) spoils the next ``times`` responses to GET requests whose
request line contains ``match``: ``cut`` forwards the headers and half of the body bytes at hand, then closes
the connection; ``corrupt`` flips the first body byte. ``damaged`` counts what was spoiled.
"""

from __future__ import annotations

import re
import select
import socket
import struct
import threading
import time
from urllib.parse import urlparse

_REQUEST = re.compile(rb"[A-Z]+ \S+ HTTP/1\.[01]\r\n")


class FaultProxy:
    def __init__(self, target_url: str, mode: str = "pass", lifetime: float = 180.0) -> None:
        parsed = urlparse(target_url)
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.mode = mode
        self.until = time.monotonic() + lifetime
        self.accepted = 0
        self.damaged = 0
        self._damage: tuple[str, int, bytes] = ("", 0, b"")
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

    def damage(self, kind: str, times: int, match: str) -> None:
        if kind not in ("cut", "corrupt"):
            raise ValueError(f"unknown damage {kind!r}")
        with self._lock:
            self._damage = (kind, times, match.encode())

    def _take_damage(self, request: bytes) -> str:
        """The damage to do to the response of ``request`` (its first line), counting it; "" for none."""
        with self._lock:
            kind, times, match = self._damage
            if times <= 0 or not request.startswith(b"GET ") or match not in request:
                return ""
            self._damage = (kind, times - 1, match)
            self.damaged += 1
            return kind

    def stop(self) -> None:
        self._stopped.set()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _alive(self) -> bool:
        return not self._stopped.is_set() and time.monotonic() < self.until

    def _accept(self) -> None:
        try:
            while self._alive():
                try:
                    client, _ = self._server.accept()
                except TimeoutError:
                    continue
                self.accepted += 1
                if self.mode == "refuse":
                    _reset(client)
                    continue
                threading.Thread(target=self._serve, args=(client,), daemon=True).start()
        finally:
            self._server.close()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        request, pending = b"", ""  # the last request line; damage still to do to its response
        try:
            while self._alive():
                if self.mode == "refuse":
                    _reset(client)
                    return
                if self.mode == "pass" and upstream is None:
                    upstream = socket.create_connection(self.target, timeout=5)
                ready, _, _ = select.select([client, *([upstream] if upstream else [])], [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if self.mode != "pass":
                        continue  # blackhole: swallow, never answer
                    if sock is client and _REQUEST.match(data):  # a new request (requests are sequential)
                        request = data.split(b"\r\n", 1)[0]
                        pending = self._take_damage(request)
                    elif sock is upstream and pending:
                        data, pending = _spoil(data, pending)
                        if pending == "closed":
                            client.sendall(data)
                            return
                    (upstream if sock is client else client).sendall(data)  # type: ignore[union-attr]
        except OSError:
            return
        finally:
            client.close()
            if upstream is not None:
                upstream.close()


def _spoil(data: bytes, kind: str) -> tuple[bytes, str]:
    """Damage a response chunk: (bytes to send, what is left to do: the same kind, "" when done, "closed" to
    close after sending). The body starts after the headers; a chunk of headers alone leaves it for the next."""
    start = data.find(b"\r\n\r\n") + 4 if data.startswith(b"HTTP/") else 0
    if start == 3 or start >= len(data):  # headers not complete or no body bytes yet
        return data, kind
    if kind == "cut":
        return data[: start + (len(data) - start) // 2], "closed"
    return data[:start] + bytes([data[start] ^ 0x20]) + data[start + 1 :], ""


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the peer sees 'connection reset', like a refused port."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()
