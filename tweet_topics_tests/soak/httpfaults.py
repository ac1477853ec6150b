"""An HTTP proxy between a real streamer process and the moto server that makes Firehose fail part of a batch.

Firehose answers ``PutRecordBatch`` with ``FailedPutCount`` and a per-entry ``ErrorCode`` when it is throttled;
moto never does. This proxy forwards only the entries it lets through and answers for the rest the way Firehose
does (``ServiceUnavailableException``), so the failed entries really are not delivered and the streamer must
retry exactly those. Every other request is forwarded byte for byte. Bounded: each upstream call has a timeout.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

PUT_BATCH = "Firehose_20150804.PutRecordBatch"
UPSTREAM_TIMEOUT = 30.0
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class PartialFailures:
    """The proxy; ``share`` (0..1) of each batch's entries fail while it is set. Counts what it failed."""

    def __init__(self, target_url: str, seed: int = 0) -> None:
        parsed = urlparse(target_url)
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.share = 0.0
        self.failed_entries = 0
        self.batches = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="firehose-faults", daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> PartialFailures:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def choose_failures(self, n: int) -> set[int]:
        """Indices of the entries to fail in a batch of ``n`` (each fails with probability ``share``)."""
        with self._lock:
            failed = {i for i in range(n) if self._rng.random() < self.share}
            self.batches += 1
            self.failed_entries += len(failed)
        return failed

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        conn = http.client.HTTPConnection(*self.target, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers={**headers, "Content-Length": str(len(body))})
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def put_batch(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        """Forward the entries that do not fail; answer for all of them in the original order."""
        request = json.loads(body)
        records = request.get("Records", [])
        failed = self.choose_failures(len(records)) if self.share > 0 else set()
        if not failed:
            return self.forward("POST", path, headers, body)
        kept = [r for i, r in enumerate(records) if i not in failed]
        answers: list[dict] = []
        status, response_headers = 200, [("Content-Type", "application/x-amz-json-1.1")]
        if kept:
            status, response_headers, raw = self.forward(
                "POST", path, headers, json.dumps({**request, "Records": kept}).encode()
            )
            if status != 200:
                return status, response_headers, raw
            answers = list(json.loads(raw)["RequestResponses"])
        merged = []
        for i in range(len(records)):
            if i in failed:
                merged.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
            else:
                merged.append(answers.pop(0))
        out = {"FailedPutCount": len(failed), "Encrypted": False, "RequestResponses": merged}
        return status, response_headers, json.dumps(out).encode()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up mid-request (the streamer's own deadline) is expected, not an error to print."""


def _handler(proxy: PartialFailures) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet: the soak prints its own table
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            try:
                if self.headers.get("X-Amz-Target") == PUT_BATCH:
                    status, response_headers, out = proxy.put_batch(self.path, headers, body)
                else:
                    status, response_headers, out = proxy.forward(self.command, self.path, headers, body)
            except OSError:
                self.send_error(502)
                return
            self.send_response(status)
            head = self.command == "HEAD"
            for key, value in response_headers:
                if key.lower() not in HOP_HEADERS or (head and key.lower() == "content-length"):
                    self.send_header(key, value)
            if not head:
                self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            if not head:
                try:
                    self.wfile.write(out)
                except OSError:  # the streamer gave up on this call (its deadline): nothing to answer
                    self.close_connection = True

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

    return Handler
