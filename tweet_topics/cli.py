"""``python -m tweet_topics …``: the local stack, seeding history, the streamer, the demo and reports."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta

from tweet_topics.settings import SettingsError, get_settings


def _hour(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d-%H").replace(tzinfo=UTC)


def ensure_bucket(s3, bucket: str, region: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        kwargs = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)


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


def cmd_seed(args: argparse.Namespace) -> int:
    from tweet_topics.aws import make_client
    from tweet_topics.lib.synthetic import FaultSpec
    from tweet_topics.local.seed_data import seed_hours

    settings = get_settings()
    s3 = make_client(settings, "s3")
    ensure_bucket(s3, settings.bucket, settings.region)
    start = (
        _hour(args.start)
        if args.start
        else (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    faults = FaultSpec(malformed_json=1, duplicates=2, legacy_tab_lines=2) if args.faults else None
    summary = seed_hours(
        s3,
        settings.bucket,
        settings.raw_prefix,
        settings.firehose_stream,
        start,
        args.hours,
        tweets_per_hour=args.tweets_per_hour,
        seed=args.seed,
        faults=faults,
    )
    print(
        f"seeded {summary.tweets} tweets in {summary.objects} objects over {summary.hours} hours from "
        f"{start:%Y-%m-%d %H}:00 UTC into s3://{settings.bucket}/{settings.raw_prefix}"
    )
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    """Run the streamer in the foreground (the EC2 systemd unit and the local host run exactly this)."""
    import logging
    import threading
    from pathlib import Path

    from tweet_topics.aws import make_client
    from tweet_topics.config import TRACK_TERMS_FILE
    from tweet_topics.lib.filtering import read_term_file
    from tweet_topics.streamer import secrets, sources
    from tweet_topics.streamer.producer import Counters, FirehoseProducer
    from tweet_topics.streamer.runner import FileSink, FirehoseSink, Heartbeat, run
    from tweet_topics.streamer.spool import Spool

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    stop = threading.Event()
    counters = Counters()
    token = ""
    if args.source == "synthetic":
        source = sources.synthetic_source(args.max_tweets or 10**12, rate=args.rate, seed=args.seed)
    elif args.source == "replay":
        source = sources.replay_source(Path(args.file), speed=args.speed)
    else:
        token = secrets.bearer_token(make_client(settings, "ssm") if settings.env == "prod" else None)
        secrets.install_redaction([token])
        rules = sources.build_rules(
            read_term_file(TRACK_TERMS_FILE), suffix="lang:en -is:retweet" if args.no_retweets else "lang:en"
        )
        source = sources.x_source(token, rules, stop)
    local_dir = Path(args.state_dir or settings.local_dir / "streamer")
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
    )
    summary = {k: v for k, v in vars(counters).items() if k != "extra"}
    print(json.dumps(summary))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tweet_topics")
    sub = parser.add_subparsers(dest="command", required=True)
    local = sub.add_parser("local", help="the embedded AWS stack (moto on 127.0.0.1)")
    local.add_argument("action", choices=["up", "down", "status"])
    local.add_argument("--port", type=int, default=None)
    local.add_argument("--no-save", action="store_true", help="down without snapshotting S3")
    local.set_defaults(func=cmd_local)
    seed = sub.add_parser("seed", help="write synthetic history into S3 in the Firehose key layout")
    seed.add_argument("--start", help="first hour, YYYY-MM-DD-HH (default: yesterday 00 UTC)")
    seed.add_argument("--hours", type=int, default=24)
    seed.add_argument("--tweets-per-hour", type=int, default=200)
    seed.add_argument("--seed", type=int, default=7)
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
    stream.add_argument("--heartbeat-interval", type=float, default=10.0)
    stream.add_argument("--state-dir", default=None, help="spool and reject file (default .local/streamer)")
    stream.set_defaults(func=cmd_stream)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
