"""The demo's live step: the live query runs while the demo streams its live tweets, then shows the live page.

Started before the streaming step, it waits for a model (the demo fits one later) and then scores the streamed
tweets from its checkpoint; ``finish`` waits (with a deadline) until they are committed and prints the page.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tweet_topics.defs.live.resources import LocalLiveHost
from tweet_topics.live.page import write_page
from tweet_topics.settings import Settings
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.s3 import AwsResource


def start(settings: Settings) -> LocalLiveHost:
    host = LocalLiveHost(
        aws=AwsResource.from_settings(settings),
        local_dir=str(settings.local_dir),
        trigger_seconds=settings.live_trigger_seconds,
    )
    print(f"  live query: {host.start()} (log {host.state_dir / 'live.log'})")
    return host


def finish(storage: Storage, expect: int, deadline_s: float = 240.0) -> Path:
    """Wait until the live query has read ``expect`` streamed lines and caught up, then write the page and say what
    it scored (the demo's last live lines)."""
    deadline = time.monotonic() + deadline_s
    beat: dict = {}
    while time.monotonic() < deadline:
        if storage.s3.exists(storage.live.heartbeat):
            beat = json.loads(storage.s3.get(storage.live.heartbeat))
            seen = sum(beat.get("rows_by_reason", {}).values())
            if seen >= expect and beat.get("lag_s") == 0:
                break
        time.sleep(3)
    path = write_page(storage)
    print("  " + summary(beat))
    print(f"  Live page: {path}")
    return path


def summary(beat: dict) -> str:
    """What the live query did with the streamed lines: scored, or dropped by the filter filtered_tweets applies
    or quarantined (so the counts add up to what was streamed: a filtered tweet is not a lost one)."""
    reasons = dict(beat.get("rows_by_reason", {}))
    scored = reasons.pop("kept", 0)
    dropped = ", ".join(f"{n:,} {reason}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
    return (
        f"live: {scored + sum(reasons.values()):,} streamed lines read, {scored:,} tweets scored with model "
        f"{beat.get('model_version')}"
        + (f" ({dropped}: not scored, as in the hourly batch)" if dropped else "")
        + f"; state {beat.get('state')}, lag {beat.get('lag_s')} s"
    )


def stop(host: LocalLiveHost) -> None:
    print(f"  live query: {host.stop()}")
