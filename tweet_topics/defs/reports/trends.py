"""topic_trends: per hour, each topic's share against its trailing baseline and the terms that jumped.

A recipe over ``lib/report/trends.py``: it reads the scored hours (three columns, batch by batch) through the storage
layer and stores one ``trends.json`` per hour, which its drift check and the report read back.
"""

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from tweet_topics.config import STOPWORDS_FILE
from tweet_topics.lib.filtering import read_term_file
from tweet_topics.lib.naming import markdown_table
from tweet_topics.lib.report import trends
from tweet_topics.partitions import HOURLY
from tweet_topics.storage.catalog import PREDICTIONS_PARQUET, TRENDS_JSON, Storage
from tweet_topics.storage.keys import parse_partition_key, partition_key

TREND_COLUMNS = ["dominant_topic", "dominant_prob", "clean_text"]
BATCH_ROWS = 65_536
# Function words the topic model's stop list (Spark's English list) also drops; the config list adds the rest.
_FUNCTION_WORDS = """
a about above after again against all also am an and any are aren as at be because been before being below
between both but by can cannot could did didn do does doesn doing don down during each few for from further
get got had has have having he her here hers herself him himself his how i if in into is isn it its itself
just let like me more most my myself no nor not now of off on once one only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there these they this
those through to too under until up us very was we were what when where which while who whom why will with
would you your yours yourself amp rt http https
"""
ENGLISH_STOP_WORDS = frozenset(_FUNCTION_WORDS.split())
DRIFT_DESCRIPTION = (
    "warns when a topic's hourly share moves beyond the z threshold against its trailing baseline, or when the "
    "share of unassigned / low-probability tweets rises: the model is going stale, consider a refit of topic_model"
)


class TrendsConfig(dg.Config):
    z_threshold: float = Field(3.0, gt=0, description="alert when |z| of a topic's share reaches this")
    baseline_hours: int = Field(24, ge=1, description="trailing hours the current hour is compared with")
    min_baseline_hours: int = Field(6, ge=1, description="no alert before this many trailing hours exist")
    min_term_count: int = Field(5, ge=1, description="an emerging term needs at least this many uses in the hour")
    min_g2: float = Field(trends.G2_CRITICAL_001, ge=0, description="G² cut-off (10.83: p = 0.001)")
    min_probability: float = Field(
        0.4, ge=0, le=1, description="below this dominant probability a tweet is low-confidence"
    )
    stopwords_file: str = Field(str(STOPWORDS_FILE), description="extra stop words, one per line")


def read_hour_counts(storage: Storage, hour: datetime, config: TrendsConfig, stop: frozenset[str]) -> trends.HourCounts:
    """One scored hour folded into counts, reading three columns batch by batch."""
    data = storage.predictions.read_bytes(hour, PREDICTIONS_PARQUET)
    batches = pq.ParquetFile(io.BytesIO(data)).iter_batches(batch_size=BATCH_ROWS, columns=TREND_COLUMNS)
    return trends.hour_counts((b for b in batches), config.min_probability, stop)


def _names(storage: Storage, hours: list[datetime]) -> dict[int, str]:
    """Topic names of the model that scored the newest hour (stored names first, else top terms)."""
    version = storage.predictions.read_metadata(hours[-1]).get("model_version")
    if not version or not storage.models.exists(version, "model.json"):
        return {}
    return storage.topic_names(version)


@dg.asset(
    deps=["tweet_topic_assignments"],
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="reports",
    kinds={"pyarrow", "json"},
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[dg.AssetCheckSpec("topic_share_drift", asset="topic_trends", description=DRIFT_DESCRIPTION)],
)
def topic_trends(context: dg.AssetExecutionContext, config: TrendsConfig, storage: Storage) -> dg.MaterializeResult:
    """Each topic's share per hour vs its trailing baseline (z-score) and emerging terms (Dunning's G²)."""
    hours = [parse_partition_key(k) for k in context.partition_keys]
    committed = set(storage.predictions.committed_hours())
    stop = ENGLISH_STOP_WORDS | frozenset(read_term_file(Path(config.stopwords_file)))
    names = _names(storage, hours)
    cache: dict[datetime, trends.HourCounts] = {}
    versions: dict[datetime, str | None] = {}

    def version(hour: datetime) -> str | None:
        if hour not in versions:
            versions[hour] = storage.predictions.read_metadata(hour).get("model_version")
        return versions[hour]

    def counts(hour: datetime) -> trends.HourCounts:
        if hour not in cache:
            cache[hour] = read_hour_counts(storage, hour, config, stop)
        return cache[hour]

    dataset, alerts, last = storage.trends, {}, None
    for hour in hours:
        token = dataset.begin(hour)  # before reading: a newer commit of this hour is never overwritten
        current = counts(hour)
        window = [hour - timedelta(hours=i) for i in range(config.baseline_hours, 0, -1)]
        # Only hours scored by the same model: after a refit, topic 3 of the new model is not topic 3 of the old.
        trailing = [counts(h) for h in window if h in committed and version(h) == version(hour)]
        known = names or {t: f"topic {t}" for t in sorted(current.topics) if t >= 0}
        shifts, stale = trends.topic_shifts(current, trailing, known, config.z_threshold, config.min_baseline_hours)
        terms = trends.emerging_terms(
            current.terms, trends.merged_terms(trailing), config.min_term_count, config.min_g2
        )
        last = trends.trend_record(partition_key(hour), current, shifts, stale, terms, len(trailing))
        commit = dataset.write_hour(
            hour, {TRENDS_JSON: _json(last)}, {"partition": last["hour"], "alerts": last["alerts"]}, token=token
        )
        if last["alerts"]:
            alerts[last["hour"]] = last["alerts"]
        context.add_asset_metadata(
            _hour_metadata(last, dataset.uri(hour), commit["committed_at"]), partition_key=last["hour"]
        )
    return dg.MaterializeResult(
        check_results=[
            dg.AssetCheckResult(
                check_name="topic_share_drift",
                passed=not alerts,
                severity=dg.AssetCheckSeverity.WARN,
                description=(
                    f"{len(alerts)} of {len(hours)} hours moved beyond |z| ≥ {config.z_threshold:g}: "
                    "if it persists, refit topic_model"
                    if alerts
                    else "every topic share within its baseline"
                ),
                metadata={"hours_checked": len(hours), "flagged_hours": dg.MetadataValue.json(alerts)},
            )
        ],
    )


def _hour_metadata(record: dict, path: str, commit: str) -> dict:
    """One hour's own materialization metadata (issue 24): its alerts, emerging terms, baseline, path, commit."""
    emerging = markdown_table(
        ["term", "count", "trailing", "G²"],
        [(t["term"], t["count"], t["baseline_count"], t["g2"]) for t in record["emerging_terms"][:8]],
    )
    return {
        "alerts": dg.MetadataValue.json(record["alerts"]),
        "emerging_terms": dg.MetadataValue.md(f"**{record['hour']}**\n\n{emerging}"),
        "baseline_hours": record["baseline_hours"],
        "path": dg.MetadataValue.path(path),
        "commit": commit,
    }


def _json(record: dict) -> bytes:
    return json.dumps(record, indent=1, allow_nan=False).encode()
