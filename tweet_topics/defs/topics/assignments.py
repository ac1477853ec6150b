"""tweet_topic_assignments: each tweet's topic distribution, dominant topic and its probability, per hour."""

import dagster as dg
import pyarrow.compute as pc
from dagster_pyspark import LazyPySparkResource
from pydantic import Field

from tweet_topics.defs.topics import spark_io
from tweet_topics.lib.lda import dominant_topics
from tweet_topics.lib.text import cleaned_text_column
from tweet_topics.partitions import HOURLY
from tweet_topics.storage.catalog import PREDICTIONS_PARQUET, Storage
from tweet_topics.storage.hourly import parquet_bytes
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
SCORE_COLUMNS = ["topic_probabilities", "dominant_topic", "dominant_prob"]


class AssignmentConfig(dg.Config):
    model_version: str | None = Field(None, description="pin a model version; default: the latest")


@dg.asset(
    deps=["filtered_tweets", "topic_model"],
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="topics",
    kinds={"spark", "parquet"},
    automation_condition=dg.AutomationCondition.eager(),
)
def tweet_topic_assignments(
    context: dg.AssetExecutionContext, config: AssignmentConfig, storage: Storage, pyspark: LazyPySparkResource
) -> dg.MaterializeResult:
    """Each tweet's topic distribution, dominant topic and its probability, per hour, from one model version."""
    from pyspark.sql import functions as F

    version = storage.models.resolve(config.model_version)
    model = spark_io.load_pipeline_model(storage, version)
    keys = list(context.partition_keys)
    hours = [parse_partition_key(k) for k in keys]
    frame = spark_io.read_filtered(pyspark.spark_session, storage, hours, ASSIGNMENT_COLUMNS, f"assign-input/{keys[0]}")
    scored = dominant_topics(model.transform(frame.withColumn("processed_text", cleaned_text_column("clean_text"))))
    result = (
        scored.select(*ASSIGNMENT_COLUMNS, "partition", *SCORE_COLUMNS)
        .withColumn("model_version", F.lit(version))
        .orderBy("partition", "id")
    )
    output = result.toArrow()
    per_hour = {}
    for key, hour in zip(keys, hours, strict=True):
        hour_rows = output.filter(pc.equal(output["partition"], key)).drop_columns(["partition"])
        unassigned = int(pc.sum(pc.equal(hour_rows["dominant_topic"], -1)).as_py() or 0)
        stats = {"partition": key, "model_version": version, "tweets": hour_rows.num_rows, "unassigned": unassigned}
        storage.predictions.write_hour(hour, {PREDICTIONS_PARQUET: parquet_bytes(hour_rows)}, stats)
        per_hour[key] = stats
        context.log_event(
            dg.AssetObservation(
                asset_key="tweet_topic_assignments",
                partition=key,
                metadata={"tweets": stats["tweets"], "unassigned": unassigned, "model_version": version},
            )
        )
    return dg.MaterializeResult(
        metadata={
            "model_version": version,
            "hours": len(keys),
            "dagster/row_count": sum(s["tweets"] for s in per_hour.values()),
            "unassigned": sum(s["unassigned"] for s in per_hour.values()),
        }
    )
