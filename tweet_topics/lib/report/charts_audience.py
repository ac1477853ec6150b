"""Audience charts: account flags, place/location coverage, top locations, countries, clients, sample tweets.

The reference's analyses 2 and 6-11 (seed-reference.md section 4), from the counts in ``lib/report/aggregates.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tweet_topics.lib.report.charts import SOURCE_UNAVAILABLE, annotated_heatmap, empty, esc, short, table, topic_pivot


def _bars(title: str, labels: Sequence[str], values: Sequence[int], colors: Sequence[str], height: int = 320) -> Any:
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
    fig.update_layout(title=title, xaxis_title="tweets", height=height, margin={"l": 200})
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
    return _bars(title, labels[::-1], values[::-1], colors[::-1], height=360)


def location_coverage(coverage: Mapping[str, int]) -> Any:
    """How many tweets carry a place (geo-tagged) and how many authors filled in a profile location."""
    title = "Place and location coverage"
    if not sum(coverage.values()):
        return empty(title)
    order = ["place_country present", "place_country missing", "user_location present", "user_location empty"]
    colors = ["#2ca02c", "#bbbbbb", "#2ca02c", "#bbbbbb"]
    return _bars(title, order[::-1], [int(coverage.get(k, 0)) for k in order][::-1], colors[::-1])


def top_locations_table(locations: pd.Series, unique: int, n: int = 50) -> Any:
    """The ``n`` most frequent profile locations (placeholders already removed) and their country."""
    from tweet_topics.lib.report.locations import country_name, country_of

    top = locations.sort_values(ascending=False, kind="stable").head(n)
    title = f"Top {len(top)} user locations ({unique:,} unique, placeholders such as Earth/Worldwide excluded)"
    if top.empty:
        return empty(title)
    countries = [country_name(country_of(loc)) if country_of(loc) else "—" for loc in top.index]
    return table(
        title,
        ["#", "location", "country", "tweets"],
        [list(range(1, len(top) + 1)), list(top.index), countries, [f"{v:,}" for v in top]],
        widths=[6, 50, 25, 12],
    )


def tweets_by_country(countries: pd.Series, n: int = 20) -> Any:
    """Tweets per country resolved from profile locations (a bar: a map would need map tiles from a CDN)."""
    title = "Tweets by country (from profile locations)"
    top = countries.sort_values(ascending=False, kind="stable").head(n)
    if top.empty:
        return empty(title)
    return _bars(
        title, list(top.index)[::-1], list(top.to_numpy())[::-1], ["#4c78a8"] * len(top), max(300, 140 + 30 * len(top))
    )


def country_topic_heatmap(counts: pd.DataFrame, names: Mapping[int, str], top: int = 12) -> Any:
    """Top ``top`` countries x topic from (country, topic, tweets), same style as the client heatmap."""
    title = "Country x topic"
    pivot = topic_pivot(counts, "country", names, top) if len(counts) else pd.DataFrame()
    return empty(title) if pivot.empty else annotated_heatmap(pivot, title, "topic", "country")


def top_clients_table(sources: pd.Series, n: int = 20) -> Any:
    """The ``n`` most used posting clients; "not available" when X returned no ``source`` at all."""
    title = f"Top {n} clients"
    known = sources[sources.index.notna()] if len(sources) else sources
    if sources.empty:
        return empty(title)
    if known.empty:
        return empty(title, SOURCE_UNAVAILABLE)
    top = known.sort_values(ascending=False, kind="stable").head(n)
    share = top / sources.sum()
    return table(
        title,
        ["client", "tweets", "share"],
        [list(top.index), [f"{v:,}" for v in top], [f"{s:.1%}" for s in share]],
        widths=[50, 15, 15],
    )


def representative_tweets(
    samples: Mapping[int, Sequence[tuple[float, str, str, str]]], names: Mapping[int, str]
) -> Any:
    """Each topic's most representative tweets (highest topic probability); text is HTML-escaped."""
    title = "Most representative tweets per topic (highest probability)"
    rows = [
        (names.get(t, str(t)), p, user, text)
        for t in sorted(samples)
        for p, _id, text, user in sorted(samples[t], reverse=True)
    ]
    if not rows:
        return empty(title)
    fig = table(
        title,
        ["topic", "p", "author", "text"],
        [
            [short(r[0], 28) for r in rows],
            [f"{r[1]:.3f}" for r in rows],
            ["@" + r[2] if r[2] else "" for r in rows],
            [" ".join(r[3].split()) for r in rows],
        ],
        widths=[18, 7, 15, 90],
    )
    fig.update_layout(height=min(2400, 90 + 62 * len(rows)))
    return fig
