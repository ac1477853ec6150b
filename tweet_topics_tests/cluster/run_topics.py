"""Driver program for the cluster test: the topic chain through ``dg.materialize`` on ``TWEET_TOPICS_SPARK_MASTER``.

Runs in its own process because a Python process holds one SparkContext (the test session's is local[*]).
Prints one JSON object: the driver's pids, the executors Spark knows, and the writer identity of every corpus
and predictions object, with the command line of each JVM that wrote one (read while the executors still run).
Usage: python -m tweet_topics_tests.cluster.run_topics FIRST_PARTITION LAST_PARTITION
"""

from __future__ import annotations

import json
import os
import sys

import dagster as dg

# Both runs (local[*] in the test, the cluster here) fit with this: a ~1,200-document corpus needs no more than
# ~3 passes to settle from the k-means start (the default 20,000 visits: 10 passes, 4 Spark jobs each).
TOPIC_RUN_CONFIG = {"ops": {"topic_model": {"config": {"min_visits": 2_500}}}}


def _command(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def main(first: str, last: str) -> dict:
    from pyspark.sql import SparkSession

    from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
    from tweet_topics.defs.resources import build_resources
    from tweet_topics.defs.topics.assets import topic_corpus, topic_model, topic_terms
    from tweet_topics.defs.topics.assignments import tweet_topic_assignments
    from tweet_topics.settings import get_settings
    from tweet_topics.storage.catalog import PREDICTIONS_PARQUET
    from tweet_topics.storage.keys import parse_partition_key
    from tweet_topics_tests.helpers import materialize_range

    resources = build_resources(get_settings())
    hourly, topics = [RAW_TWEETS, combined_tweets, filtered_tweets], [topic_corpus, topic_model, topic_terms]
    assert dg.materialize(
        [*hourly, *topics], selection=topics, resources=resources, run_config=TOPIC_RUN_CONFIG
    ).success
    everything = [*hourly, *topics, tweet_topic_assignments]
    assert materialize_range(everything, resources, first, last, selection=[tweet_topic_assignments]).success
    spark = SparkSession.getActiveSession()
    assert spark is not None
    storage = resources["storage"]
    corpus = storage.corpus.manifest(storage.corpus.latest())
    hours = [h for h in storage.predictions.committed_hours()]
    keys = [e["key"] for e in corpus["files"]]
    keys += [entry["key"] for _, entry in storage.predictions.committed_files(hours, PREDICTIONS_PARQUET)]
    s3 = storage.s3.aws.client("s3")
    objects = {key: s3.head_object(Bucket=storage.bucket, Key=key)["Metadata"] for key in keys}
    jvms = {meta.get("writer-jvm-pid", "") for meta in objects.values()}
    executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size()  # driver included
    return {
        "master": spark.sparkContext.master,
        "driver_pid": os.getpid(),
        "driver_jvm_pid": int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()),
        "block_managers": int(executors),
        "objects": objects,
        "jvm_commands": {pid: _command(pid) for pid in jvms if pid},
        "hours": [str(parse_partition_key(first)), len(hours)],
    }


if __name__ == "__main__":
    print("EVIDENCE " + json.dumps(main(sys.argv[1], sys.argv[2])))
