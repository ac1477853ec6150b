"""Live vs batch for one Firehose arrival hour: the same tweet ids and >= 99 % dominant-topic agreement.

Why by arrival hour: the batch partitions by the Firehose hour folder (``raw/YYYY/MM/DD/HH``); every live row
records that folder (``arrival_hour``). Live minute objects are named by ``created_at``, so the hour and the one
before it are read (the combine tolerates 15 minutes of lateness). An hour whose live rows were scored by more
than one model version, or by another version than the batch, is skipped (a refit changes topic ids).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tweet_topics.storage.catalog import PREDICTIONS_PARQUET, Storage
from tweet_topics.storage.keys import partition_key

MIN_AGREEMENT = 0.99
COLUMNS = ["id", "minute", "arrival_hour", "dominant_topic", "model_version"]


@dataclass
class HourReconciliation:
    hour: str
    status: str  # match | mismatch | skipped
    reason: str = ""
    live: int = 0
    batch: int = 0
    agreement: float = 1.0
    minutes: list[str] = field(default_factory=list)  # the minutes holding a missing, extra or disagreeing tweet


def live_rows(storage: Storage, hour: datetime) -> pa.Table:
    """The live rows that arrived in ``hour`` (from the minute objects of that hour and the one before)."""
    tables = []
    for folder in (hour - timedelta(hours=1), hour):
        for info in storage.s3.list(storage.live.minutes_of_hour(folder)):
            tables.append(pq.read_table(io.BytesIO(storage.s3.get(info.key)), columns=COLUMNS))
    if not tables:
        return pa.table({c: pa.array([], pa.string() if c != "dominant_topic" else pa.int32()) for c in COLUMNS})
    table = pa.concat_tables(tables)
    return table.filter(pc.equal(table["arrival_hour"], partition_key(hour)))


def reconcile_hour(storage: Storage, hour: datetime) -> HourReconciliation:
    key = partition_key(hour)
    commit = storage.predictions.read_commit(hour)
    version = commit["metadata"].get("model_version")
    live = live_rows(storage, hour)
    versions = set(live["model_version"].to_pylist())
    if not live.num_rows:
        return HourReconciliation(key, "skipped", "no live rows for this hour")
    if versions != {version}:
        return HourReconciliation(key, "skipped", f"live versions {sorted(versions)} vs batch {version}")
    batch = storage.predictions.read_parquet(hour, PREDICTIONS_PARQUET, columns=["id", "created_at", "dominant_topic"])
    live_topic = dict(zip(live["id"].to_pylist(), live["dominant_topic"].to_pylist(), strict=True))
    live_minute = dict(zip(live["id"].to_pylist(), live["minute"].to_pylist(), strict=True))
    batch_topic = dict(zip(batch["id"].to_pylist(), batch["dominant_topic"].to_pylist(), strict=True))
    created = batch["created_at"].to_pylist()
    batch_minute = {i: str(c)[:16] for i, c in zip(batch["id"].to_pylist(), created, strict=True)}
    missing = set(batch_topic) - set(live_topic)
    extra = set(live_topic) - set(batch_topic)
    common = set(live_topic) & set(batch_topic)
    disagree = {i for i in common if int(live_topic[i]) != int(batch_topic[i])}
    agreement = 1 - len(disagree) / len(common) if common else 0.0
    minutes = sorted({batch_minute[i] for i in missing} | {live_minute[i] for i in extra | disagree})
    result = HourReconciliation(key, "match", live=len(live_topic), batch=len(batch_topic), agreement=agreement)
    problems = []
    if missing or extra:
        problems.append(f"{len(missing)} tweets only in the batch, {len(extra)} only live")
    if agreement < MIN_AGREEMENT:
        problems.append(f"dominant topic agreement {agreement:.2%} < {MIN_AGREEMENT:.0%}")
    if problems:
        result.status, result.reason, result.minutes = "mismatch", "; ".join(problems), minutes
    return result
