"""The streamer loop: source -> record -> batch -> output, with timers that do not wait for tweets.

A reader thread iterates the source into a bounded queue; the main loop takes items with a short timeout, so a
quiet stream still flushes a lone tweet after ``max_age`` (1 s). Every received item gets the run's next
sequence number and becomes a record (with ``delivery``) or a reject. Batches are handed to the output (the
Firehose sender thread, or a local file); when its queue is full the main loop waits (backpressure).

SIGTERM/SIGINT stop the source; what it already received is drained without waiting for the output (a batch the
output cannot take now is parked, its write-ahead log already written), the parked batches are handed over, the
sender gets the rest of the shutdown budget to deliver or spool them, and whatever is still in memory at exit is
in its write-ahead log (journaled) or counted as lost - never silently dropped.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tweet_topics.streamer.convert import Converted, Reject, conversion_failure, raw_to_record, to_record
from tweet_topics.streamer.counters import Counters
from tweet_topics.streamer.handover import Handover
from tweet_topics.streamer.journal import Journal
from tweet_topics.streamer.producer import MAX_BATCH_BYTES, MAX_RECORDS, Batch
from tweet_topics.streamer.rejects import RejectLog
from tweet_topics.streamer.sources import Item

if TYPE_CHECKING:
    from tweet_topics.streamer.convert_pool import ConvertPool, Pending
    from tweet_topics.streamer.originals import OriginalWriter

log = logging.getLogger("tweet_topics.streamer")
READ_AHEAD = 1_000  # items between the reader thread and the main loop
CHUNK = 250  # items the main loop takes at once when they are waiting (one write-ahead write, one count)
IN_FLIGHT = 4  # chunks at the conversion worker at most (taken, numbered, not yet received)


class Output(Protocol):
    def submit(self, batch: Batch, timeout: float) -> bool: ...


class Progress:
    """The contiguous prefix of this run's sequence numbers that is durable (delivered, spooled or rejected).

    The checkpoint is derived from it, so it can never claim an item whose record is still only in memory.
    """

    def __init__(self, run: str) -> None:
        self.run = run
        self.watermark = 0
        self._done: set[int] = set()
        self._lock = threading.Lock()

    def done(self, seqs: list[int]) -> None:
        with self._lock:
            self._done.update(s for s in seqs if s > self.watermark)
            while self.watermark + 1 in self._done:
                self.watermark += 1
                self._done.discard(self.watermark)


class Checkpoint:
    """Where a resumable source may restart (synthetic: tweets done; replay: line), written atomically."""

    def __init__(self, path: Path, meta: dict[str, Any], key: str, base: int) -> None:
        self.path, self.meta, self.key, self.position = path, meta, key, base
        self._written = base

    @staticmethod
    def load(path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text()) if path.exists() else None
        except (OSError, ValueError):
            return None

    def save(self) -> None:
        if self.position == self._written:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps({**self.meta, self.key: self.position}))
            os.replace(tmp, self.path)
            self._written = self.position
        except OSError as exc:  # disk full: an older checkpoint only means more duplicates on resume
            log.warning("checkpoint not written (%s)", exc.strerror)


@dataclass
class Loop:
    """The main loop's state; ``status`` feeds the heartbeat."""

    run_id: str
    output: Output
    counters: Counters
    rejects: RejectLog
    journal: Journal | None = None
    on_rejected: Callable[[str, int, str], None] | None = None
    checkpoint: Checkpoint | None = None
    max_age: float = 1.0
    seq: int = 0
    last_tweet_at: str | None = None
    journal_failed: bool = False
    progress: Progress | None = None
    stop: threading.Event | None = None  # once set, hand_off never waits: full batches are parked instead
    originals: OriginalWriter | None = None  # what X sent, beside the records (issue 25; streamer/originals.py)
    converter: ConvertPool | None = None  # converts X's bytes in a second process (streamer/convert_pool.py)
    taken: int = 0  # items taken from the source and numbered (received, or at the converter)
    parked: deque[Batch] = field(default_factory=deque)  # sealed batches the output has not taken yet
    _batch: Batch | None = None
    _bytes: int = 0
    _positions: deque[tuple[int, int, bool]] = field(default_factory=deque)
    _unwritten: list[bytes] = field(default_factory=list)  # taken into the batch, not yet in its write-ahead log
    _inflight: deque[tuple[list[Item], Pending | None]] = field(default_factory=deque)  # taken, in order

    def __post_init__(self) -> None:
        self.progress = self.progress or Progress(self.run_id)

    def handle(self, item: Item, converted: Converted | None = None) -> None:
        """Number the item, convert it (unless ``converted`` already is its outcome) and add it to the batch."""
        self.seq += 1
        if self.checkpoint is not None:
            self._positions.append((self.seq, item.position, item.complete))
        if item.error is not None:
            self._reject(item.error[0], item.error[1], item.raw)
            return
        if converted is not None:
            line, created_at, detail = converted
            if line is None:
                self._reject(created_at, detail, item.raw)
                return
            record = line
        else:
            try:
                if item.payload is None and item.raw is not None:
                    record, created_at = raw_to_record(item.raw, self.run_id, self.seq)
                else:
                    record, created_at = to_record(item.payload, self.run_id, self.seq)
            except Reject as exc:
                self._reject(exc.reason, exc.detail, item.payload if item.raw is None else item.raw)
                return
            except Exception as exc:  # one message never stops the stream (convert.convert_chunk does the same)
                self._reject(*conversion_failure(exc), item.payload if item.raw is None else item.raw)
                return
        self.last_tweet_at = created_at
        if self._batch and (len(self._batch.records) >= MAX_RECORDS or self._bytes + len(record) > MAX_BATCH_BYTES):
            self.hand_off()  # waits while the output is full (backpressure), unless stopping
        if self._batch is None:
            journal = self.journal.start(self.run_id, self.seq) if self.journal else None
            self._batch, self._bytes = Batch([], time.monotonic(), journal), 0
        self._batch.records.append(record)
        self._bytes += len(record)
        if self.originals is not None:
            self.originals.add(item, self.seq)
        self._unwritten.append(record)

    def write_ahead(self) -> None:
        """Write the records taken since the last call to the batch's log in one write, then count them received.

        Called after every chunk of items and before a batch is sealed: a record counts as received only once it
        is in the log (the page cache), so a SIGKILL still loses nothing received (what it interrupts was still
        the source's, counted as unreceived). One ``os.write`` per chunk instead of per record.
        """
        if not self._unwritten:
            return
        if self._batch is not None and self._batch.journal:
            self.journal_failed = not self._batch.journal.append(b"".join(self._unwritten))
        if self.originals is not None:
            self.originals.flush()
        n = len(self._unwritten)
        self._unwritten.clear()
        self.counters.add(received=n, in_memory=n)  # one move under the lock: the books never show half of it

    def handle_chunk(self, items: list[Item], converted: list[Converted] | None = None) -> None:
        for index, item in enumerate(items):
            self.handle(item, converted[index] if converted is not None else None)
        self.write_ahead()

    def take(self, items: list[Item]) -> None:
        """Number a chunk taken from the source; X's bytes go to the conversion worker, when there is one.

        Chunks are received strictly in the order taken (``settle``), so sequence numbers, the write-ahead log and
        the books are those of converting here; a chunk the worker cannot convert is converted here.
        """
        if not items:
            return
        pending = None
        if self.converter is not None and self.converter.active:
            raws = [i.raw for i in items if i.payload is None and i.error is None and i.raw is not None]
            if len(raws) == len(items):  # only X's bytes; payloads and unreadable lines are handled here
                pending = self.converter.submit(raws, self.run_id, self.taken + 1)  # type: ignore[arg-type]
        self.taken += len(items)
        self._inflight.append((items, pending))

    def settle(self, most: int = 0) -> None:
        """Receive taken chunks, oldest first: every one that is ready, and more (waiting) until at most ``most``
        are left at the converter."""
        while self._inflight:
            items, pending = self._inflight[0]
            if len(self._inflight) <= most and pending is not None and not self.converter.done(pending):  # type: ignore[union-attr]
                return
            self._inflight.popleft()
            self.handle_chunk(items, self.converter.result(pending) if pending is not None else None)  # type: ignore[union-attr]

    def _reject(self, reason: str, detail: str, raw: Any) -> None:
        self.write_ahead()  # the books count in order: the records before it first
        self.counters.add(received=1, rejected=1)
        self.rejects.write(reason, detail, raw, seq=self.seq, run=self.run_id)
        if self.on_rejected:
            self.on_rejected(self.run_id, self.seq, reason)
        self.progress.done([self.seq])  # type: ignore[union-attr]

    def due(self) -> bool:
        return self._batch is not None and (
            len(self._batch.records) >= MAX_RECORDS or time.monotonic() - self._batch.oldest >= self.max_age
        )

    def oldest(self) -> float | None:
        return min((b.oldest for b in self.open_batches()), default=None)

    def open_batches(self) -> list[Batch]:
        """Batches still only in this loop's hands (parked, or being built)."""
        return [*self.parked, *([self._batch] if self._batch else [])]

    def hand_off(self, until: float | None = None) -> bool:
        """Seal the batch being built and give every sealed batch to the output, oldest first, waiting while its
        queue is full; False (the rest stays parked) once ``until`` passed - or at once after ``stop`` without one.
        """
        self.write_ahead()
        if self._batch is not None:  # its journal file is closed by whoever deletes it (the sender)
            self.parked.append(self._batch)
            self._batch = None
            if self.originals is not None:
                self.originals.seal()
        while self.parked:
            limit = until if until is not None or not (self.stop and self.stop.is_set()) else time.monotonic()
            wait = 0.2 if limit is None else max(0.0, min(0.2, limit - time.monotonic()))
            if self.output.submit(self.parked[0], timeout=wait):
                self.parked.popleft()
            elif limit is not None and time.monotonic() >= limit:
                return False
        return True

    def advance_checkpoint(self) -> None:
        if self.checkpoint is None:
            return
        watermark = self.progress.watermark  # type: ignore[union-attr]
        while self._positions and self._positions[0][0] <= watermark:
            _, position, complete = self._positions.popleft()
            if complete:
                self.checkpoint.position = position
        self.checkpoint.save()


