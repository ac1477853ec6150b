"""Bad input and faults of the live query: poison lines, a vanished object, a model version that fails to load."""

import json
from datetime import UTC, datetime

from tweet_topics.defs.hourly.assets import FilterConfig
from tweet_topics.live.sink import LiveStatus, Models
from tweet_topics.live.source import RawObject, RawObjectStream, source_options
from tweet_topics_tests.live.support import fit_tiny_model, put_raw, raw_objects


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
