"""The live query's keys (tweet_topics/live), exposed as ``Storage.live`` by the catalog.

Plain Python on purpose: Spark executor tasks unpickle these keys, and importing the catalog there would import
Dagster into every Python worker (seconds of cold start per worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LiveKeys:
    """The live query's objects (tweet_topics/live): one Parquet per minute of tweets, per-hour topic counts,
    quarantined lines per raw object, heartbeat, desired state and the live page. Picklable: executors use it."""

    prefix: str

    def minute(self, minute: datetime) -> str:
        return f"{self.prefix}minutes/{minute:%Y/%m/%d/%H/%M}.parquet"

    def minutes_of_hour(self, hour: datetime) -> str:
        return f"{self.prefix}minutes/{hour:%Y/%m/%d/%H}/"

    def counts(self, hour: datetime) -> str:
        return f"{self.prefix}counts/{hour:%Y/%m/%d/%H}.json"

    @property
    def counts_root(self) -> str:
        return f"{self.prefix}counts/"

    @property
    def minutes_root(self) -> str:
        return f"{self.prefix}minutes/"

    def quarantine(self, raw_key: str) -> str:
        return f"{self.prefix}quarantine/{raw_key.rsplit('/', 1)[-1]}.ndjson"

    @property
    def heartbeat(self) -> str:
        return f"{self.prefix}heartbeat.json"

    @property
    def desired(self) -> str:
        return f"{self.prefix}desired.json"

    @property
    def page(self) -> str:
        return f"{self.prefix}live.html"