def _read(source: Iterator[Item | list[Item]], items: Handover[Item], failure: list[BaseException]) -> None:
    try:
        for item in source:
            if isinstance(item, list):
                items.put_many(item)
            else:
                items.put(item)
    except BaseException as exc:  # a source that breaks ends the stream, visibly, after what it gave
        failure.append(exc)
    finally:
        items.close()


def run(
    source: Iterator[Item | list[Item]],
    loop: Loop,
    stop: threading.Event,
    max_tweets: int | None = None,
    duration: float | None = None,
    drain_until: Callable[[], float] | None = None,
) -> str | None:
    """Run until the source ends, a limit is reached or ``stop``; returns why the source failed, if it did.

    After ``stop`` what the source still hands over (the live queue) is taken until ``drain_until()``.
    """
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    items: Handover[Item] = Handover(READ_AHEAD)
    failure: list[BaseException] = []
    reader = threading.Thread(target=_read, args=(source, items, failure), name="source-reader", daemon=True)
    reader.start()
    end = time.monotonic() + duration if duration else None
    stopped_at: float | None = None
    last_checkpoint = 0.0
    while True:
        now = time.monotonic()
        if stopped_at is None and (stop.is_set() or (end and now >= end)):
            stop.set()
            stopped_at = now
        if stopped_at is not None and drain_until and now >= drain_until():
            log.warning("stopped before the source finished handing over (shutdown budget)")
            break
        if max_tweets and loop.taken >= max_tweets:
            break
        most = min(CHUNK, max_tweets - loop.taken) if max_tweets else CHUNK
        chunk, ended = items.take(max(1, most), timeout=0.05)
        loop.take(chunk)
        loop.settle(IN_FLIGHT if chunk else 0)  # a quiet source: receive everything taken now
        if ended:
            break
        if loop.due():
            loop.hand_off()
        if now - last_checkpoint >= 0.5:
            loop.advance_checkpoint()
            last_checkpoint = now
    loop.settle()
    stop.set()
    if failure:
        error = f"{type(failure[0]).__name__}: {failure[0]}"
        log.error("the source failed: %s", error, exc_info=failure[0])
        return error
    return None
