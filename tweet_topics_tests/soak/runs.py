"""Sensor ticks at simulated times and the runs they request, launched for real.

A simulated tick is the raw sensor's own plan (``lib/hour_tracker``: listing, closed hours, fingerprints, the
cursor) called with the simulated ``now``; the sensor function reads the wall clock, so the day's last ticks
evaluate the real ``raw_tweets_sensor`` with ``build_sensor_context`` at the real now, carrying the simulated
cursor on. Requested runs materialize in process (one run per request, like the job the sensor targets); the
backfills and the run killed mid-commit run in their own processes (``run_hours``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg

from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
from tweet_topics.defs.ingest.sensors import FIREHOSE_BUFFER, GRACE, LOOKBACK, raw_tweets_sensor
from tweet_topics.lib.hour_tracker import listing_start, plan, summarize, within_partitions
from tweet_topics.partitions import HOURLY
from tweet_topics.storage.hourly import HourNotCommitted
from tweet_topics.storage.keys import partition_key

ROOT = Path(__file__).resolve().parents[2]
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
SUBPROCESS_DEADLINE = 240.0


@dataclass
class RunLog:
    """Every run the soak launched and every check evaluation those runs reported."""

    runs: int = 0
    failed: list[str] = field(default_factory=list)  # "<partition(s)>: <why>"
    checks: Counter[str] = field(default_factory=Counter)  # "<check> passed|failed" -> evaluations
    by_trigger: Counter[str] = field(default_factory=Counter)
    latest: dict[tuple[str, str], bool] = field(default_factory=dict)  # (check, partition) -> last evaluation

    @property
    def red_at_the_end(self) -> list[str]:
        """Checks whose latest evaluation for a partition (in-process runs) failed."""
        return sorted(f"{check} {partition}" for (check, partition), ok in self.latest.items() if not ok)


class Launcher:
    def __init__(self, resources: dict, instance: dg.DagsterInstance, workdir: Path, log: Callable) -> None:
        self.resources, self.instance, self.workdir, self.log = resources, instance, workdir, log
        self.storage = resources["storage"]
        self.cursor: str | None = None
        self.record = RunLog()

    # -- the sensor ------------------------------------------------------------------------------------------
    def simulated_tick(self, now: datetime) -> list[str]:
        """The raw sensor's decision at the simulated ``now``: partitions to run, cursor advanced."""
        raw_prefix = self.storage.raw_prefix
        listing = self.storage.s3.list(raw_prefix, listing_start(raw_prefix, now, LOOKBACK))
        hours = summarize(((o.key, o.size, o.etag) for o in listing), raw_prefix)
        due, self.cursor = plan(hours, self.cursor, now, FIREHOSE_BUFFER, GRACE, LOOKBACK, committed=self._committed)
        due, _ = within_partitions(due, HOURLY.start)
        return [partition_key(r.summary.hour) for r in due]

    def real_tick(self) -> list[str]:
        """``raw_tweets_sensor`` itself, evaluated now with the cursor the simulated ticks left."""
        with dg.build_sensor_context(instance=self.instance, cursor=self.cursor, resources=self.resources) as context:
            result = raw_tweets_sensor(context)
        self.cursor = result.cursor
        return [r.partition_key for r in result.run_requests]

    def _committed(self, hour: datetime) -> tuple[str, str] | None:
        try:
            commit = self.storage.combined.read_commit(hour)
        except HourNotCommitted:
            return None
        return commit["committed_at"], commit.get("inputs", {}).get("raw_fingerprint", "")

    # -- runs ------------------------------------------------------------------------------------------------
    def run(self, partition: str, trigger: str) -> bool:
        """One requested run of the hourly job's assets for ``partition``, in process."""
        result = dg.materialize(
            [RAW_TWEETS, combined_tweets, filtered_tweets],
            selection=[combined_tweets, filtered_tweets],
            partition_key=partition,
            resources=self.resources,
            instance=self.instance,
            tags={"tweet_topics/trigger": trigger},
            run_config=QUIET,
            raise_on_error=False,
        )
        self.record.runs += 1
        self.record.by_trigger[trigger] += 1
        for evaluation in result.get_asset_check_evaluations():
            self.record.checks[f"{evaluation.check_name} {'passed' if evaluation.passed else 'failed'}"] += 1
            self.record.latest[(evaluation.check_name, partition)] = evaluation.passed
        if not result.success:
            errors = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
            self.record.failed.append(f"{partition} ({trigger}): {(errors or ['failed'])[-1].strip()[:300]}")
        return result.success

    def _subprocess(self, args: list[str], name: str) -> subprocess.Popen:
        out = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - the child owns it until it exits
        return subprocess.Popen(
            [sys.executable, "-m", "tweet_topics_tests.soak.run_hours", *args],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def _outcome(self, proc: subprocess.Popen, name: str, what: str) -> int:
        try:
            code = proc.wait(timeout=SUBPROCESS_DEADLINE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        self.record.runs += 1
        self.record.by_trigger[what] += 1
        if code == -signal.SIGKILL:
            self.record.failed.append(f"{name} ({what}): SIGKILLed, as scheduled")
        elif code != 0:
            tail = (self.workdir / f"{name}.log").read_text(errors="replace").strip().splitlines()[-1:]
            self.record.failed.append(f"{name} ({what}): exit {code} {' '.join(tail)[:300]}")
        return code

    def killed_mid_commit(self, partition: str) -> str:
        """Run ``partition`` in a subprocess and SIGKILL it between its data files and its commit object."""
        marker = self.workdir / f"hang-{partition.replace(':', '')}"
        proc = self._subprocess([partition, partition, "--hang-before-commit", partition, str(marker)], "killed")
        deadline = time.monotonic() + SUBPROCESS_DEADLINE
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        reached = marker.exists()
        proc.send_signal(signal.SIGKILL)
        code = self._outcome(proc, "killed", "killed mid-commit")
        return (
            f"{partition}: SIGKILL {'between files and commit' if reached else 'before the commit step'} (exit {code})"
        )

    def overlapping_backfills(self, ranges: tuple[tuple[datetime, datetime], ...]) -> list[int]:
        """Both backfills started together, each one run over its range (the single-run backfill policy)."""
        procs = [
            (self._subprocess([partition_key(a), partition_key(b)], f"backfill{i}"), f"backfill{i}")
            for i, (a, b) in enumerate(ranges, start=1)
        ]
        return [self._outcome(proc, name, "overlapping backfill") for proc, name in procs]
