"""Run ``python -m tweet_topics stream x …`` with a stand-in for tweepy's ``StreamingClient`` (no X account).

Usage: ``python -m tweet_topics_tests.streamer.xstandin MODE COUNT MARKER -- stream x …``. The stand-in
implements the public interface the streamer uses (rules, ``filter(threaded=True)``, ``on_data``,
``disconnect``) and pushes ``COUNT`` synthetic v2 messages through ``on_data`` from its own thread, then:
``sigterm`` - signals its own process while the messages are still queued; ``quiet`` - stays connected and
silent. ``MARKER`` is written once every message was handed over.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import tweepy

from tweet_topics.lib.synthetic import TweetGenerator


def stand_in(mode: str, count: int, marker: Path) -> type:
    class StandInStreamingClient:
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
                generator = TweetGenerator(seed=11)
                now = datetime.now(UTC)
                for tweet in generator.stream(count, start=now) if count else []:
                    self.on_data(json.dumps(tweet.payload).encode())
                marker.write_text(str(count))
                if mode == "sigterm":
                    os.kill(os.getpid(), signal.SIGTERM)
                while self.running:
                    threading.Event().wait(0.05)

            thread = threading.Thread(target=pump, name="stand-in stream", daemon=True)
            thread.start()
            return thread

    return StandInStreamingClient


def main() -> int:
    mode, count, marker = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    tweepy.StreamingClient = stand_in(mode, count, marker)  # type: ignore[misc]
    from tweet_topics.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
