"""``python -m tweet_topics live``: the long-running live query process, its heartbeat and its shutdown.

One Spark Structured Streaming query (source ``live/source.py``, ``foreachBatch`` ``live/sink.py``, trigger every
``TWEET_TOPICS_LIVE_TRIGGER_SECONDS``) with its checkpoint in ``TWEET_TOPICS_LIVE_CHECKPOINT``. The main thread
writes the heartbeat every few seconds, renders the live page, expires old results, and restarts the query from
its checkpoint (with backoff) when a batch fails: an S3 outage or a missing model pauses the query, never loses
data. SIGTERM lets a running micro-batch finish within ``shutdown_budget_s``, then stops the query and exits 0.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tweet_topics.live.offsets import RawOffset, key_time
from tweet_topics.live.sink import LiveSink, LiveStatus, ModelUnavailable
from tweet_topics.live.source import NAME, LiveRawSource, source_options
from tweet_topics.settings import Settings
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.versions import VersionNotFound

QUERY_NAME = "tweet_topics_live"


@dataclass(frozen=True)
class LiveOptions:
    trigger_seconds: float = 5.0
    heartbeat_seconds: float = 5.0
    start_back_minutes: float = 60.0  # a new checkpoint starts at this hour folder
    watermark_minutes: float = 180.0  # tweets created longer ago than this are not added to their minute
    max_objects: int = 500  # raw objects per micro-batch at most
    max_seconds: float | None = None  # stop after this long (tests, benchmarks); None: until SIGTERM
    shutdown_budget_s: float = 30.0
    page_seconds: float = 30.0
    checkpoint: str | None = None
    model_poll_seconds: float = 10.0  # without a model: how often latest.json is read
    first_backoff_seconds: float = 5.0  # after a failed query (an outage): doubled per failure up to 120 s


def lookback(settings: Settings) -> timedelta:
    """How late (by its name) an object may be listed and still be read: the Firehose buffer plus 10 minutes."""
    return timedelta(seconds=settings.firehose_buffer_seconds + 600)


class LiveProcess:
    def __init__(self, settings: Settings, options: LiveOptions, storage: Storage | None = None) -> None:
        self.settings, self.options = settings, options
        self.storage = storage or Storage.from_settings(settings)
        self.status = LiveStatus()
        self.state, self.state_since = "starting", datetime.now(UTC).isoformat()
        self.stopping = threading.Event()
        self.query: Any = None
        self.last_page = 0.0

    # -- the query -------------------------------------------------------------------------------------------
    def checkpoint(self) -> str:
        return (
            self.options.checkpoint
            or self.settings.live_checkpoint
            or str(self.storage.local_path("live", "checkpoint"))
        )

    def start_query(self, spark: Any) -> Any:
        from tweet_topics.defs.hourly.assets import FilterConfig

        options = source_options(
            self.storage,
            lookback_s=lookback(self.settings).total_seconds(),
            start_back_s=self.options.start_back_minutes * 60,
            max_objects=self.options.max_objects,
            filter_config=FilterConfig(),
            partitions=2 * spark.sparkContext.defaultParallelism,
        )
        spark.dataSource.register(LiveRawSource)
        sink = LiveSink(self.storage, self.status, options, timedelta(minutes=self.options.watermark_minutes))
        with contextlib.suppress(ModelUnavailable):  # without a model the first batch fails and the query waits
            sink.models.current()  # load the model now, not in the first micro-batch
        frame = spark.readStream.format(NAME).options(**options).load()
        return (
            frame.writeStream.queryName(QUERY_NAME)
            .foreachBatch(sink)
            .option("checkpointLocation", self.checkpoint())
            .trigger(processingTime=f"{self.options.trigger_seconds} seconds")
            .start()
        )

    def run(self, spark: Any) -> int:
        """Until SIGTERM (or ``max_seconds``): keep the query running, beat, render; returns the exit code."""
        deadline = time.monotonic() + self.options.max_seconds if self.options.max_seconds else None
        backoff = self.options.first_backoff_seconds
        restart_at = 0.0
        while not self.stopping.is_set() and (deadline is None or time.monotonic() < deadline):
            if self.query is None and time.monotonic() >= restart_at:
                if self.state == "waiting_for_model" and not self.model_published():
                    # poll latest.json, not a query that fails (a stack trace)
                    restart_at = time.monotonic() + self.options.model_poll_seconds
                else:
                    self.query = self.start_query(spark)
                    self._set_state("running")
            if self.query is not None:
                with contextlib.suppress(Exception):  # a failed query raises here; handled just below
                    self.query.awaitTermination(self.options.heartbeat_seconds)
                if not self.query.isActive:
                    self._query_failed(self.query.exception())
                    waiting = self.state == "waiting_for_model"  # poll for a model; back off from outages
                    poll = self.options.model_poll_seconds
                    self.query, restart_at = None, time.monotonic() + (poll if waiting else backoff)
                    backoff = backoff if waiting else min(backoff * 2, 120.0)
                elif self.status.query_error is None:
                    backoff = self.options.first_backoff_seconds
            else:
                self.stopping.wait(min(self.options.heartbeat_seconds, max(restart_at - time.monotonic(), 0.1)))
            self.beat()
            self._maintain()
        self.shutdown()
        return 0

    def model_published(self) -> bool:
        """Whether ``models/latest.json`` names a version; an S3 error counts as yes (the query then reports it)."""
        try:
            self.storage.models.latest()
        except VersionNotFound:
            return False
        except Exception:  # an outage: let the query start, fail and back off as it does for any S3 error
            return True
        return True

    def _query_failed(self, error: Any) -> None:
        text = str(getattr(error, "desc", None) or error or "query stopped")
        unavailable = ModelUnavailable.__name__ in text or "no topic model" in text
        self.status.query_error = text.strip().splitlines()[0][:500] if text.strip() else "query stopped"
        self._set_state("waiting_for_model" if unavailable else "degraded")

    def shutdown(self) -> None:
        """Let a running micro-batch finish within the budget, then stop the query; the last heartbeat says so."""
        if self.query is not None:
            deadline = time.monotonic() + self.options.shutdown_budget_s
            while self.query.isActive and self.query.status.get("isTriggerActive") and time.monotonic() < deadline:
                time.sleep(0.2)
            self.query.stop()
        self._set_state("stopped")
        self.beat()

    # -- heartbeat, page, retention -----------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state, self.state_since = state, datetime.now(UTC).isoformat()

    def lag_s(self) -> float:
        """How long the oldest raw object the query has not committed yet has waited (0 when caught up)."""
        progress = self.query.lastProgress if self.query is not None else None
        end = (progress or {}).get("sources", [{}])[0].get("endOffset") if progress else None
        if not end:
            return 0.0
        offset = RawOffset.from_dict(json.loads(end) if isinstance(end, str) else end)
        prefix = self.storage.raw_prefix
        pending = [
            t
            for o in self.storage.s3.list(prefix, start_after=offset.floor)
            if not offset.covers(o.key) and (t := key_time(prefix, o.key)) is not None
        ]
        return max(0.0, (datetime.now(UTC) - min(pending)).total_seconds()) if pending else 0.0

    def heartbeat(self) -> dict[str, Any]:
        try:
            lag = round(self.lag_s(), 1)
        except Exception as exc:  # a listing error is reported, not fatal
            lag, self.status.query_error = None, f"lag unknown: {type(exc).__name__}"
        return {
            "state": self.state,
            "state_since": self.state_since,
            "updated_at": datetime.now(UTC).isoformat(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "lag_s": lag,
            "trigger_seconds": self.options.trigger_seconds,
            **asdict(self.status),
        }

    def beat(self) -> None:
        try:
            self.storage.s3.put(self.storage.live.heartbeat, json.dumps(self.heartbeat()).encode(), "application/json")
        except Exception as exc:  # S3 down: the next beat tries again
            self.status.query_error = f"heartbeat not written: {type(exc).__name__}"

    def _maintain(self) -> None:
        if time.monotonic() - self.last_page < self.options.page_seconds:
            return
        self.last_page = time.monotonic()
        from tweet_topics.live.page import write_page
        from tweet_topics.live.results import expire

        try:
            write_page(self.storage)
            expire(
                self.storage.s3, self.storage.live, datetime.now(UTC), timedelta(days=self.settings.live_retention_days)
            )
        except Exception as exc:  # the page is a view; the query goes on
            self.status.query_error = f"page/retention: {type(exc).__name__}: {str(exc)[:200]}"


def live_session(settings: Settings) -> Any:
    from pyspark.sql import SparkSession

    from tweet_topics.defs.resources import spark_config

    builder = SparkSession.builder
    for key, value in {**spark_config(settings), "spark.app.name": f"{settings.project}-live"}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def run_live(settings: Settings, options: LiveOptions) -> int:
    """The process entry point: SIGTERM/SIGINT stop it cleanly."""
    process = LiveProcess(settings, options)

    def stop(signum: int, frame: object) -> None:
        process.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    spark = live_session(settings)
    try:
        return process.run(spark)
    finally:
        spark.stop()


def page_path(storage: Storage) -> Path:
    return storage.local_path("live") / "live.html"
