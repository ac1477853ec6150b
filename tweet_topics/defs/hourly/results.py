"""What an hourly asset tells Dagster, hour by hour: each hour's own materialization metadata and each hour's own
check evaluations, in a single-run backfill of many hours as in a one-hour run.

Dagster 1.13 allows both: ``context.add_asset_metadata(..., partition_key=k)`` puts metadata on that partition's
materialization only (the run's Output still yields one materialization per hour, so steps downstream in the same
run are not skipped), and ``AssetCheckEvaluation(partition=k)`` records a check result against one hour of a check
declared with ``AssetCheckSpec(partitions_def=...)``. Dagster blocks downstream steps on a failed blocking check
only in one-hour runs (a blocking failure fails the whole step, which in a backfill would hide every other hour);
in backfills the commit's ``failed_checks`` gate holds the wrong hour back instead (``hours.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dagster as dg

from tweet_topics.defs.hourly.checks import CheckOutcome
from tweet_topics.partitions import HOURLY
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.keys import parse_partition_key


@dataclass(frozen=True)
class HourCheck:
    name: str
    description: str
    fn: Callable[[Storage, datetime], CheckOutcome]
    blocking: bool = False
    warn: bool = False

    def spec(self, asset: str) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name, asset=asset, description=self.description, blocking=self.blocking, partitions_def=HOURLY
        )

    @property
    def severity(self) -> dg.AssetCheckSeverity:
        return dg.AssetCheckSeverity.WARN if self.warn else dg.AssetCheckSeverity.ERROR


def record_hours(context: dg.AssetExecutionContext, per_hour: dict[str, dict[str, Any]]) -> None:
    """Each hour's materialization carries that hour's own metadata (never the range's)."""
    for key, metadata in per_hour.items():
        context.add_asset_metadata(metadata, partition_key=key)


def range_note(context: dg.AssetExecutionContext, per_hour: dict[str, dict[str, Any]], names: tuple[str, ...]) -> None:
    """Range totals go to the run's log, named as totals, never onto an hour."""
    if len(per_hour) > 1:
        totals = {n: sum(int(m.get(n) or 0) for m in per_hour.values()) for n in names}
        context.log.info(
            f"range totals over {len(per_hour)} hours: " + ", ".join(f"{k} {v}" for k, v in totals.items())
        )


def evaluate(storage: Storage, keys: list[str], hour_checks: list[HourCheck]) -> dict[str, dict[str, CheckOutcome]]:
    """Every check for every hour, hour by hour (each hour's stored files are read once for all its checks); a
    check that cannot read an hour fails for that hour, naming the error, and the run goes on."""
    out: dict[str, dict[str, CheckOutcome]] = {}
    for key in keys:
        out[key] = {}
        for check in hour_checks:
            try:
                out[key][check.name] = check.fn(storage, parse_partition_key(key))
            except Exception as exc:
                out[key][check.name] = (False, {"error": f"{type(exc).__name__}: {exc}"})
    return out


def _metadata(key: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "hour": key,
        **{k: v if isinstance(v, int | float | str) else dg.MetadataValue.json(v) for k, v in details.items()},
    }


def results(
    asset: str, keys: list[str], outcomes: dict[str, dict[str, CheckOutcome]], hour_checks: list[HourCheck]
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation]:
    """The asset's result, then one check evaluation per hour and check. A one-hour run returns its checks with
    the result (Dagster fills in the hour and blocks downstream steps on a failed blocking check); a range run
    records one non-blocking evaluation per hour after the materializations (the storage gate blocks)."""
    if len(keys) == 1:
        [key] = keys
        yield dg.MaterializeResult(
            check_results=[
                dg.AssetCheckResult(
                    check_name=c.name,
                    passed=outcomes[key][c.name][0],
                    severity=c.severity,
                    metadata=_metadata(key, outcomes[key][c.name][1]),
                )
                for c in hour_checks
            ]
        )
        return
    yield dg.MaterializeResult()
    for key in keys:
        for c in hour_checks:
            passed, details = outcomes[key][c.name]
            yield dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey(asset),
                check_name=c.name,
                passed=passed,
                severity=c.severity,
                metadata=_metadata(key, details),
                blocking=False,
                partition=key,
            )


def failing_hours(outcomes: dict[str, dict[str, CheckOutcome]]) -> dict[str, list[str]]:
    """{hour: [failed checks]} for the run's log."""
    return {
        k: sorted(n for n, (ok, _) in by.items() if not ok)
        for k, by in outcomes.items()
        if not all(ok for ok, _ in by.values())
    }
