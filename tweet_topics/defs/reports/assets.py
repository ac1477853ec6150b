"""topic_report: one offline HTML page of plotly charts per model version and window, in S3 and on disk.

A recipe: it reads the scored hours through the storage layer and writes what ``lib/report.py`` assembles.
"""

import json

import dagster as dg
import pyarrow as pa
from pydantic import Field

from tweet_topics.lib import report
from tweet_topics.lib.naming import markdown_table, topic_names
from tweet_topics.storage.catalog import PREDICTIONS_PARQUET, Storage


class ReportConfig(dg.Config):
    window_hours: int | None = Field(None, description="only the newest N scored hours; default: all of them")
    model_version: str | None = Field(None, description="default: the latest model")


@dg.asset(deps=["tweet_topic_assignments", "topic_terms"], group_name="reports", kinds={"plotly", "html"})
def topic_report(context: dg.AssetExecutionContext, config: ReportConfig, storage: Storage) -> dg.MaterializeResult:
    """Top terms, prevalence over time, client and weekday/hour heatmaps, followers, users and hashtags."""
    version = storage.models.resolve(config.model_version)
    manifest = storage.models.manifest(version)
    stored_names = (
        storage.models.read_json(version, "topic_names.json")
        if storage.models.exists(version, "topic_names.json")
        else {}
    )
    names = topic_names(manifest["topics"], stored_names)
    predictions = storage.predictions
    hours = [h for h in predictions.committed_hours() if predictions.read_metadata(h).get("model_version") == version]
    if config.window_hours:
        hours = hours[-config.window_hours :]
    tables = [predictions.read_parquet(h, PREDICTIONS_PARQUET).drop_columns(["topic_probabilities"]) for h in hours]
    frame = pa.concat_tables(tables).to_pandas() if tables else report.empty_frame()
    window = report.report_window(hours)
    metrics = manifest["metrics"]
    sections = report.sections(frame, manifest["topics"], names, report.summary_rows(version, hours, frame, metrics))
    files = report.page_files(
        f"tweet_topics report — model {version}", f"window {window}, {len(frame):,} tweets", sections
    )
    prefix = f"{storage.reports_prefix}{version}/{window}/"
    storage.s3.replace_prefix(
        prefix,
        {n: (d, "text/html" if n.endswith(".html") else "application/octet-stream") for n, d in files.items()},
        commit_last=report.REPORT_FILE,
    )
    local = storage.local_path("reports", version, window)
    for name, data in files.items():
        (local / name).parent.mkdir(parents=True, exist_ok=True)
        (local / name).write_bytes(data)
    local_page, s3_uri = local / report.REPORT_FILE, f"s3://{storage.bucket}/{prefix}{report.REPORT_FILE}"
    (storage.local_path("reports") / "latest.json").write_text(json.dumps({"path": str(local_page), "s3": s3_uri}))
    terms = markdown_table(
        ["topic", "name", "top terms"],
        [(t["topic"], names[t["topic"]], ", ".join(t["terms"][:6])) for t in manifest["topics"]],
    )
    summary = (
        f"**Model** `{version}` · **window** {window} · **tweets** {len(frame):,}\n\n"
        f"NPMI {metrics['coherence_npmi']:.3f} · diversity {metrics['topic_diversity']:.2f} · "
        f"log perplexity {metrics['log_perplexity']:.3f}\n\n{terms}"
    )
    context.log.info(f"report written to {local_page} and {s3_uri}")
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(local_page)),
            "s3": dg.MetadataValue.url(s3_uri),
            "summary": dg.MetadataValue.md(summary),
            "tweets": len(frame),
            "hours": len(hours),
            "model_version": version,
        }
    )
