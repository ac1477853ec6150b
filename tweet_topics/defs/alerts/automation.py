"""What runs by itself: in production (TWEET_TOPICS_ENV=prod) the automation sensor (eager assets: delivery_ledger,
assignments, trends), raw_tweets_sensor, the freshness and alert sensors, the weekly refit and the drift refit are
on by default; locally they are off until switched on in the UI (a laptop does not process by itself).

The topic model is refit weekly (topics_job with its default window, the last 168 h; past hours are re-scored only
on request), and a failing topic_share_drift check requests a refit, at most once per 24 h.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from tweet_topics.automation_defaults import default_schedule_status, default_sensor_status
from tweet_topics.defs.topics.jobs import topics_job

REFIT_EVERY = timedelta(hours=24)  # a drift refit at most this often
DRIFT_CHECK = dg.AssetCheckKey(dg.AssetKey("topic_trends"), "topic_share_drift")

automation_sensor = dg.AutomationConditionSensorDefinition(
    "default_automation_condition_sensor",  # the name Dagster gives its implicit one: the UI reads the same
    target=dg.AssetSelection.all(),
    default_status=default_sensor_status(),
)

weekly_refit = dg.ScheduleDefinition(
    name="weekly_topic_refit",
    job=topics_job,
    cron_schedule="0 4 * * 1",  # Mondays 04:00 UTC
    execution_timezone="UTC",
    description="Refit the topic model on the last 168 hours every week (topics_job's default window).",
    default_status=default_schedule_status(),
)


def _latest_check_event(instance: dg.DagsterInstance) -> int:
    records = instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION), limit=1
    )
    return records[0].storage_id if records else 0


@dg.sensor(job=topics_job, minimum_interval_seconds=300, default_status=default_sensor_status())
def drift_refit_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """A failed topic_share_drift evaluation requests topics_job, unless a drift refit was requested in the last
    24 h (the drift is then logged and left to the next allowed refit)."""
    now = datetime.now(UTC)
    if not context.cursor:
        cursor = {"seen": _latest_check_event(context.instance), "last_refit": None}
        return dg.SensorResult(cursor=json.dumps(cursor), skip_reason="first tick: watching from now")
    cursor = json.loads(context.cursor)
    records = context.instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=cursor["seen"]),
        limit=500,
        ascending=True,
    )
    drifted = [
        r
        for r in records
        if r.event_log_entry.dagster_event
        and r.event_log_entry.dagster_event.event_specific_data.asset_check_key == DRIFT_CHECK
        and not r.event_log_entry.dagster_event.event_specific_data.passed
    ]
    cursor["seen"] = max((r.storage_id for r in records), default=cursor["seen"])
    last = datetime.fromisoformat(cursor["last_refit"]) if cursor["last_refit"] else None
    if not drifted:
        return dg.SensorResult(cursor=json.dumps(cursor), skip_reason="no failed topic_share_drift")
    if last is not None and now - last < REFIT_EVERY:
        context.log.info(f"topic drift again; a refit was requested at {last:%Y-%m-%d %H:%M} UTC (one per 24 h)")
        return dg.SensorResult(cursor=json.dumps(cursor), skip_reason="refit requested within the last 24 h")
    cursor["last_refit"] = now.isoformat()
    request = dg.RunRequest(
        run_key=f"drift-refit-{now:%Y%m%dT%H%M}",
        tags={"tweet_topics/trigger": "topic_share_drift", "tweet_topics/drifted_evaluations": str(len(drifted))},
    )
    return dg.SensorResult(run_requests=[request], cursor=json.dumps(cursor))
