"""Report aggregates: every count the report draws, folded batch by batch from prediction tables with pyarrow.

Why: a week at scale is millions of prediction rows; the report needs only counts (per hour x topic, client x
topic, location x topic, ...), follower summaries and the few most representative tweets per topic. ``add``
takes one Arrow batch at a time, so memory grows with the number of distinct keys, never with rows.
Missing columns (hours scored before a column was kept) count as null.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# Columns ``add`` reads; absent ones are treated as all-null.
COLUMNS = [
    "id",
    "created_at",
    "text",
    "clean_text",
    "dominant_topic",
    "dominant_prob",
    "source",
    "user_screen_name",
    "user_followers",
    "user_protected",
    "user_verified",
    "user_location",
    "place_country",
    "in_reply_to_screen_name",
    "mentions",
    "hashtags",
]
FOLLOWER_BINS_PER_DECADE = 20  # log10 bins: quartiles within ~12 %
SAMPLE_TWEETS = 5


def _column(batch: pa.Table, name: str, type_: pa.DataType = pa.string()) -> pa.ChunkedArray | pa.Array:
    return batch[name] if name in batch.column_names else pa.nulls(batch.num_rows, type_)


def _pairs(keys: list[pa.Array | pa.ChunkedArray], names: list[str]) -> list[tuple[Any, ...]]:
    """(key..., count) for each distinct key combination, nulls included as None."""
    table = pa.table(dict(zip(names, keys, strict=True)))
    grouped = table.group_by(names).aggregate([([], "count_all")])
    columns = [grouped[n].to_pylist() for n in names] + [grouped["count_all"].to_pylist()]
    return list(zip(*columns, strict=True))


def _exploded(values: pa.Array | pa.ChunkedArray, topics: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Pipe-joined lists -> (item, topic of its row), empty items dropped."""
    lists = pc.split_pattern(pc.fill_null(values, ""), "|")
    items = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    keep = pc.not_equal(items, "")
    return pc.filter(items, keep), pc.filter(pc.take(topics, parents), keep)


@dataclass
class TopicFollowers:
    count: int = 0
    total: int = 0
    low: int | None = None
    high: int | None = None
    bins: Counter[int] = field(default_factory=Counter)

    def quantile(self, q: float) -> float:
        """Approximate quantile from the log bins (bin centre)."""
        if not self.count:
            return float("nan")
        target, seen = q * self.count, 0
        for b in sorted(self.bins):
            seen += self.bins[b]
            if seen >= target:
                return 10 ** ((b + 0.5) / FOLLOWER_BINS_PER_DECADE) - 1
        return float(self.high or 0)


