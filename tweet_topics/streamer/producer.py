"""Sending to Firehose off the main loop, in bounded time: a sender thread fed by a bounded queue of batches.

- PutRecordBatch (<=500 records, <=4 MiB); only the failed entries of a partial failure are retried, with
  exponential backoff and full jitter (throttling too).
- Every batch has a wall-clock ``deadline``: each call runs in a daemon thread and is abandoned when the deadline
  passes (a silent network cannot hold the batch hostage; an abandoned call that still succeeds makes a
  duplicate, which the combine drops). What is not delivered by then goes to the spool.
- The spool is drained, oldest first, before new batches are sent; while it has a backlog new batches are
  spooled behind it, so order is kept.
- Once ``stopping`` is set (SIGTERM), durability comes first: no spool drain is tried until ``close``, batches go
  straight to the spool once the network failed, and no call outlives ``close``'s ``network_until``.
- A spool write that fails (disk full) keeps the batch in memory, the sender stops taking new batches (the
  bounded queue fills, the main loop feels the backpressure) and ``disk_full`` is reported until a write works.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tweet_topics.lib.ledger import DELIVERY_PATTERN
from tweet_topics.streamer.counters import Counters
from tweet_topics.streamer.journal import JournalFile
from tweet_topics.streamer.secrets import redact
from tweet_topics.streamer.spool import Spool

MAX_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_LIVE_CALLS = 4  # abandoned calls still waiting on the network; beyond this no new call is started
log = logging.getLogger("tweet_topics.streamer")
Delivered = Callable[[list[bytes]], None]  # told which records Firehose accepted (ledger, checkpoint)


class CallTimeout(Exception):
    """The call did not return before its deadline (it keeps running in its daemon thread)."""


_live = threading.BoundedSemaphore(MAX_LIVE_CALLS)


def bounded_call(fn: Callable[[], Any], timeout: float) -> Any:
    """``fn()`` in a daemon thread; its result, its exception, or :class:`CallTimeout` after ``timeout`` s."""
    if timeout <= 0 or not _live.acquire(blocking=False):
        raise CallTimeout("no time left" if timeout <= 0 else "too many calls still hanging")
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc
        finally:
            _live.release()
            done.set()

    threading.Thread(target=target, name="bounded-call", daemon=True).start()
    if not done.wait(timeout):
        raise CallTimeout(f"no answer within {timeout:.1f}s")
    if "error" in box:
        raise box["error"]
    return box["result"]


@dataclass
class Batch:
    records: list[bytes]
    oldest: float  # time.monotonic() of its first record
    journal: JournalFile | None = None


def seqs_of(records: list[bytes]) -> list[tuple[str, int]]:
    """``(run, seq)`` of each record that carries a delivery field (records from older versions do not)."""
    out = []
    for record in records:
        match = DELIVERY_PATTERN.search(record, max(0, len(record) - 200))
        if match:
            out.append((match.group(1).decode(), int(match.group(2))))
    return out


class Sender(threading.Thread):
    def __init__(
        self,
        client: Any,
        stream: str,
        spool: Spool,
        counters: Counters,
        deadline: float = 10.0,
        on_delivered: Delivered | None = None,
        on_spooled: Delivered | None = None,
        queue_batches: int = 4,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
        stopping: threading.Event | None = None,
    ) -> None:
        super().__init__(name="firehose-sender", daemon=True)
        self.client, self.stream, self.spool, self.counters = client, stream, spool, counters
        self.deadline = deadline
        self.on_delivered = on_delivered or (lambda records: None)
        self.on_spooled = on_spooled or (lambda records: None)
        self.queue: queue.Queue[Batch] = queue.Queue(maxsize=queue_batches)
        self.base_delay, self.max_delay = base_delay, max_delay
        self.held: list[Batch] = []  # batches the spool could not take (disk full)
        self.current: Batch | None = None  # the batch being sent right now
        self.last_delivery_at: str | None = None
        self.failing_since: float | None = None  # time.time() of the first failure since the last success
        self.disk_full = False
        self.first_spool_age: float | None = None  # age of the first batch this run had to spool
        self.stopping = stopping or threading.Event()
        self._rng = random.Random()
        self._wake = threading.Event()
        self._closing = False
        self._offline_at = float("inf")  # monotonic time after which nothing more is tried on the network
        self._drain_at = 0.0
        self._gave_up_draining = False

    # --- the main loop's side -------------------------------------------------------------------------------
    def submit(self, batch: Batch, timeout: float) -> bool:
        """Queue a batch for sending; False when the queue stayed full for ``timeout`` s (backpressure)."""
        try:
            self.queue.put(batch, timeout=timeout)
            return True
        except queue.Full:
            return False

    def close(self, network_until: float) -> None:
        """Finish: send what is queued until ``network_until`` (monotonic), then spool the rest and stop."""
        self._offline_at, self._closing = network_until, True
        self._wake.set()

    def open_batches(self) -> list[Batch]:
        """Batches in the sender's hands, not yet delivered or spooled (held, in flight or queued)."""
        return [*self.held, *([self.current] if self.current else []), *list(self.queue.queue)]

    def oldest(self) -> float | None:
        """Monotonic time of the oldest record in the sender's hands."""
        return min((b.oldest for b in self.open_batches()), default=None)

    # --- the thread ------------------------------------------------------------------------------------------
    def run(self) -> None:
        while True:
            offline = time.monotonic() >= self._offline_at
            # After SIGTERM the spool is not drained before close(), nor while batches wait to be spooled.
            held_back = self.stopping.is_set() and (not self._closing or not self.queue.empty())
            draining = len(self.spool) and not offline and not self._gave_up_draining and not held_back
            if draining and time.monotonic() >= self._drain_at:
                self._drain_one()  # also while batches are held: a held batch may only go behind the backlog
            if self.held:
                self._retry_held(offline)
                continue
            try:
                batch = self.queue.get(timeout=0.02 if draining and self._closing else 0.1)
            except queue.Empty:
                if self._closing and not (len(self.spool) and not offline and not self._gave_up_draining):
                    return
                continue
            self.current = batch
            # Behind a backlog, and after SIGTERM once the network failed, a batch goes straight to the spool.
            if offline or len(self.spool) or (self.stopping.is_set() and self.failing_since is not None):
                self._to_spool(batch, batch.records)
            else:
                rest = self._send(batch.records, self._deadline(), from_spool=False)
                if rest:
                    self._to_spool(batch, rest)
                elif batch.journal:
                    batch.journal.discard()
            self.current = None

    def _retry_held(self, offline: bool) -> None:
        batch = self.held[0]
        if not offline and not len(self.spool):
            batch.records = self._send(batch.records, self._deadline(), from_spool=False)
        if batch.records and not self._spool_write(batch, batch.records):
            if self._closing and offline:
                time.sleep(0.2)
            else:
                self._wake.wait(0.5)
            return
        self.held.pop(0)
        if not self.held:
            self.disk_full = False  # nothing is held in memory any more (the next spool write tells again)
        if batch.journal:
            batch.journal.discard()

    def _to_spool(self, batch: Batch, records: list[bytes]) -> None:
        if self._spool_write(batch, records):
            if batch.journal:
                batch.journal.discard()
        else:
            batch.records = records
            self.held.append(batch)

    def _spool_write(self, batch: Batch, records: list[bytes]) -> bool:
        try:
            self.spool.append(records)
        except OSError as exc:
            if not self.disk_full:
                log.error(
                    "spool write failed (%s): %d records kept in memory; not taking new batches",
                    exc.strerror,
                    len(records),
                )
            self.disk_full = True
            self._failed(f"spool: {exc.strerror}")
            return False
        self.disk_full = False
        self.counters.add(in_memory=-len(records), backlog=len(records), spooled=len(records))
        self.on_spooled(records)
        age = time.monotonic() - batch.oldest
        if self.first_spool_age is None:
            self.first_spool_age = age
        log.warning(
            "spooled %d records, oldest %.1fs old (deadline %.1fs; %s)",
            len(records),
            age,
            self.deadline,
            self.counters.last_error,
        )
        return True

    def _drain_one(self) -> None:
        """Send the oldest spooled chunk (<=500 records); on failure keep it in place and retry later."""
        for path, records in self.spool.pending():
            chunk, rest = records[:MAX_RECORDS], records[MAX_RECORDS:]
            left = self._send(chunk, self._deadline(), from_spool=True)
            try:
                if left or rest:
                    self.spool.rewrite(path, left + rest)
                else:
                    self.spool.done(path)
            except OSError as exc:
                self._failed(f"spool rewrite: {exc.strerror}")  # the old segment stays: resent later
            if left:
                self._drain_at = time.monotonic() + self._backoff(3)
                self._gave_up_draining = self._closing  # at shutdown one failed try is enough: it is durable
            return

    def _send(self, records: list[bytes], deadline: float, from_spool: bool) -> list[bytes]:
        """PutRecordBatch with retries of only the failed entries until ``deadline``; returns what is left."""
        pending = records
        attempt = 0
        while pending:
            try:
                self.counters.add(api_calls=1)
                entries = [{"Data": r} for r in pending]
                response = bounded_call(
                    lambda entries=entries: self.client.put_record_batch(  # type: ignore[misc]
                        DeliveryStreamName=self.stream, Records=entries
                    ),
                    deadline - time.monotonic(),
                )
            except CallTimeout as exc:
                self.counters.add(abandoned_calls=1, errors=1)
                self._failed(f"CallTimeout: {exc}")
                return pending
            except Exception as exc:  # network down, throttling raised as an error, service errors
                self.counters.add(errors=1)
                self._failed(f"{type(exc).__name__}: {exc}")
            else:
                results = response.get("RequestResponses") or []
                if not response.get("FailedPutCount") or len(results) != len(pending):
                    self._delivered(pending, from_spool)
                    return []
                retry = [r for r, res in zip(pending, results, strict=True) if res.get("ErrorCode")]
                ok = [r for r, res in zip(pending, results, strict=True) if not res.get("ErrorCode")]
                self._delivered(ok, from_spool)
                self.counters.add(retried=len(retry))
                self._failed(next(str(res.get("ErrorCode")) for res in results if res.get("ErrorCode")))
                pending = retry
            delay = self._backoff(attempt)
            attempt += 1
            if time.monotonic() + delay >= deadline:
                return pending
            time.sleep(delay)
        return pending

    def _delivered(self, records: list[bytes], from_spool: bool) -> None:
        if not records:
            return
        n = len(records)
        if from_spool:
            self.counters.add(backlog=-n, sent=n, unspooled=n)
        else:
            self.counters.add(in_memory=-n, sent=n)
        self.last_delivery_at = datetime.now(UTC).isoformat()
        self.failing_since = None
        self.on_delivered(records)

    def _failed(self, error: str) -> None:
        with self.counters.lock:
            self.counters.last_error = redact(error)[:300]
        if self.failing_since is None:
            self.failing_since = time.time()

    def _deadline(self) -> float:
        """A new batch's deadline: ``deadline`` s from now, never past the shutdown's ``network_until``."""
        return min(time.monotonic() + self.deadline, self._offline_at)

    def _backoff(self, attempt: int) -> float:
        return self._rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
