"""Plotly chart builders for the topic report: plain functions from small aggregate frames to a Figure.

Inputs are counts (see ``lib/report/aggregates.py``), never prediction rows. Every builder accepts an empty frame (it
returns a figure that says so), keeps one colour per topic across charts, and shortens long labels (the full
text stays in the hover). Audience charts live in ``charts_audience``, operations charts in ``charts_ops``.

Every string that comes from data (terms, topic names, users, clients, hashtags, locations) reaches plotly through
``esc`` (``short`` calls it): plotly renders a subset of HTML (``<a href>``, ``<b>``, ``<br>``) and character
entities in tick labels, legends, hover text, annotations and cell text, so unescaped data becomes live markup.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tweet_topics.lib.report.tables import NO_DATA, HtmlTable

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
LABEL_MAX = 22


def topic_colors(names: Mapping[int, str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in sorted(names.items())}


def esc(value: Any) -> str:
    """Data text that plotly shows literally (it decodes &amp; &lt; &gt; and numeric entities back to text)."""
    return html.escape(str(value), quote=False)


def short(label: Any, limit: int = LABEL_MAX) -> str:
    """A label cut to ``limit`` characters (then escaped, so no entity is cut in half)."""
    text = str(label)
    return esc(text if len(text) <= limit else text[: limit - 1] + "…")


def empty(title: str, message: str = NO_DATA) -> Any:
    """A figure that says why there is nothing to draw (no data, or a column X no longer returns)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 16})
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False}, height=300)
    return fig


