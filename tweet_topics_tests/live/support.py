"""Helpers of the live tests: a tiny topic model fitted with the project's own pipeline, raw objects at now."""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from tweet_topics.defs.hourly.assets import FilterConfig
from tweet_topics.lib.combine import combine_objects
from tweet_topics.lib.filtering import Blocklist, filter_tweets
from tweet_topics.lib.records import dumps_record, record_from_v2
from tweet_topics.lib.synthetic.firehose import firehose_key
from tweet_topics.lib.synthetic.generator import TweetGenerator
from tweet_topics.lib.topics.pipeline import LdaParams, build_pipeline
from tweet_topics.lib.topics.text import cleaned_text_column
from tweet_topics.storage.catalog import Storage

_FITTED: dict[int, tuple[Path, list[dict]]] = {}  # seed -> (saved pipeline, topics): one fit per test session


def fit_tiny_model(spark, storage: Storage, version: str, tmp: Path, seed: int = 3) -> str:
    """Store a k=3 online LDA fitted on 300 synthetic tweets as ``version`` (latest.json points at it)."""
    if seed not in _FITTED:
        start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
        tweets = TweetGenerator(seed=seed).tweets_between(start, end, 300)
        frame = spark.createDataFrame([(record_from_v2(t.payload)["clean_text"],) for t in tweets], "clean_text string")
        frame = frame.withColumn("processed_text", cleaned_text_column("clean_text"))
        params = LdaParams(k=3, optimizer="online", max_iter=5, min_df=1.0, max_df=1.0, vocab_size=500)
        model = build_pipeline(params, []).fit(frame)
        vocabulary = model.stages[2].vocabulary
        described = model.stages[-1].describeTopics(5).orderBy("topic").collect()
        topics = [{"topic": int(r["topic"]), "terms": [vocabulary[i] for i in r["termIndices"]]} for r in described]
        saved = Path(tempfile.mkdtemp(prefix="tiny-model-")) / "pipeline"
        model.write().overwrite().save(str(saved))
        _FITTED[seed] = (saved, topics)
    saved, topics = _FITTED[seed]
    local = tmp / version
    shutil.copytree(saved, local / "pipeline", dirs_exist_ok=True)
    storage.models.write(version, local, {"version": version, "topics": topics})
    return version


def raw_objects(
    storage: Storage, count: int, per_object: int, when: datetime, seed: int = 5
) -> list[tuple[str, bytes]]:
    """``count`` Firehose objects of synthetic tweets created around ``when``, keyed by Firehose's layout."""
    rng = random.Random(seed)
    generator = TweetGenerator(seed=seed)
    objects = []
    for i in range(count):
        at = when + timedelta(seconds=i)
        tweets = generator.tweets_between(at - timedelta(seconds=30), at, per_object)
        body = b"".join(dumps_record(record_from_v2(t.payload)) for t in tweets)
        objects.append((firehose_key(storage.raw_prefix, "live-test", at, rng), body))
    return objects


def put_raw(storage: Storage, objects: list[tuple[str, bytes]]) -> None:
    """Deliver like Firehose does (the project's store never writes under raw/)."""
    s3 = storage.s3.aws.client("s3")
    for key, body in objects:
        s3.put_object(Bucket=storage.bucket, Key=key, Body=body)


def expected_ids(objects: list[tuple[str, bytes]]) -> set[str]:
    """What the batch path keeps: the combine's gate, then filtered_tweets with its default FilterConfig."""
    config = FilterConfig()
    result = combine_objects(objects)
    kept = filter_tweets(
        result.table, Blocklist.from_file(Path(config.blocklist_file)), config.min_words, tuple(config.languages)
    )
    return set(kept.kept["id"].to_pylist())


def live_rows(storage: Storage, start: datetime, end: datetime) -> pa.Table:
    """Every scored tweet in the minute objects of the hours from ``start`` to ``end``."""
    import io

    import pyarrow.parquet as pq

    tables = []
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour <= end:
        for info in storage.s3.list(storage.live.minutes_of_hour(hour)):
            tables.append(pq.read_table(io.BytesIO(storage.s3.get(info.key))))
        hour += timedelta(hours=1)
    return pa.concat_tables(tables) if tables else pa.table({"id": pa.array([], pa.string())})


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)
