"""topic_report: one offline HTML page of plotly charts per model version and window, in S3 and on disk."""

import io
import json
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from tweet_topics.defs.hourly.hours import METADATA_FILE
from tweet_topics.defs.infra.layout import Layout
from tweet_topics.defs.infra.resources import S3Store
from tweet_topics.defs.topics.assets import topic_terms, tweet_topic_assignments
from tweet_topics.defs.topics.storage import MANIFEST, read_json, resolve_model_version
from tweet_topics.lib.layout import hour_from_key, partition_key

REPORT_FILE = "index.html"


class ReportConfig(dg.Config):
    window_hours: int | None = Field(None, description="only the newest N scored hours; default: all of them")
    model_version: str | None = Field(None, description="default: the latest model")


def scored_hours(s3: S3Store, layout: Layout, version: str) -> list[str]:
    """Prediction hours scored by ``version`` (read from each hour's metadata)."""
    keys = []
    for info in s3.list(layout.predictions_prefix):
        if info.key.endswith("/" + METADATA_FILE) and read_json(s3, info.key).get("model_version") == version:
            hour = hour_from_key(layout.predictions_prefix, info.key)
            if hour is not None:
                keys.append(info.key[: -len(METADATA_FILE)])
    return sorted(keys)


def build_report(s3: S3Store, layout: Layout, version: str, window_hours: int | None) -> dict:
    """Read the predictions and model, build every chart, write page + figure JSON; returns a summary."""
    import pandas as pd

    from tweet_topics.lib import charts
    from tweet_topics.lib.report_page import PLOTLY_JS, plotly_js, render_page

    manifest = read_json(s3, f"{layout.models_prefix}{version}/{MANIFEST}")
    names_key = f"{layout.models_prefix}{version}/topic_names.json"
    stored_names = read_json(s3, names_key) if s3.exists(names_key) else {}
    names = {t["topic"]: stored_names.get(str(t["topic"])) or " / ".join(t["terms"][:3]) for t in manifest["topics"]}
    prefixes = scored_hours(s3, layout, version)
    if window_hours:
        prefixes = prefixes[-window_hours:]
    tables = [pq.read_table(io.BytesIO(s3.get(p + "part.parquet"))) for p in prefixes]
    frame = (
        pa.concat_tables(tables).drop_columns(["topic_probabilities"]).to_pandas()
        if tables
        else pd.DataFrame(
            columns=[
                "created_at",
                "dominant_topic",
                "source",
                "user_followers",
                "in_reply_to_screen_name",
                "mentions",
                "hashtags",
            ]
        )
    )
    hours = [hour_from_key(layout.predictions_prefix, p + METADATA_FILE) for p in prefixes]
    window = f"{hours[0]:%Y%m%d%H}-{hours[-1]:%Y%m%d%H}" if hours else "empty"
    metrics = manifest["metrics"]
    summary_rows = [
        ("model version", version),
        ("window (UTC)", f"{partition_key(hours[0])} … {partition_key(hours[-1])}" if hours else "no scored hours"),
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
    sections = [
        ("Summary", charts.summary_table(summary_rows)),
        ("Top terms per topic", charts.top_terms_bars(manifest["topics"], names)),
        ("Topic prevalence over time", charts.prevalence_over_time(frame, names)),
        ("Source client by topic", charts.source_topic_heatmap(frame, names)),
        ("Weekday and hour", charts.weekday_hour_heatmap(frame, names)),
        ("Followers by topic", charts.followers_by_topic(frame, names)),
        ("Most replied-to users", charts.top_users(frame, "in_reply_to_screen_name", "Most replied-to users")),
        ("Most mentioned users", charts.top_users(frame, "mentions", "Most mentioned users")),
        ("Top hashtags per topic", charts.top_hashtags_per_topic(frame, names)),
    ]
    page = render_page(f"tweet_topics report — model {version}", f"window {window}, {len(frame):,} tweets", sections)
    files = {REPORT_FILE: page.encode(), PLOTLY_JS: plotly_js().encode()}
    for heading, figure in sections:
        files[f"figures/{heading.lower().replace(' ', '_')}.json"] = figure.to_json().encode()
    prefix = f"{layout.reports_prefix}{version}/{window}/"
    s3.replace_prefix(
        prefix,
        {
            name: (data, "text/html" if name.endswith(".html") else "application/octet-stream")
            for name, data in files.items()
        },
        commit_last=REPORT_FILE,
    )
    local = Path(layout.local_dir).resolve() / "reports" / version / window
    for name, data in files.items():
        (local / name).parent.mkdir(parents=True, exist_ok=True)
        (local / name).write_bytes(data)
    latest = Path(layout.local_dir).resolve() / "reports" / "latest.json"
    latest.write_text(json.dumps({"path": str(local / REPORT_FILE), "s3": f"s3://{s3.bucket}/{prefix}{REPORT_FILE}"}))
    return {
        "version": version,
        "window": window,
        "tweets": len(frame),
        "hours": len(hours),
        "names": names,
        "local_path": str(local / REPORT_FILE),
        "s3_uri": f"s3://{s3.bucket}/{prefix}{REPORT_FILE}",
        "topics": manifest["topics"],
        "metrics": metrics,
    }


@dg.asset(deps=[tweet_topic_assignments, topic_terms], group_name="reports", kinds={"plotly", "html"})
def topic_report(
    context: dg.AssetExecutionContext, config: ReportConfig, s3: S3Store, layout: Layout
) -> dg.MaterializeResult:
    """Top terms, prevalence over time, client and weekday/hour heatmaps, followers, users and hashtags."""
    version = resolve_model_version(s3, layout, config.model_version)
    report = build_report(s3, layout, version, config.window_hours)
    rows = "\n".join(
        f"| {t['topic']} | {report['names'][t['topic']]} | {', '.join(t['terms'][:6])} |" for t in report["topics"]
    )
    metrics = report["metrics"]
    summary = (
        f"**Model** `{version}` · **window** {report['window']} · **tweets** {report['tweets']:,}\n\n"
        f"NPMI {metrics['coherence_npmi']:.3f} · diversity {metrics['topic_diversity']:.2f} · "
        f"log perplexity {metrics['log_perplexity']:.3f}\n\n| topic | name | top terms |\n|---|---|---|\n{rows}"
    )
    context.log.info(f"report written to {report['local_path']} and {report['s3_uri']}")
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(report["local_path"]),
            "s3": dg.MetadataValue.url(report["s3_uri"]),
            "summary": dg.MetadataValue.md(summary),
            "tweets": report["tweets"],
            "hours": report["hours"],
            "model_version": version,
        }
    )
