"""The heartbeat's truth (state from what actually happened to records) and the local file output.

States: ``running`` (the last attempt to deliver worked, or nothing needed delivering), ``degraded`` (the last
attempt failed: records are spooling or the backlog is not draining), ``disk_full`` (the spool or the
write-ahead log could not be written: records are held in memory), ``stopped`` (written once, at exit).
``state_since`` lets the supervisor judge how long a bad state has lasted; a quiet stream stays ``running``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tweet_topics.streamer.counters import Counters
from tweet_topics.streamer.producer import Batch, Sender
from tweet_topics.streamer.runner import Loop


class Health:
    def __init__(self, counters: Counters, loop: Loop, sender: Sender) -> None:
        self.counters, self.loop, self.sender = counters, loop, sender
        self._state = "running"
        self._since = datetime.now(UTC).isoformat()

    def state(self) -> str:
        if self.sender.disk_full or self.loop.journal_failed:
            return "disk_full"
        if self.sender.failing_since is not None:
            return "degraded"
        return "running"

    def status(self) -> dict[str, Any]:
        state = self.state()
        if state != self._state:
            self._state, self._since = state, datetime.now(UTC).isoformat()
        counts = self.counters.snapshot()
        oldest = [t for t in (self.loop.oldest(), self.sender.oldest()) if t is not None]
        return {
            "state": state,
            "state_since": self._since,
            "run": self.loop.run_id,
            "last_tweet_at": self.loop.last_tweet_at,
            "last_delivery_at": self.sender.last_delivery_at,
            "spool_backlog": counts["backlog"],
            "oldest_buffered_age_s": round(time.monotonic() - min(oldest), 3) if oldest else None,
            "counts": counts,
        }


class FileOutput:
    """The reference's stream-check: records to a local NDJSON file (or CSV when the name ends in .csv)."""

    def __init__(self, path: Path, counters: Counters, on_delivered: Callable[[list[bytes]], None]) -> None:
        self.path, self.counters, self.on_delivered = path, counters, on_delivered
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "ab")  # noqa: SIM115 - closed in close()
        self.csv = path.suffix == ".csv"
        self.rows: list[dict[str, Any]] = []

    def submit(self, batch: Batch, timeout: float) -> bool:
        if self.csv:
            for record in batch.records:
                row = json.loads(record)
                row.pop("delivery", None)
                self.rows.append(row)
        else:
            self.handle.write(b"".join(batch.records))
            self.handle.flush()
        self.counters.add(in_memory=-len(batch.records), sent=len(batch.records))
        self.on_delivered(batch.records)
        return True

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
