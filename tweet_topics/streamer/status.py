"""The heartbeat's truth: the state from what actually happened to records.

States: ``running`` (the last attempt to deliver worked, or nothing needed delivering), ``degraded`` (the last
attempt failed: records are spooling or the backlog is not draining), ``disk_full`` (the spool or the
write-ahead log could not be written: records are held in memory), ``stopped`` (written once, at exit).
``state_since`` lets the supervisor judge how long a bad state has lasted; a quiet stream stays ``running``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tweet_topics.streamer.counters import Counters
from tweet_topics.streamer.producer import Sender
from tweet_topics.streamer.runner import Loop


class Health:
    def __init__(self, counters: Counters, loop: Loop, sender: Sender) -> None:
        self.counters, self.loop, self.sender = counters, loop, sender
        self._state = "running"
        self._since = datetime.now(UTC).isoformat()

    def state(self) -> str:
        if self.sender.disk_full or self.loop.journal_failed:
            return "disk_full"
        if self.sender.failing_since is not None:
            return "degraded"
        return "running"

    def status(self) -> dict[str, Any]:
        state = self.state()
        if state != self._state:
            self._state, self._since = state, datetime.now(UTC).isoformat()
        counts = self.counters.snapshot()
        oldest = [t for t in (self.loop.oldest(), self.sender.oldest()) if t is not None]
        return {
            "state": state,
            "state_since": self._since,
            "run": self.loop.run_id,
            "last_tweet_at": self.loop.last_tweet_at,
            "last_delivery_at": self.sender.last_delivery_at,
            "spool_backlog": counts["backlog"],
            "oldest_buffered_age_s": round(time.monotonic() - min(oldest), 3) if oldest else None,
            "counts": counts,
        }
