"""Hourly assets: combined_tweets (raw -> CSV + quarantine + metadata) and filtered_tweets (the corpus).

A backfill of many hours runs as one run (``BackfillPolicy.single_run``) that loops over its hours; each hour is
still written and replaced as its own objects, and reports its own counts as an observation.
"""

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pydantic import Field

from tweet_topics.config import BLOCKLIST_FILE
from tweet_topics.defs.hourly.hours import combine_hour, filter_hour
from tweet_topics.defs.infra.layout import Layout
from tweet_topics.defs.infra.resources import S3Store
from tweet_topics.lib.combine import COMBINED_COLUMNS
from tweet_topics.lib.filtering import FILTER_REASONS, Blocklist
from tweet_topics.lib.layout import parse_partition_key
from tweet_topics.partitions import HOURLY

RAW_TWEETS = dg.AssetSpec(
    "raw_tweets",
    partitions_def=HOURLY,
    group_name="hourly",
    description="Firehose objects under <raw prefix>YYYY/MM/DD/HH/ (external; recorded by raw_tweets_sensor).",
)


class CombineConfig(dg.Config):
    engine: Literal["arrow", "spark"] = Field("arrow", description="arrow for one machine, spark for clusters")


class FilterConfig(dg.Config):
    min_words: int = Field(5, ge=0, description="tweets with fewer words are dropped as too_short")
    languages: list[str] = Field(["en"], description="lang codes to keep; records without lang are kept")
    blocklist_file: str = Field(str(BLOCKLIST_FILE), description="one term per line, word-boundary matched")


def _hours(context: dg.AssetExecutionContext) -> list[str]:
    return list(context.partition_keys)


HOUR_WORKERS = 4  # hours of a backfill processed concurrently: S3 round trips, not CPU, dominate small hours


def _each_hour(keys: list[str], work: Callable[[str], dict]) -> dict[str, dict]:
    """Run ``work`` for every hour key, concurrently, and return the results in key order."""
    with ThreadPoolExecutor(max_workers=min(HOUR_WORKERS, max(len(keys), 1))) as pool:
        return dict(zip(keys, pool.map(work, keys), strict=True))


