"""Topic trends: each topic's hourly share against its trailing baseline, and emerging terms by Dunning's G².

Why these tests: a topic's share of an hour is a proportion, so its surprise is a z-score against the trailing
hours' mean, with the spread floored at the current hour's binomial standard error (a quiet baseline must not
turn one extra tweet into an alert). A term's jump is a 2x2 contingency (this hour vs the trailing window, term
vs every other term): Dunning's log-likelihood G² (1993) stays valid for the small counts of rare terms, where
a chi-square or a ratio of frequencies does not. 10.83 is the chi-square(1) critical value at p = 0.001.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

UNASSIGNED = -1
G2_CRITICAL_001 = 10.83


@dataclass
class HourCounts:
    """One hour's tweets per dominant topic, its low-confidence tweets and its term occurrences."""

    total: int = 0
    topics: Counter[int] = field(default_factory=Counter)
    low_confidence: int = 0  # unassigned, or dominant probability below the threshold
    terms: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "topics": {str(k): v for k, v in self.topics.items()},
            "low_confidence": self.low_confidence,
        }


def tokens(text: pa.Array | pa.ChunkedArray, stop_words: frozenset[str], min_length: int = 3) -> pa.Array:
    """Lowercase letter runs of the cleaned text (URLs and mentions dropped), stop words removed."""
    text = pc.utf8_lower(pc.fill_null(text, ""))
    text = pc.replace_substring_regex(text, r"(https?://\S+|www\.\S+|@\w+)", " ")
    words = pc.list_flatten(pc.split_pattern_regex(pc.replace_substring_regex(text, r"[^a-z]+", " "), r" +"))
    keep = pc.greater_equal(pc.utf8_length(words), min_length)
    if stop_words:
        keep = pc.and_(keep, pc.invert(pc.is_in(words, value_set=pa.array(sorted(stop_words)))))
    return pc.filter(words, keep)


def hour_counts(
    batches: Iterable[pa.Table], min_probability: float, stop_words: frozenset[str] = frozenset()
) -> HourCounts:
    """Fold prediction batches (dominant_topic, dominant_prob, clean_text) of one hour into ``HourCounts``."""
    counts = HourCounts()
    for batch in batches:
        if not batch.num_rows:
            continue
        topic = pc.fill_null(batch["dominant_topic"], UNASSIGNED).cast(pa.int64())
        counts.total += batch.num_rows
        for value in pc.value_counts(topic).to_pylist():
            counts.topics[int(value["values"])] += int(value["counts"])
        low = pc.or_(pc.equal(topic, UNASSIGNED), pc.less(pc.fill_null(batch["dominant_prob"], 0.0), min_probability))
        counts.low_confidence += int(pc.sum(low).as_py() or 0)
        for value in pc.value_counts(tokens(batch["clean_text"], stop_words)).to_pylist():
            counts.terms[value["values"]] += int(value["counts"])
    return counts


@dataclass(frozen=True)
class Shift:
    """One share (a topic's, or the low-confidence tweets') this hour against the trailing baseline."""

    name: str
    share: float
    baseline: float
    z: float
    alert: bool


def share_z(now: int, total: int, history: Sequence[tuple[int, int]]) -> tuple[float, float, float]:
    """(share, baseline mean share, z) for ``now`` of ``total`` against (count, total) per trailing hour."""
    share = now / total if total else 0.0
    shares = [n / t for n, t in history if t]
    if not shares or not total:
        return share, float("nan"), 0.0
    mean = sum(shares) / len(shares)
    spread = math.sqrt(sum((s - mean) ** 2 for s in shares) / max(len(shares) - 1, 1))
    p = min(max(mean, 1.0 / (total + 1)), 1 - 1.0 / (total + 1))
    sigma = max(spread, math.sqrt(p * (1 - p) / total))
    return share, mean, (share - mean) / sigma


def topic_shifts(
    current: HourCounts,
    trailing: Sequence[HourCounts],
    names: Mapping[int, str],
    z_threshold: float = 3.0,
    min_baseline_hours: int = 6,
) -> tuple[list[Shift], Shift]:
    """Every topic's shift (alert at |z| >= threshold) and the low-confidence share's (alert only when rising)."""
    enough = len([h for h in trailing if h.total]) >= min_baseline_hours

    def shift(name: str, now: int, past: list[tuple[int, int]], two_sided: bool) -> Shift:
        share, baseline, z = share_z(now, current.total, past)
        beyond = abs(z) >= z_threshold if two_sided else z >= z_threshold
        return Shift(name, round(share, 4), round(baseline, 4), round(z, 2), enough and beyond)

    topics = [
        shift(name, current.topics.get(t, 0), [(h.topics.get(t, 0), h.total) for h in trailing], True)
        for t, name in sorted(names.items())
    ]
    stale = shift(
        "unassigned or low-probability", current.low_confidence, [(h.low_confidence, h.total) for h in trailing], False
    )
    return topics, stale


@dataclass(frozen=True)
class EmergingTerm:
    term: str
    count: int
    baseline_count: int
    g2: float
    ratio: float  # relative frequency now / in the trailing window (+1 smoothed)


def log_likelihood(a: int, b: int, n1: int, n2: int) -> float:
    """Dunning's G² for a term seen ``a`` times in ``n1`` tokens vs ``b`` times in ``n2`` (Rayson's form)."""
    e1, e2 = n1 * (a + b) / (n1 + n2), n2 * (a + b) / (n1 + n2)
    g2 = (a * math.log(a / e1) if a else 0.0) + (b * math.log(b / e2) if b else 0.0)
    return 2.0 * g2


def emerging_terms(
    current: Counter[str], trailing: Counter[str], min_count: int = 5, min_g2: float = G2_CRITICAL_001, top: int = 10
) -> list[EmergingTerm]:
    """Terms whose frequency this hour rose against the trailing window, G² >= ``min_g2``, strongest first."""
    n1, n2 = sum(current.values()), sum(trailing.values())
    if not n1 or not n2:
        return []
    found = []
    for term, a in current.items():
        b = trailing.get(term, 0)
        if a < min_count or a / n1 <= b / n2:
            continue
        g2 = log_likelihood(a, b, n1, n2)
        if g2 >= min_g2:
            found.append(EmergingTerm(term, a, b, round(g2, 2), round((a / n1) / ((b + 1) / n2), 2)))
    return sorted(found, key=lambda t: (-t.g2, t.term))[:top]


def merged_terms(hours: Iterable[HourCounts]) -> Counter[str]:
    total: Counter[str] = Counter()
    for hour in hours:
        total.update(hour.terms)
    return total


def trend_record(
    hour: str, current: HourCounts, topics: list[Shift], stale: Shift, terms: list[EmergingTerm], baseline_hours: int
) -> dict[str, Any]:
    """The JSON stored per hour by ``topic_trends`` and read back by its check and the report."""
    return {
        "hour": hour,
        "counts": current.to_dict(),
        "baseline_hours": baseline_hours,
        "topics": [_finite(asdict(s)) for s in topics],
        "low_confidence": _finite(asdict(stale)),
        "emerging_terms": [asdict(t) for t in terms],
        "alerts": [s.name for s in topics if s.alert] + ([stale.name] if stale.alert else []),
    }


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    """NaN (no baseline yet) as None, so the record is valid JSON."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in values.items()}
