"""Soak: 24 simulated hours of a past day under injected faults on the project's local stack, proven by the ledger.

Starts the local stack (``tweet_topics.local.stack``, like the demo) in a private directory and bucket, runs the
day (``tweet_topics_tests/soak``: synthetic Firehose hours, the real streamer process, sensor ticks at simulated
times, real runs, faults drawn from ``--seed``), then materializes the delivery ledger, counts every committed
hour independently and prints the fault table and the figures. Exit 1 unless 0 lost, 0 duplicated, every check
green. With ``--report`` (``make soak``) the topic model is fitted and the report built afterwards.
Usage: python benchmarks/soak.py [--seed 26] [--hours 24] [--tweets-per-hour 2500] [--report]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - private stack dir and bucket, repository on sys.path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--hours", type=int, default=24)
    # The streamer's hour holds ~1,400 records of its first two (cut-off) runs plus --streamer-tweets: about one
    # generator hour, so the volume check judges a day of ordinary hours, not a planted flood.
    parser.add_argument("--tweets-per-hour", type=int, default=2500)
    parser.add_argument("--streamer-tweets", type=int, default=1100)
    parser.add_argument("--report", action="store_true", help="also fit the topic model and build the report")
    args = parser.parse_args()
    os.environ.setdefault("TWEET_TOPICS_PARTITIONS_START", "2026-01-01-00:00")
    from tweet_topics.local import stack
    from tweet_topics.settings import get_settings

    settings = get_settings()
    status = stack.up(settings)
    os.environ["TWEET_TOPICS_AWS_ENDPOINT_URL"] = status.endpoint or ""
    try:
        get_settings.cache_clear()
        settings = get_settings()
        from tweet_topics.defs.resources import build_resources
        from tweet_topics.storage.clients import ensure_bucket
        from tweet_topics_tests.soak.day import SoakConfig
        from tweet_topics_tests.soak.engine import report_lines, run_soak

        resources = build_resources(settings)
        ensure_bucket(resources["storage"].s3.aws.client("s3"), settings.bucket, settings.region)
        config = SoakConfig(
            seed=args.seed,
            hours=args.hours,
            tweets_per_hour=args.tweets_per_hour,
            streamer_tweets=args.streamer_tweets,
            report=args.report,
        )
        workdir = Path(tempfile.mkdtemp(prefix="tweet-topics-soak-"))
        result = run_soak(resources, config, settings.firehose_stream, workdir)
        print("\n" + "\n".join(report_lines(result)), flush=True)
        built = True
        if args.report:  # built whatever the verdict: the report must cope with the day's hours as they are
            built, line = build_report(config)
            print(f"report: {line}")
        return 0 if result.ok and built else 1
    finally:
        stack.down(settings, save=False)


def build_report(config) -> tuple[bool, str]:
    """topics_job, assignments_job over the day and report_job, as the demo runs them: (built, what happened)."""
    import dagster as dg

    from tweet_topics.definitions import defs
    from tweet_topics.settings import PARTITION_FORMAT

    started = time.monotonic()
    first = config.day.strftime(PARTITION_FORMAT)
    last = (config.day.replace(hour=config.hours - 1)).strftime(PARTITION_FORMAT)
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    instance = dg.DagsterInstance.ephemeral()
    for name, job_tags in (("topics_job", {}), ("assignments_job", tags), ("report_job", {})):
        job = defs.resolve_job_def(name)
        result = job.execute_in_process(instance=instance, tags=job_tags, run_config=quiet, raise_on_error=False)
        if not result.success:
            errors = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
            return False, f"{name} failed: {(errors or ['see the run'])[-1].strip()}"
        print(f"  {name} done ({time.monotonic() - started:.0f} s)", flush=True)
    pages = result.asset_materializations_for_node("topic_report")
    meta = {k: getattr(v, "value", v) for k, v in pages[0].metadata.items()} if pages else {}
    where = meta.get("s3") or meta.get("path") or f"run {result.run_id}"
    return True, f"built in {time.monotonic() - started:.0f} s: {where}"


if __name__ == "__main__":
    raise SystemExit(main())
