"""``HourlyDataset``: one hourly dataset in the bucket - its keys, files, commit marker, writer and readers.

Every hourly writer and reader goes through here. An hour lives under ``<prefix>YYYY/MM/DD/HH/`` and holds the
dataset's ``files`` plus ``metadata.json``, the commit marker: it is written last, so an hour without it is not
committed and readers refuse it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tweet_topics.storage.keys import hour_from_key, hour_prefix, partition_key
from tweet_topics.storage.s3 import S3Store

COMMIT_FILE = "metadata.json"
CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".ndjson": "application/x-ndjson",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
}


class HourNotCommitted(FileNotFoundError):
    """The hour has no committed output (its upstream asset was not materialized for it)."""


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def content_type(name: str) -> str:
    return next((t for ext, t in CONTENT_TYPES.items() if name.endswith(ext)), "application/octet-stream")


@dataclass(frozen=True)
class HourlyDataset:
    name: str  # the asset that writes it, used in messages
    prefix: str
    files: tuple[str, ...]  # data files per hour, besides the commit marker
    store: S3Store

    def hour_prefix(self, hour: datetime) -> str:
        return hour_prefix(self.prefix, hour)

    def key(self, hour: datetime, file: str) -> str:
        return self.hour_prefix(hour) + file

    def uri(self, hour: datetime, file: str = "") -> str:
        return f"s3://{self.store.bucket}/{self.key(hour, file)}"

    def write_hour(self, hour: datetime, data: Mapping[str, bytes], metadata: Mapping[str, Any]) -> None:
        """Replace the hour with exactly ``data`` (one entry per file) and ``metadata``, committed last."""
        if set(data) != set(self.files):
            raise ValueError(f"{self.name}: write_hour needs exactly {sorted(self.files)}, got {sorted(data)}")
        objects = {name: (body, content_type(name)) for name, body in data.items()}
        objects[COMMIT_FILE] = (json.dumps(dict(metadata), indent=2, sort_keys=True).encode(), "application/json")
        self.store.replace_prefix(self.hour_prefix(hour), objects, commit_last=COMMIT_FILE)

    def is_committed(self, hour: datetime) -> bool:
        return self.store.exists(self.key(hour, COMMIT_FILE))

    def _require(self, hour: datetime) -> None:
        if not self.is_committed(hour):
            raise HourNotCommitted(f"{self.name} has no output for {partition_key(hour)}: materialize it first")

    def read_metadata(self, hour: datetime) -> dict[str, Any]:
        self._require(hour)
        return json.loads(self.store.get(self.key(hour, COMMIT_FILE)))

    def read_bytes(self, hour: datetime, file: str) -> bytes:
        if file not in self.files:
            raise ValueError(f"{self.name} has no file {file!r} (files: {list(self.files)})")
        self._require(hour)
        return self.store.get(self.key(hour, file))

    def read_parquet(self, hour: datetime, file: str, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(io.BytesIO(self.read_bytes(hour, file)), columns=columns)

    def committed_hours(self) -> list[datetime]:
        """Hours whose commit marker exists, oldest first."""
        hours = {
            hour
            for info in self.store.list(self.prefix)
            if info.key.endswith("/" + COMMIT_FILE) and (hour := hour_from_key(self.prefix, info.key)) is not None
        }
        return sorted(hours)
