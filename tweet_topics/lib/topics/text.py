"""Text cleaning for topic modeling as Spark column expressions (the reference's steps, in a sane order).

Order: drop URLs and mentions, keep hashtag words without ``#``, lowercase, everything that is not a letter
(digits, punctuation, emoji, ``[\\]^_``) becomes a space, spaces collapse, trim. pyspark is imported lazily.

Why lowercasing is spelled out instead of ``F.lower``: Spark 4's ``lower`` goes through ICU, whose first use in a
JVM builds a title-case table over every code point (3-5 s of a fresh driver on 2 cores, most of a small topic
run's first job; issue 27). Only ``[a-z]`` survives the cleaning, so only the characters whose lowercase holds an
ASCII letter matter: ``A-Z``, the Kelvin sign (``k``) and dotted capital I (``i`` + combining dot, i.e. ``i``
then a space). ``tweet_topics_tests/lib/test_topic_text.py`` checks the result equals ``lower``'s on every
code point.
"""

from __future__ import annotations

from typing import Any

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ\u212a"  # ... and the Kelvin sign
LOWER = "abcdefghijklmnopqrstuvwxyzk"
DOTTED_CAPITAL_I = "\u0130"  # lowercases to two characters: i and U+0307 (combining dot above)


def ascii_lowercase(text: Any) -> Any:
    """What ``lower`` makes of ``text`` for every ``[a-z]`` it yields; other characters may differ (they are
    cleaned to spaces right after)."""
    from pyspark.sql import functions as F

    return F.translate(F.regexp_replace(text, DOTTED_CAPITAL_I, "i\u0307"), UPPER, LOWER)


def cleaned_text_column(column: str) -> Any:
    from pyspark.sql import functions as F

    text = F.coalesce(F.col(column), F.lit(""))
    text = F.regexp_replace(text, r"(https?://\S+|www\.\S+)", " ")
    text = F.regexp_replace(text, r"@\w+", " ")
    text = ascii_lowercase(F.regexp_replace(text, "#", " "))
    text = F.regexp_replace(text, r"[^a-z]+", " ")
    return F.trim(F.regexp_replace(text, r"\s+", " "))
