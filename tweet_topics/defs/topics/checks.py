"""Checks of the scored hours: read back what ``tweet_topic_assignments`` committed and compare it with the
filtered hour it scored (an independent count: the filter's own metadata), so a tweet lost or doubled between the
filter and the predictions shows on that hour in the UI."""

from __future__ import annotations

import io
from datetime import datetime

import pyarrow.parquet as pq

from tweet_topics.defs.hourly.checks import CheckOutcome
from tweet_topics.defs.hourly.results import HourCheck
from tweet_topics.storage.catalog import PREDICTIONS_PARQUET, Storage


def every_kept_tweet_scored(storage: Storage, hour: datetime) -> CheckOutcome:
    """Rows in the committed predictions file == the metadata's ``tweets`` == the filtered hour's ``kept``."""
    commit = storage.predictions.read_commit(hour)
    stored = pq.ParquetFile(io.BytesIO(storage.predictions.read_bytes(hour, PREDICTIONS_PARQUET, commit)))
    rows = stored.metadata.num_rows
    kept = storage.filtered.read_metadata(hour)["kept"]
    recorded = commit["metadata"].get("tweets")
    return rows == recorded == kept, {"stored_rows": rows, "recorded_tweets": recorded, "filtered_kept": kept}


ASSIGNMENT_CHECKS = [
    HourCheck(
        "every_kept_tweet_scored",
        "the hour's stored predictions have one row per tweet the filter kept in that hour (read back from S3)",
        every_kept_tweet_scored,
    ),
]
