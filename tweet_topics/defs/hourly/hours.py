"""One hour's work for the hourly assets: read from the storage layer, call the plain-Python logic, write the hour.

Kept apart from the asset functions so a backfill can loop over hours and benchmarks can call it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from tweet_topics.archive.tombstones import load_tombstones
from tweet_topics.defs.hourly import checks
from tweet_topics.lib.archive.tombstones import drop_tombstoned
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
from tweet_topics.storage.hourly import CommitToken, StaleCommit, parquet_bytes
from tweet_topics.storage.keys import partition_key
from tweet_topics.storage.s3 import ObjectInfo

FILTER_ATTEMPTS = 3


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


def commit_combined(storage: Storage, raw: RawHour, tombstones: set[str] | None = None) -> dict[str, Any]:
    """Combine what was read and commit it; refused (StaleCommit) if another run committed since ``raw.token``.

    The commit records the fingerprint of the raw objects actually read, and the blocking checks that fail on
    what it commits (``failed_checks``: the gate filtered_tweets reads). Tweets deleted on X (``tombstones``,
    read from storage when not given) are dropped, so a replay cannot bring them back."""
    result = combine_objects(raw.objects, hour=raw.hour)
    drop_known_ids(result, previous_hour_ids(storage, raw.hour))
    drop_tombstoned(result, load_tombstones(storage) if tombstones is None else tombstones)
    files = {COMBINED_CSV: table_to_csv(result.table), QUARANTINE: quarantine_to_ndjson(result.quarantine)}
    raw_lines = checks.count_lines(body for _, body in raw.objects)
    stats = dict(
        result.stats,
        partition=partition_key(raw.hour),
        raw_fingerprint=raw.fingerprint,
        delivery_ranges=delivery_ranges(body for _, body in raw.objects),
    )
    stats["failed_checks"] = checks.gate_failures(
        raw_lines, stats, result.table.num_rows, files[COMBINED_CSV], files[QUARANTINE]
    )
    commit = storage.combined.write_hour(
        raw.hour,
        files,
        stats,
        token=raw.token,
        inputs={"raw_fingerprint": raw.fingerprint, "raw_objects": len(raw.listing)},
    )
    return dict(stats, commit=commit["committed_at"], raw_objects=len(raw.listing))


def combine_hour(
    storage: Storage, hour: datetime, token: CommitToken | None = None, tombstones: set[str] | None = None
) -> dict[str, Any]:
    """Combine the raw objects of ``hour`` and commit its combined outputs; returns the stats."""
    return commit_combined(storage, read_raw_hour(storage, hour, token), tombstones)


def previous_hour_ids(storage: Storage, hour: datetime) -> pa.Array:
    """Ids the previous hour committed: a tweet delivered into two adjacent hours stays in the earlier one.

    Only the previous hour is consulted, so the decision is the same whatever order (or concurrency) the hours
    run in once the previous hour is committed; an hour never drops an id because of a later hour."""
    previous = hour - timedelta(hours=1)
    if not storage.combined.is_committed(previous):
        return pa.array([], pa.string())
    return csv_ids(storage.combined.read_bytes(previous, COMBINED_CSV))


def filter_hour(
    storage: Storage,
    hour: datetime,
    blocklist: Blocklist,
    min_words: int,
    languages: tuple[str, ...],
    token: CommitToken | None = None,
) -> dict[str, Any]:
    """Filter one combined hour into the modeling corpus; returns per-reason counts.

    Converges when runs of one hour race: a refused commit (another run committed since ``token``) is retried
    on the combined commit current now, unless the run that won already read that commit."""
    for _ in range(FILTER_ATTEMPTS):
        token = token or storage.filtered.begin(hour)
        try:
            return _filter_once(storage, hour, blocklist, min_words, languages, token)
        except StaleCommit:
            token = storage.filtered.begin(hour)
            winner = token.previous or {}
            if winner.get("inputs", {}).get("combined_commit") == storage.combined.read_commit(hour)["committed_at"]:
                return dict(winner["metadata"], commit=winner["committed_at"], converged="a racing run's commit")
    raise StaleCommit(f"filtered_tweets {partition_key(hour)}: refused {FILTER_ATTEMPTS} times by racing runs")


def _filter_once(
    storage: Storage,
    hour: datetime,
    blocklist: Blocklist,
    min_words: int,
    languages: tuple[str, ...],
    token: CommitToken,
) -> dict[str, Any]:
    """One attempt: read the current combined commit, filter (or hold back a gated hour), commit."""
    combined_commit = storage.combined.read_commit(hour)
    combined = csv_to_table(storage.combined.read_bytes(hour, COMBINED_CSV, commit=combined_commit))
    blocked_by = sorted(combined_commit["metadata"].get("failed_checks") or {})
    held_back = combined.num_rows if blocked_by else 0
    result = filter_tweets(
        combined.slice(0, 0) if blocked_by else combined, blocklist, min_words=min_words, languages=languages
    )
    stats = dict(
        result.counts,
        partition=partition_key(hour),
        min_words=min_words,
        languages=list(languages),
        blocklist_terms=len(blocklist.terms),
        blocked_by=blocked_by,
        held_back=held_back,
    )
    commit = storage.filtered.write_hour(
        hour,
        {FILTERED_PARQUET: parquet_bytes(result.kept), REJECTED_PARQUET: parquet_bytes(result.rejected)},
        stats,
        token=token,
        inputs={"combined_commit": combined_commit["committed_at"]},
    )
    return dict(stats, commit=commit["committed_at"])
