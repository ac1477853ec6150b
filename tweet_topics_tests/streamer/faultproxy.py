"""A small TCP fault proxy on 127.0.0.1 between a real streamer process and the moto server.

Modes: ``pass`` (forward bytes both ways), ``refuse`` (accept and reset at once; live connections are reset
too) and ``blackhole`` (accept, read, never answer; live connections stop forwarding). The mode can change at
any time. Bounded: every thread is a daemon and the proxy stops by itself after ``lifetime`` seconds.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from urllib.parse import urlparse


class FaultProxy:
    def __init__(self, target_url: str, mode: str = "pass", lifetime: float = 180.0) -> None:
        parsed = urlparse(target_url)
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.mode = mode
        self.until = time.monotonic() + lifetime
        self.accepted = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

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
                    (upstream if sock is client else client).sendall(data)  # type: ignore[union-attr]
        except OSError:
            return
        finally:
            client.close()
            if upstream is not None:
                upstream.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the peer sees 'connection reset', like a refused port."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()
