"""What the driver JVM does while ``jvm_archive`` records its classes: a small topic run, in this child process.

``python -m tweet_topics.local.archive_workload ARCHIVE CLASSPATH_FILE [--session-only]``: the Spark paths a
topic run takes (Arrow batches through ``mapInArrow`` reads and writes, the corpus's group-by and one-job
figures, vectorize, the online-VB fit's RDD jobs and broadcasts, the pipeline written by the driver, loaded and
scored by Spark), on a few hundred planted documents, with ``-XX:ArchiveClassesAtExit=ARCHIVE``. The JVM writes
the archive when it exits, which it does when this process closes its stdin; exit status 0 only when it did.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _rows(batches: Iterator[Any], texts: list[str]) -> Iterator[Any]:
    """A read task's shape: object listings in, decoded Parquet rows out."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from tweet_topics.storage.spark_source import parquet_bytes

    for batch in batches:
        for group in batch.column("objects").to_pylist():
            part = [texts[i] for i in json.loads(group)]
            table = pa.table({"id": [str(i) for i in range(len(part))], "created_at": ["2026-01-01"] * len(part)})
            table = table.append_column("clean_text", pa.array(part, pa.string()))
            yield from pq.read_table(io.BytesIO(parquet_bytes(table))).to_batches()


def _messages(batches: Iterator[Any]) -> Iterator[Any]:
    """A write task's shape: rows in, one message per Parquet object out."""
    import pyarrow as pa

    from tweet_topics.storage.spark_source import parquet_bytes

    tables = list(batches)
    if tables:
        body = parquet_bytes(pa.Table.from_batches(tables))
        yield pa.RecordBatch.from_pydict({"message": [json.dumps({"bytes": len(body)})]})


def workload(spark: Any) -> None:
    from functools import partial

    from tweet_topics.lib.topics.corpus import corpus_stats, documents, group_texts
    from tweet_topics.lib.topics.lda import dominant_topics, fit_best
    from tweet_topics.lib.topics.pipeline import LdaParams
    from tweet_topics.lib.topics.planted import PlantedShape, planted_corpus

    texts, _ = planted_corpus(PlantedShape(docs=600), seed=5)
    listing = spark.createDataFrame([(json.dumps(list(range(i, 600, 2))),) for i in range(2)], "objects string")
    tweets = listing.mapInArrow(partial(_rows, texts=texts), "id string, created_at string, clean_text string")
    grouped = group_texts(tweets).cache()
    corpus_stats(grouped)
    corpus = documents(grouped).select("id", "processed_text").coalesce(2).sortWithinPartitions("id")
    corpus.mapInArrow(_messages, "message string").collect()
    corpus = corpus.cache()
    scratch = tempfile.mkdtemp(prefix="tweet-topics-cds-")
    fitted, _ = fit_best(corpus, LdaParams(k=3, min_df=2.0), [], scratch, restarts=2)
    fitted.write_local(Path(scratch) / "pipeline")
    dominant_topics(fitted.model.transform(corpus)).select("id", "dominant_topic", "topic_probabilities").toArrow()
    grouped.unpersist()


def main(archive: str, classpath_file: str, full: bool = True) -> int:
    import os

    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    from tweet_topics.local.environment import local_driver_java_options

    options = local_driver_java_options("-XX:TieredStopAtLevel=1", f"-XX:ArchiveClassesAtExit={archive}", archive=False)
    config = {
        "spark.master": "local[2]",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.execution.pyspark.udf.simplifiedTraceback.enabled": "false",
        "spark.driver.extraJavaOptions": options,
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
    }
    builder = SparkSession.builder
    for key, value in config.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    Path(classpath_file).write_text(spark.sparkContext._jvm.System.getProperty("java.class.path"))
    if full:
        workload(spark)
    else:
        spark.range(100).selectExpr("id % 3 as k").groupBy("k").count().collect()
    process = SparkContext._gateway.proc  # the JVM (spark-submit execs it)
    spark.stop()
    process.stdin.close()  # the gateway exits on EOF; the archive is written as the JVM exits
    code = process.wait(timeout=300)
    return 0 if code == 0 and os.path.getsize(archive) > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], full="--session-only" not in sys.argv[3:]))
