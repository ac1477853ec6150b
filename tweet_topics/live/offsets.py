"""Offsets of the live query over raw Firehose objects: a floor key plus the keys seen in a lookback window.

Why not a bare high-water mark: Firehose keys have 1 s resolution plus a uuid, and an object can be listed after
a later-named one (two delivery streams, a slow PUT), so "everything after the last key" can skip it. Why not
every key seen: the offset is checkpointed every micro-batch and would grow forever. So an offset says "every key
<= ``floor`` is done, and so are ``keys``"; keys named more than ``lookback`` before now are folded into the
floor. Plain data, no Spark: every rule is tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tweet_topics.storage.keys import hour_from_key, hour_prefix

_NAME_TIME = re.compile(r"-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[^/]*$")


def key_time(raw_prefix: str, key: str) -> datetime | None:
    """When Firehose named the object (its ``-YYYY-MM-DD-HH-MM-SS-`` part), else the end of its hour folder;
    None for keys outside the Firehose layout (the combine ignores those too)."""
    hour = hour_from_key(raw_prefix, key)
    if hour is None:
        return None
    match = _NAME_TIME.search(key)
    if match:
        try:
            return datetime(*map(int, match.groups()), tzinfo=UTC)  # type: ignore[misc]
        except ValueError:
            pass
    return hour + timedelta(minutes=59, seconds=59)


@dataclass(frozen=True)
class RawOffset:
    floor: str  # every key <= floor has been read
    keys: tuple[str, ...] = field(default=())  # keys > floor that have been read, sorted

    def covers(self, key: str) -> bool:
        return key <= self.floor or key in self.keys

    def to_dict(self) -> dict:
        return {"floor": self.floor, "keys": list(self.keys)}

    @classmethod
    def from_dict(cls, value: dict) -> RawOffset:
        return cls(str(value["floor"]), tuple(sorted(value.get("keys", []))))


def initial_offset(raw_prefix: str, now: datetime, start_back: timedelta) -> RawOffset:
    """Start at the hour folder that holds ``now - start_back``: objects of that hour and later are read."""
    return RawOffset(hour_prefix(raw_prefix, now - start_back))


def advance(
    start: RawOffset,
    listed: Iterable[str],
    raw_prefix: str,
    now: datetime,
    lookback: timedelta,
    max_objects: int,
) -> RawOffset:
    """The next offset: ``start`` plus up to ``max_objects`` new keys (oldest first); keys of ``start`` named
    before ``now - lookback`` fold into the floor. Returns ``start`` itself when nothing is new, so an idle
    stream plans no empty micro-batches."""
    new = sorted(k for k in set(listed) if not start.covers(k) and key_time(raw_prefix, k) is not None)
    if not new:
        return start
    cutoff = now - lookback
    pending = new[max_objects:]  # left for the next batch: the floor must stay below them
    old = [k for k in start.keys if (key_time(raw_prefix, k) or now) < cutoff and (not pending or k < pending[0])]
    floor = max([start.floor, *old])
    keys = sorted({k for k in start.keys if k > floor} | set(new[:max_objects]))
    return RawOffset(floor, tuple(keys))


def new_objects(start: RawOffset, end: RawOffset) -> list[str]:
    """The objects of the micro-batch from ``start`` to ``end`` (a pure function of the two offsets, so a
    replayed batch reads exactly the same objects)."""
    return [k for k in end.keys if not start.covers(k)]
