"""Hourly assets: combined_tweets (raw -> CSV + quarantine + metadata) and filtered_tweets (the corpus).

A backfill of many hours runs as one run (``BackfillPolicy.single_run``) that loops over its hours; each hour is
written and committed as its own objects, and its materialization and check results carry that hour's own numbers
(``results.py``). An hour that fails does not hide the others: the hours that succeeded are recorded as
materialized, then the run fails naming the ones that did not. An hour whose blocking checks fail is committed with
them recorded, and filtered_tweets holds it back (commits it empty, saying why).
"""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from tweet_topics.archive.tombstones import load_tombstones
from tweet_topics.config import BLOCKLIST_FILE
from tweet_topics.defs.hourly import checks
from tweet_topics.defs.hourly.hours import combine_hour, filter_hour
from tweet_topics.defs.hourly.results import HourCheck, evaluate, failing_hours, range_note, record_hours, results
from tweet_topics.lib.combine_fast import COMBINED_SCHEMA
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
    "deleted_on_request",
    "bytes_read",
    "outside_hour",
)
COMBINED_CHECKS = [
    HourCheck(
        "counts_reconcile",
        "raw lines == records_read == kept + malformed + duplicates + deleted_on_request; files hold them "
        "(blocking: a wrong hour is not fed to filtered_tweets)",
        checks.combined_counts_reconcile,
        blocking=True,
    ),
    HourCheck("unique_ids", "no tweet id appears twice in a stored hour", checks.combined_unique_ids),
    HourCheck(
        "schema",
        "the stored CSV has exactly the documented columns (blocking)",
        checks.combined_schema,
        blocking=True,
    ),
    HourCheck(
        "created_at_in_hour",
        "tweets created outside their hour (late arrivals) are flagged, not dropped",
        checks.combined_created_at_in_hour,
        warn=True,
    ),
    HourCheck(
        "volume",
        f"records this hour vs the trailing {checks.VOLUME_BASELINE_HOURS} h: |z| >= {checks.VOLUME_Z:g} warns",
        checks.combined_volume,
        warn=True,
    ),
    HourCheck(
        "no_data_while_streaming",
        "an hour without raw objects fails when the delivery ledger says the streamer handed records in it",
        checks.no_data_while_streaming,
    ),
]
FILTERED_CHECKS = [
    HourCheck(
        "filter_counts_reconcile",
        "stored combined rows == kept + each filter reason; stored files hold them",
        checks.filtered_counts_reconcile,
    ),
    HourCheck(
        "built_from_current_combined",
        "the corpus hour was filtered from the combined commit that is current (not one a racing run read)",
        checks.filtered_from_current_combined,
        warn=True,
    ),
]


class FilterConfig(dg.Config):
    min_words: int = Field(5, ge=0, description="tweets with fewer words are dropped as too_short")
    languages: list[str] = Field(["en"], description="lang codes to keep; records without lang are kept")
    blocklist_file: str = Field(str(BLOCKLIST_FILE), description="one term per line, word-boundary matched")


def _each_hour(
    context: dg.AssetExecutionContext,
    work: Callable[[datetime], dict],
    describe: Callable[[str, dict], dict[str, Any]],
) -> dict[str, dict]:
    """Run ``work`` for every hour of the run, concurrently; returns the successful hours' stats in key order.

    If any hour failed, the successful ones are recorded as materialized (with their own metadata) first, then
    the run fails naming the failed hours with their errors.
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
        for key, stats in done.items():
            context.log_event(
                dg.AssetMaterialization(asset_key=context.asset_key, partition=key, metadata=describe(key, stats))
            )
        raise dg.Failure(
            description=f"{len(failed)} of {len(keys)} hours failed; {len(done)} committed: "
            + "; ".join(f"{k}: {e}" for k, e in sorted(failed.items())),
            metadata={"failed_hours": dg.MetadataValue.json(sorted(failed)), "committed_hours": len(done)},
        )
    return done


def _combined_metadata(storage: Storage, key: str, stats: dict) -> dict[str, Any]:
    """One hour's own materialization metadata: its counts, path, commit, row count and gate."""
    return {
        **{name: stats[name] for name in COMBINED_COUNTS},
        "dagster/row_count": stats["kept"],
        "malformed_by_reason": dg.MetadataValue.json(stats["malformed_by_reason"]),
        "path": dg.MetadataValue.path(storage.combined.uri(parse_partition_key(key))),
        "commit": stats["commit"],
        "raw_objects": stats["raw_objects"],
        "blocking_checks_failed": dg.MetadataValue.json(sorted(stats.get("failed_checks") or {})),
    }


