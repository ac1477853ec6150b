"""raw_tweets_sensor: records closed raw hours and requests the hourly pipeline for them."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import dagster as dg

from tweet_topics.automation_defaults import default_sensor_status
from tweet_topics.defs.ingest.handed import handed_by_hour, read_ledger
from tweet_topics.lib.hour_tracker import closed, listing_start, plan, summarize, within_partitions
from tweet_topics.partitions import HOURLY
from tweet_topics.settings import get_settings
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.hourly import HourNotCommitted
from tweet_topics.storage.keys import parse_partition_key, partition_key

hourly_pipeline_job = dg.define_asset_job(
    "hourly_pipeline_job",
    selection=dg.AssetSelection.assets("combined_tweets", "filtered_tweets"),
    description="combined_tweets then filtered_tweets for the requested hour(s)",
)

FIREHOSE_BUFFER = timedelta(seconds=get_settings().firehose_buffer_seconds)  # TWEET_TOPICS_FIREHOSE_BUFFER_SECONDS
GRACE = timedelta(minutes=5)
LOOKBACK = timedelta(hours=72)
RECHECK = timedelta(hours=6)  # closed hours whose corpus hour is compared with their combined commit each tick
REFILTER_AFTER = timedelta(minutes=15)


def _committed(storage: Storage) -> Callable[[datetime], tuple[str, str] | None]:
    """(commit id, raw fingerprint the commit read) of an hour's combined_tweets commit, or None."""

    def lookup(hour: datetime) -> tuple[str, str] | None:
        try:
            commit = storage.combined.read_commit(hour)
        except HourNotCommitted:
            return None
        return commit["committed_at"], commit.get("inputs", {}).get("raw_fingerprint", "")

    return lookup


def ledger_only_hours(storage: Storage, now: datetime, with_objects: set[datetime]) -> list[datetime]:
    """Closed hours the delivery ledger says had deliveries but that have no raw objects and no commit: they are
    requested too, so the hour is committed empty with no_data_while_streaming failing (missing is not empty)."""
    closed_before = now - timedelta(hours=1) - FIREHOSE_BUFFER - GRACE
    handed = handed_by_hour(read_ledger(storage, now - LOOKBACK))
    hours = [parse_partition_key(k) for k, n in handed.items() if n > 0]
    return [
        h
        for h in hours
        if h <= closed_before and h >= HOURLY.start and h not in with_objects and not storage.combined.is_committed(h)
    ]


def stale_filtered_hours(storage: Storage, hours: list[datetime], now: datetime) -> list[tuple[datetime, str]]:
    """(hour, combined commit) for recent hours whose corpus hour was filtered from an older combined commit than
    the current one, once that commit has settled (its own pipeline run had REFILTER_AFTER to filter it): the
    hour converges even when the run that read the newer commit died (issue 26 #5)."""
    out = []
    for hour in hours:
        try:
            combined = storage.combined.read_commit(hour)
            built_from = storage.filtered.read_commit(hour).get("inputs", {}).get("combined_commit")
        except HourNotCommitted:
            continue
        current = combined["committed_at"]
        if built_from != current and datetime.fromisoformat(current) + REFILTER_AFTER <= now:
            out.append((hour, current))
    return out


@dg.sensor(job=hourly_pipeline_job, minimum_interval_seconds=60, default_status=default_sensor_status())
def raw_tweets_sensor(context: dg.SensorEvaluationContext, storage: Storage) -> dg.SensorResult:
    """Watch the raw prefix; once an hour is closed, record it and run the hourly assets for it.

    A late object changes that hour's fingerprint and so re-requests the hour (its run key changes too); an hour
    whose commit read older objects than are there now is requested again.
    """
    now = datetime.now(UTC)
    raw_prefix = storage.raw_prefix
    start_after = listing_start(raw_prefix, now, LOOKBACK)
    hours = summarize(((o.key, o.size, o.etag) for o in storage.s3.list(raw_prefix, start_after)), raw_prefix)
    due, cursor = plan(hours, context.cursor, now, FIREHOSE_BUFFER, GRACE, LOOKBACK, committed=_committed(storage))
    # A raw hour outside the partition range (e.g. before TWEET_TOPICS_PARTITIONS_START) is skipped, not fatal.
    first = HOURLY.start
    due, outside = within_partitions(due, first)
    if outside:
        context.log.warning(
            f"skipping {len(outside)} raw hour(s) before the first partition {partition_key(first)}: "
            + ", ".join(partition_key(r.summary.hour) for r in outside[:5])
        )
    recent = [h for h in hours if closed(h, now, FIREHOSE_BUFFER, GRACE) and h >= now - RECHECK and h >= first]
    stale = stale_filtered_hours(storage, recent, now)
    missing = ledger_only_hours(storage, now, set(hours))
    if missing:
        context.log.warning(
            f"{len(missing)} closed hour(s) with deliveries in the ledger but no raw objects: "
            + ", ".join(partition_key(h) for h in missing[:5])
        )
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=r.run_key,
                partition_key=partition_key(r.summary.hour),
                tags={"tweet_topics/trigger": "raw_tweets_sensor"},
            )
            for r in due
        ]
        + [
            dg.RunRequest(
                run_key=f"ledger-only-{partition_key(h)}",  # once per hour: a later raw object has its own key
                partition_key=partition_key(h),
                tags={"tweet_topics/trigger": "raw_tweets_sensor", "tweet_topics/reason": "ledger_without_objects"},
            )
            for h in missing
        ]
        + [
            dg.RunRequest(
                run_key=f"refilter-{partition_key(h)}-{commit}",  # once per combined commit
                partition_key=partition_key(h),
                asset_selection=[dg.AssetKey("filtered_tweets")],
                tags={
                    "tweet_topics/trigger": "raw_tweets_sensor",
                    "tweet_topics/reason": "filtered_from_older_combined",
                },
            )
            for h, commit in stale
        ],
        asset_events=[
            dg.AssetMaterialization(
                asset_key="raw_tweets",
                partition=partition_key(r.summary.hour),
                metadata={"objects": r.summary.objects, "bytes": r.summary.bytes, "fingerprint": r.summary.fingerprint},
            )
            for r in due
        ],
        cursor=cursor,
    )
