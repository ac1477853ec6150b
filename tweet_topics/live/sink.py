"""The live query's ``foreachBatch``: score each micro-batch with the latest model, merge it into its minutes.

Runs on the driver once per micro-batch. The model is reloaded when ``models/latest.json`` names a new version; a
version that fails to load is skipped (scoring goes on with the previous one, and the heartbeat says so). With no
loadable model at all the batch fails, and the runner restarts the query from its checkpoint later: nothing is
committed for that batch, so nothing is lost.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from tweet_topics.live.offsets import key_time
from tweet_topics.live.results import COUNTS_SCHEMA, SCORED_COLUMNS, merge_partition, update_hour_counts
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.versions import VersionNotFound

OUTSIDE_WATERMARK = "outside_watermark"
RETRY_FAILED_MODEL_S = 300.0


class ModelUnavailable(RuntimeError):
    """No topic model version could be loaded: the batch is not committed."""


@dataclass
class LiveStatus:
    """What the heartbeat reports; updated by the sink after each committed micro-batch."""

    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    batches: int = 0
    last_batch_id: int | None = None
    last_batch_at: str | None = None
    last_batch_seconds: float | None = None
    busy_seconds: float = 0.0  # time spent in micro-batches since the start
    last_committed_minute: str | None = None
    newest_object_at: str | None = None
    tweets_scored: int = 0
    rows_by_reason: dict[str, int] = field(default_factory=dict)
    model_version: str | None = None
    model_error: str | None = None
    query_error: str | None = None


class Models:
    """The latest loadable model version, reloaded when ``latest.json`` changes."""

    def __init__(self, storage: Storage, status: LiveStatus) -> None:
        self.storage, self.status = storage, status
        self.model: Any = None
        self.version: str | None = None
        self.failed: dict[str, float] = {}

    def current(self) -> tuple[str, Any]:
        try:
            latest: str | None = self.storage.models.latest()
        except VersionNotFound:
            latest = None
        if latest and latest != self.version and time.time() - self.failed.get(latest, 0) > RETRY_FAILED_MODEL_S:
            try:
                self.model, self.version = _load(self.storage, latest), latest
                self.status.model_version, self.status.model_error = latest, None
                self.failed.pop(latest, None)
            except Exception as exc:  # a broken version must not stop live scoring
                self.failed[latest] = time.time()
                keep = self.version or "none"
                self.status.model_error = (
                    f"model {latest} failed to load ({type(exc).__name__}: {str(exc)[:200]}); using {keep}"
                )
        if self.model is None or self.version is None:
            raise ModelUnavailable(self.status.model_error or "no topic model yet: fit topic_model first")
        self.status.model_version = self.version
        return self.version, self.model


def _load(storage: Storage, version: str) -> Any:
    from tweet_topics.defs.topics.spark_io import load_pipeline_model

    return load_pipeline_model(storage, version)


class LiveSink:
    """``foreachBatch(sink)``; ``watermark``: tweets created earlier than this before now are not added."""

    def __init__(self, storage: Storage, status: LiveStatus, options: dict[str, str], watermark: timedelta) -> None:
        self.storage, self.status, self.options, self.watermark = storage, status, options, watermark
        self.models = Models(storage, status)

    def __call__(self, frame: Any, batch_id: int) -> None:
        from pyspark.sql import functions as F

        from tweet_topics.lib.topics.lda import dominant_topics
        from tweet_topics.lib.topics.text import cleaned_text_column

        started = time.monotonic()
        version, model = self.models.current()
        now = datetime.now(UTC)
        low = (now - self.watermark).strftime("%Y-%m-%dT%H:%M")
        high = (now + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
        outside = F.col("reason").isNull() & ((F.col("minute") < low) | (F.col("minute") > high))
        frame = frame.withColumn("reason", F.when(outside, F.lit(OUTSIDE_WATERMARK)).otherwise(F.col("reason")))
        # One pass: rows that are not scored keep an empty text (no terms: topic -1) and are only counted.
        text = F.when(F.col("reason").isNull(), cleaned_text_column("clean_text")).otherwise(F.lit(""))
        scored = dominant_topics(model.transform(frame.withColumn("processed_text", text)))
        scored = scored.withColumn("model_version", F.lit(version))
        scored = scored.withColumn("dominant_topic", F.col("dominant_topic").cast("int"))
        tasks = max(1, frame.sparkSession.sparkContext.defaultParallelism)
        counts = (
            scored.select(*SCORED_COLUMNS, "reason")
            .repartition(tasks, "minute")
            .mapInArrow(partial(merge_partition, options=self.options, keys=self.storage.live), COUNTS_SCHEMA)
            .collect()
        )
        rows = [r.asDict() for r in counts]
        update_hour_counts(self.storage.s3, self.storage.live, rows)
        self._record(batch_id, [r for r in rows if r["reason"]], [r for r in rows if not r["reason"]], started)

    def _record(self, batch_id: int, reasons: list[dict], rows: list[dict], started: float) -> None:
        status = self.status
        by_reason = Counter(status.rows_by_reason)
        for r in reasons:
            by_reason[r["reason"]] += int(r["tweets"])
        newest = max((r["newest"] for r in reasons if r["newest"]), default=None)
        if newest:
            named = key_time(self.storage.raw_prefix, newest)
            status.newest_object_at = named.isoformat() if named else status.newest_object_at
        added_minutes = sorted({r["minute"] for r in rows if r["added"]})
        if added_minutes and (status.last_committed_minute or "") < added_minutes[-1]:
            status.last_committed_minute = added_minutes[-1]
        status.rows_by_reason = dict(by_reason)
        status.tweets_scored += sum(int(r["added"]) for r in rows)
        status.batches += 1
        status.last_batch_id = batch_id
        status.last_batch_at = datetime.now(UTC).isoformat()
        status.last_batch_seconds = round(time.monotonic() - started, 3)
        status.busy_seconds = round(status.busy_seconds + status.last_batch_seconds, 3)
        status.query_error = None
