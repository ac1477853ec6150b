"""Audience charts: account flags, place/location coverage, top locations, countries, clients, sample tweets.

The reference's analyses 2 and 6-11 (seed-reference.md section 4), from the counts in ``lib/report/aggregates.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tweet_topics.lib.report.charts import SOURCE_UNAVAILABLE, annotated_heatmap, empty, esc, table, topic_pivot


def _bars(
    title: str, labels: Sequence[str], values: Sequence[int], colors: Sequence[str], axis: str, height: int = 320
) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=list(values),
            y=[esc(label) for label in labels],
            orientation="h",
            marker_color=list(colors),
            text=[f"{v:,}" for v in values],
            textposition="auto",
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="tweets", yaxis_title=axis, height=height, margin={"l": 200})
    return fig


def account_flags(flags: Mapping[str, int]) -> Any:
    """Tweets from protected and from verified accounts (the reference printed both counts)."""
    title = "Account flags: tweets by protected and verified authors"
    if not sum(flags.values()):
        return empty(title)
    labels, values, colors = [], [], []
    for flag in ("user_protected", "user_verified"):
        for state, color in (("true", "#d62728"), ("false", "#4c78a8"), ("unknown", "#bbbbbb")):
            labels.append(f"{flag.removeprefix('user_')}: {state}")
            values.append(int(flags.get(f"{flag}:{state}", 0)))
            colors.append(color)
    return _bars(title, labels[::-1], values[::-1], colors[::-1], "flag: value", height=360)


def location_coverage(coverage: Mapping[str, int]) -> Any:
    """How many tweets carry a place (geo-tagged) and how many authors filled in a profile location."""
    title = "Place and location coverage"
    if not sum(coverage.values()):
        return empty(title)
    order = ["place_country present", "place_country missing", "user_location present", "user_location empty"]
    colors = ["#2ca02c", "#bbbbbb", "#2ca02c", "#bbbbbb"]
    values = [int(coverage.get(k, 0)) for k in order][::-1]
    return _bars(title, order[::-1], values, colors[::-1], "field")


def top_locations_table(locations: pd.Series, unique: int, n: int = 50) -> Any:
    """The ``n`` most frequent profile locations (placeholders already removed) and their country."""
    from tweet_topics.lib.report.locations import country_name, country_of

    top = locations.sort_values(ascending=False, kind="stable").head(n)
    title = f"Top {len(top)} user locations ({unique:,} unique, placeholders such as Earth/Worldwide excluded)"
    countries = [country_name(country_of(loc)) if country_of(loc) else "—" for loc in top.index]
    return table(
        title,
        ["#", "location", "country", "tweets"],
        [list(range(1, len(top) + 1)), list(top.index), countries, [f"{v:,}" for v in top]],
        numeric=(0, 3),
    )


def tweets_by_country(countries: pd.Series, n: int = 20) -> Any:
    """Tweets per country resolved from profile locations (a bar: a map would need map tiles from a CDN)."""
    title = "Tweets by country (from profile locations)"
    top = countries.sort_values(ascending=False, kind="stable").head(n)
    if top.empty:
        return empty(title)
    labels, values = list(top.index)[::-1], list(top.to_numpy())[::-1]
    return _bars(title, labels, values, ["#4c78a8"] * len(top), "country", max(300, 140 + 30 * len(top)))


def country_topic_heatmap(counts: pd.DataFrame, names: Mapping[int, str], top: int = 12) -> Any:
    """Top ``top`` countries x topic from (country, topic, tweets), same style as the client heatmap."""
    title = "Country x topic"
    pivot = topic_pivot(counts, "country", names, top) if len(counts) else pd.DataFrame()
    return empty(title) if pivot.empty else annotated_heatmap(pivot, title, "topic", "country")


def top_clients_table(sources: pd.Series, n: int = 20) -> Any:
    """The ``n`` most used posting clients; "not available" when X returned no ``source`` at all."""
    title = f"Top {n} clients"
    known = sources[sources.index.notna()] if len(sources) else sources
    if len(sources) and known.empty:
        return table(title, ["client"], [], empty_text=SOURCE_UNAVAILABLE)
    top = known.sort_values(ascending=False, kind="stable").head(n)
    share = top / sources.sum() if len(sources) else top
    return table(
        title,
        ["client", "tweets", "share"],
        [list(top.index), [f"{v:,}" for v in top], [f"{s:.1%}" for s in share]],
        numeric=(1, 2),
    )


def distinct_digits(values: Sequence[float], low: int = 3, high: int = 8) -> int:
    """The fewest decimals (``low``..``high``) at which different values print differently."""
    wanted = len(set(values))
    return next((d for d in range(low, high) if len({f"{v:.{d}f}" for v in values}) == wanted), high)


def tweet_time(created_at: str) -> str:
    """'2026-03-02T10:05:00.000Z' -> '2026-03-02 10:05 UTC' (unparseable text is shown as it is)."""
    stamp = pd.to_datetime(created_at, utc=True, errors="coerce")
    return created_at if pd.isna(stamp) else f"{stamp:%Y-%m-%d %H:%M} UTC"


def representative_tweets(
    samples: Mapping[int, Sequence[tuple[float, str, str, str, str]]], names: Mapping[int, str]
) -> Any:
    """Each topic's most representative tweets: the full text (wrapped), its probability, author and time."""
    from tweet_topics.lib.report.aggregates import SAMPLE_TWEETS

    rows = [(names.get(t, str(t)), *item) for t in sorted(samples) for item in sorted(samples[t], reverse=True)]
    digits = distinct_digits([r[1] for r in rows]) if rows else 3
    note = (
        f"Per topic, the {SAMPLE_TWEETS} tweets whose dominant topic it is with the highest probability (p, the "
        f"topic's share of the tweet's topic distribution; ties broken by tweet id), most probable first. p is "
        f"shown with {digits} decimals, enough to tell the rows apart."
    )
    return table(
        "Most representative tweets per topic",
        ["topic", "p", "author", "time", "text"],
        [
            [r[0] for r in rows],
            [f"{r[1]:.{digits}f}" for r in rows],
            ["@" + r[4] if r[4] else "" for r in rows],
            [tweet_time(r[5]) for r in rows],
            [" ".join(r[3].split()) for r in rows],
        ],
        note=note,
        numeric=(1,),
    )
