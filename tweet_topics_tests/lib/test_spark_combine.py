"""Both combine engines give the same rows, quarantine and counts for the same hour (real local Spark)."""

from datetime import UTC, datetime, timedelta

from tweet_topics.lib.combine import combine_objects, table_to_csv
from tweet_topics.lib.spark_combine import combine_objects_spark
from tweet_topics.lib.synthetic import FaultSpec, TweetGenerator, render_hour

HOUR = datetime(2026, 3, 1, 7, tzinfo=UTC)


def test_arrow_and_spark_engines_agree(spark):
    tweets = TweetGenerator(seed=9).tweets_between(HOUR, HOUR + timedelta(hours=1), 600)
    hour = render_hour(
        tweets,
        HOUR,
        "raw/",
        "s",
        n_objects=5,
        faults=FaultSpec(malformed_json=2, duplicates=5, missing_text=1, truncated_last_line=True, legacy_tab_lines=4),
    )
    arrow = combine_objects(hour.objects, hour=HOUR)
    on_spark = combine_objects_spark(hour.objects, hour=HOUR, spark=spark)
    assert on_spark.table.equals(arrow.table)
    assert table_to_csv(on_spark.table) == table_to_csv(arrow.table)
    assert on_spark.quarantine == arrow.quarantine
    ignore = {"objects_parsed_line_by_line"}
    assert {k: v for k, v in on_spark.stats.items() if k not in ignore} == {
        k: v for k, v in arrow.stats.items() if k not in ignore
    }
