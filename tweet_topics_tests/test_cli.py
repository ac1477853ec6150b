"""The dagster CLI a user runs in CI, against the local stack: one hour, and a range as one run."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tweet_topics.storage.keys import parse_partition_key
from tweet_topics_tests.helpers import seed

ROOT = Path(__file__).resolve().parents[1]


def materialize_cli(resources: dict, home: Path, *partition_args: str) -> str:
    """`dagster asset materialize` of the hourly assets in a subprocess; returns its output."""
    env = {**os.environ, "TWEET_TOPICS_AWS_ENDPOINT_URL": resources["aws"].endpoint_url, "DAGSTER_HOME": str(home)}
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
            *partition_args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


def test_dagster_asset_materialize_one_partition(resources, bucket, tmp_path):
    key = next(iter(seed(resources, hours=1, tweets_per_hour=40).expected))
    assert "RUN_SUCCESS" in materialize_cli(resources, tmp_path, "--partition", key)
    meta = resources["storage"].s3.get(resources["storage"].filtered(parse_partition_key(key)) + "metadata.json")
    assert b'"input": ' in meta


def test_dagster_asset_materialize_partition_range_is_one_run(resources, bucket, tmp_path):
    """`--partition-range` runs a backfill of several hours as one run (BackfillPolicy.single_run)."""
    seeded = seed(resources, hours=3, tweets_per_hour=30)
    keys = sorted(seeded.expected)
    output = materialize_cli(resources, tmp_path, "--partition-range", f"{keys[0]}...{keys[-1]}")
    assert output.count("RUN_SUCCESS") == 1
    store, layout = resources["storage"].s3, resources["storage"]
    for key in keys:
        meta = json.loads(store.get(layout.combined.hour_prefix(parse_partition_key(key)) + "metadata.json"))
        assert meta["kept"] == seeded.expected[key]["kept"]
