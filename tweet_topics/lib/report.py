"""Report assembly: from scored tweets and a model manifest to titled chart sections and page files.

Plain functions (no I/O): the asset reads the predictions and writes what ``page_files`` returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from tweet_topics.lib import charts
from tweet_topics.lib.naming import window_label
from tweet_topics.lib.report_page import PLOTLY_JS, plotly_js, render_page

REPORT_FILE = "index.html"
FRAME_COLUMNS = [
    "created_at",
    "dominant_topic",
    "source",
    "user_followers",
    "in_reply_to_screen_name",
    "mentions",
    "hashtags",
]


def report_window(hours: Sequence[datetime]) -> str:
    return window_label(hours[0], hours[-1]) if hours else "empty"


def summary_rows(
    version: str, hours: Sequence[datetime], frame: pd.DataFrame, metrics: Mapping[str, Any]
) -> list[tuple[str, Any]]:
    window = f"{hours[0]:%Y-%m-%d-%H:%M} … {hours[-1]:%Y-%m-%d-%H:%M}" if hours else "no scored hours"
    return [
        ("model version", version),
        ("window (UTC)", window),
        ("hours", len(hours)),
        ("tweets", len(frame)),
        ("unassigned (no known term)", int((frame["dominant_topic"] == -1).sum()) if len(frame) else 0),
        ("topics (k)", metrics["k"]),
        ("corpus documents", metrics["documents"]),
        ("vocabulary", metrics["vocabulary_size"]),
        ("NPMI coherence", round(metrics["coherence_npmi"], 4)),
        ("topic diversity", round(metrics["topic_diversity"], 4)),
        ("log perplexity", round(metrics["log_perplexity"], 4)),
    ]


def sections(
    frame: pd.DataFrame, topics: Sequence[Mapping[str, Any]], names: Mapping[int, str], summary: list[tuple[str, Any]]
) -> list[tuple[str, Any]]:
    """Every report section as (heading, plotly figure), in page order."""
    return [
        ("Summary", charts.summary_table(summary)),
        ("Top terms per topic", charts.top_terms_bars(topics, names)),
        ("Topic prevalence over time", charts.prevalence_over_time(frame, names)),
        ("Source client by topic", charts.source_topic_heatmap(frame, names)),
        ("Weekday and hour", charts.weekday_hour_heatmap(frame, names)),
        ("Followers by topic", charts.followers_by_topic(frame, names)),
        ("Most replied-to users", charts.top_users(frame, "in_reply_to_screen_name", "Most replied-to users")),
        ("Most mentioned users", charts.top_users(frame, "mentions", "Most mentioned users")),
        ("Top hashtags per topic", charts.top_hashtags_per_topic(frame, names)),
    ]


def page_files(title: str, subtitle: str, report_sections: list[tuple[str, Any]]) -> dict[str, bytes]:
    """The offline page, plotly.js beside it and one figure JSON per section."""
    files = {REPORT_FILE: render_page(title, subtitle, report_sections).encode(), PLOTLY_JS: plotly_js().encode()}
    for heading, figure in report_sections:
        files[f"figures/{heading.lower().replace(' ', '_')}.json"] = figure.to_json().encode()
    return files


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame(columns=FRAME_COLUMNS)
