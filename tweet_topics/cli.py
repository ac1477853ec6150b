"""``python -m tweet_topics …``: argument parsing, then one call per command.

Every bad input ends in one line on stderr and exit code 2, before anything is created: values out of range,
a missing argument, a bad setting, the local stack not running, no AWS credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from tweet_topics.archive.args import add_import_arguments
from tweet_topics.argtypes import COUNT, PORT, Parser, hour
from tweet_topics.preflight import ConfigError, aws_config_problem
from tweet_topics.settings import SettingsError, get_settings
from tweet_topics.storage.clients import LocalStackNotRunning
from tweet_topics.streamer.main import add_stream_arguments


def _check_aws() -> None:
    from tweet_topics.preflight import check_aws

    check_aws(get_settings())


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
    from tweet_topics.local.seed_data import seed_bucket, yesterday

    _check_aws()
    settings, start = get_settings(), args.start or yesterday()
    summary = seed_bucket(settings, start, args.hours, args.tweets_per_hour, args.seed, faults=args.faults)
    print(
        f"seeded {summary.tweets} tweets in {summary.objects} objects over {summary.hours} hours from "
        f"{start:%Y-%m-%d %H}:00 UTC into s3://{settings.bucket}/{settings.raw_prefix}"
    )
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    """The streamer in the foreground (the EC2 systemd unit and the local host run exactly this)."""
    from tweet_topics.streamer.app import run_stream
    from tweet_topics.streamer.options import StreamOptions

    values = {k: getattr(args, k) for k in StreamOptions.__dataclass_fields__}
    try:
        options = StreamOptions(**values)
    except ValueError as exc:
        args.parser.error(str(exc))
    if options.file is not None and not options.file.is_file():
        args.parser.error(f"FILE {options.file}: no such file")
    if options.sink == "file":
        _check_out(args.parser, options.out)
    if options.needs_aws:
        _check_aws()
    if options.source == "x":
        _check_token(get_settings().env)
    print(json.dumps(asdict(run_stream(options, get_settings()))))
    return 0


def cmd_live(args: argparse.Namespace) -> int:
    """The live topic query in the foreground (the systemd unit and the local live host run exactly this)."""
    from tweet_topics.live.runner import LiveOptions, run_live

    if args.trigger_seconds is not None and args.trigger_seconds > 10:
        args.parser.error("--trigger-seconds must be at most 10 (live topics within two minutes)")
    _check_aws()
    options = LiveOptions(
        trigger_seconds=args.trigger_seconds or get_settings().live_trigger_seconds,
        max_seconds=args.max_seconds,
        start_back_minutes=args.start_back_minutes,
        checkpoint=args.checkpoint,
    )
    return run_live(get_settings(), options)


def _check_token(env: str) -> None:
    """``stream x`` needs the bearer token: in the environment, or (prod) the SSM parameter naming it."""
    from tweet_topics.streamer.secrets import BEARER_ENV, BEARER_PARAMETER_ENV

    if os.environ.get(BEARER_ENV) or (env == "prod" and os.environ.get(BEARER_PARAMETER_ENV)):
        return
    where = f"{BEARER_ENV} (or, with TWEET_TOPICS_ENV=prod, {BEARER_PARAMETER_ENV})"
    raise ConfigError(f"stream x needs the X API bearer token: set {where}")


def _check_out(parser: argparse.ArgumentParser, out: Path) -> None:
    """The file sink's ``--out``: a .ndjson or .csv file in an existing directory (nothing is created for it)."""
    from tweet_topics.streamer.filesink import SUFFIXES

    if out.suffix not in SUFFIXES:
        parser.error(f"--out {out}: the file sink writes {' or '.join(SUFFIXES)}, not {out.suffix or 'no extension'!r}")
    if not out.parent.is_dir():
        parser.error(f"--out {out}: directory {out.parent} does not exist")
    if out.is_dir():
        parser.error(f"--out {out}: is a directory")


def cmd_demo(args: argparse.Namespace) -> int:
    from tweet_topics.demo import DemoOptions, run_demo

    run_demo(DemoOptions(args.start, args.hours, args.tweets_per_hour, args.seed, args.stream_tweets))
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from tweet_topics.demo import run_dev

    return run_dev(args.port)


