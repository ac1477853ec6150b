"""``live_topic_shares``: the live query's results as an observable asset, and its freshness check.

The asset is external (the live process writes it, not a Dagster run): ``live_status`` and ``live_supervisor``
record an observation with the last committed minute, the lag and the per-topic share of the last 10 minutes.
The freshness check fails when the live query is more than 5 minutes behind while the streamer is delivering.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from tweet_topics.defs.live.resources import LiveState
from tweet_topics.defs.streaming.resources import StreamerState
from tweet_topics.lib.naming import markdown_table
from tweet_topics.live.results import minutes_between
from tweet_topics.storage.catalog import Storage

LIVE_TOPIC_SHARES = dg.AssetSpec(
    "live_topic_shares",
    group_name="live",
    kinds={"spark", "s3"},
    description="Per-minute topic counts and shares of the live query (python -m tweet_topics live), "
    "one Parquet of scored tweets per minute under the live prefix; observed, not materialized.",
)
MAX_LAG_S = 300.0
STALE_HEARTBEAT_S = 120.0
DELIVERING_RAW_AGE_S = 600.0


def recent_shares(storage: Storage, now: datetime, minutes: int = 10) -> tuple[str | None, dict[int, float], int]:
    """(model version, topic -> share, tweets) over the last ``minutes`` minutes, for the newest model version."""
    window = minutes_between(storage.s3, storage.live, now - timedelta(minutes=minutes), now + timedelta(minutes=1))
    totals: dict[str, dict[int, int]] = {}
    for versions in window.values():
        for version, topics in versions.items():
            for topic, n in topics.items():
                totals.setdefault(version, {})[int(topic)] = totals.setdefault(version, {}).get(int(topic), 0) + n
    if not totals:
        return None, {}, 0
    version = max(totals, key=lambda v: sum(totals[v].values()))
    count = sum(totals[version].values())
    return version, {t: n / count for t, n in sorted(totals[version].items())}, count


def observation(storage: Storage, live_state: LiveState) -> dg.AssetObservation:
    """What the live query has committed: last minute, lag, model version and the last 10 minutes' shares."""
    beat = live_state.heartbeat() or {}
    version, shares, tweets = recent_shares(storage, datetime.now(UTC))
    names = storage.topic_names(version) if version else {}
    rows = [(t, names.get(t, "unassigned" if t < 0 else str(t)), f"{s:.1%}") for t, s in shares.items()]
    metadata: dict[str, Any] = {
        "state": str(beat.get("state", "never started")),
        "last_committed_minute": str(beat.get("last_committed_minute")),
        "lag_s": beat.get("lag_s") if beat.get("lag_s") is not None else -1.0,
        "heartbeat_age_s": round(beat["age_s"], 1) if beat else -1.0,
        "model_version": str(version or beat.get("model_version")),
        "tweets_last_10_min": tweets,
        "shares_last_10_min": dg.MetadataValue.md(markdown_table(["topic", "name", "share"], rows)),
    }
    if beat.get("model_error"):
        metadata["model_error"] = str(beat["model_error"])
    return dg.AssetObservation(asset_key=LIVE_TOPIC_SHARES.key, metadata=metadata)


def freshness(live_state: LiveState, streamer_state: StreamerState) -> tuple[bool, dict[str, Any]]:
    """Behind = heartbeat stale, or lag over 5 minutes; it fails only while the streamer is delivering."""
    beat = live_state.heartbeat()
    streamer = streamer_state.heartbeat()
    raw_age = streamer_state.raw_age_s()
    delivering = bool(
        (streamer and streamer["state"] == "running" and streamer["age_s"] <= STALE_HEARTBEAT_S)
        or (raw_age is not None and raw_age <= DELIVERING_RAW_AGE_S)
    )
    if beat is None:
        behind, why = True, "the live query never wrote a heartbeat"
    elif beat["age_s"] > STALE_HEARTBEAT_S:
        behind, why = True, f"heartbeat {beat['age_s']:.0f}s old (state {beat['state']})"
    elif beat.get("lag_s") is None or beat["lag_s"] > MAX_LAG_S:
        behind, why = True, f"lag {beat.get('lag_s')}s > {MAX_LAG_S:.0f}s (state {beat['state']})"
    else:
        behind, why = False, f"lag {beat['lag_s']}s"
    details = {
        "delivering": delivering,
        "reason": why,
        "raw_age_s": round(raw_age, 1) if raw_age is not None else -1.0,
        "live_state": (beat or {}).get("state", "none"),
    }
    return not (behind and delivering), details


@dg.asset_check(asset=LIVE_TOPIC_SHARES.key, description="the live query is at most 5 minutes behind the stream")
def live_freshness(live_state: LiveState, streamer_state: StreamerState) -> dg.AssetCheckResult:
    passed, details = freshness(live_state, streamer_state)
    return dg.AssetCheckResult(passed=passed, metadata=details)
