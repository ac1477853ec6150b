"""Decide which raw hours are closed and new or changed, from an S3 listing and a cursor.

An hour is closed once ``hour end + Firehose buffer + grace`` has passed. The cursor keeps a fingerprint
(object count, bytes, last key) per recent hour, so a late object changes the fingerprint and re-requests
that hour, while an unchanged hour is never requested twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tweet_topics.storage.keys import hour_from_key, partition_key


@dataclass(frozen=True)
class HourSummary:
    hour: datetime
    objects: int
    bytes: int
    last_key: str

    @property
    def fingerprint(self) -> str:
        raw = f"{self.objects}:{self.bytes}:{self.last_key}"
        return hashlib.sha1(raw.encode()).hexdigest()[:12]


def summarize(listing: Iterable[tuple[str, int]], raw_prefix: str) -> dict[datetime, HourSummary]:
    """Group ``(key, size)`` pairs by their UTC hour folder."""
    groups: dict[datetime, list[tuple[str, int]]] = {}
    for key, size in listing:
        hour = hour_from_key(raw_prefix, key)
        if hour is not None:
            groups.setdefault(hour, []).append((key, size))
    return {
        hour: HourSummary(hour, len(items), sum(s for _, s in items), max(k for k, _ in items))
        for hour, items in groups.items()
    }


def closed(hour: datetime, now: datetime, buffer: timedelta, grace: timedelta) -> bool:
    return hour + timedelta(hours=1) + buffer + grace <= now


def plan(
    hours: dict[datetime, HourSummary],
    cursor: str | None,
    now: datetime,
    buffer: timedelta,
    grace: timedelta,
    lookback: timedelta,
) -> tuple[list[HourSummary], str]:
    """Hours to (re)process now, and the new cursor (fingerprints of hours inside ``lookback``)."""
    seen: dict[str, str] = json.loads(cursor) if cursor else {}
    due = []
    for hour in sorted(hours):
        summary = hours[hour]
        key = partition_key(hour)
        if closed(hour, now, buffer, grace) and seen.get(key) != summary.fingerprint:
            due.append(summary)
            seen[key] = summary.fingerprint
    horizon = partition_key(now - lookback)
    kept = {k: v for k, v in seen.items() if k >= horizon}
    return due, json.dumps(kept, sort_keys=True)


def listing_start(raw_prefix: str, now: datetime, lookback: timedelta) -> str:
    """``StartAfter`` for list_objects_v2: skip hour folders older than the lookback (keys sort by time)."""
    oldest = now - lookback
    return f"{raw_prefix}{oldest:%Y/%m/%d/%H}/" if oldest.year > 2000 else raw_prefix
