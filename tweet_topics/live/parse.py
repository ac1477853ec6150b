"""One raw Firehose object -> the live query's rows: the combine's gate, then the batch filter (plain pyarrow).

Why the same code as the batch: the live counts reconcile with ``tweet_topic_assignments`` only if both paths keep
the same tweets. Every line becomes exactly one row: a kept tweet (``reason`` null), a filtered tweet (its
filter reason), a malformed line (its quarantine reason, also written to the quarantine) or a duplicate.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tweet_topics.lib.combine import combine_objects
from tweet_topics.lib.filtering import Blocklist, filter_tweets
from tweet_topics.storage.keys import hour_from_key, partition_key

ROW_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("created_at", pa.string()),
        pa.field("minute", pa.string()),  # created_at's minute, "YYYY-MM-DDTHH:MM"
        pa.field("arrival_hour", pa.string()),  # the Firehose hour folder (partition key): how the batch counts
        pa.field("clean_text", pa.string()),
        pa.field("reason", pa.string()),  # null: kept for scoring
        pa.field("source_key", pa.string()),
        pa.field("line_number", pa.int64()),
    ]
)
SPARK_SCHEMA = (
    "id string, created_at string, minute string, arrival_hour string, clean_text string, reason string, "
    "source_key string, line_number long"
)
VANISHED = "vanished_object"
DUPLICATE = "duplicate"


@lru_cache(maxsize=4)
def blocklist(path: str) -> Blocklist:
    """The batch's blocklist, read once per worker process."""
    return Blocklist.from_file(Path(path))


def _rows(key: str, arrival: str, n: int, **columns: Any) -> pa.Table:
    full = {f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in ROW_SCHEMA}
    full["arrival_hour"] = pa.array([arrival] * n, pa.string())
    full["source_key"] = pa.array([key] * n, pa.string())
    return pa.table({k: pa.array(v, ROW_SCHEMA.field(k).type) if isinstance(v, list) else v for k, v in full.items()})


def parse_object(
    raw_prefix: str,
    key: str,
    body: bytes | None,
    blocklist_file: str,
    min_words: int,
    languages: tuple[str, ...],
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """``(rows, quarantine entries)`` for one object; ``body`` None means the object vanished before it was read."""
    hour = hour_from_key(raw_prefix, key)
    arrival = partition_key(hour) if hour else ""
    if body is None:
        entry = {"source_key": key, "line_number": 0, "reason": VANISHED, "detail": "listed, then gone", "line": ""}
        return _rows(key, arrival, 1, reason=[VANISHED], line_number=[0]), [entry]
    combined = combine_objects([(key, body)], hour=hour)
    table = combined.table
    result = filter_tweets(table, blocklist(blocklist_file), min_words=min_words, languages=languages)
    rejected_reason = dict(zip(result.rejected["id"].to_pylist(), result.rejected["reason"].to_pylist(), strict=True))
    reasons = pa.array([rejected_reason.get(i) for i in table["id"].to_pylist()], pa.string())
    created = table["created_at"]
    parts = [
        _rows(
            key,
            arrival,
            table.num_rows,
            id=table["id"],
            created_at=created,
            minute=pc.utf8_slice_codeunits(created, 0, 16),
            clean_text=table["clean_text"],
            reason=reasons,
            line_number=table["line_number"],
        )
    ]
    bad = combined.quarantine
    if bad:
        parts.append(
            _rows(
                key, arrival, len(bad), reason=[q["reason"] for q in bad], line_number=[q["line_number"] for q in bad]
            )
        )
    duplicates = int(combined.stats["duplicates"])
    if duplicates:
        parts.append(_rows(key, arrival, duplicates, reason=[DUPLICATE] * duplicates))
    return pa.concat_tables(parts), bad
