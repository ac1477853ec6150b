"""One hour's work for the hourly assets: read from S3, call the plain-Python logic, replace the outputs.

Kept apart from the asset functions so a backfill can loop over hours and benchmarks can call it directly.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tweet_topics.defs.infra.layout import Layout
from tweet_topics.defs.infra.resources import S3Store
from tweet_topics.lib.combine import (
    combine_objects,
    csv_to_table,
    quarantine_to_ndjson,
    table_to_csv,
)
from tweet_topics.lib.filtering import Blocklist, filter_tweets
from tweet_topics.lib.layout import partition_key

COMBINED_FILE = "tweets.csv"
QUARANTINE_FILE = "quarantine.ndjson"
METADATA_FILE = "metadata.json"
FILTERED_FILE = "tweets.parquet"
REJECTED_FILE = "rejected.parquet"


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True).encode()


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def combine_hour(
    store: S3Store, layout: Layout, hour: datetime, engine: str = "arrow", spark: Any = None
) -> dict[str, Any]:
    """Combine the raw objects of ``hour`` and atomically replace its combined outputs; returns the stats."""
    keys = [o.key for o in store.list(layout.raw(hour))]
    objects = store.get_many(keys)
    if engine == "spark":
        from tweet_topics.lib.spark_combine import combine_objects_spark

        result = combine_objects_spark(objects, hour=hour, spark=spark)
    else:
        result = combine_objects(objects, hour=hour)
    ids = result.table["id"]
    stats = dict(
        result.stats,
        partition=partition_key(hour),
        engine=engine,
        columns=result.table.column_names,
        duplicate_ids_in_output=len(ids) - pc.count_distinct(ids).as_py(),
    )
    store.replace_prefix(
        layout.combined(hour),
        {
            COMBINED_FILE: (table_to_csv(result.table), "text/csv; charset=utf-8"),
            QUARANTINE_FILE: (quarantine_to_ndjson(result.quarantine), "application/x-ndjson"),
            METADATA_FILE: (_json(stats), "application/json"),
        },
        commit_last=METADATA_FILE,
    )
    return stats


def read_combined(store: S3Store, layout: Layout, hour: datetime) -> pa.Table:
    prefix = layout.combined(hour)
    if not store.exists(prefix + METADATA_FILE):
        raise FileNotFoundError(f"combined_tweets has no output for {partition_key(hour)}: materialize it first")
    return csv_to_table(store.get(prefix + COMBINED_FILE))


def filter_hour(
    store: S3Store, layout: Layout, hour: datetime, blocklist: Blocklist, min_words: int, languages: tuple[str, ...]
) -> dict[str, Any]:
    """Filter one combined hour into the modeling corpus; returns per-reason counts."""
    combined = read_combined(store, layout, hour)
    result = filter_tweets(combined, blocklist, min_words=min_words, languages=languages)
    stats = dict(
        result.counts,
        partition=partition_key(hour),
        min_words=min_words,
        languages=list(languages),
        blocklist_terms=len(blocklist.terms),
    )
    store.replace_prefix(
        layout.filtered(hour),
        {
            FILTERED_FILE: (parquet_bytes(result.kept), "application/vnd.apache.parquet"),
            REJECTED_FILE: (parquet_bytes(result.rejected), "application/vnd.apache.parquet"),
            METADATA_FILE: (_json(stats), "application/json"),
        },
        commit_last=METADATA_FILE,
    )
    return stats


def read_filtered(store: S3Store, layout: Layout, hour: datetime) -> pa.Table:
    prefix = layout.filtered(hour)
    if not store.exists(prefix + METADATA_FILE):
        raise FileNotFoundError(f"filtered_tweets has no output for {partition_key(hour)}: materialize it first")
    return pq.read_table(io.BytesIO(store.get(prefix + FILTERED_FILE)))