def cmd_report(args: argparse.Namespace) -> int:
    import webbrowser

    from tweet_topics.storage.catalog import Storage
    from tweet_topics.storage.reports import NoReport, download_latest_report

    settings = get_settings()
    try:  # the bucket is the system of record: download its latest page, then open the copy
        path, _ = download_latest_report(Storage.from_settings(settings).reports, settings.local_dir / "reports")
    except NoReport as exc:
        print(exc, file=sys.stderr)
        return 1
    print(path)
    if not args.print_only:
        webbrowser.open(f"file://{path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from tweet_topics.archive.command import cmd_import as run

    return run(args)


def _history_args(parser: argparse.ArgumentParser, tweets_per_hour: int) -> None:
    """The history options, shared by ``seed`` and ``demo``."""
    parser.add_argument("--start", type=hour, help="first hour, YYYY-MM-DD-HH (default: yesterday 00 UTC)")
    parser.add_argument("--hours", type=COUNT, default=24)
    parser.add_argument("--tweets-per-hour", type=COUNT, default=tweets_per_hour)
    parser.add_argument("--seed", type=int, default=7)


def build_parser() -> Parser:
    parser = Parser(prog="python -m tweet_topics")
    sub = parser.add_subparsers(dest="command", required=True)
    local = sub.add_parser("local", help="the embedded AWS stack (moto on 127.0.0.1)")
    local.add_argument("action", choices=["up", "down", "status"])
    local.add_argument("--port", type=PORT, default=None)
    local.add_argument("--no-save", action="store_true", help="down without snapshotting S3")
    local.set_defaults(func=cmd_local)
    seed = sub.add_parser("seed", help="write synthetic history into S3 in the Firehose key layout")
    _history_args(seed, tweets_per_hour=200)
    seed.add_argument("--faults", action="store_true", help="inject malformed, duplicate and legacy lines")
    seed.set_defaults(func=cmd_seed)
    stream = sub.add_parser("stream", help="stream tweets into Firehose (or a file)")
    add_stream_arguments(stream)
    stream.set_defaults(func=cmd_stream, parser=stream)
    live = sub.add_parser("live", help="the live topic query (Spark Structured Streaming) in the foreground")
    live.add_argument("--trigger-seconds", type=COUNT, default=None, help="default: TWEET_TOPICS_LIVE_TRIGGER_SECONDS")
    live.add_argument("--max-seconds", type=COUNT, default=None, help="stop after this long (default: until SIGTERM)")
    live.add_argument("--start-back-minutes", type=COUNT, default=60, help="a new checkpoint starts this far back")
    live.add_argument("--checkpoint", default=None, help="default: TWEET_TOPICS_LIVE_CHECKPOINT or .local/live/")
    live.set_defaults(func=cmd_live, parser=live)
    demo = sub.add_parser("demo", help="run the whole pipeline on the embedded local stack")
    _history_args(demo, tweets_per_hour=250)
    demo.add_argument("--stream-tweets", type=COUNT, default=2000)
    demo.set_defaults(func=cmd_demo)
    dev = sub.add_parser("dev", help="dagster dev on 127.0.0.1 with the local stack")
    dev.add_argument("--port", type=PORT, default=3000)
    dev.set_defaults(func=cmd_dev)
    archive = sub.add_parser("import", help="import archives into the raw hours of their tweets' created_at")
    add_import_arguments(archive)
    archive.set_defaults(func=cmd_import)
    report = sub.add_parser("report", help="open the latest topic report")
    report.add_argument("action", choices=["open"])
    report.add_argument("--print-only", action="store_true", help="print the path, do not open a browser")
    report.set_defaults(func=cmd_report)
    return parser


def _fail(message: str) -> int:
    print(f"python -m tweet_topics: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        # argparse would report the missing command, not the option it did not know
        parser.error(f"unrecognized option {argv[0]}: the command comes first (python -m tweet_topics COMMAND …)")
    args = parser.parse_args(argv)
    if os.environ.get("TWEET_TOPICS_ENV", "local") == "local":
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # the embedded stack stays on loopback
    try:
        get_settings()  # a bad TWEET_TOPICS_* variable fails here, before any command starts
        return int(args.func(args) or 0)
    except SettingsError as exc:
        return _fail(" ".join(line.strip() for line in str(exc).splitlines()))
    except LocalStackNotRunning as exc:
        return _fail(str(exc))
    except ConfigError as exc:
        return _fail(str(exc))
    except (BotoCoreError, ClientError) as exc:
        problem = aws_config_problem(exc)
        if problem is None:
            raise
        return _fail(problem)
