"""Plotly chart builders for the topic report: plain functions from a pandas frame to a Figure.

Every builder accepts an empty frame (it returns a figure that says so), keeps one colour per topic across
charts, and shortens long labels (the full text stays in the hover).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
LABEL_MAX = 22


def topic_colors(names: Mapping[int, str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in sorted(names.items())}


def short(label: Any, limit: int = LABEL_MAX) -> str:
    text = str(label)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _empty(title: str) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text="no data for this window", showarrow=False, font={"size": 16})
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False}, height=300)
    return fig


def top_terms_bars(topics: Sequence[Mapping[str, Any]], names: Mapping[int, str], n: int = 10) -> Any:
    """One horizontal bar panel per topic: its top ``n`` terms by weight."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    title = "Top terms per topic"
    if not topics:
        return _empty(title)
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
                y=terms,
                orientation="h",
                name=name,
                marker_color=colors[name],
                showlegend=False,
                hovertemplate="%{y}: %{x:.4f}<extra>" + name + "</extra>",
            ),
            row=1,
            col=col,
        )
    fig.update_layout(title=title, height=420, margin={"l": 40, "r": 20, "t": 80, "b": 40})
    return fig


def prevalence_over_time(frame: pd.DataFrame, names: Mapping[int, str]) -> Any:
    """Tweets per hour by dominant topic (stacked areas)."""
    import plotly.graph_objects as go

    title = "Topic prevalence over time (tweets per hour)"
    data = frame[frame["dominant_topic"] >= 0] if len(frame) else frame
    if data.empty:
        return _empty(title)
    hours = pd.to_datetime(data["created_at"], utc=True).dt.floor("h")
    counts = data.assign(hour=hours).groupby(["hour", "dominant_topic"]).size().unstack(fill_value=0)
    colors = topic_colors(names)
    fig = go.Figure()
    for topic, name in sorted(names.items()):
        y = counts[topic] if topic in counts else pd.Series(0, index=counts.index)
        fig.add_trace(
            go.Scatter(x=counts.index, y=y, name=name, stackgroup="one", mode="lines", line={"color": colors[name]})
        )
    fig.update_layout(title=title, xaxis_title="hour (UTC)", yaxis_title="tweets", height=420)
    return fig


def _annotated_heatmap(pivot: pd.DataFrame, title: str, x_title: str, y_title: str) -> Any:
    import numpy as np
    import plotly.graph_objects as go

    z = np.log1p(pivot.to_numpy(dtype=float))
    text = [[f"{int(v):,}" for v in row] for row in pivot.to_numpy()]
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
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, height=max(300, 60 * len(pivot) + 120))
    return fig


def source_topic_heatmap(frame: pd.DataFrame, names: Mapping[int, str], top: int = 7) -> Any:
    """Top ``top`` clients x topic, annotated counts, colour on log1p(count) as in the reference."""
    title = "Source client x topic"
    data = frame[(frame["dominant_topic"] >= 0) & frame["source"].notna()] if len(frame) else frame
    if data.empty:
        return _empty(title)
    sources = data["source"].value_counts().head(top).index
    data = data[data["source"].isin(sources)]
    pivot = pd.crosstab(data["source"], data["dominant_topic"]).reindex(
        index=sources, columns=sorted(names), fill_value=0
    )
    pivot.columns = [names[c] for c in pivot.columns]
    return _annotated_heatmap(pivot, title, "topic", "client")


