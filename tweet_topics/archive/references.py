"""Which hours apply_deletions must rewrite: every hour whose committed data names an affected id, not only the ids'
own hours - a retweet, reply or quote can come hours or days after its tweet.

The combined hour is the complete record of what an hour stored (every kept row in ``tweets.csv``, every bad line
in ``quarantine.ndjson``; filtered and predictions are built from it), so the search reads those two files of every
committed hour from the earliest affected id's hour on (all hours when an id predates snowflakes), at most
``SCAN_WORKERS`` hours at a time. The CSV has no column projection on S3, so each is read whole: per day of history
72 GETs (commit marker, CSV, quarantine) and the day's combined bytes. Raw hours with no combined commit yet (a backlog)
are searched by the rewrite itself. Quarantined lines stored base64 (no UTF-8) are decoded before the search; an
oversize line is quarantined as its head only, so the raw object of a truncated entry is searched whole.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError

from tweet_topics.lib.archive.compliance import names_any, quarantine_names_any
from tweet_topics.lib.synthetic.generator import TWITTER_EPOCH_MS
from tweet_topics.storage.catalog import COMBINED_CSV, QUARANTINE, Storage
from tweet_topics.storage.keys import hour_from_key

SNOWFLAKE_SLACK = timedelta(hours=1)  # Firehose files by arrival: a tweet can sit in the hour after its own
SCAN_WORKERS = 8  # hours read at once (two objects each), as the report reads commits


def snowflake_hour(tweet_id: str) -> datetime | None:
    """The hour a snowflake id was made in; None for pre-snowflake ids (before Nov 2010), which carry no time."""
    if int(tweet_id) < 10**15:
        return None
    ms = (int(tweet_id) >> 22) + TWITTER_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, UTC).replace(minute=0, second=0, microsecond=0)


def _names(storage: Storage, hour: datetime, named: set[bytes]) -> bool:
    commit = storage.combined.read_commit(hour)
    for file in (COMBINED_CSV, QUARANTINE):
        try:
            body = storage.combined.read_bytes(hour, file, commit=commit)
        except ClientError:  # a racing recombine replaced the files just resolved: read the current ones
            body = storage.combined.read_bytes(hour, file)
        hit, truncated = quarantine_names_any(body, named) if file == QUARANTINE else (names_any(body, named), [])
        if hit or any(names_any(storage.s3.get(key), named) for key in truncated):
            return True
    return False


def hours_naming(storage: Storage, committed: list[datetime], ids: set[str]) -> set[datetime]:
    """Which of the ``committed`` combined hours hold a row or a quarantined line naming one of ``ids``."""
    named = {i.encode() for i in ids}
    with ThreadPoolExecutor(max_workers=SCAN_WORKERS) as pool:
        hits = list(pool.map(lambda h: _names(storage, h, named), committed))
    return {h for h, hit in zip(committed, hits, strict=True) if hit}


def candidate_hours(storage: Storage, ids: set[str]) -> tuple[list[datetime], int, set[datetime]]:
    """(raw hours to rewrite, committed hours searched, hours found naming one): each id's own hour and the next,
    every committed hour naming one (and the next: a copy there was dropped as a cross-hour duplicate), every raw
    hour not combined yet; all from the earliest id's hour on."""
    raw = {h for o in storage.s3.list(storage.raw_prefix) if (h := hour_from_key(storage.raw_prefix, o.key))}
    own = [snowflake_hour(i) for i in ids]
    since = None if not own or None in own else min(h for h in own if h is not None)
    wanted = {h + d for h in own if h is not None for d in (timedelta(0), SNOWFLAKE_SLACK)}
    committed = [h for h in storage.combined.committed_hours() if since is None or h >= since]
    found = hours_naming(storage, committed, ids) if ids else set()
    wanted |= {h + d for h in found for d in (timedelta(0), SNOWFLAKE_SLACK)}
    wanted |= {h for h in raw - set(committed) if since is None or h >= since}
    return sorted(wanted & raw), len(committed) if ids else 0, found
