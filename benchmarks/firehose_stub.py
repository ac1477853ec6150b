"""A local stand-in for Firehose and S3 that only counts: what the streamer benchmark sends to instead of moto.

One Firehose stream is limited to 5 MB/s by default and moto itself parses and stores every record, so neither can
take 18,000 tweets/s; this stub answers ``DescribeDeliveryStream`` (ACTIVE), ``PutRecordBatch`` (every record
accepted) and any S3 ``PUT`` (heartbeat, ledger objects) and counts calls, records and bytes. Records are counted
without decoding the body (``"Data"`` keys), so the stub costs as little CPU as it can on a 2-core machine.

Run: ``python benchmarks/firehose_stub.py PORTFILE`` writes its port to PORTFILE; ``GET /counts`` returns the counts
and the stub's CPU seconds so far.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COUNTS = {"put_record_batch": 0, "records": 0, "bytes": 0, "describe": 0, "s3_puts": 0, "other": 0}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: botocore reuses its connections
    # Headers and body go out in two writes: with Nagle on, the body waits for the client's delayed ACK (~40 ms
    # per call, which capped the sender at ~8,500 records/s: an artefact of the stub, not of Firehose).
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, body: bytes, content_type: str = "application/x-amz-json-1.1") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"stub"')
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        with LOCK:
            body = json.dumps({**COUNTS, "cpu_seconds": time.process_time()}).encode()  # the stub's own CPU
        self._answer(body, "application/json")

    def do_PUT(self) -> None:  # S3 PutObject (path style)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with LOCK:
            COUNTS["s3_puts"] += 1
        self._answer(b"", "application/xml")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        if target.endswith(".PutRecordBatch"):
            n = body.count(b'"Data"')
            with LOCK:
                COUNTS["put_record_batch"] += 1
                COUNTS["records"] += n
                COUNTS["bytes"] += len(body)
            answer = {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": [{"RecordId": "r"}] * n}
        elif target.endswith(".DescribeDeliveryStream"):
            with LOCK:
                COUNTS["describe"] += 1
            answer = {"DeliveryStreamDescription": {"DeliveryStreamStatus": "ACTIVE"}}
        else:
            with LOCK:
                COUNTS["other"] += 1
            answer = {}
        self._answer(json.dumps(answer).encode())


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Path(sys.argv[1]).write_text(str(server.server_address[1]))
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
