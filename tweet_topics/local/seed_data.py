"""Write historical synthetic tweets straight into the bucket in Firehose's key layout (for backfills)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tweet_topics.lib.synthetic import FaultSpec, TweetGenerator, render_hour
from tweet_topics.settings import Settings

# What ``seed --faults`` and the demo inject per hour, so the combine's counts of bad lines are visible.
DEMO_FAULTS = FaultSpec(malformed_json=1, duplicates=2, legacy_tab_lines=2)


@dataclass
class SeedSummary:
    hours: int = 0
    objects: int = 0
    tweets: int = 0
    expected: dict[str, dict[str, Any]] = field(default_factory=dict)  # partition key -> expected counts
    topics: dict[str, str] = field(default_factory=dict)  # tweet id -> planted topic


def seed_hours(
    s3: Any,
    bucket: str,
    raw_prefix: str,
    stream: str,
    start: datetime,
    hours: int,
    tweets_per_hour: int = 200,
    objects_per_hour: int = 6,
    seed: int = 7,
    faults: FaultSpec | None = None,
) -> SeedSummary:
    """Generate ``hours`` hours from ``start`` and put them into S3; returns what a combine should find."""
    generator = TweetGenerator(seed=seed)
    summary = SeedSummary()
    for h in range(hours):
        hour = start + timedelta(hours=h)
        tweets = generator.tweets_between(hour, hour + timedelta(hours=1), tweets_per_hour)
        rendered = render_hour(tweets, hour, raw_prefix, stream, n_objects=objects_per_hour, faults=faults, seed=seed)
        for key, body in rendered.objects:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        summary.hours += 1
        summary.objects += len(rendered.objects)
        summary.tweets += len(tweets)
        summary.expected[f"{hour:%Y-%m-%d-%H}:00"] = {
            "kept": len(rendered.expected_ids),
            "malformed": sum(rendered.expected_malformed.values()),
            "duplicates": rendered.expected_duplicates,
            "objects": len(rendered.objects),
        }
        summary.topics.update({t.id: t.topic for t in tweets})
    return summary


def yesterday() -> datetime:
    """The default first seeded hour: yesterday 00:00 UTC (a full day that has closed)."""
    return (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def seed_bucket(
    settings: Settings, start: datetime, hours: int, tweets_per_hour: int, seed: int, faults: bool
) -> SeedSummary:
    """``seed_hours`` into the settings' bucket (created when missing), as ``seed`` and the demo run it."""
    from tweet_topics.storage.clients import ensure_bucket, make_client

    s3 = make_client(settings, "s3")
    ensure_bucket(s3, settings.bucket, settings.region)
    return seed_hours(
        s3,
        settings.bucket,
        settings.raw_prefix,
        settings.firehose_stream,
        start,
        hours,
        tweets_per_hour=tweets_per_hour,
        seed=seed,
        faults=DEMO_FAULTS if faults else None,
    )
