"""Bad input and faults of the live query: poison lines, a vanished object, a broken model version, an S3 outage."""

import json
import threading
from datetime import UTC, datetime, timedelta

from tweet_topics.defs.hourly.assets import FilterConfig
from tweet_topics.live.runner import LiveOptions, LiveProcess
from tweet_topics.live.sink import LiveStatus, Models
from tweet_topics.live.source import RawObject, RawObjectStream, source_options
from tweet_topics.storage.catalog import Storage
from tweet_topics_tests.live.support import expected_ids, fit_tiny_model, live_rows, put_raw, raw_objects, wait_for
from tweet_topics_tests.streamer.faultproxy import FaultProxy


def reader(storage) -> RawObjectStream:
    options = source_options(storage, lookback_s=600, start_back_s=3600, max_objects=10, filter_config=FilterConfig())
    return RawObjectStream(options)


def rows(stream: RawObjectStream, key: str) -> list[dict]:
    return [r for batch in stream.read(RawObject((key,))) for r in batch.to_pylist()]


def test_poison_lines_are_counted_and_quarantined_never_fatal(resources, bucket):
    storage = resources["storage"]
    ((key, body),) = raw_objects(storage, count=1, per_object=20, when=datetime.now(UTC))
    poison = body + b'{"schema_version": 1, "id": "1", "text": "cut\n' + b"\xff\xfe not utf-8\n" + b'{"id": "2", "tru'
    put_raw(storage, [(key, poison)])
    out = rows(reader(storage), key)
    reasons = [r["reason"] for r in out if r["id"] is None]
    assert sorted(reasons) == ["invalid_json", "invalid_utf8", "truncated_line"]
    assert sum(1 for r in out if r["id"] is not None) == 20  # every good line still there (kept or filtered)
    quarantined = storage.s3.get(storage.live.quarantine(key)).decode().splitlines()
    assert sorted(json.loads(q)["reason"] for q in quarantined) == sorted(reasons)


def test_a_vanished_object_is_a_reject_not_a_failure(resources, bucket):
    storage = resources["storage"]
    key = f"{storage.raw_prefix}2026/12/05/12/live-test-1-2026-12-05-12-00-00-gone"
    out = rows(reader(storage), key)
    assert [(r["reason"], r["arrival_hour"]) for r in out] == [("vanished_object", "2026-12-05-12:00")]
    assert json.loads(storage.s3.get(storage.live.quarantine(key)))["reason"] == "vanished_object"


def test_a_model_that_fails_to_load_keeps_the_previous_version(resources, bucket, spark, tmp_path):
    storage = resources["storage"]
    good = fit_tiny_model(spark, storage, "tiny-good", tmp_path)
    status = LiveStatus()
    models = Models(storage, status)
    assert models.current()[0] == good
    broken = tmp_path / "broken"
    (broken / "pipeline" / "metadata").mkdir(parents=True)
    (broken / "pipeline" / "metadata" / "part-00000").write_text("not a Spark ML model")
    storage.models.write("tiny-broken", broken, {"version": "tiny-broken", "topics": []})
    version, model = models.current()
    assert version == good and model is not None and status.model_version == good
    assert "tiny-broken failed to load" in status.model_error and f"using {good}" in status.model_error
    assert models.current()[0] == good  # not retried on every batch


def test_an_s3_outage_pauses_the_query_and_it_resumes_without_loss(settings, resources, bucket, spark, tmp_path):
    """S3 refuses every connection (fault proxy): the batch fails after boto3's retries, the heartbeat says
    degraded, the query is restarted from its checkpoint with backoff and, once S3 is back, commits everything."""
    storage = resources["storage"]
    fit_tiny_model(spark, storage, "tiny-outage", tmp_path)
    with FaultProxy(resources["aws"].endpoint_url, mode="pass", lifetime=400) as proxy:
        via = Storage.from_settings(settings.model_copy(update={"aws_endpoint_url": proxy.url}))
        options = LiveOptions(
            trigger_seconds=1, heartbeat_seconds=1, checkpoint=str(tmp_path / "cp"), first_backoff_seconds=1
        )
        process = LiveProcess(settings, options, storage=via)
        thread = threading.Thread(target=process.run, args=(spark,), daemon=True)
        thread.start()
        try:
            wait_for(lambda: process.query is not None and process.query.isActive, 120, "the query")
            proxy.mode = "refuse"
            objects = raw_objects(storage, count=2, per_object=30, when=datetime.now(UTC), seed=23)
            put_raw(storage, objects)  # Firehose still delivers: straight to moto
            wait_for(lambda: process.state == "degraded", 240, "the failed batch")
            proxy.mode = "pass"
            wait_for(lambda: process.status.tweets_scored == len(expected_ids(objects)), 240, "the resumed query")
        finally:
            process.stopping.set()
            thread.join(90)
    rows = live_rows(storage, datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(minutes=5))
    assert set(rows["id"].to_pylist()) == expected_ids(objects) and rows.num_rows == len(expected_ids(objects))
    assert process.state == "stopped" and not thread.is_alive()
