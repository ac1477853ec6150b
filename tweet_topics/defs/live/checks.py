"""live_reconciles_with_batch: the live results of each recently scored hour agree with tweet_topic_assignments.

The hourly batch stays the system of record; this check says whether the live numbers people watched were right.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import dagster as dg

from tweet_topics.defs.live.assets import LIVE_TOPIC_SHARES
from tweet_topics.live.reconcile import reconcile_hour
from tweet_topics.storage.catalog import Storage

HOURS_BACK = 24


def recent_scored_hours(storage: Storage, now: datetime, hours_back: int = HOURS_BACK) -> list[datetime]:
    """Hours of the last ``hours_back`` that tweet_topic_assignments has committed."""
    top = now.replace(minute=0, second=0, microsecond=0)
    hours = [top - timedelta(hours=i) for i in range(hours_back, -1, -1)]
    return [h for h in hours if storage.predictions.is_committed(h)]


@dg.asset_check(
    asset=LIVE_TOPIC_SHARES.key,
    description="per arrival hour scored by the batch with the live model version: the same tweet ids and "
    ">= 99% dominant-topic agreement; a mismatch names the minutes",
)
def live_reconciles_with_batch(storage: Storage) -> dg.AssetCheckResult:
    results = [reconcile_hour(storage, hour) for hour in recent_scored_hours(storage, datetime.now(UTC))]
    failing = [r for r in results if r.status == "mismatch"]
    compared = [r for r in results if r.status != "skipped"]
    description = "; ".join(f"{r.hour}: {r.reason} (minutes {', '.join(r.minutes[:10])})" for r in failing)
    return dg.AssetCheckResult(
        passed=not failing,
        description=description or f"{len(compared)} hours compared, all match",
        metadata={
            "hours_compared": len(compared),
            "hours_skipped": len(results) - len(compared),
            "failing_minutes": dg.MetadataValue.json({r.hour: r.minutes for r in failing}),
            "hours": dg.MetadataValue.json([asdict(r) for r in results]),
        },
    )
