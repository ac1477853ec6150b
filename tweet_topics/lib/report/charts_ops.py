"""Operations charts: topic share shifts, emerging terms, delivery health and the cost estimate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tweet_topics.lib.report.charts import empty, short, table
from tweet_topics.lib.report.cost import CostLine, total

MAIN_FLOW = [  # (column, label, colour): stacked in the top panel, they add up to the kept records
    ("in_corpus", "in the corpus (filtered kept)", "#2ca02c"),
    ("filtered_out", "filtered out (retweet, language, blocklist, short)", "#98df8a"),
]
SET_ASIDE = [  # the small counts, on their own axis in the bottom panel so a few records are still visible
    ("duplicates", "duplicates", "#ff7f0e"),
    ("quarantined", "quarantined (malformed)", "#d62728"),
    ("not_delivered", "sent but never in S3", "#7f7f7f"),
]
NO_LEDGER = (
    "no streamer ledger for these hours (seeded or imported history): 'sent by the streamer' and "
    "'sent but never in S3' are unknown, not zero"
)


def z_text(z: float, threshold: float) -> str:
    """A z cell: blank without a baseline, "0.0" rather than "-0.0", a warning sign at the alert threshold."""
    if pd.isna(z):
        return ""
    shown = f"{z:+.1f}" if round(z, 1) != 0 else "0.0"
    return ("⚠ " if abs(z) >= threshold else "") + shown


def topic_share_z(shifts: pd.DataFrame, threshold: float, min_baseline_hours: int = 6) -> Any:
    """Heatmap of each topic's z-score per hour against its trailing baseline; blank until the baseline has
    ``min_baseline_hours`` hours (a z over one or two hours is noise, and over none it is not defined)."""
    import plotly.graph_objects as go

    title = f"Topic share vs trailing baseline (z-score; alert at |z| ≥ {threshold:g})"
    if shifts.empty:
        return empty(title, "no topic_trends hours in this window: materialize topic_trends")
    early = shifts["baseline_hours"].fillna(0) < min_baseline_hours
    shifts = shifts.assign(z=shifts["z"].where(~early))
    pivot = shifts.pivot_table(index="name", columns="hour", values="z", aggfunc="last", dropna=False).sort_index()
    share = shifts.pivot_table(index="name", columns="hour", values="share", aggfunc="last").reindex_like(pivot)
    fig = go.Figure(
        go.Heatmap(
            z=pivot.to_numpy(),
            x=list(pivot.columns),
            y=[short(n, 30) for n in pivot.index],
            text=[[z_text(z, threshold) for z in row] for row in pivot.to_numpy()],
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
    waiting = sorted(set(shifts.loc[early, "hour"]))
    if waiting:
        note = (
            f"no baseline yet: blank for the first {len(waiting)} hour(s) of this window, until {min_baseline_hours} "
            "trailing hours hold data"
        )
        fig.add_annotation(text=note, xref="paper", yref="paper", x=0, y=1.02, showarrow=False, xanchor="left")
    fig.update_layout(
        title=title, xaxis_title="hour (UTC)", yaxis_title="topic", height=max(340, 40 * len(pivot) + 180)
    )
    return fig


def emerging_terms_table(terms: pd.DataFrame, n: int = 25) -> Any:
    """The strongest emerging terms (Dunning G² against the trailing window), newest hours first."""
    title = "Emerging terms (log-likelihood G² against the trailing window)"
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
        numeric=(2, 3, 4, 5),
        empty_text="no emerging terms above the minimum count and G² in this window",
    )


def delivery_health(flow: pd.DataFrame) -> Any:
    """Where each hour's records go: kept records (stacked) against raw and sent on top, and the records set
    aside (duplicates, quarantined, never delivered) on their own axis below, each bar labelled with its count."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    title = "Delivery health: where each hour's records go"
    if flow.empty:
        return empty(title)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.6, 0.4],
        vertical_spacing=0.08,
        subplot_titles=["kept records, raw and sent", "records set aside (own scale)"],
    )
    for column, label, color in MAIN_FLOW:
        if flow[column].notna().any():
            fig.add_trace(go.Bar(x=flow["hour"], y=flow[column].fillna(0), name=label, marker_color=color), 1, 1)
    raw_line = {"color": "#1f1f1f", "width": 2}
    fig.add_trace(go.Scatter(x=flow["hour"], y=flow["raw"], name="raw records (Firehose objects)", line=raw_line), 1, 1)
    ledger = flow["sent"].notna().any()
    if ledger:
        sent_line = {"color": "#9467bd", "dash": "dash"}
        fig.add_trace(go.Scatter(x=flow["hour"], y=flow["sent"], name="sent by the streamer", line=sent_line), 1, 1)
    for column, label, color in SET_ASIDE:
        values = flow[column]
        if values.notna().any():
            bar = go.Bar(x=flow["hour"], y=values.fillna(0), name=label, marker_color=color, text=values.fillna(0))
            fig.add_trace(bar, 2, 1)
    if not ledger:
        fig.add_annotation(text=NO_LEDGER, xref="paper", yref="paper", x=0, y=-0.22, showarrow=False, xanchor="left")
    fig.update_layout(title=title, barmode="stack", height=620, legend={"orientation": "h", "y": -0.3})
    fig.update_yaxes(title_text="records", row=1, col=1)
    fig.update_yaxes(title_text="records set aside", row=2, col=1)
    fig.update_xaxes(title_text="hour (UTC)", row=2, col=1)
    return fig


def cost_table(lines: Sequence[CostLine], prices: Mapping[str, Any], total_line: str, region: str = "") -> Any:
    """The monthly estimate: usage, cost (or why there is none), the measured input and the price's source page."""

    def usd(line: CostLine) -> str:
        if line.monthly_usd is not None:
            return f"{line.monthly_usd:,.2f}"
        return "—" if line.item.startswith("X API") else f"no price in prices.json for {region or 'this region'}"

    note = (
        f"Measured volumes x published on-demand list prices for {region or 'the configured region'} as of "
        f"{prices.get('as_of', '?')} (config/prices.json). {prices.get('confirm', 'Confirm on the source page.')} "
        "Spark (the cluster or the Dagster host) is not estimated."
    )
    return table(
        "Monthly cost and quota estimate",
        ["item", "monthly usage", "USD/month", "driven by", "price source"],
        [
            [*(line.item for line in lines), "total"],
            [*(line.usage for line in lines), total_line],
            [*(usd(line) for line in lines), f"{total(lines)[0]:,.2f} (priced lines)"],
            [*(line.driver for line in lines), ""],
            [*(line.source for line in lines), ""],
        ],
        note=note,
        numeric=(2,),
    )
