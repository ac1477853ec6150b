"""One hour's work for the hourly assets: read from the storage layer, call the plain-Python logic, write the hour.

Kept apart from the asset functions so a backfill can loop over hours and benchmarks can call it directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from tweet_topics.lib.combine import (
    combine_objects,
    csv_ids,
    csv_to_table,
    drop_known_ids,
    quarantine_to_ndjson,
    table_to_csv,
)
from tweet_topics.lib.filtering import Blocklist, filter_tweets
from tweet_topics.lib.hour_tracker import fingerprint
from tweet_topics.lib.ledger import delivery_ranges
from tweet_topics.storage.catalog import COMBINED_CSV, FILTERED_PARQUET, QUARANTINE, REJECTED_PARQUET, Storage
from tweet_topics.storage.hourly import CommitToken, parquet_bytes
from tweet_topics.storage.keys import partition_key


def combine_hour(storage: Storage, hour: datetime, token: CommitToken | None = None) -> dict[str, Any]:
    """Combine the raw objects of ``hour`` and commit its combined outputs; returns the stats.

    The commit records the fingerprint of the raw objects actually read, and is refused (StaleCommit) if another
    run committed the hour after this one began.
    """
    token = token or storage.combined.begin(hour)
    listing = list(storage.s3.list(storage.raw_hour(hour)))
    objects = storage.s3.get_many([o.key for o in listing])
    result = combine_objects(objects, hour=hour)
    drop_known_ids(result, neighbour_ids(storage, hour))
    raw_fingerprint = fingerprint((o.key, o.etag) for o in listing)
    stats = dict(
        result.stats,
        partition=partition_key(hour),
        raw_fingerprint=raw_fingerprint,
        delivery_ranges=delivery_ranges(body for _, body in objects),
    )
    storage.combined.write_hour(
        hour,
        {COMBINED_CSV: table_to_csv(result.table), QUARANTINE: quarantine_to_ndjson(result.quarantine)},
        stats,
        token=token,
        inputs={"raw_fingerprint": raw_fingerprint, "raw_objects": len(listing)},
    )
    return stats


def neighbour_ids(storage: Storage, hour: datetime) -> pa.Array:
    """Ids committed by the previous and next hour: a tweet stays in whichever hour committed it first."""
    ids = [
        csv_ids(storage.combined.read_bytes(h, COMBINED_CSV))
        for h in (hour - timedelta(hours=1), hour + timedelta(hours=1))
        if storage.combined.is_committed(h)
    ]
    return pa.concat_arrays(ids) if ids else pa.array([], pa.string())


def filter_hour(
    storage: Storage, hour: datetime, blocklist: Blocklist, min_words: int, languages: tuple[str, ...]
) -> dict[str, Any]:
    """Filter one combined hour into the modeling corpus; returns per-reason counts."""
    token = storage.filtered.begin(hour)
    combined_commit = storage.combined.read_commit(hour)
    combined = csv_to_table(storage.combined.read_bytes(hour, COMBINED_CSV, commit=combined_commit))
    result = filter_tweets(combined, blocklist, min_words=min_words, languages=languages)
    stats = dict(
        result.counts,
        partition=partition_key(hour),
        min_words=min_words,
        languages=list(languages),
        blocklist_terms=len(blocklist.terms),
    )
    storage.filtered.write_hour(
        hour,
        {FILTERED_PARQUET: parquet_bytes(result.kept), REJECTED_PARQUET: parquet_bytes(result.rejected)},
        stats,
        token=token,
        inputs={"combined_commit": combined_commit["committed_at"]},
    )
    return stats
