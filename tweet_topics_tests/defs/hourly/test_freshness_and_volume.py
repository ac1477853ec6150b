"""Freshness: combined_tweets' freshness check fails while the latest closed hour is missing and passes once it is
materialized. Volume: an hour far outside its trailing 24 h warns; an ordinary one does not."""

from datetime import UTC, datetime, timedelta

import dagster as dg

import tweet_topics.definitions  # noqa: F401  (first: it filters the known warnings, as the code location does)
from tweet_topics.defs.hourly import checks
from tweet_topics.defs.hourly.freshness import freshness_checks, freshness_sensor
from tweet_topics.partitions import HOURLY


def _run_check(instance: dg.DagsterInstance) -> dg.AssetCheckEvaluation:
    check = next(
        c
        for c in freshness_checks
        if dg.AssetKey("combined_tweets") in c.keys_by_input_name.values()
        or any(k.asset_key == dg.AssetKey("combined_tweets") for k in c.check_keys)
    )
    spec = dg.AssetSpec("combined_tweets", partitions_def=HOURLY)
    result = dg.materialize([spec, check], instance=instance, selection=dg.AssetSelection.checks(*check.check_keys))
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_freshness_fails_while_the_last_closed_hour_is_missing():
    instance = dg.DagsterInstance.ephemeral()
    assert not _run_check(instance).passed
    now = datetime.now(UTC)
    # The hour the deadline (:20) expects: the last hour that closed before the most recent deadline.
    deadline = now.replace(minute=20, second=0, microsecond=0)
    deadline = deadline if deadline <= now else deadline - timedelta(hours=1)
    expected = (deadline - timedelta(hours=1)).replace(minute=0)
    instance.report_runless_asset_event(
        dg.AssetMaterialization("combined_tweets", partition=expected.strftime("%Y-%m-%d-%H:00"))
    )
    assert _run_check(instance).passed
    assert freshness_sensor.default_status == dg.DefaultSensorStatus.STOPPED  # local: off by default


def test_volume_warns_beyond_four_sigma_only():
    trailing = [100, 104, 96, 101, 99, 100, 102, 98]
    assert checks.volume_outcome(101, trailing)[0]
    passed, details = checks.volume_outcome(0, trailing)  # an outage
    assert not passed and details["z"] < -4
    assert checks.volume_outcome(0, trailing[:3]) == (
        True,
        {"records": 0, "trailing_hours": 3, "why": "not enough trailing hours yet"},
    )