def top_terms_bars(topics: Sequence[Mapping[str, Any]], names: Mapping[int, str], n: int = 10) -> Any:
    """One horizontal bar panel per topic: its top ``n`` terms by weight."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    title = "Top terms per topic"
    if not topics:
        return empty(title)
    colors = topic_colors(names)
    fig = make_subplots(
        rows=1, cols=len(topics), subplot_titles=[short(names[t["topic"]], 30) for t in topics], horizontal_spacing=0.06
    )
    for col, topic in enumerate(topics, start=1):
        terms, weights = list(topic["terms"][:n])[::-1], list(topic["weights"][:n])[::-1]
        name = names[topic["topic"]]
        fig.add_trace(
            go.Bar(
                x=weights,
                y=[esc(t) for t in terms],
                orientation="h",
                name=esc(name),
                marker_color=colors[name],
                showlegend=False,
                hovertemplate="%{y}: %{x:.4f}<extra>%{fullData.name}</extra>",
            ),
            row=1,
            col=col,
        )
    fig.update_layout(title=title, height=460, margin={"l": 40, "r": 20, "t": 80, "b": 60})
    fig.update_xaxes(title_text="weight")
    fig.update_yaxes(title_text="term")
    return fig


def prevalence_over_time(hourly: pd.DataFrame, names: Mapping[int, str]) -> Any:
    """Tweets per hour by dominant topic (stacked areas); ``hourly`` has hour, topic, tweets."""
    import plotly.graph_objects as go

    title = "Topic prevalence over time (tweets per hour)"
    if hourly.empty:
        return empty(title)
    counts = hourly.pivot_table(index="hour", columns="topic", values="tweets", aggfunc="sum", fill_value=0)
    counts = counts.sort_index()
    colors = topic_colors(names)
    fig = go.Figure()
    for topic, name in sorted(names.items()):
        y = counts[topic] if topic in counts else pd.Series(0, index=counts.index)
        fig.add_trace(
            go.Scatter(
                x=list(counts.index),
                y=list(y),
                name=esc(name),
                stackgroup="one",
                mode="lines",
                line={"color": colors[name]},
            )
        )
    fig.update_layout(title=title, xaxis_title="hour (UTC)", yaxis_title="tweets", height=420)
    return fig


def annotated_heatmap(pivot: pd.DataFrame, title: str, x_title: str, y_title: str) -> Any:
    """Counts as text, colour on log1p(count) as in the reference (YlOrRd, no colour bar)."""
    import numpy as np
    import plotly.graph_objects as go

    z = np.log1p(pivot.to_numpy(dtype=float))
    text = [[f"{int(v):,}" for v in row] for row in pivot.to_numpy()]  # numbers; the labels below are data
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[short(c) for c in pivot.columns],
            y=[short(i) for i in pivot.index],
            text=text,
            texttemplate="%{text}",
            colorscale="YlOrRd",
            showscale=False,
            hovertemplate="%{y} / %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title=x_title,
        yaxis={"title": y_title, "autorange": "reversed"},  # the largest row on top
        height=max(300, 45 * len(pivot) + 140),
    )
    return fig


def topic_pivot(counts: pd.DataFrame, row: str, names: Mapping[int, str], top: int) -> pd.DataFrame:
    """The ``top`` rows by total x every topic (columns in topic order, named), from (row, topic, tweets)."""
    data = counts[(counts["topic"] >= 0) & counts[row].notna()]
    totals = data.groupby(row)["tweets"].sum().reset_index().sort_values(["tweets", row], ascending=[False, True])
    keep = list(totals[row].head(top))
    pivot = data[data[row].isin(keep)].pivot_table(
        index=row, columns="topic", values="tweets", aggfunc="sum", fill_value=0
    )
    pivot = pivot.reindex(index=keep, columns=sorted(names), fill_value=0)
    pivot.columns = [names[c] for c in pivot.columns]
    return pivot


def source_topic_heatmap(sources: pd.DataFrame, names: Mapping[int, str], top: int = 7) -> Any:
    """Top ``top`` clients x topic; says "not available" when X returned no client at all."""
    title = "Source client x topic"
    if sources.empty:
        return empty(title)
    if sources["source"].notna().sum() == 0:
        return empty(title, SOURCE_UNAVAILABLE)
    pivot = topic_pivot(sources, "source", names, top)
    return empty(title) if pivot.empty else annotated_heatmap(pivot, title, "topic", "client")


SOURCE_UNAVAILABLE = "not available: X no longer returns the posting client (source) for these tweets"


def weekday_hour_heatmap(hourly: pd.DataFrame, names: Mapping[int, str]) -> Any:
    """For each weekday x hour, the most frequent dominant topic (cell text) and its tweet count (colour)."""
    import plotly.graph_objects as go

    title = "Tweets during the day: most frequent topic by weekday and hour (UTC)"
    data = hourly[hourly["topic"] >= 0] if len(hourly) else hourly
    if data.empty:
        return empty(title)
    ts = pd.to_datetime(data["hour"], utc=True)
    cells = data.assign(weekday=ts.dt.weekday, hod=ts.dt.hour).groupby(["weekday", "hod", "topic"])["tweets"].sum()
    best = cells.reset_index(name="n").sort_values(["n", "topic"], ascending=[False, True])
    best = best.drop_duplicates(["weekday", "hod"]).set_index(["weekday", "hod"])
    days = sorted(set(ts.dt.weekday))
    z = [[float(best.loc[(d, h), "n"]) if (d, h) in best.index else None for d in days] for h in range(24)]
    text = [
        [short(names[int(best.loc[(d, h), "topic"])], 14) if (d, h) in best.index else "" for d in days]
        for h in range(24)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[WEEKDAYS[d] for d in days],
            y=list(range(24)),
            text=text,
            texttemplate="%{text}",
            colorscale="YlOrRd",
            colorbar={"title": "tweets"},
            hovertemplate="%{x} %{y}:00 — %{text}: %{z}<extra></extra>",
        )
    )
    subtitle = "" if len(days) == 7 else f" — {len(days)} of 7 weekdays in this window"
    fig.update_layout(
        title=title + subtitle,
        xaxis={"side": "top", "title": "weekday"},
        yaxis={"title": "hour (UTC)", "autorange": "reversed"},
        height=800,
    )
    return fig


def followers_by_topic(followers: pd.DataFrame, names: Mapping[int, str]) -> Any:
    """Author followers per topic as a box from precomputed quartiles (log axis); min/mean/max are exact."""
    import plotly.graph_objects as go

    title = "Author followers by topic (quartiles from log bins; min, mean and max exact)"
    data = followers[(followers["topic"] >= 0) & (followers["count"] > 0)] if len(followers) else followers
    if data.empty:
        return empty(title)
    colors = topic_colors(names)
    fig = go.Figure()
    for row in data.sort_values("topic").itertuples():
        name = names.get(int(row.topic), str(row.topic))
        fig.add_trace(
            go.Box(
                name=short(name, 30),
                x=[short(name, 30)],  # precomputed boxes need their own category, else they all stack at x=0
                q1=[row.q1 + 1],
                median=[row.median + 1],
                q3=[row.q3 + 1],
                lowerfence=[row.min + 1],
                upperfence=[row.max + 1],
                mean=[row.mean + 1],
                marker_color=colors.get(name, PALETTE[0]),
            )
        )
    fig.update_layout(
        title=title, xaxis_title="topic", yaxis={"type": "log", "title": "followers + 1"}, showlegend=False, height=450
    )
    return fig


def top_users(counts: pd.Series, title: str, n: int = 10) -> Any:
    """The ``n`` most frequent users of a count series (user -> tweets)."""
    import plotly.graph_objects as go

    counts = counts[counts.index != ""].sort_values(ascending=False, kind="stable").head(n)
    if counts.empty:
        return empty(title)
    fig = go.Figure(
        go.Bar(
            x=counts.to_numpy()[::-1],
            y=[short("@" + u) for u in counts.index[::-1]],
            orientation="h",
            customdata=[esc(u) for u in counts.index[::-1]],
            hovertemplate="@%{customdata}: %{x}<extra></extra>",
            marker_color="#4c78a8",
        )
    )
    fig.update_layout(title=title, height=max(300, 32 * len(counts) + 120), xaxis_title="tweets", yaxis_title="user")
    return fig


def top_hashtags_per_topic(tags: pd.DataFrame, names: Mapping[int, str], n: int = 5) -> Any:
    """The ``n`` most used hashtags within each topic, from (topic, tag, tweets)."""
    import plotly.graph_objects as go

    title = "Top hashtags per topic"
    data = tags[tags["topic"] >= 0] if len(tags) else tags
    if data.empty:
        return empty(title)
    colors = topic_colors(names)
    fig = go.Figure()
    for topic, name in sorted(names.items()):
        counts = data[data["topic"] == topic].sort_values(["tweets", "tag"], ascending=[False, True]).head(n)
        fig.add_trace(
            go.Bar(
                x=[f"#{short(t, 18)}" for t in counts["tag"]],
                y=counts["tweets"].to_numpy(),
                name=short(name, 30),
                marker_color=colors[name],
            )
        )
    fig.update_layout(title=title, barmode="stack", height=450, xaxis_title="hashtag", yaxis_title="tweets")
    return fig


def table(
    title: str,
    headers: Sequence[str],
    columns: Sequence[Sequence[Any]],
    note: str = "",
    numeric: Sequence[int] = (),
    empty_text: str = NO_DATA,
) -> HtmlTable:
    """An HTML table from columns (cells escaped by ``HtmlTable``; long text wraps instead of being clipped)."""
    rows = [list(row) for row in zip(*columns, strict=True)] if columns else []
    return HtmlTable(title, list(headers), rows, note, frozenset(numeric), empty_text)


def summary_table(rows: Sequence[tuple[str, Any]]) -> HtmlTable:
    return table("Model and window", ["", "value"], [[k for k, _ in rows], [v for _, v in rows]])
