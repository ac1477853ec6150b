"""The dagster CLI a user runs in CI, against the local stack: materialize one hour of the hourly assets."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tweet_topics_tests.helpers import seed

ROOT = Path(__file__).resolve().parents[1]


def test_dagster_asset_materialize_one_partition(resources, bucket, tmp_path):
    seeded = seed(resources, hours=1, tweets_per_hour=40)
    key = next(iter(seeded.expected))
    env = {**os.environ, "TWEET_TOPICS_AWS_ENDPOINT_URL": resources["aws"].endpoint_url, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            "tweet_topics.definitions",
            "--select",
            "combined_tweets,filtered_tweets",
            "--partition",
            key,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "RUN_SUCCESS" in result.stdout + result.stderr
    store, layout = resources["s3"], resources["layout"]
    from tweet_topics.lib.layout import parse_partition_key

    meta = store.get(layout.filtered(parse_partition_key(key)) + "metadata.json")
    assert b'"input": ' in meta


def test_dagster_asset_materialize_partition_range_is_one_run(resources, bucket, tmp_path):
    """`--partition-range` runs a backfill of several hours as one run (BackfillPolicy.single_run)."""
    seeded = seed(resources, hours=3, tweets_per_hour=30)
    keys = sorted(seeded.expected)
    env = {**os.environ, "TWEET_TOPICS_AWS_ENDPOINT_URL": resources["aws"].endpoint_url, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            "tweet_topics.definitions",
            "--select",
            "combined_tweets,filtered_tweets",
            "--partition-range",
            f"{keys[0]}...{keys[-1]}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert output.count("RUN_SUCCESS") == 1
    from tweet_topics.lib.layout import parse_partition_key

    store, layout = resources["s3"], resources["layout"]
    for key in keys:
        meta = json.loads(store.get(layout.combined(parse_partition_key(key)) + "metadata.json"))
        assert meta["kept"] == seeded.expected[key]["kept"]
