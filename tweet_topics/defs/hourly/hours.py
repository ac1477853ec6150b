"""One hour's work for the hourly assets: read from the storage layer, call the plain-Python logic, write the hour.

Kept apart from the asset functions so a backfill can loop over hours and benchmarks can call it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from tweet_topics.storage.s3 import ObjectInfo


class RawHourGone(RuntimeError):
    """The raw objects of an hour that was combined before are gone: keep the committed output."""


@dataclass(frozen=True)
class RawHour:
    """What one run read of a raw hour: the listing (keys, ETags) and the objects' bytes."""

    hour: datetime
    token: CommitToken
    listing: list[ObjectInfo]
    objects: list[tuple[str, bytes]]

    @property
    def fingerprint(self) -> str:
        return fingerprint((o.key, o.etag) for o in self.listing)


def read_raw_hour(storage: Storage, hour: datetime, token: CommitToken | None = None) -> RawHour:
    """Begin the hour's commit (``token``), then list and fetch its raw objects."""
    token = token or storage.combined.begin(hour)
    listing = list(storage.s3.list(storage.raw_hour(hour)))
    if not listing and token.previous and token.previous.get("metadata", {}).get("records_read"):
        raise RawHourGone(
            f"{partition_key(hour)} has no raw objects any more (expired?) but its committed combined output holds "
            f"{token.previous['metadata']['records_read']} records: not replacing it with an empty hour"
        )
    return RawHour(hour, token, listing, storage.s3.get_many([o.key for o in listing]))


def commit_combined(storage: Storage, raw: RawHour) -> dict[str, Any]:
    """Combine what was read and commit it; refused (StaleCommit) if another run committed since ``raw.token``.

    The commit records the fingerprint of the raw objects actually read."""
    result = combine_objects(raw.objects, hour=raw.hour)
    drop_known_ids(result, previous_hour_ids(storage, raw.hour))
    stats = dict(
        result.stats,
        partition=partition_key(raw.hour),
        raw_fingerprint=raw.fingerprint,
        delivery_ranges=delivery_ranges(body for _, body in raw.objects),
    )
    storage.combined.write_hour(
        raw.hour,
        {COMBINED_CSV: table_to_csv(result.table), QUARANTINE: quarantine_to_ndjson(result.quarantine)},
        stats,
        token=raw.token,
        inputs={"raw_fingerprint": raw.fingerprint, "raw_objects": len(raw.listing)},
    )
    return stats


def combine_hour(storage: Storage, hour: datetime, token: CommitToken | None = None) -> dict[str, Any]:
    """Combine the raw objects of ``hour`` and commit its combined outputs; returns the stats."""
    return commit_combined(storage, read_raw_hour(storage, hour, token))


def previous_hour_ids(storage: Storage, hour: datetime) -> pa.Array:
    """Ids the previous hour committed: a tweet delivered into two adjacent hours stays in the earlier one.

    Only the previous hour is consulted, so the decision is the same whatever order (or concurrency) the hours
    run in once the previous hour is committed; an hour never drops an id because of a later hour."""
    previous = hour - timedelta(hours=1)
    if not storage.combined.is_committed(previous):
        return pa.array([], pa.string())
    return csv_ids(storage.combined.read_bytes(previous, COMBINED_CSV))


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
