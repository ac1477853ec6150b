"""The topic corpus as Spark transformations: clean each tweet, drop empty texts, keep one document per text.

Retweets of the same text and copy-paste spam would otherwise dominate the topics; the document keeps the
smallest id and earliest time of its copies and how many copies there were. Runs on the executors.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tweet_topics.lib.topics.text import cleaned_text_column

CORPUS_INPUT_COLUMNS = ["id", "created_at", "clean_text"]


def build_corpus(tweets: Any) -> Any:
    """``id, created_at, clean_text`` rows -> ``processed_text, id, created_at, copies`` documents, ordered by id."""
    from pyspark.sql import functions as F

    return (
        tweets.withColumn("processed_text", cleaned_text_column("clean_text"))
        .where(F.length("processed_text") > 0)
        .groupBy("processed_text")
        .agg(F.min("id").alias("id"), F.min("created_at").alias("created_at"), F.count("*").alias("copies"))
        .orderBy("id")
    )


def content_digest(documents: Any) -> tuple[int, int]:
    """(document count, order-independent hash of ids and texts) in one distributed pass."""
    from pyspark.sql import functions as F

    row = documents.agg(F.count("*").alias("n"), F.bit_xor(F.xxhash64("id", "processed_text")).alias("h")).first()
    return int(row["n"]), row["h"]


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (corpus and model versions)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]
