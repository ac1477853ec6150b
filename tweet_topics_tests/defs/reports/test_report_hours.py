"""Which scored hours a report reads: the model's own hours, the newest window of them, each commit read once."""

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from tweet_topics.defs.reports.assets import scored_hours
from tweet_topics.storage.catalog import PREDICTIONS_PARQUET
from tweet_topics.storage.hourly import parquet_bytes

START = datetime(2026, 3, 1, tzinfo=UTC)


def test_window_of_the_models_hours_across_days(bucket, resources):
    predictions = resources["storage"].predictions
    table = parquet_bytes(pa.table({"id": ["1"], "dominant_topic": [0]}))
    # 60 hours: every third scored by an older model; the newest 50 of the rest span three day-sized reads
    versions = {START + timedelta(hours=i): ("old" if i % 3 == 0 else "new") for i in range(60)}
    for hour, version in versions.items():
        predictions.write_hour(hour, {PREDICTIONS_PARQUET: table}, {"model_version": version})
    newest = scored_hours(predictions, "new", 30)
    expected = [h for h, v in sorted(versions.items()) if v == "new"][-30:]
    assert list(newest) == expected
    assert all(c["metadata"]["model_version"] == "new" for c in newest.values())
    assert list(scored_hours(predictions, "new", None)) == [h for h, v in sorted(versions.items()) if v == "new"]
    assert scored_hours(predictions, "missing", 5) == {}
