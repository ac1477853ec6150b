"""What the streamer tells the world, on its own timers: the heartbeat object and the delivery-ledger objects.

A reporter thread writes both, so a silent network never stalls the main loop and a quiet stream still beats on
time. Every S3 call is bounded (``bounded_call``); a failed write is retried at the next tick and never stops
the stream. The ledger objects follow ``lib.ledger``'s contract: ``<prefix>ledger/<run>/<first>-<last>.json``
with the sequence ranges Firehose accepted (``handed``) and those rejected, at most one object per run per
``interval`` (plus a last one at exit), so their count stays bounded.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tweet_topics.lib.ledger import StreamerKeys, merge
from tweet_topics.streamer.producer import bounded_call, seqs_of

VERSION = "2"
log = logging.getLogger("tweet_topics.streamer")


class LedgerWriter:
    """Collects handed/rejected sequence numbers per run and writes them as ledger objects."""

    def __init__(self, s3: Any, bucket: str, streamer_prefix: str, interval: float = 30.0) -> None:
        self.s3, self.bucket, self.prefix, self.interval = s3, bucket, streamer_prefix, interval
        self._handed: dict[str, list[int]] = {}
        self._rejected: dict[str, list[int]] = {}
        self._reasons: dict[str, Counter[str]] = {}
        self._written: dict[str, dict[str, Any]] = {}  # key -> body, so a repeated key merges, never overwrites
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self.objects = 0

    def handed(self, records: list[bytes], pairs: list[tuple[str, int]] | None = None) -> None:
        """Records Firehose accepted; ``pairs`` is their ``seqs_of`` when the caller has it already."""
        with self._lock:
            for run, seq in seqs_of(records) if pairs is None else pairs:
                self._handed.setdefault(run, []).append(seq)

    def rejected(self, run: str, seq: int, reason: str) -> None:
        with self._lock:
            self._rejected.setdefault(run, []).append(seq)
            self._reasons.setdefault(run, Counter())[reason.split(":")[0]] += 1

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.interval

    def write(self, timeout: float = 5.0) -> bool:
        """One object per run with what is not written yet; what fails to write is kept for the next try."""
        self._last = time.monotonic()
        with self._lock:
            runs = sorted(set(self._handed) | set(self._rejected))
            taken = {
                run: (self._handed.pop(run, []), self._rejected.pop(run, []), self._reasons.pop(run, Counter()))
                for run in runs
            }
        ok = True
        for run, (handed, rejected, reasons) in taken.items():
            seqs = handed + rejected
            key = StreamerKeys(self.prefix).ledger(run, min(seqs), max(seqs))
            previous = self._written.get(key, {})
            body = {
                "run": run,
                "handed": merge([*previous.get("handed", []), *handed]),
                "rejected": merge([*previous.get("rejected", []), *rejected]),
                "rejected_reasons": dict(Counter(previous.get("rejected_reasons", {})) + reasons),
                "written_at": datetime.now(UTC).isoformat(),
            }
            try:
                bounded_call(
                    lambda k=key, b=body: self.s3.put_object(  # type: ignore[misc]
                        Bucket=self.bucket, Key=k, Body=json.dumps(b).encode(), ContentType="application/json"
                    ),
                    timeout,
                )
            except Exception as exc:  # kept and retried: the ledger may be late, never wrong
                ok = False
                log.warning("ledger object not written (%s); kept for the next try", type(exc).__name__)
                with self._lock:
                    self._handed.setdefault(run, []).extend(handed)
                    self._rejected.setdefault(run, []).extend(rejected)
                    self._reasons.setdefault(run, Counter()).update(reasons)
                continue
            if len(self._written) < 10_000:
                self._written[key] = body
            self.objects += 1
        return ok


class Reporter(threading.Thread):
    """Writes the heartbeat every ``interval`` s and the ledger when due, from ``status()`` snapshots."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        key: str,
        status: Callable[[], dict[str, Any]],
        interval: float,
        ledger: LedgerWriter | None = None,
    ) -> None:
        super().__init__(name="reporter", daemon=True)
        self.s3, self.bucket, self.key, self.status, self.interval, self.ledger = (
            s3,
            bucket,
            key,
            status,
            interval,
            ledger,
        )
        self.started_at = datetime.now(UTC).isoformat()
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.beats = 0
        self._stop_event = threading.Event()

    def body(self, state: str | None = None) -> dict[str, Any]:
        status = self.status()
        if state:
            status["state"] = state
        return {
            **status,
            "started_at": self.started_at,
            "updated_at": datetime.now(UTC).isoformat(),
            "version": VERSION,
            "host": self.host,
            "pid": self.pid,
        }

    def beat(self, state: str | None = None, timeout: float | None = None) -> bool:
        body = self.body(state)
        try:
            bounded_call(
                lambda: self.s3.put_object(
                    Bucket=self.bucket, Key=self.key, Body=json.dumps(body).encode(), ContentType="application/json"
                ),
                timeout if timeout is not None else max(1.0, min(5.0, self.interval)),
            )
            written = True
        except Exception as exc:  # a heartbeat must never stop the stream
            log.warning("heartbeat not written: %s", type(exc).__name__)
            written = False
        self.beats += 1
        log.info("heartbeat %s %s", body["state"], json.dumps(body["counts"]))
        return written

    def run(self) -> None:
        next_beat = time.monotonic()
        while not self._stop_event.is_set():
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + self.interval
                self.beat()
            if self.ledger and self.ledger.due():
                self.ledger.write()
            self._stop_event.wait(min(0.2, max(0.0, next_beat - time.monotonic())))

    def finish(self, timeout: float) -> None:
        """Stop the timer, then a last ledger write and a last heartbeat, within ``timeout`` s together."""
        self._stop_event.set()
        end = time.monotonic() + timeout
        self.join(max(0.0, min(timeout / 3, 5.0)))
        if self.ledger:
            self.ledger.write(timeout=max(0.1, (end - time.monotonic()) / 2))
        self.beat("stopped", timeout=max(0.1, end - time.monotonic()))
