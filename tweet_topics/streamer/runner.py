"""The streamer loop: source -> record -> sink, with a heartbeat, a reject file and clean shutdown.

SIGTERM/SIGINT stop the loop; everything in memory is flushed or spooled before exit 0.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tweet_topics.lib.records import RecordError, dumps_record, record_from_payload
from tweet_topics.streamer.producer import Counters, FirehoseProducer
from tweet_topics.streamer.sources import Item

VERSION = "1"
log = logging.getLogger("tweet_topics.streamer")


class Sink(Protocol):
    def add(self, record: bytes) -> None: ...
    def tick(self) -> None: ...
    def close(self) -> None: ...


class FirehoseSink:
    def __init__(self, producer: FirehoseProducer) -> None:
        self.producer = producer

    def add(self, record: bytes) -> None:
        self.producer.add(record)

    def tick(self) -> None:
        self.producer.tick()

    def close(self) -> None:
        self.producer.close()


class FileSink:
    """The reference's stream-check: records to a local NDJSON file (or CSV when the name ends in .csv)."""

    def __init__(self, path: Path, counters: Counters) -> None:
        self.path = path
        self.counters = counters
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "ab")  # noqa: SIM115 - closed in close()
        self.csv = path.suffix == ".csv"
        self.rows: list[dict[str, Any]] = []

    def add(self, record: bytes) -> None:
        if self.csv:
            self.rows.append(json.loads(record))
        else:
            self.handle.write(record)
        self.counters.sent += 1

    def tick(self) -> None:
        self.handle.flush()

    def close(self) -> None:
        if self.csv and self.rows:
            import pyarrow as pa

            from tweet_topics.lib.combine import COMBINED_SCHEMA, LIST_SEPARATOR, table_to_csv

            for row in self.rows:
                for name in ("urls", "hashtags", "mentions"):
                    row[name] = LIST_SEPARATOR.join(row[name] or [])
            table = pa.Table.from_pylist(self.rows, schema=COMBINED_SCHEMA)
            self.handle.write(table_to_csv(table))
        self.handle.close()


class Heartbeat:
    """A small status object written to S3 every ``interval`` seconds; it never holds a credential."""

    def __init__(self, s3: Any, bucket: str, key: str, counters: Counters, interval: float = 10.0) -> None:
        self.s3, self.bucket, self.key, self.counters, self.interval = s3, bucket, key, counters, interval
        self.started_at = datetime.now(UTC).isoformat()
        self.last_tweet_at: str | None = None
        self._last = 0.0

    def status(self, state: str) -> dict[str, Any]:
        return {
            "state": state,
            "started_at": self.started_at,
            "updated_at": datetime.now(UTC).isoformat(),
            "last_tweet_at": self.last_tweet_at,
            "counts": asdict(self.counters),
            "version": VERSION,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }

    def beat(self, state: str = "running", force: bool = False) -> None:
        if not force and time.monotonic() - self._last < self.interval:
            return
        self._last = time.monotonic()
        body = json.dumps(self.status(state)).encode()
        try:
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body, ContentType="application/json")
        except Exception as exc:  # a heartbeat must never stop the stream
            self.counters.errors += 1
            log.warning("heartbeat not written: %s", type(exc).__name__)
        log.info("heartbeat %s", json.dumps(self.status(state)["counts"]))


class Checkpoint:
    """How many source items have left memory durably (sent to Firehose or spooled), for resuming a
    deterministic source after a crash. Written atomically whenever it advances."""

    def __init__(self, path: Path, base: int, meta: dict[str, Any]) -> None:
        self.path, self.base, self.meta = path, base, meta
        self._last = -1

    @staticmethod
    def load(path: Path) -> dict[str, Any] | None:
        return json.loads(path.read_text()) if path.exists() else None

    def update(self, counters: Counters) -> None:
        durable = self.base + counters.sent - counters.unspooled + counters.spooled + counters.rejected
        if durable != self._last:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({**self.meta, "delivered": durable}))
            os.replace(tmp, self.path)
            self._last = durable


def run(
    source: Iterator[Item],
    sink: Sink,
    counters: Counters,
    reject_path: Path,
    heartbeat: Heartbeat | None = None,
    max_tweets: int | None = None,
    duration: float | None = None,
    stop: threading.Event | None = None,
    checkpoint: Checkpoint | None = None,
) -> Counters:
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    deadline = time.monotonic() + duration if duration else None
    reject_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(reject_path, "a", encoding="utf-8") as rejects:
            for payload, error in source:
                if error is not None:
                    number, raw, reason = error
                    counters.rejected += 1
                    rejects.write(json.dumps({"line_number": number, "reason": reason, "raw": raw}) + "\n")
                else:
                    counters.received += 1
                    try:
                        record = record_from_payload(payload)
                    except RecordError as exc:
                        counters.rejected += 1
                        rejects.write(
                            json.dumps({"reason": exc.reason, "detail": exc.detail, "raw": payload}, default=str) + "\n"
                        )
                    else:
                        sink.add(dumps_record(record))
                        if heartbeat:
                            heartbeat.last_tweet_at = record["created_at"]
                sink.tick()
                if checkpoint:
                    checkpoint.update(counters)
                if heartbeat:
                    heartbeat.beat()
                if stop.is_set() or (max_tweets and counters.received >= max_tweets):
                    break
                if deadline and time.monotonic() >= deadline:
                    break
    finally:
        sink.close()
        if checkpoint:
            checkpoint.update(counters)
        if heartbeat:
            heartbeat.beat("stopped", force=True)
    return counters
