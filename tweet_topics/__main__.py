"""Command line: ``python -m tweet_topics local up|down|status``, ``seed``, ``stream``, ``report open``."""

from tweet_topics.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
