"""The soak: a simulated past day of raw objects, sensor ticks, runs and faults, then the ledger's proof.

The simulated clock moves in sensor ticks (15 simulated minutes; no sleeps): at each tick the raw objects whose
Firehose timestamp has passed are put, the streamer slice runs when its hour comes, the sensor plans at the
simulated now and its requests are launched for real, and the scheduled faults strike. After the day the real
sensor is evaluated until it asks for nothing more, the delivery ledger is materialized, and ``audit`` counts
every committed hour independently.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from tweet_topics.defs.archive.deletions import apply_deletions
from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets
from tweet_topics.defs.ingest.ledger import delivery_ledger
from tweet_topics.lib.hour_tracker import summarize
from tweet_topics.storage.catalog import COMBINED_CSV
from tweet_topics_tests.soak.audit import Audit, audit, csv_ids, expected_quarantine
from tweet_topics_tests.soak.day import HOUR, DayPlan, SoakConfig, plan_day
from tweet_topics_tests.soak.runs import QUIET, Launcher
from tweet_topics_tests.soak.streamer_slice import SliceConfig, SliceOutcome, move_to_simulated_hours, run_slice

RETRY_AFTER_TICKS = 2  # a killed run is retried (prod's run_retries) if the sensor has not re-requested it by then


@dataclass
class SoakResult:
    config: SoakConfig
    faults: list[tuple[str, str]] = field(default_factory=list)  # (simulated time, what)
    figures: dict[str, Any] = field(default_factory=dict)
    audit: Audit | None = None
    ledger: dict[str, Any] = field(default_factory=dict)
    launcher: Launcher | None = None
    stream: SliceOutcome | None = None
    poison: dict[str, int] = field(default_factory=dict)  # reason -> lines injected
    deleted: set[str] | None = None  # ids the mid-day deletion list removed (None: not applied)
    deleted_at: datetime | None = None  # the simulated time it was applied
    deleted_streamer: int = 0  # of them, records the streamer had handed over

    @property
    def ok(self) -> bool:
        return bool(self.audit and self.audit.ok and self.ledger.get("passed"))


class _Day:
    """The clock loop's state: what was delivered, what is pending, what happened."""

    def __init__(self, resources: dict, config: SoakConfig, workdir: Path, log: Callable) -> None:
        self.resources, self.config, self.workdir, self.log = resources, config, workdir, log
        self.storage = resources["storage"]
        self.rng = random.Random(config.seed + 1)
        self.launcher = Launcher(resources, dg.DagsterInstance.ephemeral(), workdir, log)
        self.result = SoakResult(config, launcher=self.launcher)
        self.killed: tuple[str, int] | None = None  # (partition, ticks since the kill)
        self.rerequested = False

    def note(self, when: datetime, what: str) -> None:
        self.result.faults.append(
            (f"{when:%H:%M}" if when.date() == self.config.day.date() else f"+1d {when:%H:%M}", what)
        )
        self.log(f"[{when:%d %H:%M}] {what}")

    def tick(self, now: datetime, plan: DayPlan, stream: str, endpoint: str) -> None:
        while plan.deliveries and plan.deliveries[0].at <= now:
            delivery = plan.deliveries.pop(0)
            self.storage.s3.put(delivery.key, delivery.body)
            if delivery.label:
                self.note(delivery.at, f"{delivery.label} raw object delivered: {delivery.key.rsplit('/', 1)[1][:40]}")
        if (
            plan.streamer_hour is not None
            and now >= plan.streamer_hour + timedelta(minutes=20)
            and not self.result.stream
        ):
            self._streamer(plan.streamer_hour + timedelta(minutes=20), stream, endpoint)
        for partition in self.launcher.simulated_tick(now):
            if plan.kill_at is not None and now >= plan.kill_at and self.killed is None:
                self.note(now, "run killed mid-commit: " + self.launcher.killed_mid_commit(partition))
                self.killed = (partition, 0)
                continue
            if self.killed and partition == self.killed[0]:
                self.rerequested = True
            self.launcher.run(partition, "raw_tweets_sensor")
        if self.killed and self.killed[1] >= 0:
            partition, ticks = self.killed
            if self.rerequested or self.storage.combined.is_committed(_hour(partition)):
                self.killed = (partition, -1)
            elif ticks + 1 >= RETRY_AFTER_TICKS:
                self.note(now, f"{partition}: not re-requested by the sensor; run retry (prod run_retries) launched")
                self.launcher.run(partition, "run retry")
                self.killed = (partition, -1)
            else:
                self.killed = (partition, ticks + 1)
        if plan.deletion_at is not None and now >= plan.deletion_at and self.result.deleted is None:
            self._deletions(now)
        if plan.backfill_at is not None and now >= plan.backfill_at and plan.backfills:
            codes = self.launcher.overlapping_backfills(plan.backfills)
            self.note(now, f"overlapping backfills finished with exit codes {codes}")
            plan.backfills = None

    def _deletions(self, now: datetime) -> None:
        """``apply_deletions`` with ids drawn from what is committed now: half the generator's, half the streamer's."""
        committed = [i for h in self.storage.combined.committed_hours() for i in _hour_ids(self.storage, h)]
        streamed = set(self.result.stream.expected_ids(self.stream_config)) if self.result.stream else set()
        half = self.config.deletions // 2
        ids = self.rng.sample(sorted(set(committed) & streamed), min(half, len(streamed)))
        ids += self.rng.sample(sorted(set(committed) - streamed), self.config.deletions - len(ids))
        path = self.workdir / "deletions.txt"
        path.write_text("".join(f"{i}\n" for i in ids))
        run = apply_deletions.execute_in_process(
            run_config={**QUIET, "ops": {"apply_deletions_op": {"config": {"ids_file": str(path)}}}},
            resources={"storage": self.storage},
            raise_on_error=False,
        )
        audit_entry = run.output_for_node("apply_deletions_op") if run.success else {}
        self.result.deleted, self.result.deleted_at = set(ids), now
        self.result.deleted_streamer = sum(1 for i in ids if i in streamed)
        removed, hours = audit_entry.get("records_removed", "run failed: 0"), len(audit_entry.get("hours", []))
        self.note(
            now,
            f"deletion list applied: {len(ids)} ids ({self.result.deleted_streamer} streamed), "
            f"{removed} records removed in {hours} hours",
        )

    def _streamer(self, origin: datetime, stream: str, endpoint: str) -> None:
        config = SliceConfig(
            origin=origin,
            seed=self.config.seed + 7,
            rate=self.config.streamer_rate,
            tweets=self.config.streamer_tweets,
            kill_after=self.config.streamer_kill_after,
        )
        outcome = run_slice(config, endpoint, self.workdir / "streamer", self.rng, self.log)
        day = (self.config.day, self.config.day + HOUR * self.config.hours)
        outcome.objects_moved = move_to_simulated_hours(self.storage, stream, day, self.rng)
        for fault in outcome.faults:
            self.note(origin, fault)
        self.result.stream = outcome
        self.stream_config = config


