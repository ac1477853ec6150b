"""Command line: ``python -m tweet_topics local|seed|stream|demo|dev|report …`` (see ``tweet_topics.cli``)."""

from tweet_topics.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
