"""Decide which raw hours are closed and new or changed, from an S3 listing and a cursor.

An hour is closed once ``hour end + Firehose buffer + grace`` has passed. An hour's fingerprint is a hash of
its objects' keys and ETags. The cursor keeps the fingerprint last requested per recent hour, so a late or
replaced object re-requests that hour while an unchanged hour is not requested twice; and until the combined
commit records that very fingerprint, the hour is re-requested whenever the commit changes (a run that started
before a late object and committed last is followed by one that reads everything).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tweet_topics.storage.keys import hour_from_key, partition_key


def fingerprint(objects: Iterable[tuple[str, str]]) -> str:
    """A short hash of ``(key, etag)`` pairs, independent of listing order."""
    return hashlib.sha256(json.dumps(sorted(objects)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class HourSummary:
    hour: datetime
    objects: int
    bytes: int
    fingerprint: str


def summarize(listing: Iterable[tuple[str, int, str]], raw_prefix: str) -> dict[datetime, HourSummary]:
    """Group ``(key, size, etag)`` triples by their UTC hour folder."""
    groups: dict[datetime, list[tuple[str, int, str]]] = {}
    for key, size, etag in listing:
        hour = hour_from_key(raw_prefix, key)
        if hour is not None:
            groups.setdefault(hour, []).append((key, size, etag))
    return {
        hour: HourSummary(hour, len(items), sum(s for _, s, _ in items), fingerprint((k, e) for k, _, e in items))
        for hour, items in groups.items()
    }


def closed(hour: datetime, now: datetime, buffer: timedelta, grace: timedelta) -> bool:
    return hour + timedelta(hours=1) + buffer + grace <= now


@dataclass(frozen=True)
class Request:
    summary: HourSummary
    run_key: str


def plan(
    hours: dict[datetime, HourSummary],
    cursor: str | None,
    now: datetime,
    buffer: timedelta,
    grace: timedelta,
    lookback: timedelta,
    committed: Callable[[datetime], tuple[str, str] | None],
) -> tuple[list[Request], str]:
    """Hours to (re)process now, and the new cursor.

    ``committed(hour)`` returns ``(commit id, raw fingerprint it read)`` of the hour's combined commit, or None.
    The cursor maps each recent hour to ``[requested fingerprint, commit id re-requested against, done]``.
    """
    seen: dict[str, list[Any]] = {}
    for key, value in (json.loads(cursor) if cursor else {}).items():
        seen[key] = [value, None, True] if isinstance(value, str) else value  # older cursors: one fingerprint
    due = []
    for hour in sorted(hours):
        summary, key = hours[hour], partition_key(hour)
        if not closed(hour, now, buffer, grace):
            continue
        requested, asked_against, done = seen.get(key, [None, None, False])
        if requested != summary.fingerprint:
            due.append(Request(summary, f"{key}:{summary.fingerprint}"))
            # The commit there now is what the requested run starts from: only a *newer* commit that read
            # older objects calls for another request.
            current = committed(hour)
            seen[key] = [summary.fingerprint, current[0] if current else None, False]
            continue
        if done:
            continue
        commit = committed(hour)
        if commit is None:
            continue  # the requested run has not committed yet (or failed: run retries own that)
        commit_id, read = commit
        if read == summary.fingerprint:
            seen[key] = [requested, asked_against, True]
        elif commit_id != asked_against:  # a run that read older objects committed last: read everything again
            due.append(Request(summary, f"{key}:{summary.fingerprint}:{commit_id}"))
            seen[key] = [requested, commit_id, False]
    horizon = partition_key(now - lookback)
    kept = {k: v for k, v in seen.items() if k >= horizon}
    return due, json.dumps(kept, sort_keys=True)


def listing_start(raw_prefix: str, now: datetime, lookback: timedelta) -> str:
    """``StartAfter`` for list_objects_v2: skip hour folders older than the lookback (keys sort by time)."""
    oldest = now - lookback
    return f"{raw_prefix}{oldest:%Y/%m/%d/%H}/" if oldest.year > 2000 else raw_prefix


def within_partitions(due: list[Request], first: datetime) -> tuple[list[Request], list[Request]]:
    """(requests inside the partition range, requests for hours before its first partition - skipped, not fatal)."""
    return [r for r in due if r.summary.hour >= first], [r for r in due if r.summary.hour < first]
