"""The live page: per-minute topic shares of the last 3 hours and the topics moving now, one self-contained file.

Why self-contained (plotly inlined) and static: it is served from the private bucket (a pre-signed URL on AWS) or
opened from disk; a ``<meta http-equiv="refresh">`` reloads it every 30 s while the live query rewrites it. Every
text that came from data (topic names are top terms of tweets) is HTML-escaped. Topic ids change with a refit,
so shares and the z-score baseline are per model version.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tweet_topics.live.results import minutes_between
from tweet_topics.storage.catalog import Storage

WINDOW = timedelta(hours=3)
FEW_MINUTES = 30  # up to this many minutes with tweets: markers and a tick per minute
BASELINE = timedelta(hours=24)
RECENT_MINUTES = 10
Z_THRESHOLD = 3.0
REFRESH_SECONDS = 30


@dataclass
class Movers:
    topic: int
    recent_share: float
    baseline_share: float
    z: float


def shares(minutes: dict[str, dict[str, dict[str, int]]], version: str) -> dict[str, dict[int, float]]:
    """Per minute: topic -> share of that minute's tweets scored by ``version``."""
    out: dict[str, dict[int, float]] = {}
    for minute, versions in minutes.items():
        counts = versions.get(version, {})
        total = sum(counts.values())
        if total:
            out[minute] = {int(t): n / total for t, n in counts.items()}
    return out


def movers(
    recent: dict[str, dict[str, dict[str, int]]], baseline: dict[str, dict[str, dict[str, int]]], version: str
) -> list[Movers]:
    """Topics whose share of the recent minutes deviates from the trailing baseline by |z| >= 3 (binomial z)."""

    def totals(minutes: dict[str, dict[str, dict[str, int]]]) -> tuple[dict[int, int], int]:
        by_topic: dict[int, int] = {}
        for versions in minutes.values():
            for topic, n in versions.get(version, {}).items():
                by_topic[int(topic)] = by_topic.get(int(topic), 0) + n
        return by_topic, sum(by_topic.values())

    now_counts, now_total = totals(recent)
    base_counts, base_total = totals(baseline)
    out = []
    if not now_total or not base_total:
        return out
    for topic in sorted(set(now_counts) | set(base_counts)):
        p0 = base_counts.get(topic, 0) / base_total
        p = now_counts.get(topic, 0) / now_total
        spread = math.sqrt(max(p0 * (1 - p0), 1e-9) / now_total)
        z = (p - p0) / spread
        if abs(z) >= Z_THRESHOLD:
            out.append(Movers(topic, p, p0, z))
    return out


def latest_version(minutes: dict[str, dict[str, dict[str, int]]]) -> str | None:
    for versions in reversed(list(minutes.values())):
        if versions:
            return max(versions, key=lambda v: sum(versions[v].values()))
    return None


def render(storage: Storage, now: datetime) -> str:
    """The page's HTML for ``now``."""
    import plotly.graph_objects as go

    store, keys = storage.s3, storage.live
    window = minutes_between(store, keys, now - WINDOW, now + timedelta(minutes=1))
    version = latest_version(window)
    names = _names(storage, version)
    figure = go.Figure()
    per_minute = shares(window, version) if version else {}
    few = len(per_minute) <= FEW_MINUTES
    plural = "minute" if len(window) == 1 else "minutes"
    tweets = sum(n for versions in window.values() for n in versions.get(version or "", {}).values())
    for topic in sorted({t for s in per_minute.values() for t in s}):
        x = list(per_minute)
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[per_minute[m].get(topic, 0.0) for m in x],
                name=html.escape(names.get(topic, str(topic)), quote=False),  # plotly renders tags in names
                stackgroup="one",
                mode="lines+markers" if few else "lines",  # a lone minute is a point, not an invisible area
            )
        )
    xaxis = {"tickformat": "%H:%M", **({"dtick": 60_000} if few else {})}  # minutes, never seconds, on the axis
    figure.update_layout(
        title="Topic share per minute, last 3 hours", yaxis={"tickformat": ".0%"}, xaxis=xaxis, height=480
    )
    recent_start = now - timedelta(minutes=RECENT_MINUTES)
    recent = {m: v for m, v in window.items() if m >= recent_start.strftime("%Y-%m-%dT%H:%M")}
    baseline = minutes_between(store, keys, recent_start - BASELINE, recent_start)
    moving = movers(recent, baseline, version) if version else []
    rows = (
        "".join(
            f"<tr><td>{html.escape(names.get(m.topic, str(m.topic)))}</td><td>{m.recent_share:.1%}</td>"
            f"<td>{m.baseline_share:.1%}</td><td>{m.z:+.1f}</td></tr>"
            for m in moving
        )
        or '<tr><td colspan="4">no topic moves by |z| &ge; 3 against the trailing 24 h</td></tr>'
    )
    body = figure.to_html(full_html=False, include_plotlyjs=True, config={"responsive": True})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<title>tweet_topics live</title>
<style>body{{font-family:sans-serif;margin:1.5em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px}}</style>
</head><body>
<h1>Live topics</h1>
<p id="updated">Updated {now:%Y-%m-%d %H:%M:%S} UTC; {tweets:,} tweets scored in the {len(window)} {plural}
with tweets of the last 3 hours; model version <code>{html.escape(version or "none")}</code>. This page reloads every
{REFRESH_SECONDS} s. A refit changes topic ids, so shares and the baseline below restart with each model version.</p>
{body}
<h2>Moving now: last {RECENT_MINUTES} minutes against the trailing 24 hours</h2>
<table id="movers"><tr><th>topic</th><th>share now</th><th>share 24 h</th><th>z</th></tr>{rows}</table>
</body></html>
"""


def _names(storage: Storage, version: str | None) -> dict[int, str]:
    if not version:
        return {}
    try:
        return {-1: "unassigned", **storage.topic_names(version)}
    except Exception:  # a version without a manifest (expired) shows topic ids
        return {-1: "unassigned"}


def write_page(storage: Storage, now: datetime | None = None) -> Path:
    """Render the page to ``<local dir>/live/live.html`` and to the bucket (``LiveKeys.page``)."""
    page = render(storage, now or datetime.now(UTC))
    path = storage.local_path("live") / "live.html"
    path.write_text(page, encoding="utf-8")
    storage.s3.put(storage.live.page, page.encode(), "text/html; charset=utf-8")
    return path
