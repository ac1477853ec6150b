"""The corpus's text cleaning lowercases without Spark's ``lower`` (ICU's first use costs seconds per JVM) and
must clean every text as ``lower`` would: checked on every Unicode code point between ASCII letters."""

import pyarrow as pa
from pyspark.sql import functions as F

from tweet_topics.lib.topics.text import cleaned_text_column


def _with_lower(column: str):
    """The cleaning as it was written with ``F.lower`` (the reference for the rewrite)."""
    text = F.coalesce(F.col(column), F.lit(""))
    text = F.regexp_replace(text, r"(https?://\S+|www\.\S+)", " ")
    text = F.regexp_replace(text, r"@\w+", " ")
    text = F.lower(F.regexp_replace(text, "#", " "))
    text = F.regexp_replace(text, r"[^a-z]+", " ")
    return F.trim(F.regexp_replace(text, r"\s+", " "))


def test_cleaning_equals_spark_lower_on_every_code_point(spark):
    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    texts = ["".join(chr(c) + "Ab" for c in points[i : i + 64]) for i in range(0, len(points), 64)]
    texts += ["İstanbul KELVIN \u212a5 ΣΑΣ Straße", "#NASA @Webb https://x.y WWW.Nasa.gov/X Mars!", "", None]
    frame = spark.createDataFrame(pa.table({"clean_text": pa.array(texts, pa.string())}))
    differ = frame.where(~cleaned_text_column("clean_text").eqNullSafe(_with_lower("clean_text")))
    assert differ.count() == 0, differ.limit(10).collect()
    rows = frame.select(cleaned_text_column("clean_text").alias("t")).tail(4)
    assert [r["t"] for r in rows] == ["i stanbul kelvin k stra e", "nasa www nasa gov x mars", "", ""]
