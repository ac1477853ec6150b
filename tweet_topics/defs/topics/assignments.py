"""tweet_topic_assignments: each tweet's topic distribution, dominant topic and its probability, per hour."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pydantic import Field

from tweet_topics.defs.hourly.results import evaluate, results
from tweet_topics.defs.topics import spark_io
from tweet_topics.defs.topics.checks import ASSIGNMENT_CHECKS
from tweet_topics.lib.topics.lda import dominant_topics
from tweet_topics.lib.topics.text import cleaned_text_column
from tweet_topics.partitions import HOURLY
from tweet_topics.storage.catalog import FILTERED_PARQUET, PREDICTIONS_PARQUET, Storage
from tweet_topics.storage.keys import parse_partition_key

# Every column a report analysis reads, so a new chart never needs a re-join with filtered_tweets.
ASSIGNMENT_COLUMNS = [
    "id",
    "created_at",
    "lang",
    "text",
    "clean_text",
    "source",
    "author_id",
    "user_name",
    "user_screen_name",
    "user_followers",
    "user_friends",
    "user_listed",
    "user_statuses",
    "user_favourites",
    "user_verified",
    "user_protected",
    "user_joined",
    "user_location",
    "in_reply_to_screen_name",
    "mentions",
    "hashtags",
    "place_country",
    "place_country_code",
]
SCORE_COLUMNS = ["topic_probabilities", "dominant_topic", "dominant_prob", "topic_name"]


def topic_name_column(storage: Storage, version: str) -> Any:
    """The dominant topic's display name ("unassigned" for -1), computed in the executors from a literal map:
    the names ``topic_terms`` stored for ``version``, else the top terms."""
    from pyspark.sql import functions as F

    names = storage.topic_names(version)
    by_topic = F.create_map(*[F.lit(x) for topic, name in sorted(names.items()) for x in (topic, name)])
    return F.coalesce(F.try_element_at(by_topic, F.col("dominant_topic")), F.lit("unassigned"))


class AssignmentConfig(dg.Config):
    model_version: str | None = Field(None, description="pin a model version; default: the latest")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "tweet_topic_assignments",
            deps=["filtered_tweets", "topic_model"],
            partitions_def=HOURLY,
            group_name="topics",
            kinds={"spark", "parquet"},
            automation_condition=dg.AutomationCondition.eager(),
            description="Each tweet's topic distribution, dominant topic and its probability, per hour.",
        )
    ],
    # can_subset makes the check outputs optional: a range run records its checks per hour as evaluations.
    can_subset=True,
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="spark",
    check_specs=[c.spec("tweet_topic_assignments") for c in ASSIGNMENT_CHECKS],
)
def tweet_topic_assignments(
    context: dg.AssetExecutionContext, config: AssignmentConfig, storage: Storage, pyspark: LazyPySparkResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation]:
    """Each tweet's topic distribution, dominant topic and its probability, per hour, from one model version."""
    from pyspark.sql import functions as F

    version = storage.models.resolve(config.model_version)
    model = spark_io.load_pipeline_model(storage, version)
    keys = list(context.partition_keys)
    hours = [parse_partition_key(k) for k in keys]
    tokens = {hour: storage.predictions.begin(hour) for hour in hours}  # before reading: a newer commit wins
    spark = pyspark.spark_session
    frame = spark_io.read_hours(spark, storage.filtered, storage, hours, FILTERED_PARQUET, ASSIGNMENT_COLUMNS)
    scored = dominant_topics(model.transform(frame.withColumn("processed_text", cleaned_text_column("clean_text"))))
    scored = scored.withColumn("topic_name", topic_name_column(storage, version))
    result = scored.select(*ASSIGNMENT_COLUMNS, "partition", *SCORE_COLUMNS).withColumn("model_version", F.lit(version))
    per_hour = spark_io.write_hours(
        result,
        storage,
        storage.predictions,
        tokens,
        PREDICTIONS_PARQUET,
        metadata={"model_version": version},
        count_where={"unassigned": ("dominant_topic", -1)},
        rows_name="tweets",
        sort_by=["id"],
    )
    # Each hour's materialization carries that hour's own numbers (issue 24); range totals go to the log only.
    for key, stats in per_hour.items():
        hour = parse_partition_key(key)
        context.add_asset_metadata(
            {
                "tweets": stats["tweets"],
                "unassigned": stats["unassigned"],
                "dagster/row_count": stats["tweets"],
                "model_version": version,
                "path": dg.MetadataValue.path(storage.predictions.uri(hour)),
                "commit": storage.predictions.read_commit(hour)["committed_at"],
            },
            partition_key=key,
        )
    context.log.info(
        f"range totals over {len(keys)} hours: tweets {sum(s['tweets'] for s in per_hour.values())}, "
        f"unassigned {sum(s['unassigned'] for s in per_hour.values())} (model {version})"
    )
    yield from results("tweet_topic_assignments", keys, evaluate(storage, keys, ASSIGNMENT_CHECKS), ASSIGNMENT_CHECKS)