def _hour_ids(storage: Any, hour: datetime) -> list[str]:
    return csv_ids(storage.combined.read_bytes(hour, COMBINED_CSV))


def _hour(partition: str) -> datetime:
    from tweet_topics.storage.keys import parse_partition_key

    return parse_partition_key(partition)


def run_soak(resources: dict, config: SoakConfig, stream: str, workdir: Path, log: Callable = print) -> SoakResult:
    """The whole day, the convergence ticks, the ledger and the audit."""
    started = time.monotonic()
    storage = resources["storage"]
    if config.streamer_tweets:
        infra = resources["infra"]
        infra.logs.ensure()
        infra.iam.ensure()
        infra.ensure_firehose()
    plan = plan_day(config, storage.raw_prefix, stream)
    day = _Day(resources, config, workdir, log)
    for when, what in plan.faults:
        log(f"scheduled [{when:%d %H:%M}] {what}")
    last = max([d.at for d in plan.deliveries] + [config.day + HOUR * config.hours])
    end = last + HOUR + timedelta(minutes=15)
    now = config.day + config.tick
    while now <= end:
        day.tick(now, plan, stream, resources["aws"].endpoint_url)
        now += config.tick
    simulated = now - config.day
    day_wall = time.monotonic() - started
    for _ in range(3):  # the real sensor, at the real now, until it asks for nothing more
        partitions = day.launcher.real_tick()
        for partition in partitions:
            day.launcher.run(partition, "raw_tweets_sensor (real tick)")
        if not partitions:
            break
    result = day.result
    result.poison = plan.expected.poison
    result.ledger = materialize_ledger(resources)
    expected = dict(plan.expected.ids)
    if result.stream:
        expected.update((i, "streamer") for i in result.stream.expected_ids(day.stream_config))
    raw_hours = sorted(
        summarize(((o.key, o.size, o.etag) for o in storage.s3.list(storage.raw_prefix)), storage.raw_prefix)
    )
    rejects = result.stream.rejects if result.stream else []
    deleted = result.deleted or set()
    quarantine = expected_quarantine(plan.expected.poison_lines, deleted)
    result.audit = audit(storage, expected, raw_hours, rejects, deleted=deleted, quarantine=quarantine)
    result.figures = figures(result, plan, expected, simulated, day_wall, time.monotonic() - started)
    return result


