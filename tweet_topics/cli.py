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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
