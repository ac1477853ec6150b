"""``python -m tweet_topics …``: the local stack, seeding history, the streamer, the demo and reports."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta

from tweet_topics.settings import SettingsError, get_settings


def _hour(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d-%H").replace(tzinfo=UTC)


def cmd_local(args: argparse.Namespace) -> int:
    from tweet_topics.local import stack

    settings = get_settings()
    if args.action == "up":
        st = stack.up(settings, port=args.port)
        print(f"local AWS stack up: {st.endpoint} (pid {st.pid}); state in {settings.local_dir}")
    elif args.action == "down":
        stack.down(settings, save=not args.no_save)
        print("local AWS stack down" + ("" if args.no_save else f"; S3 saved under {settings.local_dir}/snapshot"))
    else:
        st = stack.status(settings)
        print(json.dumps({"running": st.running, "endpoint": st.endpoint, "pid": st.pid}))
        return 0 if st.running else 3
    return 0


DEMO_FAULTS = {"malformed_json": 1, "duplicates": 2, "legacy_tab_lines": 2}


def _seed(args: argparse.Namespace, faults: bool):
    """Seed ``args.hours`` of synthetic history from ``args.start`` (default: yesterday 00 UTC) into the bucket."""
    from tweet_topics.lib.synthetic import FaultSpec
    from tweet_topics.local.seed_data import seed_hours
    from tweet_topics.storage.clients import ensure_bucket, make_client

    settings = get_settings()
    s3 = make_client(settings, "s3")
    ensure_bucket(s3, settings.bucket, settings.region)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    start = _hour(args.start) if args.start else yesterday
    summary = seed_hours(
        s3,
        settings.bucket,
        settings.raw_prefix,
        settings.firehose_stream,
        start,
        args.hours,
        tweets_per_hour=args.tweets_per_hour,
        seed=args.seed,
        faults=FaultSpec(**DEMO_FAULTS) if faults else None,
    )
    return start, summary


def cmd_seed(args: argparse.Namespace) -> int:
    settings = get_settings()
    start, summary = _seed(args, faults=args.faults)
    print(
        f"seeded {summary.tweets} tweets in {summary.objects} objects over {summary.hours} hours from "
        f"{start:%Y-%m-%d %H}:00 UTC into s3://{settings.bucket}/{settings.raw_prefix}"
    )
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    """Run the streamer in the foreground (the EC2 systemd unit and the local host run exactly this)."""
    import logging
    import os
    import threading
    from pathlib import Path

    from tweet_topics.config import TRACK_TERMS_FILE
    from tweet_topics.lib.filtering import read_term_file
    from tweet_topics.storage.clients import make_client
    from tweet_topics.streamer import secrets, sources
    from tweet_topics.streamer.producer import Counters, FirehoseProducer
    from tweet_topics.streamer.runner import FileSink, FirehoseSink, Heartbeat, run
    from tweet_topics.streamer.spool import Spool

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    stop = threading.Event()
    counters = Counters()
    token = ""
    secrets.install_redaction([os.environ.get(secrets.BEARER_ENV, "")])  # whatever the source, never log it
    local_dir = Path(args.state_dir or settings.local_dir / "streamer")
    local_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = None
    if args.source == "synthetic":
        from tweet_topics.streamer.runner import Checkpoint

        saved = Checkpoint.load(local_dir / "checkpoint.json") if args.resume else None
        if saved and saved.get("seed") != args.seed:
            saved = None
        origin = datetime.fromisoformat(saved["origin"]) if saved else datetime.now(UTC)
        skip = saved["delivered"] if saved else 0
        source = sources.synthetic_source(
            args.max_tweets or 10**12, rate=args.rate, seed=args.seed, skip=skip, origin=origin
        )
        checkpoint = Checkpoint(local_dir / "checkpoint.json", skip, {"seed": args.seed, "origin": origin.isoformat()})
    elif args.source == "replay":
        source = sources.replay_source(Path(args.file), speed=args.speed)
    else:
        token = secrets.bearer_token(make_client(settings, "ssm") if settings.env == "prod" else None)
        secrets.install_redaction([token])
        rules = sources.build_rules(
            read_term_file(TRACK_TERMS_FILE), suffix="lang:en -is:retweet" if args.no_retweets else "lang:en"
        )
        source = sources.x_source(token, rules, stop)
    heartbeat = None
    if args.sink == "firehose":
        spool = Spool(local_dir / "spool")
        producer = FirehoseProducer(make_client(settings, "firehose"), settings.firehose_stream, spool, counters)
        if spool.segments():
            logging.getLogger("tweet_topics.streamer").info("draining %d spooled records first", len(spool))
            producer.drain_spool()
        sink = FirehoseSink(producer)
        heartbeat = Heartbeat(
            make_client(settings, "s3"),
            settings.bucket,
            f"{settings.streamer_prefix}heartbeat.json",
            counters,
            interval=args.heartbeat_interval,
        )
    else:
        sink = FileSink(Path(args.out), counters)
    run(
        source,
        sink,
        counters,
        local_dir / "rejects.ndjson",
        heartbeat=heartbeat,
        max_tweets=args.max_tweets,
        duration=args.duration,
        stop=stop,
        checkpoint=checkpoint,
    )
    summary = {k: v for k, v in vars(counters).items() if k != "extra"}
    print(json.dumps(summary))
    return 0


def _instance():
    import os

    import dagster as dg

    home = os.environ.setdefault("DAGSTER_HOME", str(get_settings().local_dir / "dagster_home"))
    from pathlib import Path

    Path(home).mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


def _run_job(defs, name: str, instance, tags: dict[str, str] | None = None, run_config: dict | None = None) -> None:
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # the full log is in the UI
    result = defs.resolve_job_def(name).execute_in_process(
        instance=instance, tags=tags or {}, run_config={**quiet, **(run_config or {})}
    )
    if not result.success:
        raise SystemExit(f"job {name} failed (run {result.run_id}); see `make dev` -> Runs")
    print(f"  ✓ {name} (run {result.run_id[:8]})")


def cmd_demo(args: argparse.Namespace) -> int:
    """The whole pipeline on the embedded stack: provision, seed a day, stream, materialize, report."""
    import os
    import subprocess
    import time

    from tweet_topics.local import stack

    settings = get_settings()
    already_up = stack.status(settings).running  # e.g. `make dev` in another terminal: leave it running
    status = stack.up(settings)
    os.environ["TWEET_TOPICS_AWS_ENDPOINT_URL"] = status.endpoint or ""
    started = time.monotonic()
    try:
        get_settings.cache_clear()
        from tweet_topics.definitions import defs  # built now: resources see the stack's endpoint

        instance = _instance()
        print(f"local AWS stack: {status.endpoint}; Dagster home: {os.environ['DAGSTER_HOME']}")
        print("1/5 provision infrastructure (S3, logs, IAM, Firehose, SSM, EC2 security group)")
        _run_job(defs, "provision_infra", instance)
        print(f"2/5 seed {args.hours} h of synthetic history (with injected faults)")
        start, summary = _seed(args, faults=True)
        print(f"  {summary.tweets:,} tweets in {summary.objects} objects from {start:%Y-%m-%d %H}:00 UTC")
        print(f"3/5 stream {args.stream_tweets} synthetic tweets live through the local Firehose")
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "tweet_topics",
                "stream",
                "synthetic",
                "--max-tweets",
                str(args.stream_tweets),
                "--seed",
                str(args.seed + 1),
            ],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
        print("  streamer: " + out.stdout.strip().splitlines()[-1])
        first, last = f"{start:%Y-%m-%d-%H}:00", f"{start + timedelta(hours=args.hours - 1):%Y-%m-%d-%H}:00"
        tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
        print(f"4/5 materialize {first} … {last} (one run per range) and fit the topic model")
        _run_job(defs, "hourly_pipeline_job", instance, tags)
        _run_job(defs, "topics_job", instance)
        _run_job(defs, "assignments_job", instance, tags)
        print("5/5 build the report")
        _run_job(defs, "report_job", instance)
        latest = json.loads((settings.local_dir / "reports" / "latest.json").read_text())
        print(f"\ndone in {time.monotonic() - started:.0f} s. Report: {latest['path']}\n  (also {latest['s3']})")
        print("  open it with `python -m tweet_topics report open`; browse runs and assets with `make dev`.")
        print("  The live-streamed tweets sit in the current hour; raw_tweets_sensor picks it up once it closes.")
    finally:
        if not already_up:
            stack.down(settings)
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    """`dagster dev` on 127.0.0.1 with the local stack; Ctrl+C stops both."""
    import os
    import signal
    import subprocess

    from tweet_topics.local import stack

    settings = get_settings()
    status = stack.up(settings)
    env = {**os.environ, "TWEET_TOPICS_AWS_ENDPOINT_URL": status.endpoint or ""}
    env.setdefault("DAGSTER_HOME", str(settings.local_dir / "dagster_home"))
    os.makedirs(env["DAGSTER_HOME"], exist_ok=True)
    print(f"local AWS stack: {status.endpoint}; UI on http://127.0.0.1:{args.port}")

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl+C or `kill`: also when started from a non-interactive shell, which ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    proc = subprocess.Popen(
        ["dagster", "dev", "-h", "127.0.0.1", "-p", str(args.port), "-w", "workspace.yaml"],
        env=env,
        start_new_session=True,
    )
    try:
        return proc.wait()
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        return 0
    finally:
        stack.down(settings)
        print("local AWS stack stopped (S3 saved under .local/snapshot)")


def cmd_report(args: argparse.Namespace) -> int:
    import webbrowser

    latest = get_settings().local_dir / "reports" / "latest.json"
    if not latest.exists():
        print("no report yet: run `make demo` or materialize topic_report", file=sys.stderr)
        return 1
    path = json.loads(latest.read_text())["path"]
    print(path)
    if not args.print_only:
        webbrowser.open(f"file://{path}")
    return 0


def _history_args(parser: argparse.ArgumentParser, tweets_per_hour: int) -> None:
    """The options ``_seed`` reads, shared by ``seed`` and ``demo``."""
    parser.add_argument("--start", help="first hour, YYYY-MM-DD-HH (default: yesterday 00 UTC)")
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--tweets-per-hour", type=int, default=tweets_per_hour)
    parser.add_argument("--seed", type=int, default=7)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tweet_topics")
    sub = parser.add_subparsers(dest="command", required=True)
    local = sub.add_parser("local", help="the embedded AWS stack (moto on 127.0.0.1)")
    local.add_argument("action", choices=["up", "down", "status"])
    local.add_argument("--port", type=int, default=None)
    local.add_argument("--no-save", action="store_true", help="down without snapshotting S3")
    local.set_defaults(func=cmd_local)
    seed = sub.add_parser("seed", help="write synthetic history into S3 in the Firehose key layout")
    _history_args(seed, tweets_per_hour=200)
    seed.add_argument("--faults", action="store_true", help="inject malformed, duplicate and legacy lines")
    seed.set_defaults(func=cmd_seed)
    stream = sub.add_parser("stream", help="stream tweets into Firehose (or a file)")
    stream.add_argument("source", choices=["synthetic", "replay", "x"])
    stream.add_argument("file", nargs="?", help="NDJSON file for the replay source")
    stream.add_argument("--sink", choices=["firehose", "file"], default="firehose")
    stream.add_argument("--out", default="stream-check.ndjson", help="file sink path (.ndjson or .csv)")
    stream.add_argument("--rate", type=float, default=None, help="synthetic tweets per second (default: unpaced)")
    stream.add_argument("--speed", type=float, default=None, help="replay at N x the original pace")
    stream.add_argument("--seed", type=int, default=7)
    stream.add_argument("--max-tweets", type=int, default=None)
    stream.add_argument("--duration", type=float, default=None, help="seconds")
    stream.add_argument("--no-retweets", action="store_true", help="add -is:retweet to the X rules")
    stream.add_argument(
        "--resume", action="store_true", help="synthetic: continue the sequence after the last durably delivered tweet"
    )
    stream.add_argument("--heartbeat-interval", type=float, default=10.0)
    stream.add_argument("--state-dir", default=None, help="spool and reject file (default .local/streamer)")
    stream.set_defaults(func=cmd_stream)
    demo = sub.add_parser("demo", help="run the whole pipeline on the embedded local stack")
    _history_args(demo, tweets_per_hour=250)
    demo.add_argument("--stream-tweets", type=int, default=2000)
    demo.set_defaults(func=cmd_demo)
    dev = sub.add_parser("dev", help="dagster dev on 127.0.0.1 with the local stack")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)
    report = sub.add_parser("report", help="open the latest topic report")
    report.add_argument("action", choices=["open"])
    report.add_argument("--print-only", action="store_true", help="print the path, do not open a browser")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    import os

    args = build_parser().parse_args(argv)
    if os.environ.get("TWEET_TOPICS_ENV", "local") == "local":
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # the embedded stack stays on loopback
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
