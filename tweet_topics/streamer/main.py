"""The streamer's command line: ``python -m tweet_topics stream SOURCE …`` parses into ``StreamOptions``
(``streamer.options``) and the CLI calls ``streamer.app.run_stream``. The EC2 systemd unit (``stream x --sink
firehose``), the local streamer host and ``make demo`` all run this one path.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tweet_topics.argtypes import COUNT, POSITIVE
from tweet_topics.streamer.options import SYNTHETIC_FILE_CAP


def add_stream_arguments(stream: argparse.ArgumentParser) -> None:
    """The ``stream`` command's arguments: one per ``StreamOptions`` field (``argv`` writes them back)."""
    stream.add_argument("source", choices=["synthetic", "replay", "x"])
    stream.add_argument("file", nargs="?", type=Path, help="NDJSON file for the replay source")
    stream.add_argument("--sink", choices=["firehose", "file"], default="firehose")
    stream.add_argument(
        "--out",
        type=Path,
        default=Path("stream-check.ndjson"),
        help="file sink (.ndjson or .csv; its directory must exist)",
    )
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
    stream.add_argument(
        "--min-free-mib",
        type=COUNT,
        default=1024,
        help="file sink: stop before the output's filesystem has less free (MiB; synthetic without --max-tweets "
        f"or --duration also stops after {SYNTHETIC_FILE_CAP:,} tweets)",
    )
    stream.add_argument(
        "--convert-workers",
        type=int,
        choices=[0, 1],
        default=1,
        help="stream x: convert X's messages in a second process (1, the default) or in the main one (0)",
    )
