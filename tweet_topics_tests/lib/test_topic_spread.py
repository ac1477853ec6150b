"""``vectorize.spread``: the corpus reaches one partition per core with its documents evenly spread, whatever the
input's partitioning (one Parquet row group is one task's whole input), without a shuffle when already even."""

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import functions as F

from tweet_topics.lib.topics.vectorize import spread


def _sizes(frame) -> list[int]:
    rows = frame.groupBy(F.spark_partition_id().alias("p")).count().collect()
    return sorted(r[1] for r in rows)


def test_one_row_group_is_spread_and_an_even_input_is_only_merged(spark, tmp_path, capsys):
    path = str(tmp_path / "one-row-group.parquet")
    pq.write_table(pa.table({"id": list(range(6_000)), "processed_text": ["a b c"] * 6_000}), path)
    skewed = spark.read.parquet(path)
    parts = spark.sparkContext.defaultParallelism
    sizes = _sizes(skewed)
    assert max(sizes) == 6_000  # the input: every document in one partition
    even = spread(skewed, sizes, parts)
    assert even.rdd.getNumPartitions() == parts
    assert max(_sizes(even)) <= 2 * 6_000 / parts and sum(_sizes(even)) == 6_000
    balanced = spark.range(0, 6_000, 1, parts * 2)
    merged = spread(balanced, _sizes(balanced), parts)
    assert merged.rdd.getNumPartitions() == parts and sum(_sizes(merged)) == 6_000
    merged.explain()
    assert "Exchange" not in capsys.readouterr().out  # merged, not shuffled