def materialize_ledger(resources: dict) -> dict[str, Any]:
    """delivery_ledger over the window, without a grace period: every handed record must be found now."""
    run = dg.materialize(
        [RAW_TWEETS, combined_tweets, delivery_ledger],
        selection=[delivery_ledger],
        resources=resources,
        run_config={**QUIET, "ops": {"delivery_ledger": {"config": {"grace_minutes": 0}}}},
        raise_on_error=False,
    )
    checks = run.get_asset_check_evaluations()
    materializations = run.asset_materializations_for_node("delivery_ledger") if run.success else []
    meta = {k: v.value for k, v in materializations[0].metadata.items()} if materializations else {}
    return {
        "passed": bool(checks) and all(c.passed for c in checks),
        **{k: meta.get(k) for k in ("handed", "found", "missing", "ledger_objects")},
    }


def figures(
    result: SoakResult, plan: DayPlan, expected: dict[str, str], simulated: timedelta, day_wall: float, wall: float
) -> dict[str, Any]:
    """The table the soak prints: what was produced, delivered, spooled, retried, dropped as duplicates, lost."""
    a, stream, storage = result.audit, result.stream, result.launcher.storage  # type: ignore[union-attr]
    metas = [storage.combined.read_metadata(h) for h in storage.combined.committed_hours()]
    runs = stream.runs if stream else []

    def total(key: str) -> int:
        return sum(int(str(r.get(key, 0)).rstrip("s") or 0) for r in runs if str(r.get(key, "0")).isdigit())

    assert a is not None
    return {
        "records produced by the generator": sum(1 for s in expected.values() if s == "generator"),
        "records received by the streamer (handed over)": stream.positions if stream else 0,
        "delivered (in exactly one committed hour)": a.delivered,
        "rejected/quarantined lines (with a reason)": sum(a.quarantined.values()) + a.streamer_rejects,
        "poison lines injected": sum(plan.expected.poison.values()),
        "spooled at a streamer exit": total("backlog"),
        "entries failed by Firehose (partial failures)": stream.failed_entries if stream else 0,
        "entries retried by the streamer": total("retried"),
        "duplicates dropped (in-hour + cross-hour)": sum(
            int(m.get("duplicates", 0)) + int(m.get("cross_hour_duplicates", 0)) for m in metas
        ),
        "duplicated ids in the committed CSVs": len(a.duplicated),
        "unexpected ids": len(a.unexpected),
        "deleted on request (deletion list)": len(result.deleted or ()),
        "deleted ids still in a committed CSV": len(a.undeleted),
        "lost": len(a.lost),
        "runs launched": result.launcher.record.runs,  # type: ignore[union-attr]
        "hours committed": a.hours,
        "simulated hours": round(simulated / HOUR, 1),
        "wall seconds (day / total)": f"{day_wall:.0f} / {wall:.0f}",
        "time compression": f"{simulated.total_seconds() / max(day_wall, 1e-9):.0f}x",
        "delivery ledger (handed/found/missing)": "/".join(
            str(result.ledger.get(k)) for k in ("handed", "found", "missing")
        ),
    }


def report_lines(result: SoakResult) -> list[str]:
    """The fault table, the figures and the verdict, as printed by the soak (markdown)."""
    a = result.audit
    lines = [
        f"## Soak (seed {result.config.seed}, day {result.config.day:%Y-%m-%d})",
        "",
        "| simulated time | fault injected |",
        "|---|---|",
    ]
    lines += [f"| {when} | {what} |" for when, what in result.faults]
    lines += ["", "| figure | value |", "|---|---|"]
    lines += [f"| {k} | {v:,} |" if isinstance(v, int) else f"| {k} | {v} |" for k, v in result.figures.items()]
    record = result.launcher.record if result.launcher else None
    if record:
        lines += [
            "",
            "runs by trigger: " + json.dumps(dict(record.by_trigger)),
            "check evaluations during the day: " + json.dumps(dict(sorted(record.checks.items()))),
        ]
        lines += [f"run failed (expected under faults): {f}" for f in record.failed]
        lines.append(f"checks red at their latest evaluation: {record.red_at_the_end or 'none'}")
    if a:
        lines.append(
            f"quarantined by reason: {dict(a.quarantined)}; injected: {result.poison}; "
            f"expected after the deletion list: {dict(a.quarantine_expected)}"
        )
        for name, hours in a.failing_checks.items():
            lines.append(f"FAILING CHECK {name}: {dict(list(hours.items())[:3])}")
        if a.lost:
            lines.append(f"LOST {len(a.lost)} ids, e.g. {a.lost[:5]}")
        if a.duplicated:
            lines.append(f"DUPLICATED {len(a.duplicated)} ids, e.g. {a.duplicated[:5]}")
        if a.uncommitted_hours:
            lines.append(f"UNCOMMITTED hours with raw objects: {a.uncommitted_hours}")
    ledger = "passed" if result.ledger.get("passed") else "FAILED"
    lines.append(f"ledger check no_lost_records: {ledger}; soak {'PASSED' if result.ok else 'FAILED'}")
    return lines
