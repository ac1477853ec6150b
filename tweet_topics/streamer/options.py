"""What ``stream`` accepts (``StreamOptions``) and the one builder of the local synthetic streamer's command line.

Shared by the command line (``streamer.main``) and the wiring (``streamer.app``), so neither imports the other.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tweet_topics.streamer.secrets import BEARER_ENV

UNBOUNDED = 10**12  # the synthetic source's length when no --max-tweets is given: "until stopped"
SYNTHETIC_FILE_CAP = 100_000  # synthetic into a file without --max-tweets/--duration stops here (~130 MB)


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
    min_free_mib: int = 1024  # the file sink stops before its filesystem goes below this
    convert_workers: int = 1  # stream x: 1 converts X's bytes in a second process (streamer/convert_pool.py), 0 here

    def __post_init__(self) -> None:
        # The command line checks each value's bounds; these are the rules across options.
        if self.source == "replay" and self.file is None:
            raise ValueError("stream replay needs FILE (an NDJSON file of tweets)")
        if self.source != "replay" and self.file is not None:
            raise ValueError(f"FILE is only for the replay source, not {self.source}")

    @property
    def needs_aws(self) -> bool:
        """Firehose (sink) or SSM (a bearer token not in the environment) is called: check AWS first."""
        return self.sink == "firehose" or (self.source == "x" and not os.environ.get(BEARER_ENV))

    @property
    def tweet_limit(self) -> int | None:
        """``max_tweets``, or the default cap of an otherwise unbounded synthetic stream into a file."""
        if self.max_tweets is None and self.duration is None and (self.source, self.sink) == ("synthetic", "file"):
            return SYNTHETIC_FILE_CAP
        return self.max_tweets

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
    "min_free_mib": "--min-free-mib",
    "convert_workers": "--convert-workers",
}


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
