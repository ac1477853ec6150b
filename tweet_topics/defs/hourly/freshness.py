"""Freshness: Dagster's time-partition freshness checks on the hourly assets, and the sensor that runs them.

Each hour is expected by a deadline after it closes: raw_tweets ~6 min after (Firehose buffer + the sensor's grace;
only where raw_tweets_sensor runs, i.e. production), combined_tweets by :20, tweet_topic_assignments (eager, after
filtered_tweets) by :45. A missed deadline fails the check (WARN); the alert sensor publishes it.
"""

import dagster as dg

from tweet_topics.automation_defaults import default_sensor_status
from tweet_topics.settings import get_settings

DEADLINES = {"combined_tweets": "20 * * * *", "tweet_topic_assignments": "45 * * * *"}
if get_settings().env == "prod":
    DEADLINES["raw_tweets"] = "15 * * * *"

freshness_checks = [
    check
    for asset, cron in DEADLINES.items()
    for check in dg.build_time_partition_freshness_checks(
        assets=[asset], deadline_cron=cron, timezone="UTC", severity=dg.AssetCheckSeverity.WARN
    )
]

freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=freshness_checks, minimum_interval_seconds=300, default_status=default_sensor_status()
)
