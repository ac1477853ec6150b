"""topic_report: one offline HTML page of plotly charts and tables per model version and window, in the bucket.

A recipe: it folds the scored hours into ``ReportAggregates`` batch by batch (never every row at once), reads the
hourly metadata (delivery health, measured volumes) and the stored ``topic_trends`` hours, and publishes what
``lib/report/sections.py`` assembles to the bucket (``storage.reports``): the UI links a pre-signed https URL of
the page, and ``python -m tweet_topics report open`` downloads the latest one.
"""

import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import ClientError
from pydantic import Field

from tweet_topics.defs.infra.resource import InfraResource
from tweet_topics.defs.live.resources import LiveState
from tweet_topics.lib.report import cost
from tweet_topics.lib.report.aggregates import COLUMNS, ReportAggregates
from tweet_topics.storage.catalog import PREDICTIONS_PARQUET, TRENDS_JSON, Storage
from tweet_topics.storage.hourly import HourlyDataset
from tweet_topics.storage.keys import parse_partition_key

BATCH_ROWS = 65_536


class ReportConfig(dg.Config):
    window_hours: int | None = Field(None, description="only the newest N scored hours; default: all of them")
    model_version: str | None = Field(None, description="default: the latest model")
    x_api_tier: str = Field("basic", description="X API access tier for the post-cap line (free/basic/pro/enterprise)")
    z_threshold: float = Field(3.0, gt=0, description="the |z| marked as an alert in the trends section")
    min_baseline_hours: int = Field(6, ge=1, description="as topic_trends': no z shown before this many hours")
    prices_file: str = Field(str(cost.PRICES_FILE), description="dated prices and caps (see its how_to_update)")


def scored_hours(dataset: HourlyDataset, version: str, limit: int | None) -> dict[datetime, dict]:
    """The commits of the newest ``limit`` hours (all when None) scored by ``version``, oldest first: read newest
    first, a day at a time, each commit once, so a short window over a long history reads a few objects."""
    hours, chosen = dataset.committed_hours(), {}
    while hours and (limit is None or len(chosen) < limit):
        chunk, hours = hours[-24:], hours[:-24]
        for hour, commit in sorted(dataset.read_commits(chunk).items(), reverse=True):
            if commit["metadata"].get("model_version") == version and (limit is None or len(chosen) < limit):
                chosen[hour] = commit
    return dict(sorted(chosen.items()))


def _read(dataset: HourlyDataset, hour: datetime, file: str, commit: dict) -> bytes:
    """The file of the commit already read; if a newer commit replaced it meanwhile (a deletion), that one's."""
    try:
        return dataset.read_bytes(hour, file, commit)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise
        return dataset.read_bytes(hour, file)


def prediction_batches(storage: Storage, commits: dict[datetime, dict]) -> Iterator[pa.RecordBatch]:
    """The report's columns of every scored hour, one Arrow batch at a time (absent columns skipped)."""
    for hour, commit in commits.items():
        parquet = pq.ParquetFile(io.BytesIO(_read(storage.predictions, hour, PREDICTIONS_PARQUET, commit)))
        columns = [c for c in COLUMNS if c in parquet.schema_arrow.names]
        yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns)


def _metadata(dataset: HourlyDataset, hours: list[datetime]) -> dict[datetime, dict]:
    return {h: commit["metadata"] for h, commit in dataset.read_commits(hours).items()}


def _sent(storage: Storage) -> dict[datetime, int] | None:
    """Records the streamer handed to Firehose per hour, from the delivery_ledger asset's summary (if any)."""
    key = storage.streamer.summary
    if not storage.s3.exists(key):
        return None
    sent = json.loads(storage.s3.get(key)).get("sent_by_hour", {})
    return {parse_partition_key(k): int(v) for k, v in sent.items()}


@dg.asset(
    deps=["tweet_topic_assignments", "topic_terms", "topic_trends", "delivery_ledger"],
    group_name="reports",
    kinds={"plotly", "html"},
)
def topic_report(
    context: dg.AssetExecutionContext, config: ReportConfig, storage: Storage, infra: InfraResource
) -> dg.MaterializeResult:
    """Every reference analysis plus trends, emerging terms, delivery health and a cost estimate, in one page."""
    # The page's modules bring pandas and plotly (~0.25 s): imported by the run, not by every definitions load.
    from tweet_topics.lib.report import delivery
    from tweet_topics.lib.report import sections as report

    version = storage.models.resolve(config.model_version)
    manifest = storage.models.manifest(version)
    names = storage.topic_names(version)
    commits = scored_hours(storage.predictions, version, config.window_hours)
    hours = list(commits)
    agg = ReportAggregates()
    for batch in prediction_batches(storage, commits):
        agg.add(batch)
    trend_commits = storage.trends.read_commits(hours)
    trend_records = [json.loads(_read(storage.trends, h, TRENDS_JSON, c)) for h, c in trend_commits.items()]
    combined = _metadata(storage.combined, hours)
    flow = delivery.delivery_frame(combined, _metadata(storage.filtered, hours), _sent(storage))
    prices = cost.load_prices(Path(config.prices_file))
    region, volumes = infra.deployment.region, cost.measured_volumes(list(combined.values()))
    live_host = infra.live_instance_type if LiveState(storage=storage).desired() == "running" else None
    lines = cost.estimate(volumes, prices, config.x_api_tier, region, infra.instance_type, live_host)
    cost_line, health = cost.summary_line(lines, prices), delivery.health_line(flow)
    window, metrics = report.report_window(hours), manifest["metrics"]
    sections = report.sections(
        agg,
        manifest["topics"],
        names,
        report.summary_rows(version, hours, agg, metrics),
        trend_records,
        flow,
        (lines, prices, cost_line, region),
        config.z_threshold,
        config.min_baseline_hours,
    )
    files = report.page_files(
        f"tweet_topics report — model {version}", f"{report.window_title(hours)}, {agg.tweets:,} tweets", sections
    )
    pages = storage.reports
    page = pages.publish(version, window, files)
    link = pages.presigned_url(page)
    alerts = sorted({f"{r['hour']}: {a}" for r in trend_records for a in r["alerts"]})
    summary = report.markdown_summary(
        version, window, agg, metrics, manifest["topics"], names, alerts[-5:], health, cost_line
    )
    context.log.info(f"report published to {pages.uri(page)}; `python -m tweet_topics report open` downloads it")
    return dg.MaterializeResult(
        metadata={
            "report_url": dg.MetadataValue.url(link),  # pre-signed, valid for 7 days
            "s3": dg.MetadataValue.url(pages.uri(page)),
            "open": dg.MetadataValue.text("python -m tweet_topics report open"),
            "summary": dg.MetadataValue.md(summary),
            "tweets": agg.tweets,
            "hours": len(hours),
            "trend_alerts": len(alerts),
            "model_version": version,
        }
    )
