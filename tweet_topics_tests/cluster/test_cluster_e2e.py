"""The topic chain on a real standalone cluster (two worker JVMs) against moto, compared with a local[*] run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import dagster as dg

from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
from tweet_topics.defs.topics.assets import topic_corpus, topic_model, topic_terms
from tweet_topics.defs.topics.assignments import tweet_topic_assignments
from tweet_topics.storage.catalog import PREDICTIONS_PARQUET
from tweet_topics.storage.keys import parse_partition_key
from tweet_topics_tests.cluster.conftest import SparkCluster
from tweet_topics_tests.cluster.run_topics import TOPIC_RUN_CONFIG
from tweet_topics_tests.helpers import materialize_range, seed

HOURLY = [RAW_TWEETS, combined_tweets, filtered_tweets]
TOPICS = [topic_corpus, topic_model, topic_terms]
EVERYTHING = [*HOURLY, *TOPICS, tweet_topic_assignments]


def _outputs(storage, keys: list[str]) -> tuple[list[set[str]], dict[str, int]]:
    manifest = storage.models.manifest(storage.models.latest())
    terms = [set(t["terms"]) for t in manifest["topics"]]
    dominant: dict[str, int] = {}
    for key in keys:
        table = storage.predictions.read_parquet(parse_partition_key(key), PREDICTIONS_PARQUET)
        dominant.update(zip(table["id"].to_pylist(), table["dominant_topic"].to_pylist(), strict=True))
    return terms, dominant


def test_topic_chain_on_a_standalone_cluster_matches_local(
    spark_cluster: SparkCluster, resources, bucket, spark, moto_endpoint, tmp_path
):
    storage = resources["storage"]
    seeded = seed(resources, hours=3, tweets_per_hour=400, seed_value=31)
    keys = sorted(seeded.expected)
    assert materialize_range(HOURLY, resources, keys[0], keys[-1]).success
    assert dg.materialize(
        [*HOURLY, *TOPICS], selection=TOPICS, resources=resources, run_config=TOPIC_RUN_CONFIG
    ).success
    assert materialize_range(EVERYTHING, resources, keys[0], keys[-1], selection=[tweet_topic_assignments]).success
    local_terms, local_dominant = _outputs(storage, keys)
    for prefix in (storage.corpus_prefix, storage.models_prefix, storage.predictions_prefix):
        storage.s3.delete_keys([o.key for o in storage.s3.list(prefix)])

    env = {
        **os.environ,
        "TWEET_TOPICS_SPARK_MASTER": spark_cluster.master_url,
        "TWEET_TOPICS_AWS_ENDPOINT_URL": moto_endpoint,
        "TWEET_TOPICS_LOCAL_DIR": str(tmp_path / "driver"),
        "TWEET_TOPICS_SPARK_DRIVER_MEMORY": "1g",
    }
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "tweet_topics_tests.cluster.run_topics", keys[0], keys[-1]],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    elapsed = time.monotonic() - started
    lines = [line for line in run.stdout.splitlines() if line.startswith("EVIDENCE ")]
    assert run.returncode == 0 and lines, run.stderr[-4000:]
    evidence = json.loads(lines[-1].removeprefix("EVIDENCE "))
    print(f"cluster run: {elapsed:.1f} s")
    for line in run.stderr.splitlines():  # where the cluster run's time goes (pytest -s shows it)
        if " - STEP_START - " in line or " - STEP_SUCCESS - " in line or "RUN_START" in line:
            print(line[:160])

    assert evidence["master"] == spark_cluster.master_url and evidence["block_managers"] == 3
    cluster_terms, cluster_dominant = _outputs(storage, keys)
    assert cluster_terms == local_terms
    assert cluster_dominant.keys() == local_dominant.keys() and len(local_dominant) > 1000
    agree = sum(cluster_dominant[i] == local_dominant[i] for i in local_dominant) / len(local_dominant)
    assert agree >= 0.99, agree

    # Every corpus and predictions object was put by a Spark task running under an executor JVM, not the driver.
    objects = evidence["objects"]
    assert len(objects) == evidence["hours"][1] + len([k for k in objects if k.startswith(storage.corpus_prefix)])
    assert evidence["hours"][1] == len(keys)
    for key, meta in objects.items():
        assert meta.get("writer-task", "driver") != "driver", key
        assert int(meta["writer-pid"]) != evidence["driver_pid"], key
        assert int(meta["writer-jvm-pid"]) not in (0, evidence["driver_jvm_pid"]), key
        assert "CoarseGrainedExecutorBackend" in evidence["jvm_commands"][meta["writer-jvm-pid"]], key
