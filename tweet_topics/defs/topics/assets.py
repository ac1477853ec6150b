"""Topic assets: topic_corpus -> topic_model (versioned) -> topic_terms, and hourly tweet_topic_assignments."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Literal

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from dagster_pyspark import LazyPySparkResource
from pydantic import Field

from tweet_topics.config import STOPWORDS_FILE
from tweet_topics.defs.hourly.assets import filtered_tweets
from tweet_topics.defs.hourly.hours import METADATA_FILE, parquet_bytes
from tweet_topics.defs.infra.layout import Layout
from tweet_topics.defs.infra.resources import S3Store
from tweet_topics.defs.topics.storage import (
    LATEST,
    MANIFEST,
    filtered_hours,
    fingerprint,
    load_pipeline_model,
    read_filtered_hours,
    read_json,
    resolve_model_version,
    stage_dir,
    upload_tree,
    write_local_parquet,
)
from tweet_topics.lib.filtering import read_term_file
from tweet_topics.lib.layout import parse_partition_key, partition_key
from tweet_topics.lib.lda import LdaParams, TopicModelError, dominant_topics, fit_best
from tweet_topics.lib.text import cleaned_text_column
from tweet_topics.partitions import HOURLY

CORPUS_COLUMNS = ["id", "created_at", "clean_text"]
_DEFAULTS = LdaParams()


class CorpusConfig(dg.Config):
    window_hours: int = Field(168, ge=1, description="hours of filtered_tweets ending at `end`")
    end: str | None = Field(None, description="last hour (partition key); default: newest filtered hour")
    start: str | None = Field(None, description="first hour (partition key); overrides window_hours")


class TopicModelConfig(dg.Config):
    """LDA settings; defaults are the tuned project values, `reference` preset in README."""

    k: int = Field(_DEFAULTS.k, ge=2)
    k_values: list[int] = Field([], description="optional sweep; the most coherent k wins")
    restarts: int = Field(3, ge=1, description="seeds tried per k; the most coherent fit wins")
    optimizer: Literal["online", "em"] = _DEFAULTS.optimizer
    max_iter: int = Field(_DEFAULTS.max_iter, ge=1)
    learning_offset: float = Field(_DEFAULTS.learning_offset, gt=0)
    learning_decay: float = Field(_DEFAULTS.learning_decay, gt=0.5, le=1.0)
    subsampling_rate: float = Field(_DEFAULTS.subsampling_rate, gt=0, le=1)
    optimize_doc_concentration: bool = _DEFAULTS.optimize_doc_concentration
    doc_concentration: float | None = None
    topic_concentration: float | None = None
    min_token_length: int = Field(_DEFAULTS.min_token_length, ge=1)
    min_df: float = Field(_DEFAULTS.min_df, ge=0)
    max_df: float = Field(_DEFAULTS.max_df, gt=0)
    vocab_size: int = Field(_DEFAULTS.vocab_size, ge=10)
    use_idf: bool = _DEFAULTS.use_idf
    seed: int = _DEFAULTS.seed
    top_n: int = Field(_DEFAULTS.top_n, ge=2)
    stopwords_file: str = str(STOPWORDS_FILE)

    def params(self) -> LdaParams:
        return LdaParams(**self.model_dump(exclude={"k_values", "restarts", "stopwords_file"}))


class TopicTermsConfig(dg.Config):
    topic_names: dict[str, str] = Field({}, description="topic index -> name; unnamed topics use top 3 terms")


class AssignmentConfig(dg.Config):
    model_version: str | None = Field(None, description="pin a model version; default: the latest")


@dg.asset(deps=[filtered_tweets], group_name="topics", kinds={"spark", "parquet"})
def topic_corpus(
    context: dg.AssetExecutionContext,
    config: CorpusConfig,
    s3: S3Store,
    layout: Layout,
    pyspark: LazyPySparkResource,
) -> dg.MaterializeResult:
    """Cleaned, deduplicated texts of a window of filtered hours, for fitting the topic model."""
    from pyspark.sql import functions as F

    available = filtered_hours(s3, layout)
    if not available:
        raise TopicModelError("no filtered_tweets hours exist yet: materialize filtered_tweets first")
    end = parse_partition_key(config.end) if config.end else available[-1]
    start = parse_partition_key(config.start) if config.start else end - timedelta(hours=config.window_hours - 1)
    hours = [h for h in available if start <= h <= end]
    if not hours:
        raise TopicModelError(f"no filtered_tweets hours between {partition_key(start)} and {partition_key(end)}")
    window = f"{start:%Y%m%d%H}-{end:%Y%m%d%H}"
    table = read_filtered_hours(s3, layout, hours, CORPUS_COLUMNS)
    spark = pyspark.spark_session
    raw = spark.read.parquet(str(write_local_parquet(table, stage_dir(layout, "corpus-input", window))))
    corpus = (
        raw.withColumn("processed_text", cleaned_text_column("clean_text"))
        .where(F.length("processed_text") > 0)
        .groupBy("processed_text")
        .agg(F.min("id").alias("id"), F.min("created_at").alias("created_at"), F.count("*").alias("copies"))
        .orderBy("id")
    )
    local = stage_dir(layout, "corpus", window)
    corpus.coalesce(1).write.mode("overwrite").parquet(str(local / "data"))
    # Count and fingerprint in one pass over what was written, instead of recomputing the dedupe twice.
    stats = (
        spark.read.parquet(str(local / "data"))
        .agg(F.count("*").alias("n"), F.bit_xor(F.xxhash64("id", "processed_text")).alias("h"))
        .first()
    )
    documents, content = int(stats["n"]), stats["h"]
    manifest = {
        "window": window,
        "start": partition_key(start),
        "end": partition_key(end),
        "hours": len(hours),
        "input_tweets": table.num_rows,
        "documents": documents,
        "duplicates_removed": table.num_rows - documents,
        "fingerprint": fingerprint(window, documents, content),
    }
    prefix = f"{layout.corpus_prefix}{window}/"
    upload_tree(s3, local, prefix, {"manifest.json": json.dumps(manifest, indent=2).encode()}, "manifest.json")
    s3.put(layout.corpus_prefix + LATEST, json.dumps({"prefix": prefix, **manifest}).encode(), "application/json")
    context.log.info(f"corpus {window}: {documents} documents from {table.num_rows} tweets in {len(hours)} hours")
    return dg.MaterializeResult(
        metadata={
            **manifest,
            "dagster/row_count": documents,
            "path": dg.MetadataValue.path(f"s3://{s3.bucket}/{prefix}"),
        }
    )


@dg.asset(deps=[topic_corpus], group_name="topics", kinds={"spark"})
def topic_model(
    context: dg.AssetExecutionContext,
    config: TopicModelConfig,
    s3: S3Store,
    layout: Layout,
    pyspark: LazyPySparkResource,
) -> dg.MaterializeResult:
    """A fitted Spark PipelineModel, versioned by corpus and settings, with quality metrics in model.json."""
    import pyspark as pyspark_module

    corpus_info = read_json(s3, layout.corpus_prefix + LATEST)
    local_corpus = stage_dir(layout, "corpus-download", corpus_info["window"])
    s3.download_prefix(corpus_info["prefix"] + "data/", local_corpus)
    spark = pyspark.spark_session
    corpus = spark.read.parquet(str(local_corpus)).select("id", "processed_text")
    params = config.params()
    stop_words = read_term_file(Path(config.stopwords_file))
    fitted, candidates = fit_best(corpus, params, stop_words, config.k_values or None, config.restarts)
    chosen = {**params.to_dict(), "k": fitted.metrics["k"], "seed": fitted.metrics["seed"]}
    version = fingerprint(corpus_info["fingerprint"], chosen, sorted(stop_words))
    local = stage_dir(layout, "models", version)
    fitted.model.write().overwrite().save(str(local / "pipeline"))
    manifest = {
        "version": version,
        "params": chosen,
        "corpus": corpus_info,
        "metrics": fitted.metrics,
        "candidates": candidates,
        "topics": fitted.topics,
        "vocabulary_head": fitted.vocabulary[:50],
        "spark_version": pyspark_module.__version__,
        "stop_words": len(stop_words),
    }
    prefix = f"{layout.models_prefix}{version}/"
    upload_tree(s3, local, prefix, {MANIFEST: json.dumps(manifest, indent=2).encode()}, MANIFEST)
    s3.put(layout.models_prefix + LATEST, json.dumps({"version": version}).encode(), "application/json")
    terms_md = "\n".join(
        f"| {t['topic']} | {', '.join(t['terms'][:8])} | {t['coherence_npmi']:.3f} |" for t in fitted.topics
    )
    cand_md = "\n".join(
        f"| {c['k']} | {c['seed']} | {c['coherence_npmi']:.3f} | {c['log_perplexity']:.3f} |" for c in candidates
    )
    return dg.MaterializeResult(
        metadata={
            "version": version,
            **{
                name: fitted.metrics[name]
                for name in (
                    "documents",
                    "vocabulary_size",
                    "log_likelihood",
                    "log_perplexity",
                    "coherence_npmi",
                    "topic_diversity",
                    "k",
                )
            },
            "top_terms": dg.MetadataValue.md("| topic | top terms | NPMI |\n|---|---|---|\n" + terms_md),
            "candidates": dg.MetadataValue.md("| k | seed | NPMI | log perplexity |\n|---|---|---|---|\n" + cand_md),
            "path": dg.MetadataValue.path(f"s3://{s3.bucket}/{prefix}"),
        }
    )


def topic_label(topic: int, terms: list[str], names: dict[str, str]) -> str:
    return names.get(str(topic)) or " / ".join(terms[:3])


@dg.asset(deps=[topic_model], group_name="topics", kinds={"s3", "csv"})
def topic_terms(config: TopicTermsConfig, s3: S3Store, layout: Layout) -> dg.MaterializeResult:
    """Topic x top term x weight for the latest model, with a readable name per topic."""
    from tweet_topics.lib.combine import table_to_csv

    version = resolve_model_version(s3, layout, None)
    manifest = read_json(s3, f"{layout.models_prefix}{version}/{MANIFEST}")
    rows = [
        {
            "topic": t["topic"],
            "topic_name": topic_label(t["topic"], t["terms"], config.topic_names),
            "rank": rank,
            "term": term,
            "weight": weight,
        }
        for t in manifest["topics"]
        for rank, (term, weight) in enumerate(zip(t["terms"], t["weights"], strict=True), start=1)
    ]
    table = pa.Table.from_pylist(rows)
    key = f"{layout.models_prefix}{version}/topic_terms.csv"
    s3.put(key, table_to_csv(table), "text/csv")
    names = {str(t["topic"]): topic_label(t["topic"], t["terms"], config.topic_names) for t in manifest["topics"]}
    s3.put(f"{layout.models_prefix}{version}/topic_names.json", json.dumps(names).encode(), "application/json")
    md = "\n".join(f"| {t} | {n} |" for t, n in names.items())
    return dg.MaterializeResult(
        metadata={
            "model_version": version,
            "dagster/row_count": len(rows),
            "topics": dg.MetadataValue.md("| topic | name |\n|---|---|\n" + md),
            "path": dg.MetadataValue.path(f"s3://{s3.bucket}/{key}"),
        }
    )


ASSIGNMENT_COLUMNS = [
    "id",
    "created_at",
    "clean_text",
    "source",
    "user_screen_name",
    "user_followers",
    "in_reply_to_screen_name",
    "mentions",
    "hashtags",
    "user_location",
    "place_country",
]


@dg.asset(
    deps=[filtered_tweets, topic_model],
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="topics",
    kinds={"spark", "parquet"},
    automation_condition=dg.AutomationCondition.eager(),
)
def tweet_topic_assignments(
    context: dg.AssetExecutionContext,
    config: AssignmentConfig,
    s3: S3Store,
    layout: Layout,
    pyspark: LazyPySparkResource,
) -> dg.MaterializeResult:
    """Each tweet's topic distribution, dominant topic and its probability, per hour, from one model version."""
    from pyspark.sql import functions as F

    version = resolve_model_version(s3, layout, config.model_version)
    model, _ = load_pipeline_model(s3, layout, version)
    keys = list(context.partition_keys)
    parts = []
    for key in keys:
        hour_table = read_filtered_hours(s3, layout, [parse_partition_key(key)], ASSIGNMENT_COLUMNS)
        parts.append(hour_table.append_column("partition", pa.array([key] * hour_table.num_rows, pa.string())))
    table = pa.concat_tables(parts)
    spark = pyspark.spark_session
    frame = spark.read.parquet(str(write_local_parquet(table, stage_dir(layout, "assign-input", keys[0]))))
    scored = dominant_topics(model.transform(frame.withColumn("processed_text", cleaned_text_column("clean_text"))))
    out_columns = [*ASSIGNMENT_COLUMNS, "partition", "topic_probabilities", "dominant_topic", "dominant_prob"]
    result = scored.select(*out_columns).withColumn("model_version", F.lit(version)).orderBy("partition", "id")
    output = result.toArrow()
    per_hour = {}
    for key in keys:
        hour_rows = output.filter(pc.equal(output["partition"], key)).drop_columns(["partition"])
        unassigned = int(pc.sum(pc.equal(hour_rows["dominant_topic"], -1)).as_py() or 0)
        stats = {"partition": key, "model_version": version, "tweets": hour_rows.num_rows, "unassigned": unassigned}
        s3.replace_prefix(
            layout.predictions(parse_partition_key(key)),
            {
                "part.parquet": (parquet_bytes(hour_rows), "application/vnd.apache.parquet"),
                METADATA_FILE: (json.dumps(stats, indent=2).encode(), "application/json"),
            },
            commit_last=METADATA_FILE,
        )
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