def _filtered_metadata(storage: Storage, key: str, stats: dict) -> dict[str, Any]:
    held = (
        f"held back: combined_tweets failed {', '.join(stats['blocked_by'])} ({stats['held_back']} rows not fed)"
        if stats.get("blocked_by")
        else "fed to the corpus"
    )
    return {
        **{name: stats[name] for name in ("input", "kept", *FILTER_REASONS)},
        "dagster/row_count": stats["kept"],
        "path": dg.MetadataValue.path(storage.filtered.uri(parse_partition_key(key))),
        "commit": stats["commit"],
        "blocklist_terms": stats["blocklist_terms"],
        "corpus": held,
    }


# The stored hour's columns in the asset catalog: the combine's Arrow schema (the CSV's header and the filtered
# Parquet's columns alike), from the record schema, so the UI's column list can never drift from what is written.
COLUMN_SCHEMA = dg.TableSchema(columns=[dg.TableColumn(f.name, str(f.type)) for f in COMBINED_SCHEMA])


def _log_failing(context: dg.AssetExecutionContext, outcomes: dict) -> None:
    for key, names in failing_hours(outcomes).items():
        context.log.warning(f"{key}: checks failed: {', '.join(names)}")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "combined_tweets",
            metadata={"dagster/column_schema": COLUMN_SCHEMA},
            deps=[RAW_TWEETS],
            partitions_def=HOURLY,
            group_name="hourly",
            kinds={"s3", "csv"},
            description="One deduplicated CSV per hour, with a quarantine of malformed lines and a metadata ledger.",
        )
    ],
    # can_subset makes the check outputs optional: a range run records its checks per hour as evaluations.
    can_subset=True,
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[c.spec("combined_tweets") for c in COMBINED_CHECKS],
)
def combined_tweets(
    context: dg.AssetExecutionContext, storage: Storage
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation]:
    """One deduplicated CSV per hour, with a quarantine of malformed lines and a metadata ledger."""
    tombstones = load_tombstones(storage)  # tweets deleted on X (apply_deletions): read once per run
    per_hour = _each_hour(
        context,
        lambda hour: combine_hour(storage, hour, tombstones=tombstones),
        lambda k, s: _combined_metadata(storage, k, s),
    )
    record_hours(context, {key: _combined_metadata(storage, key, stats) for key, stats in per_hour.items()})
    for key, stats in per_hour.items():
        context.log.info(
            f"{key}: read {stats['records_read']} kept {stats['kept']} malformed "
            f"{stats['malformed']} duplicates {stats['duplicates']}"
        )
    range_note(context, per_hour, COMBINED_COUNTS)
    outcomes = evaluate(storage, list(per_hour), COMBINED_CHECKS)
    _log_failing(context, outcomes)
    yield from results("combined_tweets", list(per_hour), outcomes, COMBINED_CHECKS)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "filtered_tweets",
            metadata={"dagster/column_schema": COLUMN_SCHEMA},
            deps=[combined_tweets],
            partitions_def=HOURLY,
            group_name="hourly",
            kinds={"s3", "parquet"},
            description="The modeling corpus per hour: no retweets, other languages, blocklisted or too-short tweets.",
        )
    ],
    can_subset=True,
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[c.spec("filtered_tweets") for c in FILTERED_CHECKS],
)
def filtered_tweets(
    context: dg.AssetExecutionContext, config: FilterConfig, storage: Storage
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation]:
    """The modeling corpus per hour: no retweets, other languages, blocklisted or too-short tweets. An hour whose
    combined commit failed a blocking check is held back (committed empty, saying why)."""
    blocklist = Blocklist.from_file(Path(config.blocklist_file))
    languages = tuple(config.languages)
    per_hour = _each_hour(
        context,
        lambda hour: filter_hour(storage, hour, blocklist, config.min_words, languages),
        lambda k, s: _filtered_metadata(storage, k, s),
    )
    record_hours(context, {key: _filtered_metadata(storage, key, stats) for key, stats in per_hour.items()})
    for key, stats in per_hour.items():
        if stats.get("blocked_by"):
            context.log.warning(
                f"{key}: not fed to the corpus: combined_tweets failed {', '.join(stats['blocked_by'])}"
            )
    range_note(context, per_hour, ("input", "kept", *FILTER_REASONS))
    outcomes = evaluate(storage, list(per_hour), FILTERED_CHECKS)
    _log_failing(context, outcomes)
    yield from results("filtered_tweets", list(per_hour), outcomes, FILTERED_CHECKS)
