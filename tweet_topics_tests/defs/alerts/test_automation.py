"""What runs by itself: in prod the sensors and the weekly refit are on by default, locally off; a failing
topic_share_drift requests a refit, at most once per 24 h."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import dagster as dg

from tweet_topics.defs.alerts.automation import DRIFT_CHECK, drift_refit_sensor, weekly_refit

ON_BY_DEFAULT = [
    "raw_tweets_sensor",
    "default_automation_condition_sensor",
    "freshness_checks_sensor",
    "alerts_sensor",
    "drift_refit_sensor",
    "streamer_supervisor",
    "live_supervisor",
]
PROBE = """
import json
from tweet_topics.defs.alerts.automation import automation_sensor, drift_refit_sensor, weekly_refit
from tweet_topics.defs.alerts.sensors import alerts_sensor
from tweet_topics.defs.hourly.freshness import freshness_sensor
from tweet_topics.defs.ingest.sensors import raw_tweets_sensor
from tweet_topics.defs.live.sensors import live_supervisor
from tweet_topics.defs.streaming.sensors import streamer_supervisor
items = [automation_sensor, drift_refit_sensor, weekly_refit, alerts_sensor, freshness_sensor, raw_tweets_sensor,
         streamer_supervisor, live_supervisor]
print(json.dumps({d.name: d.default_status.value for d in items}))
"""


def _prod_defaults() -> dict[str, str]:
    """Default statuses as a prod code location loads them (settings are read at import: a fresh process)."""
    environ = {k: v for k, v in os.environ.items() if k != "TWEET_TOPICS_AWS_ENDPOINT_URL"}  # prod refuses one
    environ["TWEET_TOPICS_ENV"] = "prod"
    out = subprocess.run([sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_automation_is_on_by_default_in_prod_and_off_locally():
    from tweet_topics.definitions import defs  # this test session is local

    repo = defs.get_repository_def()
    local = {s.name: s.default_status.value for s in [*repo.sensor_defs, *repo.schedule_defs]}
    prod = _prod_defaults()
    assert {name: prod[name] for name in [*ON_BY_DEFAULT, weekly_refit.name]} == dict.fromkeys(
        [*ON_BY_DEFAULT, weekly_refit.name], "RUNNING"
    )
    assert {name: local[name] for name in [*ON_BY_DEFAULT, weekly_refit.name]} == dict.fromkeys(
        [*ON_BY_DEFAULT, weekly_refit.name], "STOPPED"
    )
    assert weekly_refit.cron_schedule == "0 4 * * 1" and weekly_refit.job_name == "topics_job"


def _drift(instance: dg.DagsterInstance, passed: bool) -> None:
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(
            asset_key=DRIFT_CHECK.asset_key,
            check_name=DRIFT_CHECK.name,
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
        )
    )


def test_a_failing_drift_check_requests_one_refit_per_24_hours():
    instance = dg.DagsterInstance.ephemeral()

    def tick(cursor):
        with dg.build_sensor_context(instance=instance, cursor=cursor) as context:
            return drift_refit_sensor(context)

    cursor = tick(None).cursor
    _drift(instance, passed=True)
    quiet = tick(cursor)
    assert not quiet.run_requests
    _drift(instance, passed=False)
    first = tick(quiet.cursor)
    assert len(first.run_requests) == 1 and first.run_requests[0].tags["tweet_topics/trigger"] == "topic_share_drift"
    _drift(instance, passed=False)
    again = tick(first.cursor)
    assert not again.run_requests, "a second refit within 24 h"
    # A day later the drift persists: one more refit.
    state = json.loads(again.cursor)
    state["last_refit"] = (datetime.now(UTC) - timedelta(hours=25)).isoformat()
    _drift(instance, passed=False)
    later = tick(json.dumps(state))
    assert len(later.run_requests) == 1
