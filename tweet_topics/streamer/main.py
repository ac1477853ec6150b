"""The streamer's entry point: ``python -m tweet_topics stream SOURCE …`` parses into ``StreamOptions`` and calls
``run_stream``. The EC2 systemd unit (``stream x --sink firehose``), the local streamer host and ``make demo`` all
run this one path; ``synthetic_command`` is the one place that writes the local synthetic streamer's command line.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tweet_topics.argtypes import COUNT, POSITIVE
from tweet_topics.settings import Settings

if TYPE_CHECKING:  # imported in run_stream: parsing a command line (or building one) stays light
    from tweet_topics.streamer.producer import Counters
    from tweet_topics.streamer.runner import Checkpoint, Sink
    from tweet_topics.streamer.sources import Item

log = logging.getLogger("tweet_topics.streamer")
UNBOUNDED = 10**12  # the synthetic source's length when no --max-tweets is given: "until stopped"


@dataclass(frozen=True)
class StreamOptions:
    """What ``stream`` accepts; ``None`` means unset (unbounded, unpaced, the default state dir)."""

    source: Literal["synthetic", "replay", "x"]
    file: Path | None = None
    sink: Literal["firehose", "file"] = "firehose"
    out: Path = Path("stream-check.ndjson")
    rate: float | None = None
    speed: float | None = None
    seed: int = 7
    max_tweets: int | None = None
    duration: float | None = None
    no_retweets: bool = False
    resume: bool = False
    heartbeat_interval: float = 10.0
    state_dir: Path | None = None

    def __post_init__(self) -> None:
        # The command line checks each value's bounds; these are the rules across options.
        if self.source == "replay" and self.file is None:
            raise ValueError("stream replay needs FILE (an NDJSON file of tweets)")
        if self.source != "replay" and self.file is not None:
            raise ValueError(f"FILE is only for the replay source, not {self.source}")

    @property
    def needs_aws(self) -> bool:
        """Firehose (sink) or SSM (the prod bearer token) is called: check the stack/credentials first."""
        return self.sink == "firehose" or self.source == "x"

    def argv(self) -> list[str]:
        """These options as ``stream`` arguments (defaults left out), the inverse of the CLI's parsing."""
        default = StreamOptions(source=self.source, file=self.file)
        args = ["stream", self.source, *([str(self.file)] if self.file else [])]
        for name, flag in _FLAGS.items():
            value = getattr(self, name)
            if value == getattr(default, name):
                continue
            args += [flag] if isinstance(value, bool) else [flag, str(value)]
        return args


_FLAGS = {
    "sink": "--sink",
    "out": "--out",
    "rate": "--rate",
    "speed": "--speed",
    "seed": "--seed",
    "max_tweets": "--max-tweets",
    "duration": "--duration",
    "no_retweets": "--no-retweets",
    "resume": "--resume",
    "heartbeat_interval": "--heartbeat-interval",
    "state_dir": "--state-dir",
}


def add_stream_arguments(stream: argparse.ArgumentParser) -> None:
    """The ``stream`` command's arguments: one per ``StreamOptions`` field (``argv`` writes them back)."""
    stream.add_argument("source", choices=["synthetic", "replay", "x"])
    stream.add_argument("file", nargs="?", type=Path, help="NDJSON file for the replay source")
    stream.add_argument("--sink", choices=["firehose", "file"], default="firehose")
    stream.add_argument("--out", type=Path, default=Path("stream-check.ndjson"), help="file sink (.ndjson or .csv)")
    stream.add_argument("--rate", type=POSITIVE, default=None, help="synthetic tweets per second (default: unpaced)")
    stream.add_argument("--speed", type=POSITIVE, default=None, help="replay at N x the original pace")
    stream.add_argument("--seed", type=int, default=7)
    stream.add_argument("--max-tweets", type=COUNT, default=None, help="stop after N (default: until stopped)")
    stream.add_argument("--duration", type=POSITIVE, default=None, help="stop after N seconds")
    stream.add_argument("--no-retweets", action="store_true", help="add -is:retweet to the X rules")
    stream.add_argument(
        "--resume", action="store_true", help="synthetic: continue the sequence after the last durably delivered tweet"
    )
    stream.add_argument("--heartbeat-interval", type=POSITIVE, default=10.0, help="seconds")
    stream.add_argument("--state-dir", type=Path, default=None, help="spool and reject file (default .local/streamer)")


