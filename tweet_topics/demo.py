"""``make demo`` and ``make dev``: the whole pipeline on the embedded stack, and the Dagster UI beside it.

The demo prints its own step lines; Dagster's run logs (console level WARNING) and Spark's JVM logs (ERROR) stay
quiet, and the full logs of every run are in the UI. It records the first seeded day as the partition start in
``.env`` so that ``make dev`` afterwards shows the seeded hours, not months of empty ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tweet_topics import examples
from tweet_topics.local import environment, jvm_archive, stack
from tweet_topics.local.seed_data import seed_bucket, yesterday
from tweet_topics.settings import PARTITION_FORMAT, PROJECT_ROOT, get_settings
from tweet_topics.streamer.options import synthetic_command

DEV_SUPERSEDED = "ignore:Function `dev_command` is superseded"
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # the full log is in the UI


@dataclass(frozen=True)
class DemoOptions:
    """The history to seed (``start`` None: yesterday 00 UTC) and how many tweets to stream live."""

    start: datetime | None = None
    hours: int = 24
    tweets_per_hour: int = 250
    seed: int = 7
    stream_tweets: int = 2000


def run_demo(options: DemoOptions) -> Path:
    """Provision, seed, stream, materialize, fit and report on the local stack; returns the report's path.

    The stack is left running when it already was (e.g. ``make dev`` in another terminal), else stopped.
    """
    settings = get_settings()
    start = options.start or yesterday()
    partitions_start = _use_partitions_start(start)
    already_up = stack.status(settings).running
    status = stack.up(settings)
    os.environ["TWEET_TOPICS_AWS_ENDPOINT_URL"] = status.endpoint or ""
    os.environ.setdefault("SPARK_CONF_DIR", str(environment.spark_conf_dir(settings, "error")))
    started = time.monotonic()
    live = None
    try:
        get_settings.cache_clear()  # the endpoint and partition start above are part of the settings now
        settings = get_settings()
        home = environment.dagster_home(settings)
        import dagster as dg

        from tweet_topics.definitions import defs  # built now: resources and partitions see the settings above
        from tweet_topics.live import demo_step as live_demo

        instance = dg.DagsterInstance.get()
        print(f"local AWS stack: {status.endpoint}; Dagster home: {home}; partitions from {partitions_start}")
        print("1/5 provision infrastructure (S3, logs, IAM, Firehose, SSM, EC2 security group)")
        _run_job(defs, "provision_infra", instance)
        _materialize(defs, instance, "infra_state")
        print(f"2/5 seed {options.hours} h of synthetic history (with injected faults)")
        summary = seed_bucket(settings, start, options.hours, options.tweets_per_hour, options.seed, faults=True)
        print(f"  {summary.tweets:,} tweets in {summary.objects} objects from {start:%Y-%m-%d %H}:00 UTC")
        print(f"3/5 stream {options.stream_tweets} synthetic tweets live through the local Firehose")
        live = live_demo.start(settings)  # scores the live tweets as they land (once step 4 has fitted a model)
        command = synthetic_command(max_tweets=options.stream_tweets, seed=options.seed + 1)
        out = subprocess.run(command, check=True, capture_output=True, text=True, env=os.environ.copy())
        print("  streamer: " + out.stdout.strip().splitlines()[-1])
        last_hour = start + timedelta(hours=options.hours - 1)
        first, last = start.strftime(PARTITION_FORMAT), last_hour.strftime(PARTITION_FORMAT)
        tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
        print(f"4/5 materialize {first} … {last} (one run per range) and fit the topic model")
        _record_raw_hours(instance, start, options.hours)
        _run_job(defs, "hourly_pipeline_job", instance, tags)
        _run_job(defs, "topics_job", instance)
        _run_job(defs, "assignments_job", instance, tags)
        print("5/5 reconcile the delivery ledger and build the report")
        _materialize(defs, instance, "delivery_ledger")
        _run_job(defs, "report_job", instance)
        from tweet_topics.storage.catalog import Storage

        live_demo.finish(Storage.from_settings(settings), expect=options.stream_tweets)
        from tweet_topics.storage.reports import download_latest_report

        page, uri = download_latest_report(Storage.from_settings(settings).reports, settings.local_dir / "reports")
        print(f"\ndone in {time.monotonic() - started:.0f} s. Report: {uri}\n  (downloaded to {page})")
        print("  open it with `python -m tweet_topics report open`; browse runs and assets with `make dev`.")
        print("  from the command line, against these hours (README, 'From the command line'):")
        print("\n".join(f"    {line}" for line in examples.render(first, last).splitlines()))
        print("  The live-streamed tweets sit in the current hour; raw_tweets_sensor picks it up once it closes.")
        if jvm_archive.start_background_build(dict(os.environ)) is not None:  # later runs' Spark starts faster
            print("  (building the Spark driver's class archive in the background, about a minute, once)")
        return page
    finally:
        if live is not None:
            live.stop()
        if not already_up:
            stack.down(settings)


def _use_partitions_start(first_hour: datetime) -> str:
    """Write the first seeded day to ``.env`` and use it (or an earlier exported start) in this process."""
    start = environment.write_partitions_start(first_hour)
    exported = os.environ.get(environment.PARTITIONS_VAR)
    if exported and exported < start:  # validated by the settings already; the format sorts like the time
        start = exported
    os.environ[environment.PARTITIONS_VAR] = start
    return start


def _run_job(defs: Any, name: str, instance: Any, tags: dict[str, str] | None = None) -> None:
    """Execute one job in process; one step line with its run id and duration (failures: see the UI)."""
    started = time.monotonic()
    result = defs.resolve_job_def(name).execute_in_process(instance=instance, tags=tags or {}, run_config=QUIET_RUN)
    if not result.success:
        raise SystemExit(f"job {name} failed (run {result.run_id}); see `make dev` -> Runs")
    print(f"  ✓ {name} (run {result.run_id[:8]}, {time.monotonic() - started:.0f} s)")


def _materialize(defs: Any, instance: Any, *assets: str) -> None:
    """Materialize assets no demo job selects (infra_state, delivery_ledger) through the implicit asset job."""
    import dagster as dg

    started = time.monotonic()
    job = defs.resolve_implicit_global_asset_job_def()
    selection = [dg.AssetKey(a) for a in assets]
    result = job.execute_in_process(instance=instance, asset_selection=selection, run_config=QUIET_RUN)
    if not result.success:
        raise SystemExit(f"materializing {', '.join(assets)} failed (run {result.run_id}); see `make dev` -> Runs")
    print(f"  ✓ {', '.join(assets)} (run {result.run_id[:8]}, {time.monotonic() - started:.0f} s)")


def _record_raw_hours(instance: Any, start: datetime, hours: int) -> None:
    """raw_tweets is external (Firehose writes it): record the seeded hours as raw_tweets_sensor does for real
    ones, so the UI shows them as materialized instead of 0 %."""
    import dagster as dg

    for i in range(hours):
        key = (start + timedelta(hours=i)).strftime(PARTITION_FORMAT)
        instance.report_runless_asset_event(dg.AssetMaterialization("raw_tweets", partition=key))
    print(f"  ✓ raw_tweets: {hours} seeded hours recorded")


def run_dev(port: int) -> int:
    """``dagster dev`` on 127.0.0.1 with the local stack, from the project root so it loads ``.env``;
    Ctrl+C (or SIGTERM) stops both."""
    settings = get_settings()
    status = stack.up(settings)
    environment.dagster_home(settings)
    env = {
        **os.environ,
        "TWEET_TOPICS_AWS_ENDPOINT_URL": status.endpoint or "",
        "SPARK_CONF_DIR": os.environ.get("SPARK_CONF_DIR") or str(environment.spark_conf_dir(settings, "warn")),
        # `dagster dev` says it is superseded by `dg dev`; that lives in dagster-dg-cli, a dev extra, so we keep
        # the command every install has and drop just that notice.
        "PYTHONWARNINGS": ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), DEV_SUPERSEDED])),
    }
    start = os.environ.get(environment.PARTITIONS_VAR) or environment.read_partitions_start() or "the default"
    print(f"local AWS stack: {status.endpoint}; UI on http://127.0.0.1:{port}; partitions from {start}")

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl+C or `kill`: also when started from a non-interactive shell, which ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env=env,
        start_new_session=True,
    )
    archive = jvm_archive.start_background_build(env)  # this conf dir's class archive: later runs start faster
    try:
        return proc.wait()
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        return 0
    finally:
        if archive is not None and archive.poll() is None:
            archive.terminate()
            archive.wait(timeout=30)
        stack.down(settings)
        print("local AWS stack stopped (S3 saved under .local/snapshot)")
