"""What the streamer handed over, read from its ledger objects: the one place the "handed over per window / per
hour" logic lives (issue 26 #6), used by ``delivery_ledger``, the hourly ``no_data_while_streaming`` check and
``raw_tweets_sensor``.

"Handed" = Firehose accepted the records (``lib/ledger.py``'s contract). Ledger objects are written every ~30 s,
so an object written a couple of minutes into an hour speaks for records that Firehose filed under that hour.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tweet_topics.lib.ledger import count, merge
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.keys import partition_key

# Ledger objects written in an hour's first minutes may speak for records Firehose filed under the hour before.
LEDGER_LAG = timedelta(minutes=2)


def written_at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(entry["written_at"])).astimezone(UTC)


def read_ledger(storage: Storage, since: datetime, until: datetime | None = None) -> list[dict[str, Any]]:
    """Every ledger object written in [since, until), whether or not any hour was committed for that time.

    The listing is pre-filtered by LastModified (an object is never modified before it is written)."""
    listed = [o.key for o in storage.s3.list(storage.streamer.ledger_prefix) if o.last_modified >= since]
    entries = [json.loads(body) for _, body in storage.s3.get_many(listed)]
    return [e for e in entries if since <= written_at(e) and (until is None or written_at(e) < until)]


def handed_by_hour(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Records handed per hour (partition key), counting only ledger objects written after the hour's first
    ``LEDGER_LAG`` (those are sure to speak for that hour)."""
    out: dict[str, int] = {}
    for entry in entries:
        at = written_at(entry)
        hour = at.replace(minute=0, second=0, microsecond=0)
        if at - hour < LEDGER_LAG:
            continue
        key = partition_key(hour)
        out[key] = out.get(key, 0) + count(merge(entry.get("handed", [])))
    return dict(sorted(out.items()))


def handed_in_hour(storage: Storage, hour: datetime) -> int:
    """Records the streamer handed to Firehose during ``hour`` (0: the streamer was stopped or quiet)."""
    entries = read_ledger(storage, hour, hour + timedelta(hours=1))
    return handed_by_hour(entries).get(partition_key(hour), 0)
