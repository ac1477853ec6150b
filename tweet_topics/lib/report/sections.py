"""Report assembly: from report aggregates, trend records, delivery counts and a cost estimate to page files.

Plain functions (no I/O): the asset folds the predictions into ``ReportAggregates`` batch by batch, reads the
hourly metadata and the stored trends, and writes what ``page_files`` returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from tweet_topics.lib.naming import markdown_table, window_label
from tweet_topics.lib.report import charts, charts_audience, charts_ops
from tweet_topics.lib.report.aggregates import ReportAggregates
from tweet_topics.lib.report.cost import CostLine
from tweet_topics.lib.report.locations import country_name, country_of, is_placeholder
from tweet_topics.lib.report.page import REPORT_FILE, render_page


def report_window(hours: Sequence[datetime]) -> str:
    return window_label(hours[0], hours[-1]) if hours else "empty"


def window_title(hours: Sequence[datetime]) -> str:
    """The window as a reader reads it (the page's subtitle); ``report_window`` is its id in object keys."""
    if not hours:
        return "no scored hours"
    first, last = hours[0], hours[-1]
    end = f"{last:%H}:59" if last.date() == first.date() else f"{last:%Y-%m-%d %H}:59"
    return f"{first:%Y-%m-%d %H}:00 – {end} UTC"


def hourly_frame(agg: ReportAggregates) -> pd.DataFrame:
    rows = [(pd.Timestamp(h + ":00:00", tz="UTC"), t, n) for (h, t), n in agg.hourly.items()]
    return pd.DataFrame(rows, columns=["hour", "topic", "tweets"])


def counts_frame(counter: Counter, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([(*k, n) for k, n in counter.items()], columns=[*columns, "tweets"])


def series(counter: Mapping[Any, int]) -> pd.Series:
    return pd.Series(dict(counter), dtype="int64")


def followers_frame(agg: ReportAggregates) -> pd.DataFrame:
    rows = [
        {
            "topic": t,
            "count": f.count,
            "min": f.low or 0,
            "q1": f.quantile(0.25),
            "median": f.quantile(0.5),
            "q3": f.quantile(0.75),
            "max": f.high or 0,
            "mean": f.total / f.count if f.count else 0.0,
        }
        for t, f in agg.followers.items()
    ]
    return pd.DataFrame(rows, columns=["topic", "count", "min", "q1", "median", "q3", "max", "mean"])


def location_counts(agg: ReportAggregates) -> tuple[pd.Series, Counter[tuple[str, int]]]:
    """Tweets per real location (placeholders dropped) and (country name, topic) counts."""
    places: Counter[str] = Counter()
    countries: Counter[tuple[str, int]] = Counter()
    for (location, topic), n in agg.locations.items():
        if is_placeholder(location):
            continue
        places[location] += n
        if code := country_of(location):
            countries[(country_name(code), topic)] += n
    return series(places), countries


def trend_frames(records: Sequence[Mapping[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(hour, name, share, baseline, z, alert) per topic and hour; (hour, term, ...) per emerging term."""
    shifts = [
        {"hour": r["hour"], "baseline_hours": r.get("baseline_hours", 0), **s}
        for r in records
        for s in [*r["topics"], r["low_confidence"]]
    ]
    terms = [{"hour": r["hour"], **t} for r in records for t in r["emerging_terms"]]
    return (
        pd.DataFrame(shifts, columns=["hour", "baseline_hours", "name", "share", "baseline", "z", "alert"]),
        pd.DataFrame(terms, columns=["hour", "term", "count", "baseline_count", "g2", "ratio"]),
    )


def summary_rows(
    version: str, hours: Sequence[datetime], agg: ReportAggregates, metrics: Mapping[str, Any]
) -> list[tuple[str, Any]]:
    window = f"{hours[0]:%Y-%m-%d-%H:%M} … {hours[-1]:%Y-%m-%d-%H:%M}" if hours else "no scored hours"
    return [
        ("model version", version),
        ("window (UTC)", window),
        ("hours", len(hours)),
        ("tweets", f"{agg.tweets:,}"),
        ("unassigned (no known term)", f"{agg.unassigned:,}"),
        ("topics (k)", metrics["k"]),
        ("corpus documents", metrics["documents"]),
        ("vocabulary", metrics["vocabulary_size"]),
        ("NPMI coherence", round(metrics["coherence_npmi"], 4)),
        ("topic diversity", round(metrics["topic_diversity"], 4)),
        ("log perplexity", round(metrics["log_perplexity"], 4)),
    ]


def sections(
    agg: ReportAggregates,
    topics: Sequence[Mapping[str, Any]],
    names: Mapping[int, str],
    summary: list[tuple[str, Any]],
    trend_records: Sequence[Mapping[str, Any]] = (),
    flow: pd.DataFrame | None = None,
    costs: tuple[Sequence[CostLine], Mapping[str, Any], str, str] | None = None,
    z_threshold: float = 3.0,
    min_baseline_hours: int = 6,
) -> list[tuple[str, Any]]:
    """Every report section as (heading, plotly figure), in page order."""
    hourly = hourly_frame(agg)
    sources = counts_frame(agg.sources, ["source", "topic"])
    client_totals: Counter[str | None] = Counter()
    for (source, _), n in agg.sources.items():
        client_totals[source] += n
    places, countries = location_counts(agg)
    country_totals: Counter[str] = Counter()
    for (country, _), n in countries.items():
        country_totals[country] += n
    shifts, terms = trend_frames(trend_records)
    ops = charts_ops
    return [
        ("Summary", charts.summary_table(summary)),
        ("Top terms per topic", charts.top_terms_bars(topics, names)),
        ("Topic prevalence over time", charts.prevalence_over_time(hourly, names)),
        ("Topic trends", ops.topic_share_z(shifts, z_threshold, min_baseline_hours)),
        ("Emerging terms", ops.emerging_terms_table(terms)),
        ("Most representative tweets", charts_audience.representative_tweets(agg.samples, names)),
        ("Weekday and hour", charts.weekday_hour_heatmap(hourly, names)),
        ("Source client by topic", charts.source_topic_heatmap(sources, names)),
        ("Top clients", charts_audience.top_clients_table(pd.Series(dict(client_totals), dtype="int64"))),
        ("Followers by topic", charts.followers_by_topic(followers_frame(agg), names)),
        ("Account flags", charts_audience.account_flags(agg.flags)),
        ("Place and location coverage", charts_audience.location_coverage(agg.coverage)),
        ("Top user locations", charts_audience.top_locations_table(places, unique=len(places))),
        ("Tweets by country", charts_audience.tweets_by_country(series(country_totals))),
        (
            "Country by topic",
            charts_audience.country_topic_heatmap(counts_frame(countries, ["country", "topic"]), names),
        ),
        ("Most replied-to users", charts.top_users(series(agg.replies), "Most replied-to users")),
        ("Most mentioned users", charts.top_users(series(agg.mentions), "Most mentioned users")),
        ("Top hashtags per topic", charts.top_hashtags_per_topic(counts_frame(agg.hashtags, ["topic", "tag"]), names)),
        ("Delivery health", ops.delivery_health(flow if flow is not None else pd.DataFrame())),
        ("Cost and quota", ops.cost_table(*costs) if costs else charts.empty("Monthly cost and quota estimate")),
    ]


def markdown_summary(
    version: str,
    window: str,
    agg: ReportAggregates,
    metrics: Mapping[str, Any],
    topics: Sequence[Mapping[str, Any]],
    names: Mapping[int, str],
    alerts: Sequence[str],
    health: str,
    cost: str,
) -> str:
    """The short Markdown shown on the asset in the Dagster UI."""
    terms = markdown_table(
        ["topic", "name", "top terms"], [(t["topic"], names[t["topic"]], ", ".join(t["terms"][:6])) for t in topics]
    )
    flagged = ", ".join(alerts) if alerts else "none"
    return (
        f"**Model** `{version}` · **window** {window} · **tweets** {agg.tweets:,}\n\n"
        f"NPMI {metrics['coherence_npmi']:.3f} · diversity {metrics['topic_diversity']:.2f} · "
        f"log perplexity {metrics['log_perplexity']:.3f}\n\n{terms}\n\n"
        f"**Trends flagged:** {flagged}\n\n**Delivery health:** {health}\n\n**Cost:** {cost}"
    )


def page_files(title: str, subtitle: str, report_sections: list[tuple[str, Any]]) -> dict[str, bytes]:
    """The offline page (plotly.js inline) and one figure (or table) JSON per section."""
    files = {REPORT_FILE: render_page(title, subtitle, report_sections).encode()}
    for heading, figure in report_sections:
        files[f"figures/{heading.lower().replace(' ', '_')}.json"] = figure.to_json().encode()
    return files