@dataclass
class ReportAggregates:
    """What the report draws, as counts keyed by small tuples."""

    tweets: int = 0
    unassigned: int = 0
    hourly: Counter[tuple[str, int]] = field(default_factory=Counter)  # (YYYY-MM-DDTHH, topic)
    sources: Counter[tuple[str | None, int]] = field(default_factory=Counter)
    replies: Counter[str] = field(default_factory=Counter)
    mentions: Counter[str] = field(default_factory=Counter)
    hashtags: Counter[tuple[int, str]] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)  # protected/verified true/false/unknown
    coverage: Counter[str] = field(default_factory=Counter)
    locations: Counter[tuple[str, int]] = field(default_factory=Counter)  # raw location x topic
    followers: dict[int, TopicFollowers] = field(default_factory=lambda: defaultdict(TopicFollowers))
    # per topic: (probability, id, text, author, created_at) of its most representative tweets
    samples: dict[int, list[tuple[float, str, str, str, str]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, batch: pa.Table | pa.RecordBatch) -> None:
        """Fold one batch of prediction rows into the counts."""
        if isinstance(batch, pa.RecordBatch):
            batch = pa.Table.from_batches([batch])
        if not batch.num_rows:
            return
        topic = pc.fill_null(_column(batch, "dominant_topic", pa.int64()), -1).cast(pa.int64())
        self.tweets += batch.num_rows
        self.unassigned += int(pc.sum(pc.equal(topic, -1)).as_py() or 0)
        assigned = pc.greater_equal(topic, 0)
        hour = pc.utf8_slice_codeunits(_column(batch, "created_at"), 0, 13)
        for h, t, n in _pairs([pc.filter(hour, assigned), pc.filter(topic, assigned)], ["h", "t"]):
            if h is not None:
                self.hourly[(h, t)] += n
        for s, t, n in _pairs([_column(batch, "source"), topic], ["s", "t"]):
            self.sources[(s or None, t)] += n
        for name, counter in (("in_reply_to_screen_name", self.replies), ("mentions", self.mentions)):
            items, _ = _exploded(_column(batch, name), topic)
            for value, n in _pairs([items], ["v"]):
                counter[value] += n
        tags, tag_topics = _exploded(_column(batch, "hashtags"), topic)
        for tag, t, n in _pairs([pc.utf8_lower(tags), tag_topics], ["v", "t"]):
            if t >= 0:
                self.hashtags[(t, tag)] += n
        self._add_flags_and_places(batch, topic)
        self._add_followers(batch, topic, assigned)
        self._add_samples(batch, topic)

    def _add_flags_and_places(self, batch: pa.Table, topic: pa.Array) -> None:
        for flag in ("user_protected", "user_verified"):
            values = _column(batch, flag, pa.bool_())
            self.flags[f"{flag}:true"] += int(pc.sum(pc.fill_null(values, False)).as_py() or 0)
            self.flags[f"{flag}:false"] += int(pc.sum(pc.invert(pc.fill_null(values, True))).as_py() or 0)
            self.flags[f"{flag}:unknown"] += values.null_count
        place = pc.fill_null(_column(batch, "place_country"), "")
        location = pc.utf8_trim_whitespace(pc.fill_null(_column(batch, "user_location"), ""))
        location = pc.if_else(pc.equal(location, "None"), "", location)
        has_place = int(pc.sum(pc.not_equal(place, "")).as_py() or 0)
        has_location = pc.not_equal(location, "")
        n_location = int(pc.sum(has_location).as_py() or 0)
        self.coverage["place_country present"] += has_place
        self.coverage["place_country missing"] += batch.num_rows - has_place
        self.coverage["user_location present"] += n_location
        self.coverage["user_location empty"] += batch.num_rows - n_location
        for loc, t, n in _pairs([pc.filter(location, has_location), pc.filter(topic, has_location)], ["l", "t"]):
            self.locations[(loc, t)] += n

    def _add_followers(self, batch: pa.Table, topic: pa.Array, assigned: pa.Array) -> None:
        followers = _column(batch, "user_followers", pa.int64()).cast(pa.int64())
        keep = pc.and_(assigned, pc.is_valid(followers))
        followers, topics = pc.filter(followers, keep), pc.filter(topic, keep)
        bins = pc.floor(pc.multiply(pc.log10(pc.add(followers.cast(pa.float64()), 1.0)), FOLLOWER_BINS_PER_DECADE))
        for t, b, n in _pairs([topics, bins.cast(pa.int64())], ["t", "b"]):
            self.followers[t].bins[b] += n
        table = pa.table({"t": topics, "f": followers})
        stats = table.group_by("t").aggregate([("f", "count"), ("f", "sum"), ("f", "min"), ("f", "max")])
        for row in stats.to_pylist():
            acc = self.followers[row["t"]]
            acc.count += row["f_count"]
            acc.total += row["f_sum"]
            acc.low = row["f_min"] if acc.low is None else min(acc.low, row["f_min"])
            acc.high = row["f_max"] if acc.high is None else max(acc.high, row["f_max"])

    def _add_samples(self, batch: pa.Table, topic: pa.Array) -> None:
        """Keep the ``SAMPLE_TWEETS`` highest-probability tweets per topic."""
        if "dominant_prob" not in batch.column_names:
            return
        text = _column(batch, "text") if "text" in batch.column_names else _column(batch, "clean_text")
        small = pa.table(
            {
                "t": topic,
                "p": batch["dominant_prob"],
                "id": _column(batch, "id"),
                "text": text,
                "user": _column(batch, "user_screen_name"),
                "created_at": _column(batch, "created_at"),
            }
        )
        for t in pc.unique(topic).to_pylist():
            if t < 0:
                continue
            rows = small.filter(pc.equal(small["t"], t))
            best = rows.take(pc.select_k_unstable(rows, min(SAMPLE_TWEETS, rows.num_rows), [("p", "descending")]))
            heap = self.samples[t]
            for row in best.to_pylist():
                item = (
                    float(row["p"] or 0.0),
                    row["id"] or "",
                    row["text"] or "",
                    row["user"] or "",
                    str(row["created_at"] or ""),
                )
                if len(heap) < SAMPLE_TWEETS:
                    heapq.heappush(heap, item)
                else:
                    heapq.heappushpop(heap, item)


def aggregate(batches: Iterable[pa.Table | pa.RecordBatch]) -> ReportAggregates:
    agg = ReportAggregates()
    for batch in batches:
        agg.add(batch)
    return agg
