"""The topic corpus as Spark transformations: clean each tweet, drop empty texts, keep one document per text.

Retweets of the same text and copy-paste spam would otherwise dominate the topics; the document keeps the
smallest id and earliest time of its copies and how many copies there were. Runs on the executors.

``topic_corpus`` caches ``group_texts`` once, takes every figure from it in one job (``corpus_stats``) and writes
``documents`` from the cache: no sort of the whole corpus, no second read of the tweets.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tweet_topics.lib.topics.text import cleaned_text_column

CORPUS_INPUT_COLUMNS = ["id", "created_at", "clean_text"]
DOCUMENTS_PER_FILE = 250_000  # corpus files hold about this many documents at most (~25 MB), one per slot at least


def group_texts(tweets: Any) -> Any:
    """``id, created_at, clean_text`` rows -> ``processed_text, id, created_at, copies``, one row per cleaned text,
    the empty text included (``corpus_stats`` counts its tweets as input; ``documents`` drops it)."""
    from pyspark.sql import functions as F

    return (
        tweets.withColumn("processed_text", cleaned_text_column("clean_text"))
        .groupBy("processed_text")
        .agg(F.min("id").alias("id"), F.min("created_at").alias("created_at"), F.count("*").alias("copies"))
    )


def documents(grouped: Any) -> Any:
    """The corpus documents of ``group_texts``' rows: texts that kept at least one character."""
    from pyspark.sql import functions as F

    return grouped.where(F.length("processed_text") > 0)


def corpus_stats(grouped: Any) -> tuple[int, int, int]:
    """(input tweets, documents, order-independent hash of the documents' ids and texts) of ``group_texts``'
    rows in one distributed pass (one Spark job instead of a count per figure)."""
    from pyspark.sql import functions as F

    kept = F.length("processed_text") > 0
    row = grouped.agg(
        F.sum("copies").alias("tweets"),
        F.count(F.when(kept, True)).alias("n"),
        F.bit_xor(F.when(kept, F.xxhash64("id", "processed_text"))).alias("h"),
    ).first()
    return int(row["tweets"] or 0), int(row["n"]), row["h"]


def file_count(documents: int, slots: int) -> int:
    """How many files the corpus is written as: one per task slot (the model's read then needs no shuffle to use
    every core), more for large corpora."""
    return max(1, slots, -(-documents // DOCUMENTS_PER_FILE))


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (corpus and model versions)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]
