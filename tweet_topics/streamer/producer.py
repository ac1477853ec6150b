"""Batched Firehose producer: PutRecordBatch (<=500 records, <=4 MiB), partial-failure retries, spool.

Only the entries that failed are retried (``FailedPutCount``), with exponential backoff and full jitter;
throttling is handled the same way. When Firehose stays unreachable the batch goes to the spool, which is
drained, in order, before any new record is sent.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tweet_topics.streamer.spool import Spool

MAX_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024
log = logging.getLogger("tweet_topics.streamer")


@dataclass
class Counters:
    """What the streamer did: printed as JSON on exit and written into every heartbeat."""

    received: int = 0
    sent: int = 0
    retried: int = 0
    spooled: int = 0
    unspooled: int = 0
    rejected: int = 0
    errors: int = 0
    api_calls: int = 0
    last_error: str | None = None


class FirehoseProducer:
    def __init__(
        self,
        client: Any,
        stream: str,
        spool: Spool,
        counters: Counters | None = None,
        max_age: float = 1.0,
        max_attempts: int = 6,
        base_delay: float = 0.05,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.stream = stream
        self.spool = spool
        self.counters = counters or Counters()
        self.max_age = max_age
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self._buffer: list[bytes] = []
        self._bytes = 0
        self._oldest: float | None = None
        self._rng = random.Random()

    def add(self, record: bytes) -> None:
        """Queue one NDJSON record; sends when the batch is full (count or bytes) or old."""
        if len(record) > MAX_RECORD_BYTES:
            self.counters.rejected += 1
            raise ValueError(f"record of {len(record)} bytes exceeds Firehose's 1,000 KiB limit")
        if len(self._buffer) >= MAX_RECORDS or self._bytes + len(record) > MAX_BATCH_BYTES:
            self.flush()
        self._buffer.append(record)
        self._bytes += len(record)
        self._oldest = self._oldest or time.monotonic()
        if len(self._buffer) >= MAX_RECORDS:
            self.flush()

    def tick(self) -> None:
        """Flush when the oldest buffered record is older than ``max_age`` (call this from the main loop)."""
        if self._oldest is not None and time.monotonic() - self._oldest >= self.max_age:
            self.flush()

    def flush(self) -> None:
        batch, self._buffer, self._bytes, self._oldest = self._buffer, [], 0, None
        if self.spool.segments() and not self.drain_spool():
            if batch:
                self._to_spool(batch)
            return
        if batch and not self._send(batch):
            self._to_spool(batch)

    def drain_spool(self) -> bool:
        """Deliver spooled segments in order; False (and stop) at the first that still cannot be sent."""
        for path, records in self.spool.pending():
            for start in range(0, len(records), MAX_RECORDS):
                chunk = records[start : start + MAX_RECORDS]
                size = len(chunk)
                if not self._send(chunk):
                    # ``chunk`` now holds only its undelivered records; keep them and the rest, in order.
                    self.spool.rewrite(path, chunk + records[start + MAX_RECORDS :])
                    return False
                self.counters.unspooled += size
            Spool.done(path)
        return True

    def close(self) -> None:
        """Send (or spool) everything in memory; nothing buffered is lost."""
        self.flush()

    def _to_spool(self, batch: list[bytes]) -> None:
        self.spool.append(batch)
        self.counters.spooled += len(batch)
        log.warning("firehose unavailable: spooled %d records (%s)", len(batch), self.counters.last_error)

    def _backoff(self, attempt: int) -> float:
        return self._rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))

    def _send(self, batch: list[bytes]) -> bool:
        """PutRecordBatch with retries of only the failed entries; False when it gives up."""
        pending = batch
        for attempt in range(self.max_attempts):
            try:
                self.counters.api_calls += 1
                response = self.client.put_record_batch(
                    DeliveryStreamName=self.stream, Records=[{"Data": r} for r in pending]
                )
            except Exception as exc:  # network down, throttling raised as an error, service errors
                self.counters.errors += 1
                self.counters.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                self.sleep(self._backoff(attempt))
                continue
            failed = response.get("FailedPutCount", 0)
            if not failed:
                self.counters.sent += len(pending)
                return True
            results = response["RequestResponses"]
            retry = [r for r, res in zip(pending, results, strict=True) if res.get("ErrorCode")]
            self.counters.sent += len(pending) - len(retry)
            self.counters.retried += len(retry)
            self.counters.last_error = next(res.get("ErrorCode") for res in results if res.get("ErrorCode"))
            pending = retry
            self.sleep(self._backoff(attempt))
        # Part of the batch may have been delivered: only what is still pending is handed back.
        batch[:] = pending
        return False
