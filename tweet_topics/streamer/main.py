"""The streamer's entry point: ``python -m tweet_topics stream SOURCE …`` parses into ``StreamOptions`` and calls
``run_stream``. The EC2 systemd unit (``stream x --sink firehose``), the local streamer host and ``make demo`` all
run this one path; ``synthetic_command`` is the one place that writes the local synthetic streamer's command line.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tweet_topics.argtypes import COUNT, POSITIVE
from tweet_topics.settings import Settings

if TYPE_CHECKING:  # imported in run_stream: parsing a command line (or building one) stays light
    from tweet_topics.streamer.counters import Counters

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
    send_deadline: float = 10.0  # seconds a batch may spend trying Firehose before it is spooled
    shutdown_budget: float = 30.0  # seconds from SIGTERM to exit; below the unit's TimeoutStopSec

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
    "send_deadline": "--send-deadline",
    "shutdown_budget": "--shutdown-budget",
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
        "--resume",
        action="store_true",
        help="synthetic/replay: continue after the last durably delivered tweet (replay: its line)",
    )
    stream.add_argument("--heartbeat-interval", type=POSITIVE, default=10.0, help="seconds")
    stream.add_argument("--state-dir", type=Path, default=None, help="spool and reject file (default .local/streamer)")
    stream.add_argument("--send-deadline", type=POSITIVE, default=10.0, help="seconds per batch before it is spooled")
    stream.add_argument("--shutdown-budget", type=POSITIVE, default=30.0, help="seconds from SIGTERM to exit")


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
    """Stream until the source ends, ``max_tweets``/``duration`` is reached, or SIGTERM/SIGINT; returns the counts.

    The wiring lives in ``streamer.app`` so this module stays the thin command-line glue.
    """
    from tweet_topics.streamer.app import run_stream as run

    return run(options, settings)