def _sum_counts(per_hour: dict[str, dict], names: list[str]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for stats in per_hour.values():
        for name in names:
            total[name] += int(stats.get(name) or 0)
    return dict(total)


COMBINED_CHECKS = [
    dg.AssetCheckSpec(
        "counts_reconcile",
        asset="combined_tweets",
        description="records_read == kept + malformed + duplicates, for every hour",
    ),
    dg.AssetCheckSpec(
        "created_at_in_hour",
        asset="combined_tweets",
        description="tweets created outside their hour (late arrivals) are flagged, not dropped",
        blocking=False,
    ),
    dg.AssetCheckSpec("unique_ids", asset="combined_tweets", description="no tweet id appears twice in an hour"),
    dg.AssetCheckSpec("schema", asset="combined_tweets", description="the CSV has exactly the documented columns"),
]


@dg.asset(
    deps=[RAW_TWEETS],
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="hourly",
    check_specs=COMBINED_CHECKS,
    kinds={"s3", "csv"},
)
def combined_tweets(
    context: dg.AssetExecutionContext,
    config: CombineConfig,
    s3: S3Store,
    layout: Layout,
    pyspark: LazyPySparkResource,
) -> dg.MaterializeResult:
    """One deduplicated CSV per hour, with a quarantine of malformed lines and a metadata ledger."""
    spark = pyspark.spark_session if config.engine == "spark" else None  # the session is only built when asked for
    per_hour = _each_hour(
        _hours(context),
        lambda key: combine_hour(s3, layout, parse_partition_key(key), engine=config.engine, spark=spark),
    )
    for key, stats in per_hour.items():
        context.log_event(
            dg.AssetObservation(
                asset_key="combined_tweets",
                partition=key,
                metadata={
                    name: stats[name]
                    for name in (
                        "objects_read",
                        "records_read",
                        "kept",
                        "malformed",
                        "duplicates",
                        "bytes_read",
                        "outside_hour",
                    )
                }
                | {
                    "malformed_by_reason": dg.MetadataValue.json(stats["malformed_by_reason"]),
                    "path": dg.MetadataValue.path(f"s3://{s3.bucket}/{layout.combined(parse_partition_key(key))}"),
                },
            )
        )
        context.log.info(
            f"{key}: read {stats['records_read']} kept {stats['kept']} malformed "
            f"{stats['malformed']} duplicates {stats['duplicates']}"
        )
    totals = _sum_counts(
        per_hour, ["objects_read", "records_read", "kept", "malformed", "duplicates", "bytes_read", "outside_hour"]
    )
    unreconciled = [k for k, s in per_hour.items() if s["records_read"] != s["kept"] + s["malformed"] + s["duplicates"]]
    late = {k: s["outside_hour"] for k, s in per_hour.items() if s["outside_hour"]}
    first = parse_partition_key(_hours(context)[0])
    return dg.MaterializeResult(
        metadata={
            **totals,
            "hours": len(per_hour),
            "engine": config.engine,
            "dagster/row_count": totals["kept"],
            "path": dg.MetadataValue.path(f"s3://{s3.bucket}/{layout.combined(first)}"),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="counts_reconcile",
                passed=not unreconciled,
                metadata={"unreconciled_hours": dg.MetadataValue.json(unreconciled)},
            ),
            dg.AssetCheckResult(
                check_name="created_at_in_hour",
                passed=not late,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"late_tweets_by_hour": dg.MetadataValue.json(late)},
            ),
            dg.AssetCheckResult(
                check_name="unique_ids",
                passed=not any(s["duplicate_ids_in_output"] for s in per_hour.values()),
                metadata={"duplicates_removed": totals["duplicates"]},
            ),
            dg.AssetCheckResult(
                check_name="schema",
                passed=all(s["columns"] == COMBINED_COLUMNS for s in per_hour.values()),
                metadata={"columns": dg.MetadataValue.json(COMBINED_COLUMNS)},
            ),
        ],
    )


FILTERED_CHECKS = [
    dg.AssetCheckSpec(
        "filter_counts_reconcile",
        asset="filtered_tweets",
        description="input == kept + each filter reason, for every hour",
    ),
]


@dg.asset(
    deps=[combined_tweets],
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="hourly",
    check_specs=FILTERED_CHECKS,
    kinds={"s3", "parquet"},
)
def filtered_tweets(
    context: dg.AssetExecutionContext, config: FilterConfig, s3: S3Store, layout: Layout
) -> dg.MaterializeResult:
    """The modeling corpus per hour: no retweets, other languages, blocklisted or too-short tweets."""
    blocklist = Blocklist.from_file(Path(config.blocklist_file))
    per_hour = {}
    for key in _hours(context):
        stats = filter_hour(s3, layout, parse_partition_key(key), blocklist, config.min_words, tuple(config.languages))
        per_hour[key] = stats
        context.log_event(
            dg.AssetObservation(
                asset_key="filtered_tweets",
                partition=key,
                metadata={name: stats[name] for name in ("input", "kept", *FILTER_REASONS)},
            )
        )
    names = ["input", "kept", *FILTER_REASONS]
    totals = _sum_counts(per_hour, names)
    unreconciled = [k for k, s in per_hour.items() if s["input"] != s["kept"] + sum(s[r] for r in FILTER_REASONS)]
    return dg.MaterializeResult(
        metadata={
            **totals,
            "hours": len(per_hour),
            "dagster/row_count": totals["kept"],
            "blocklist_terms": len(blocklist.terms),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="filter_counts_reconcile",
                passed=not unreconciled,
                metadata={"unreconciled_hours": dg.MetadataValue.json(unreconciled)},
            )
        ],
    )
