"""topic_trends through `materialize` on synthetic scored hours in moto: a planted shift warns, a flat day passes."""

import json
import random
from datetime import UTC, datetime, timedelta

import dagster as dg
import pyarrow as pa

from tweet_topics.defs.reports.trends import topic_trends
from tweet_topics.storage.catalog import PREDICTIONS_PARQUET
from tweet_topics.storage.hourly import parquet_bytes
from tweet_topics.storage.keys import partition_key

START = datetime(2026, 3, 1, tzinfo=UTC)
WORDS = ["rocket", "orbit", "crater", "rover", "galaxy", "infrared", "booster", "launchpad", "telescope", "nebula"]


def scored_hour(rng: random.Random, shares=(0.4, 0.35, 0.25), burst: str | None = None) -> pa.Table:
    topics = rng.choices([0, 1, 2], weights=shares, k=200)
    texts = [" ".join(rng.sample(WORDS, 4)) + (f" {burst}" if burst and i < 40 else "") for i in range(200)]
    return pa.table(
        {
            "id": [str(i) for i in range(200)],
            "clean_text": texts,
            "dominant_topic": topics,
            "dominant_prob": [rng.uniform(0.6, 0.9) for _ in range(200)],
        }
    )


def plant(resources, last: pa.Table, last_version: str = "none") -> str:
    """24 flat hours then ``last`` (scored by ``last_version``); returns the last hour's partition key."""
    rng = random.Random(1)
    predictions = resources["storage"].predictions
    for i in range(25):
        table = scored_hour(rng) if i < 24 else last
        meta = {"model_version": "none" if i < 24 else last_version, "tweets": table.num_rows}
        predictions.write_hour(START + timedelta(hours=i), {PREDICTIONS_PARQUET: parquet_bytes(table)}, meta)
    return partition_key(START + timedelta(hours=24))


def run(resources, key: str) -> tuple[dg.AssetCheckEvaluation, dict]:
    result = dg.materialize([topic_trends], resources=resources, partition_key=key)
    assert result.success
    check = result.get_asset_check_evaluations()[0]
    stored = json.loads(resources["storage"].trends.read_bytes(START + timedelta(hours=24), "trends.json"))
    return check, stored


def test_flat_hour_passes_the_drift_check(bucket, resources):
    check, stored = run(resources, plant(resources, scored_hour(random.Random(2))))
    assert check.passed and stored["alerts"] == [] and stored["baseline_hours"] == 24
    assert stored["emerging_terms"] == []


def test_planted_shift_and_burst_warn(bucket, resources):
    check, stored = run(resources, plant(resources, scored_hour(random.Random(2), (0.1, 0.3, 0.6), "starship")))
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "refit" in check.description
    assert {"topic 0", "topic 2"} <= set(stored["alerts"])
    assert [t["term"] for t in stored["emerging_terms"]] == ["starship"]


def test_hours_of_another_model_are_no_baseline(bucket, resources):
    """After a refit the new model's topic ids are not the old one's: the shifted hour is compared with nothing."""
    shifted = scored_hour(random.Random(2), (0.1, 0.3, 0.6), "starship")
    check, stored = run(resources, plant(resources, shifted, last_version="refit"))
    assert check.passed and stored["alerts"] == [] and stored["baseline_hours"] == 0
