"""Live results in the bucket: one Parquet of scored tweets per minute and one JSON of topic counts per hour.

Why commits are idempotent per micro-batch: a minute's object is a set of tweets keyed by id (a replayed batch, or
a tweet delivered twice, adds nothing), and an hour's counts are recomputed from the minute objects the batch
touched and *replace* those minutes' entries. So a restart from the checkpoint neither loses nor double-counts.
Merging runs in executor tasks (one task per minute); only per-minute counts come back to the driver.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

MINUTE_FORMAT = "%Y-%m-%dT%H:%M"
TWEET_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("created_at", pa.string()),
        pa.field("minute", pa.string()),
        pa.field("arrival_hour", pa.string()),
        pa.field("dominant_topic", pa.int32()),
        pa.field("dominant_prob", pa.float64()),
        pa.field("model_version", pa.string()),
        pa.field("source_key", pa.string()),
        pa.field("line_number", pa.int64()),
        pa.field("committed_at", pa.timestamp("ms", tz="UTC")),
    ]
)
SCORED_COLUMNS = [f.name for f in TWEET_SCHEMA if f.name != "committed_at"]
# What a merge task returns: per (minute, version, topic) the minute's tweets and how many this batch added; per
# reason (rows not scored: filtered, malformed, duplicate, outside the watermark) how many, with the newest object.
COUNTS_SCHEMA = (
    "minute string, model_version string, dominant_topic int, tweets long, added long, reason string, newest string"
)
_COUNTS_ARROW = pa.schema(
    [
        pa.field("minute", pa.string()),
        pa.field("model_version", pa.string()),
        pa.field("dominant_topic", pa.int32()),
        pa.field("tweets", pa.int64()),
        pa.field("added", pa.int64()),
        pa.field("reason", pa.string()),
        pa.field("newest", pa.string()),
    ]
)


def parse_minute(minute: str) -> datetime:
    return datetime.strptime(minute, MINUTE_FORMAT).replace(tzinfo=UTC)


def merge_minute(old: pa.Table | None, new: pa.Table, now: datetime) -> tuple[pa.Table, pa.Table]:
    """``(merged, added)``: the tweets of ``new`` whose id the minute does not hold yet (first occurrence wins)
    appended to ``old``, stamped ``committed_at = now``."""
    new = new.select(SCORED_COLUMNS)
    first = new.append_column("_row", pa.array(range(new.num_rows), pa.int64()))
    rows = first.group_by("id", use_threads=False).aggregate([("_row", "min")])["_row_min"]
    new = new.take(pc.sort_indices(rows))
    if old is not None and old.num_rows:
        new = new.filter(pc.invert(pc.is_in(new["id"], value_set=old["id"])))
    stamp = pa.array([now] * new.num_rows, pa.timestamp("ms", tz="UTC"))
    added = new.append_column("committed_at", stamp).cast(TWEET_SCHEMA)
    merged = pa.concat_tables([old.cast(TWEET_SCHEMA), added]) if old is not None else added
    return merged, added


def minute_counts(minute: str, merged: pa.Table, added: pa.Table) -> list[dict[str, Any]]:
    """Per (model version, topic): tweets in the whole minute and how many this batch added."""
    totals = merged.group_by(["model_version", "dominant_topic"]).aggregate([("id", "count")]).to_pylist()
    new = {
        (r["model_version"], r["dominant_topic"]): r["id_count"]
        for r in added.group_by(["model_version", "dominant_topic"]).aggregate([("id", "count")]).to_pylist()
    }
    return [
        {
            "minute": minute,
            "model_version": r["model_version"],
            "dominant_topic": r["dominant_topic"],
            "tweets": r["id_count"],
            "added": new.get((r["model_version"], r["dominant_topic"]), 0),
        }
        for r in totals
    ]


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def read_parquet_or_none(store: Any, key: str) -> pa.Table | None:
    from botocore.exceptions import ClientError

    try:
        return pq.read_table(io.BytesIO(store.get(key)))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return None
        raise


def merge_partition(batches: Iterable[pa.RecordBatch], options: dict[str, str], keys: Any) -> Iterator[pa.RecordBatch]:
    """mapInArrow body (executor): merge this task's minutes into their objects; yield per-minute counts."""
    from tweet_topics.live.objects import Objects

    batches = [b for b in batches if b.num_rows]
    if not batches:
        return
    every = pa.Table.from_batches(batches)
    rows: list[dict[str, Any]] = [
        {"reason": r["reason"] or "kept", "tweets": r["count_all"], "newest": r["source_key_max"], "added": 0}
        for r in every.group_by("reason").aggregate([([], "count_all"), ("source_key", "max")]).to_pylist()
    ]
    table = every.filter(pc.is_null(every["reason"]))
    store = Objects(options)
    now = datetime.now(UTC)
    for minute in sorted(set(table["minute"].to_pylist())):
        key = keys.minute(parse_minute(minute))
        old = read_parquet_or_none(store, key)
        merged, added = merge_minute(old, table.filter(pc.equal(table["minute"], minute)), now)
        if added.num_rows:
            store.put(key, parquet_bytes(merged), "application/vnd.apache.parquet")
        rows.extend(minute_counts(minute, merged, added))
    yield from pa.Table.from_pylist(rows, schema=_COUNTS_ARROW).to_batches()


