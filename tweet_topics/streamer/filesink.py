"""The local file sink (the reference's stream-check): records to an NDJSON file, or CSV when it ends in ``.csv``.

It never fills a disk: before each batch it checks the filesystem's free space. Once a write would leave less
than ``min_free + HEADROOM`` it asks the run to stop (one line on stderr says why); what the source still hands
over while the run drains is written into the headroom, and a batch that would go below ``min_free`` itself is
refused (it stays in memory and is counted as lost at exit). CSV is written batch by batch, the header once.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tweet_topics.streamer.counters import Counters
from tweet_topics.streamer.producer import Batch

MIB = 1024 * 1024
HEADROOM = 32 * MIB  # room for what the source still hands over after the stop (queues of a few thousand tweets)
SUFFIXES = (".ndjson", ".csv")


class FileOutput:
    def __init__(
        self,
        path: Path,
        counters: Counters,
        on_delivered: Callable[[list[bytes]], None],
        min_free: int = 1024 * MIB,
        stop: threading.Event | None = None,
    ) -> None:
        self.path, self.counters, self.on_delivered = path, counters, on_delivered
        self.min_free, self.stop = min_free, stop or threading.Event()
        self.handle = open(path, "ab")  # noqa: SIM115 - closed in close()
        self.csv = path.suffix == ".csv"
        self._header = self.handle.tell() == 0
        self.halted = False

    def submit(self, batch: Batch, timeout: float) -> bool:
        data = self._csv(batch.records, header=self._header) if self.csv else b"".join(batch.records)
        left = shutil.disk_usage(self.path.parent).free - len(data)
        if left < self.min_free + HEADROOM:
            self._halt(left)
        if left < self.min_free:
            return False
        self.handle.write(data)
        self.handle.flush()
        self._header = False
        self.counters.add(in_memory=-len(batch.records), sent=len(batch.records))
        self.on_delivered(batch.records)
        return True

    def _halt(self, left: int) -> None:
        if not self.halted:
            self.halted = True
            print(
                f"stream: stopped: the filesystem of {self.path} would have {max(left, 0) / MIB:,.0f} MiB free, "
                f"the floor is {self.min_free / MIB:,.0f} MiB (--min-free-mib)",
                file=sys.stderr,
                flush=True,
            )
        self.stop.set()

    def _csv(self, records: list[bytes], header: bool) -> bytes:
        import pyarrow as pa

        from tweet_topics.lib.combine import COMBINED_SCHEMA, LIST_SEPARATOR, table_to_csv

        rows: list[dict[str, Any]] = []
        for record in records:
            row = json.loads(record)
            row.pop("delivery", None)
            for name in ("urls", "hashtags", "mentions"):
                row[name] = LIST_SEPARATOR.join(row[name] or [])
            rows.append(row)
        data = table_to_csv(pa.Table.from_pylist(rows, schema=COMBINED_SCHEMA))
        return data if header else data.split(b"\n", 1)[1]  # the header (column names) goes once, at the top

    def close(self) -> None:
        self.handle.close()
