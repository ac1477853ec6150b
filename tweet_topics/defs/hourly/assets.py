"""Hourly assets: combined_tweets (raw -> CSV + quarantine + metadata) and filtered_tweets (the corpus).

A backfill of many hours runs as one run (``BackfillPolicy.single_run``) that loops over its hours; each hour is
written and committed as its own objects and reports its own counts. An hour that fails does not hide the
others: the hours that succeeded are recorded as materialized, then the run fails naming the ones that did not.
"""

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from tweet_topics.config import BLOCKLIST_FILE
from tweet_topics.defs.hourly import checks
from tweet_topics.defs.hourly.hours import combine_hour, filter_hour
from tweet_topics.lib.filtering import FILTER_REASONS, Blocklist
from tweet_topics.partitions import HOURLY
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.keys import parse_partition_key

RAW_TWEETS = dg.AssetSpec(
    "raw_tweets",
    partitions_def=HOURLY,
    group_name="hourly",
    description="Firehose objects under <raw prefix>YYYY/MM/DD/HH/ (external; recorded by raw_tweets_sensor).",
)
HOUR_WORKERS = 4  # hours of a backfill processed concurrently: S3 round trips, not CPU, dominate small hours
COMBINED_COUNTS = (
    "objects_read",
    "records_read",
    "kept",
    "malformed",
    "duplicates",
    "cross_hour_duplicates",
    "bytes_read",
    "outside_hour",
)
CheckFn = Callable[[Storage, datetime], checks.CheckOutcome]


class FilterConfig(dg.Config):
    min_words: int = Field(5, ge=0, description="tweets with fewer words are dropped as too_short")
    languages: list[str] = Field(["en"], description="lang codes to keep; records without lang are kept")
    blocklist_file: str = Field(str(BLOCKLIST_FILE), description="one term per line, word-boundary matched")


def _each_hour(context: dg.AssetExecutionContext, work: Callable[[datetime], dict]) -> dict[str, dict]:
    """Run ``work`` for every hour of the run, concurrently; returns the successful hours' stats in key order.

    If any hour failed, the successful ones are recorded as materialized first, then the run fails naming
    the failed hours with their errors.
    """
    keys = list(context.partition_keys)

    def attempt(key: str) -> tuple[str, dict | None, str | None]:
        try:
            return key, work(parse_partition_key(key)), None
        except Exception as exc:  # one bad hour must not hide the good ones
            return key, None, f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=min(HOUR_WORKERS, max(len(keys), 1))) as pool:
        outcomes = list(pool.map(attempt, keys))
    done = {key: stats for key, stats, error in outcomes if stats is not None}
    failed = {key: error for key, _, error in outcomes if error is not None}
    if failed:
        for key in done:
            context.log_event(dg.AssetMaterialization(asset_key=context.asset_key, partition=key))
        raise dg.Failure(
            description=f"{len(failed)} of {len(keys)} hours failed; {len(done)} committed: "
            + "; ".join(f"{k}: {e}" for k, e in sorted(failed.items())),
            metadata={"failed_hours": dg.MetadataValue.json(sorted(failed)), "committed_hours": len(done)},
        )
    return done