def weekday_hour_heatmap(frame: pd.DataFrame, names: Mapping[int, str]) -> Any:
    """For each weekday x hour, the most frequent dominant topic (cell text) and its tweet count (colour)."""
    import plotly.graph_objects as go

    title = "Tweets during the day: most frequent topic by weekday and hour (UTC)"
    data = frame[frame["dominant_topic"] >= 0] if len(frame) else frame
    if data.empty:
        return _empty(title)
    ts = pd.to_datetime(data["created_at"], utc=True)
    cells = data.assign(weekday=ts.dt.weekday, hour=ts.dt.hour).groupby(["weekday", "hour", "dominant_topic"]).size()
    best = cells.reset_index(name="n").sort_values(["n", "dominant_topic"], ascending=[False, True])
    best = best.drop_duplicates(["weekday", "hour"]).set_index(["weekday", "hour"])
    z = [[float(best.loc[(d, h), "n"]) if (d, h) in best.index else None for d in range(7)] for h in range(24)]
    text = [
        [short(names[int(best.loc[(d, h), "dominant_topic"])], 14) if (d, h) in best.index else "" for d in range(7)]
        for h in range(24)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=WEEKDAYS,
            y=list(range(24)),
            text=text,
            texttemplate="%{text}",
            colorscale="YlOrRd",
            colorbar={"title": "tweets"},
            hovertemplate="%{x} %{y}:00 — %{text}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis={"side": "top"}, yaxis={"title": "hour", "autorange": "reversed"}, height=800)
    return fig


def followers_by_topic(frame: pd.DataFrame, names: Mapping[int, str]) -> Any:
    """Author follower counts per topic (box plot, log axis)."""
    import plotly.graph_objects as go

    title = "Author followers by topic"
    data = frame[(frame["dominant_topic"] >= 0) & frame["user_followers"].notna()] if len(frame) else frame
    if data.empty:
        return _empty(title)
    colors = topic_colors(names)
    fig = go.Figure()
    for topic, name in sorted(names.items()):
        values = data.loc[data["dominant_topic"] == topic, "user_followers"] + 1
        fig.add_trace(go.Box(y=values, name=short(name, 30), marker_color=colors[name], boxmean=True))
    fig.update_layout(title=title, yaxis={"type": "log", "title": "followers + 1"}, showlegend=False, height=450)
    return fig


def top_users(frame: pd.DataFrame, column: str, title: str, n: int = 10) -> Any:
    """Most frequent values of a user column; pipe-joined lists (mentions) are split first."""
    import plotly.graph_objects as go

    values = frame[column].dropna() if len(frame) else pd.Series(dtype=str)
    values = values[values != ""].str.split("|").explode() if len(values) else values
    counts = values.value_counts().head(n)
    if counts.empty:
        return _empty(title)
    fig = go.Figure(
        go.Bar(
            x=counts.to_numpy()[::-1],
            y=[short("@" + u) for u in counts.index[::-1]],
            orientation="h",
            customdata=list(counts.index[::-1]),
            hovertemplate="@%{customdata}: %{x}<extra></extra>",
            marker_color="#4c78a8",
        )
    )
    fig.update_layout(title=title, height=max(300, 32 * len(counts) + 120), xaxis_title="tweets")
    return fig


def top_hashtags_per_topic(frame: pd.DataFrame, names: Mapping[int, str], n: int = 5) -> Any:
    """The ``n`` most used hashtags within each topic."""
    import plotly.graph_objects as go

    title = "Top hashtags per topic"
    data = frame[(frame["dominant_topic"] >= 0) & frame["hashtags"].fillna("").ne("")] if len(frame) else frame
    if data.empty:
        return _empty(title)
    exploded = data.assign(tag=data["hashtags"].str.split("|")).explode("tag")
    exploded["tag"] = exploded["tag"].str.lower()
    colors = topic_colors(names)
    fig = go.Figure()
    for topic, name in sorted(names.items()):
        counts = exploded.loc[exploded["dominant_topic"] == topic, "tag"].value_counts().head(n)
        fig.add_trace(
            go.Bar(
                x=[f"#{short(t, 18)}" for t in counts.index],
                y=counts.to_numpy(),
                name=short(name, 30),
                marker_color=colors[name],
            )
        )
    fig.update_layout(title=title, barmode="group", height=450, yaxis_title="tweets")
    return fig


def summary_table(rows: Sequence[tuple[str, Any]]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Table(
            header={"values": ["", "value"], "align": "left"},
            cells={"values": [[k for k, _ in rows], [str(v) for _, v in rows]], "align": "left"},
        )
    )
    fig.update_layout(title="Model and window", height=60 + 28 * len(rows), margin={"t": 50, "b": 10})
    return fig