def update_hour_counts(store: Any, keys: Any, counts: list[dict[str, Any]]) -> list[str]:
    """Replace the touched minutes' entries in each hour's counts object; returns the minutes written."""
    by_hour: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
    for row in counts:
        if row.get("reason"):
            continue  # a per-reason row, not a minute's count
        minutes = by_hour.setdefault(row["minute"][:13], {})
        versions = minutes.setdefault(row["minute"], {})
        versions.setdefault(row["model_version"], {})[str(row["dominant_topic"])] = int(row["tweets"])
    for hour_text, minutes in by_hour.items():
        hour = datetime.strptime(hour_text, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        document = read_counts(store, keys, hour)
        document["minutes"].update(minutes)
        document.update(hour=hour_text, updated_at=datetime.now(UTC).isoformat())
        store.put(keys.counts(hour), json.dumps(document, sort_keys=True).encode(), "application/json")
    return sorted(m for minutes in by_hour.values() for m in minutes)


def read_counts(store: Any, keys: Any, hour: datetime) -> dict[str, Any]:
    """An hour's counts: ``{"minutes": {minute: {model version: {topic: tweets}}}}`` (empty when none)."""
    from botocore.exceptions import ClientError

    try:
        return json.loads(store.get(keys.counts(hour)))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return {"minutes": {}}
        raise


def minutes_between(store: Any, keys: Any, start: datetime, end: datetime) -> dict[str, dict[str, dict[str, int]]]:
    """Every counted minute in ``[start, end)``, read from the hours' counts objects."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    hour = start.replace(minute=0, second=0, microsecond=0)
    low, high = start.strftime(MINUTE_FORMAT), end.strftime(MINUTE_FORMAT)
    while hour < end:
        for minute, versions in read_counts(store, keys, hour)["minutes"].items():
            if low <= minute < high:
                out[minute] = versions
        hour += timedelta(hours=1)
    return dict(sorted(out.items()))


def expire(store: Any, keys: Any, now: datetime, retention: timedelta) -> int:
    """Delete the counts and minute objects of hours older than ``retention``; returns objects deleted."""
    cutoff = now - retention
    doomed: list[str] = []
    for info in store.list(keys.counts_root):
        try:
            hour = datetime.strptime(info.key[len(keys.counts_root) :], "%Y/%m/%d/%H.json").replace(tzinfo=UTC)
        except ValueError:
            continue
        if hour + timedelta(hours=1) <= cutoff:
            doomed += [o.key for o in store.list(keys.minutes_of_hour(hour))] + [info.key]
    store.delete_keys(doomed)
    return len(doomed)