def _sum_counts(per_hour: dict[str, dict], names: tuple[str, ...]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for stats in per_hour.values():
        for name in names:
            total[name] += int(stats.get(name) or 0)
    return dict(total)


def _checks(storage: Storage, keys: list[str], specs: list[tuple[str, CheckFn, bool]]) -> list[dg.AssetCheckResult]:
    """Run stored-data checks, hour by hour (so each hour's stored files are read once for all of them); each check
    fails naming the hours (with details) that did not pass."""
    failing: dict[str, dict[str, Any]] = {name: {} for name, _, _ in specs}
    for key in keys:
        for name, fn, _ in specs:
            try:
                passed, details = fn(storage, parse_partition_key(key))
            except Exception as exc:  # a check that cannot read the hour fails for that hour; the run goes on
                passed, details = False, {"error": f"{type(exc).__name__}: {exc}"}
            if not passed:
                failing[name][key] = details
    return [
        dg.AssetCheckResult(
            check_name=name,
            passed=not failing[name],
            severity=dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR,
            metadata={"hours_checked": len(keys), "failing_hours": dg.MetadataValue.json(failing[name])},
        )
        for name, _, warn in specs
    ]


COMBINED_CHECKS = {
    "counts_reconcile": (
        "raw lines == records_read == kept + malformed + duplicates; files hold them",
        checks.combined_counts_reconcile,
    ),
    "unique_ids": ("no tweet id appears twice in a stored hour", checks.combined_unique_ids),
    "schema": ("the stored CSV has exactly the documented columns", checks.combined_schema),
}


@dg.asset(
    deps=[RAW_TWEETS],
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="hourly",
    check_specs=[
        *(dg.AssetCheckSpec(n, asset="combined_tweets", description=d) for n, (d, _) in COMBINED_CHECKS.items()),
        dg.AssetCheckSpec(
            "created_at_in_hour",
            asset="combined_tweets",
            description="tweets created outside their hour (late arrivals) are flagged, not dropped",
            blocking=False,
        ),
    ],
    kinds={"s3", "csv"},
)
def combined_tweets(context: dg.AssetExecutionContext, storage: Storage) -> dg.MaterializeResult:
    """One deduplicated CSV per hour, with a quarantine of malformed lines and a metadata ledger."""
    per_hour = _each_hour(context, lambda hour: combine_hour(storage, hour))
    for key, stats in per_hour.items():
        context.log_event(
            dg.AssetObservation(
                asset_key="combined_tweets",
                partition=key,
                metadata={name: stats[name] for name in COMBINED_COUNTS}
                | {
                    "malformed_by_reason": dg.MetadataValue.json(stats["malformed_by_reason"]),
                    "path": dg.MetadataValue.path(storage.combined.uri(parse_partition_key(key))),
                },
            )
        )
        context.log.info(
            f"{key}: read {stats['records_read']} kept {stats['kept']} malformed "
            f"{stats['malformed']} duplicates {stats['duplicates']}"
        )
    keys = list(per_hour)
    return dg.MaterializeResult(
        metadata={
            **_sum_counts(per_hour, COMBINED_COUNTS),
            "hours": len(per_hour),
            "dagster/row_count": sum(s["kept"] for s in per_hour.values()),
            "path": dg.MetadataValue.path(storage.combined.uri(parse_partition_key(keys[0]))),
        },
        check_results=_checks(
            storage,
            keys,
            [
                *((name, fn, False) for name, (_, fn) in COMBINED_CHECKS.items()),
                ("created_at_in_hour", checks.combined_created_at_in_hour, True),
            ],
        ),
    )


@dg.asset(
    deps=[combined_tweets],
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="hourly",
    check_specs=[
        dg.AssetCheckSpec(
            "filter_counts_reconcile",
            asset="filtered_tweets",
            description="stored combined rows == kept + each filter reason; stored files hold them",
        )
    ],
    kinds={"s3", "parquet"},
)
def filtered_tweets(context: dg.AssetExecutionContext, config: FilterConfig, storage: Storage) -> dg.MaterializeResult:
    """The modeling corpus per hour: no retweets, other languages, blocklisted or too-short tweets."""
    blocklist = Blocklist.from_file(Path(config.blocklist_file))
    languages = tuple(config.languages)
    per_hour = _each_hour(context, lambda hour: filter_hour(storage, hour, blocklist, config.min_words, languages))
    names = ("input", "kept", *FILTER_REASONS)
    for key, stats in per_hour.items():
        context.log_event(
            dg.AssetObservation(
                asset_key="filtered_tweets", partition=key, metadata={name: stats[name] for name in names}
            )
        )
    totals = _sum_counts(per_hour, names)
    return dg.MaterializeResult(
        metadata={
            **totals,
            "hours": len(per_hour),
            "dagster/row_count": totals["kept"],
            "blocklist_terms": len(blocklist.terms),
        },
        check_results=_checks(
            storage, list(per_hour), [("filter_counts_reconcile", checks.filtered_counts_reconcile, False)]
        ),
    )
