"""The streamer process of the benchmark: ``python -m tweet_topics stream x …`` with tweepy's ``StreamingClient``
replaced by a pump that hands pre-serialized v2 messages to ``on_data`` as fast as the streamer takes them (the
live queue's backpressure paces it), cycling a pool of distinct synthetic messages.

Usage: ``python benchmarks/streamer_child.py POOL -- stream x …`` (POOL: messages in the pool).
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from types import SimpleNamespace

import _common  # noqa: F401 - sys.path and bench defaults
import tweepy

from tweet_topics.lib.synthetic import TweetGenerator


def pump_client(lines: list[bytes]) -> type:
    class PumpStreamingClient:
        def __init__(self, bearer_token: str, **kwargs: object) -> None:
            self.running = False

        def get_rules(self) -> SimpleNamespace:
            return SimpleNamespace(data=None)

        def add_rules(self, rules: list) -> None:
            pass

        def delete_rules(self, ids: list) -> None:
            pass

        def on_data(self, raw_data: bytes) -> None:  # overridden by the streamer
            pass

        def disconnect(self) -> None:
            self.running = False

        def filter(self, *, threaded: bool = False, **params: object) -> threading.Thread:
            self.running = True

            def pump() -> None:
                while self.running:
                    for line in lines:
                        if not self.running:
                            return
                        self.on_data(line)

            thread = threading.Thread(target=pump, name="bench pump", daemon=True)
            thread.start()
            return thread

    return PumpStreamingClient


def main() -> int:
    pool = int(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    lines = [json.dumps(t.payload).encode() for t in TweetGenerator(seed=5).stream(pool, start=datetime.now(UTC))]
    tweepy.StreamingClient = pump_client(lines)  # type: ignore[misc]
    from tweet_topics.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
