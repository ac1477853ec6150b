"""Write historical synthetic tweets straight into the bucket in Firehose's key layout (for backfills)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tweet_topics.lib.synthetic import FaultSpec, TweetGenerator, render_hour


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
