"""Text cleaning for topic modeling as Spark column expressions (the reference's steps, in a sane order).

Order: drop URLs and mentions, keep hashtag words without ``#``, lowercase, everything that is not a letter
(digits, punctuation, emoji, ``[\\]^_``) becomes a space, spaces collapse, trim. pyspark is imported lazily.
"""

from __future__ import annotations

from typing import Any


def cleaned_text_column(column: str) -> Any:
    from pyspark.sql import functions as F

    text = F.coalesce(F.col(column), F.lit(""))
    text = F.regexp_replace(text, r"(https?://\S+|www\.\S+)", " ")
    text = F.regexp_replace(text, r"@\w+", " ")
    text = F.lower(F.regexp_replace(text, "#", " "))
    text = F.regexp_replace(text, r"[^a-z]+", " ")
    return F.trim(F.regexp_replace(text, r"\s+", " "))
