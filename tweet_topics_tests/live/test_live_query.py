"""The live query for real: raw objects in moto, the PySpark streaming source, foreachBatch scoring, restarts."""

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pytest

from tweet_topics.live import demo_step
from tweet_topics.live.results import minutes_between
from tweet_topics.live.runner import LiveOptions, LiveProcess
from tweet_topics_tests.live.support import expected_ids, fit_tiny_model, live_rows, put_raw, raw_objects, wait_for


@pytest.fixture()
def live(settings, resources, bucket, spark, tmp_path):
    """A live process over a fresh bucket with a tiny model; its query is driven with processAllAvailable."""
    storage = resources["storage"]
    version = fit_tiny_model(spark, storage, "tiny-1", tmp_path)
    options = LiveOptions(trigger_seconds=1, checkpoint=str(tmp_path / "checkpoint"), start_back_minutes=30)
    process = LiveProcess(settings, options, storage=storage)
    yield process, storage, version
    if process.query is not None and process.query.isActive:
        process.query.stop()


def run_once(process, spark) -> None:
    process.query = process.start_query(spark)
    process.query.processAllAvailable()
    process.query.stop()


def counted(storage, now) -> int:
    minutes = minutes_between(storage.s3, storage.live, now - timedelta(hours=2), now + timedelta(hours=1))
    return sum(n for versions in minutes.values() for topics in versions.values() for n in topics.values())


def test_streamed_objects_are_scored_with_the_model_version(live, spark):
    process, storage, version = live
    now = datetime.now(UTC)
    objects = raw_objects(storage, count=4, per_object=40, when=now)
    put_raw(storage, objects)
    run_once(process, spark)
    rows = live_rows(storage, now - timedelta(hours=1), now + timedelta(minutes=5))
    expected = expected_ids(objects)
    assert expected and set(rows["id"].to_pylist()) == expected
    assert rows.num_rows == len(expected)  # one row per tweet
    assert set(rows["model_version"].to_pylist()) == {version}
    assert pc.min(rows["dominant_topic"]).as_py() >= -1 and pc.max(rows["dominant_topic"]).as_py() <= 2
    assert counted(storage, now) == len(expected)
    assert process.status.model_version == version and process.status.rows_by_reason["kept"] == len(expected)
    beat = process.heartbeat()
    assert beat["model_version"] == version and beat["last_committed_minute"] == max(rows["minute"].to_pylist())


def test_restart_from_checkpoint_neither_loses_nor_double_counts(live, spark):
    process, storage, _ = live
    now = datetime.now(UTC)
    first = raw_objects(storage, count=3, per_object=30, when=now - timedelta(minutes=2), seed=8)
    put_raw(storage, first)
    run_once(process, spark)
    # While it is down: new objects, and one object delivered twice (Firehose retries: same records, new key).
    second = raw_objects(storage, count=2, per_object=30, when=now, seed=9)
    redelivered = [(second[0][0].replace("live-test", "live-test-retry"), first[0][1])]
    put_raw(storage, second + redelivered)
    run_once(process, spark)
    expected = expected_ids(first + second)
    assert counted(storage, now) == len(expected)
    # A crash after the batch's writes but before Spark recorded its commit: the batch is replayed on restart.
    commits = Path(process.checkpoint()) / "commits"
    last = max(commits.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else -1)
    last.unlink()
    (commits / f".{last.name}.crc").unlink(missing_ok=True)
    run_once(process, spark)
    rows = live_rows(storage, now - timedelta(hours=1), now + timedelta(minutes=5))
    assert set(rows["id"].to_pylist()) == expected and rows.num_rows == len(expected)
    assert counted(storage, now) == len(expected)


def test_it_waits_for_a_model_then_scores_what_arrived_meanwhile(settings, resources, bucket, spark, tmp_path, capsys):
    """The demo's order: tweets stream before any model exists; the query waits, then scores them all; the demo's
    last live step then accounts for every streamed line and writes the page."""
    storage = resources["storage"]
    objects = raw_objects(storage, count=2, per_object=30, when=datetime.now(UTC), seed=31)
    put_raw(storage, objects)
    options = LiveOptions(trigger_seconds=1, heartbeat_seconds=1, checkpoint=str(tmp_path / "cp"), model_poll_seconds=2)
    process = LiveProcess(settings, options, storage=storage)
    thread = threading.Thread(target=process.run, args=(spark,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: process.state == "waiting_for_model", 180, "waiting_for_model")
        assert storage.s3.exists(storage.live.heartbeat) and not process.status.tweets_scored
        wait_for(lambda: process.query is None, 30, "the failed query to be let go")
        time.sleep(5)  # longer than two polls: without latest.json no query is started (and fails) again
        assert process.query is None and process.state == "waiting_for_model"
        version = fit_tiny_model(spark, storage, "tiny-late", tmp_path)
        scored = len(expected_ids(objects))
        wait_for(lambda: process.status.tweets_scored == scored, 180, "the scored tweets")
        assert process.status.model_version == version and process.state == "running"
        page = demo_step.finish(storage, expect=60, deadline_s=60)
        out = capsys.readouterr().out
        assert f"live: 60 streamed lines read, {scored} tweets scored with model {version}" in out, out
        assert f"Live page: {page}" in out and f"{scored} tweets scored in the" in page.read_text()
    finally:
        process.stopping.set()
        thread.join(90)
