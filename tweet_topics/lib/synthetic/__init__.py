"""Deterministic synthetic X API v2 filtered-stream payloads about space, with planted topics.

Every tweet is drawn mostly from one of six themes plus shared background words, so a topic model's output
can be scored against the known theme (``SyntheticTweet.topic``). Faults (bad JSON, truncated lines,
duplicates, missing fields, legacy TAB lines) can be injected when rendering Firehose objects.
This module is the one import for all of it; the parts live in ``synthetic_vocab`` (word lists),
``synthetic_generator`` (payloads) and ``synthetic_firehose`` (Firehose hours).
"""

from __future__ import annotations

from tweet_topics.lib.synthetic.firehose import FaultSpec, RenderedHour, firehose_key, render_hour
from tweet_topics.lib.synthetic.generator import TWITTER_EPOCH_MS, SyntheticTweet, TweetGenerator, snowflake
from tweet_topics.lib.synthetic.vocab import (
    ACCOUNTS,
    BACKGROUND,
    BLOCKLISTED,
    EMOJI,
    LOCATIONS,
    SOURCES,
    SPANISH,
    THEME_HASHTAGS,
    THEMES,
)

__all__ = [
    "ACCOUNTS",
    "BACKGROUND",
    "BLOCKLISTED",
    "EMOJI",
    "LOCATIONS",
    "SOURCES",
    "SPANISH",
    "THEMES",
    "THEME_HASHTAGS",
    "TWITTER_EPOCH_MS",
    "FaultSpec",
    "RenderedHour",
    "SyntheticTweet",
    "TweetGenerator",
    "firehose_key",
    "render_hour",
    "snowflake",
]
