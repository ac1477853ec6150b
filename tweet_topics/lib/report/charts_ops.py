"""Operations charts: topic share shifts, emerging terms, delivery health and the cost estimate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tweet_topics.lib.report.charts import empty, short, table
from tweet_topics.lib.report.cost import CostLine

FLOW = [  # (column, label, colour): stacked from the bottom, the segments add up to the sent/raw count
    ("in_corpus", "in the corpus (filtered kept)", "#2ca02c"),
    ("filtered_out", "filtered out (retweet, language, blocklist, short)", "#98df8a"),
    ("duplicates", "duplicates", "#ff7f0e"),
    ("quarantined", "quarantined (malformed)", "#d62728"),
    ("not_delivered", "sent but never in S3", "#7f7f7f"),
]


def topic_share_z(shifts: pd.DataFrame, threshold: float) -> Any:
    """Heatmap of each topic's z-score per hour against its trailing baseline; alerts outlined by text."""
    import plotly.graph_objects as go

    title = f"Topic share vs trailing baseline (z-score; alert at |z| ≥ {threshold:g})"
    if shifts.empty:
        return empty(title, "no topic_trends hours in this window: materialize topic_trends")
    pivot = shifts.pivot_table(index="name", columns="hour", values="z", aggfunc="last").sort_index()
    share = shifts.pivot_table(index="name", columns="hour", values="share", aggfunc="last").reindex_like(pivot)
    text = [
        [("⚠ " if abs(z) >= threshold else "") + f"{z:+.1f}" if pd.notna(z) else "" for z in row]
        for row in pivot.to_numpy()
    ]
    fig = go.Figure(
        go.Heatmap(
            z=pivot.to_numpy(),
            x=list(pivot.columns),
            y=[short(n, 30) for n in pivot.index],
            text=text,
            texttemplate="%{text}",
            customdata=share.to_numpy(),
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            zmin=-max(threshold * 1.5, 1),
            zmax=max(threshold * 1.5, 1),
            colorbar={"title": "z"},
            hovertemplate="%{y} at %{x}: z=%{z:.2f}, share %{customdata:.1%}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="hour (UTC)", height=max(320, 40 * len(pivot) + 160))
    return fig


def emerging_terms_table(terms: pd.DataFrame, n: int = 25) -> Any:
    """The strongest emerging terms (Dunning G² against the trailing window), newest hours first."""
    title = "Emerging terms (log-likelihood G² against the trailing window)"
    if terms.empty:
        return empty(title, "no emerging terms above the minimum count and G² in this window")
    top = terms.sort_values(["hour", "g2"], ascending=[False, False]).head(n)
    return table(
        title,
        ["hour (UTC)", "term", "count", "trailing count", "G²", "ratio"],
        [
            list(top["hour"]),
            list(top["term"]),
            list(top["count"]),
            list(top["baseline_count"]),
            [f"{g:,.1f}" for g in top["g2"]],
            [f"{r:,.1f}x" for r in top["ratio"]],
        ],
        widths=[22, 25, 12, 15, 12, 12],
    )


def delivery_health(flow: pd.DataFrame) -> Any:
    """Where each hour's records go: stacked segments that add up to raw (and sent, when the ledger exists)."""
    import plotly.graph_objects as go

    title = "Delivery health: where each hour's records go"
    if flow.empty:
        return empty(title)
    fig = go.Figure()
    for column, label, color in FLOW:
        values = flow[column]
        if values.isna().all():
            continue
        fig.add_trace(go.Bar(x=flow["hour"], y=values.fillna(0), name=label, marker_color=color))
    fig.add_trace(
        go.Scatter(
            x=flow["hour"],
            y=flow["raw"],
            name="raw records (Firehose objects)",
            mode="lines+markers",
            line={"color": "#1f1f1f", "width": 2},
        )
    )
    if flow["sent"].notna().any():
        fig.add_trace(
            go.Scatter(
                x=flow["hour"],
                y=flow["sent"],
                name="sent by the streamer",
                mode="lines",
                line={"color": "#9467bd", "dash": "dash"},
            )
        )
    fig.update_layout(
        title=title,
        barmode="stack",
        xaxis_title="hour (UTC)",
        yaxis_title="records",
        height=460,
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def cost_table(lines: Sequence[CostLine], prices: Mapping[str, Any], total_line: str) -> Any:
    """The monthly estimate: usage, cost (or "price missing") and the measured input that drives each line."""
    title = "Monthly cost and quota estimate (measured volumes x config/prices.json)"
    if not lines:
        return empty(title)
    fig = table(
        title,
        ["item", "monthly usage", "USD/month", "driven by"],
        [
            [*(line.item for line in lines), "total"],
            [*(line.usage for line in lines), total_line],
            [
                f"{line.monthly_usd:,.2f}"
                if line.monthly_usd is not None
                else ("—" if line.item.startswith("X API") else "price missing in prices.json")
                for line in lines
            ]
            + [""],
            [*(line.driver for line in lines), f"prices as of {prices.get('as_of', '?')}"],
        ],
        widths=[28, 40, 18, 50],
    )
    return fig
