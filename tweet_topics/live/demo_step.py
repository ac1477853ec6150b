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


def finish(host: LocalLiveHost, settings: Settings, expect: int, deadline_s: float = 240.0) -> Path | None:
    """Wait until the live query has scored ``expect`` tweets' worth of rows and caught up, then write the page."""
    storage = Storage.from_settings(settings)
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
    print(
        f"  live: {beat.get('tweets_scored', 0)} tweets scored with model {beat.get('model_version')}, state "
        f"{beat.get('state')}, lag {beat.get('lag_s')} s. Live page: {path}"
    )
    return path


def stop(host: LocalLiveHost) -> None:
    print(f"  live query: {host.stop()}")