def synthetic_command(
    *,
    seed: int = 7,
    max_tweets: int | None = None,
    rate: float | None = None,
    resume: bool = False,
    state_dir: Path | None = None,
    heartbeat_interval: float = 10.0,
) -> list[str]:
    """The local synthetic streamer's full command line (``make demo`` and ``LocalStreamerHost`` run it)."""
    options = StreamOptions(
        source="synthetic",
        seed=seed,
        max_tweets=max_tweets,
        rate=rate,
        resume=resume,
        state_dir=state_dir,
        heartbeat_interval=heartbeat_interval,
    )
    return [sys.executable, "-m", "tweet_topics", *options.argv()]


def run_stream(options: StreamOptions, settings: Settings) -> Counters:
    """Stream until the source ends, ``max_tweets``/``duration`` is reached, or SIGTERM/SIGINT; returns the counts."""
    from tweet_topics.storage.clients import make_client
    from tweet_topics.streamer import secrets, sources
    from tweet_topics.streamer.producer import Counters, FirehoseProducer
    from tweet_topics.streamer.runner import FileSink, FirehoseSink, Heartbeat, run
    from tweet_topics.streamer.spool import Spool

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    secrets.install_redaction([os.environ.get(secrets.BEARER_ENV, "")])  # whatever the source, never log it
    stop = threading.Event()
    counters = Counters()
    state_dir = options.state_dir or settings.local_dir / "streamer"
    state_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = None
    if options.source == "synthetic":
        source, checkpoint = _synthetic(options, state_dir)
    elif options.source == "replay":
        assert options.file is not None  # __post_init__
        source = sources.replay_source(options.file, speed=options.speed)
    else:
        token = secrets.bearer_token(make_client(settings, "ssm") if settings.env == "prod" else None)
        secrets.install_redaction([token])
        source = sources.x_source(token, _rules(options.no_retweets), stop)
    heartbeat = None
    sink: Sink
    if options.sink == "firehose":
        spool = Spool(state_dir / "spool")
        producer = FirehoseProducer(make_client(settings, "firehose"), settings.firehose_stream, spool, counters)
        if spool.segments():
            log.info("draining %d spooled records first", len(spool))
            producer.drain_spool()
        sink = FirehoseSink(producer)
        heartbeat = Heartbeat(
            make_client(settings, "s3"),
            settings.bucket,
            f"{settings.streamer_prefix}heartbeat.json",
            counters,
            interval=options.heartbeat_interval,
        )
    else:
        sink = FileSink(options.out, counters)
    return run(
        source,
        sink,
        counters,
        state_dir / "rejects.ndjson",
        heartbeat=heartbeat,
        max_tweets=options.max_tweets,
        duration=options.duration,
        stop=stop,
        checkpoint=checkpoint,
    )


def _synthetic(options: StreamOptions, state_dir: Path) -> tuple[Iterator[Item], Checkpoint]:
    """The deterministic synthetic sequence; with ``resume`` it continues after the last durable tweet."""
    from tweet_topics.streamer import sources
    from tweet_topics.streamer.runner import Checkpoint

    path = state_dir / "checkpoint.json"
    saved = Checkpoint.load(path) if options.resume else None
    if saved and saved.get("seed") != options.seed:
        saved = None  # another sequence: start it from the beginning
    origin = datetime.fromisoformat(saved["origin"]) if saved else datetime.now(UTC)
    skip = saved["delivered"] if saved else 0
    source = sources.synthetic_source(
        options.max_tweets or UNBOUNDED, rate=options.rate, seed=options.seed, skip=skip, origin=origin
    )
    return source, Checkpoint(path, skip, {"seed": options.seed, "origin": origin.isoformat()})


def _rules(no_retweets: bool) -> list[str]:
    from tweet_topics.config import TRACK_TERMS_FILE
    from tweet_topics.lib.filtering import read_term_file
    from tweet_topics.streamer import sources

    suffix = "lang:en -is:retweet" if no_retweets else "lang:en"
    return sources.build_rules(read_term_file(TRACK_TERMS_FILE), suffix=suffix)
