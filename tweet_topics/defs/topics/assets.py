"""Topic assets: topic_corpus -> topic_model (versioned) -> topic_terms, and hourly tweet_topic_assignments.

Recipes only: the corpus and LDA algorithms live in ``lib/topics/`` (``corpus.py``, ``lda.py``); where data lives is
the storage layer's; how Spark reads and writes it is ``spark_io.py``.
"""

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import pyarrow as pa
from dagster_pyspark import LazyPySparkResource
from pydantic import Field

from tweet_topics.config import STOPWORDS_FILE
from tweet_topics.defs.topics import spark_io
from tweet_topics.lib.combine import table_to_csv
from tweet_topics.lib.filtering import read_term_file
from tweet_topics.lib.naming import markdown_table, topic_names, window_label
from tweet_topics.lib.promotion import Promotion, decide
from tweet_topics.lib.topics.corpus import CORPUS_INPUT_COLUMNS, corpus_stats, file_count, fingerprint, group_texts
from tweet_topics.lib.topics.corpus import documents as corpus_documents
from tweet_topics.lib.topics.lda import fit_best
from tweet_topics.lib.topics.pipeline import REFERENCE_PRESET, LdaParams, StageClock, TopicModelError
from tweet_topics.storage.catalog import FILTERED_PARQUET, Storage
from tweet_topics.storage.keys import parse_partition_key, partition_key

_DEFAULTS = LdaParams()


class CorpusConfig(dg.Config):
    window_hours: int = Field(168, ge=1, description="hours of filtered_tweets ending at `end`")
    end: str | None = Field(None, description="last hour (partition key); default: newest filtered hour")
    start: str | None = Field(None, description="first hour (partition key); overrides window_hours")


class TopicModelConfig(dg.Config):
    """LDA settings; defaults are the tuned project values. ``preset: reference`` starts from the reference
    notebook's settings instead (fields set explicitly still win)."""

    preset: Literal["project", "reference"] = Field("project", description="project: tuned; reference: the notebook's")
    k: int = Field(_DEFAULTS.k, ge=2)
    k_values: list[int] = Field([], description="optional sweep; the most coherent k wins")
    restarts: int = Field(
        3, ge=1, description="seeds per k; vb screens them on held-out likelihood, the best continues"
    )
    optimizer: Literal["vb", "online", "em"] = _DEFAULTS.optimizer
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
    batch_docs: int = Field(_DEFAULTS.batch_docs, ge=10, description="vb: documents per update")
    max_updates: int = Field(_DEFAULTS.max_updates, ge=2, description="vb: updates (Spark jobs) per pass at most")
    min_visits: int = Field(_DEFAULTS.min_visits, ge=0, description="vb: small corpora get passes up to this")
    metric_sample: int = Field(_DEFAULTS.metric_sample, ge=100, description="documents for the perplexity bound")
    stopwords_file: str = str(STOPWORDS_FILE)

    def params(self) -> LdaParams:
        fields = self.model_dump(exclude={"preset", "k_values", "restarts", "stopwords_file"})
        if self.preset == "project":
            return LdaParams(**fields)
        return dataclasses.replace(REFERENCE_PRESET, **{f: fields[f] for f in self.model_fields_set if f in fields})


class TopicTermsConfig(dg.Config):
    topic_names: dict[str, str] = Field({}, description="topic index -> name; unnamed topics use top 3 terms")


def _key(entry: dict) -> str:
    return entry["key"]


@dg.asset(deps=["filtered_tweets"], group_name="topics", kinds={"spark", "parquet"}, pool="spark")
def topic_corpus(
    context: dg.AssetExecutionContext, config: CorpusConfig, storage: Storage, pyspark: LazyPySparkResource
) -> dg.MaterializeResult:
    """Cleaned, deduplicated texts of a window of filtered hours, for fitting the topic model."""
    available = storage.filtered.committed_hours()
    if not available:
        raise TopicModelError("no filtered_tweets hours exist yet: materialize filtered_tweets first")
    end = parse_partition_key(config.end) if config.end else available[-1]
    start = parse_partition_key(config.start) if config.start else end - timedelta(hours=config.window_hours - 1)
    hours = [h for h in available if start <= h <= end]
    if not hours:
        raise TopicModelError(f"no filtered_tweets hours between {partition_key(start)} and {partition_key(end)}")
    window = window_label(start, end)
    clock = StageClock()
    spark = clock.run("session", lambda: pyspark.spark_session)
    tweets = spark_io.read_hours(spark, storage.filtered, storage, hours, FILTERED_PARQUET, CORPUS_INPUT_COLUMNS)
    grouped = group_texts(tweets).cache()
    try:
        input_tweets, documents, content = clock.run("read_and_group", lambda: corpus_stats(grouped))
        files = file_count(documents, spark.sparkContext.defaultParallelism)
        corpus = corpus_documents(grouped).coalesce(files).sortWithinPartitions("id")
        written = clock.run(
            "write", lambda: spark_io.write_version_files(corpus, storage, storage.corpus, window, "data")
        )
    finally:
        grouped.unpersist()
    manifest = {
        "version": window,
        "window": window,
        "start": partition_key(start),
        "end": partition_key(end),
        "hours": len(hours),
        "input_tweets": input_tweets,
        "documents": documents,
        "duplicates_removed": input_tweets - documents,
        "fingerprint": fingerprint(window, documents, content),
        "files": sorted(({"key": o["key"], "sha256": o["sha256"], "bytes": o["bytes"]} for o in written), key=_key),
    }
    uri = clock.run("commit", lambda: storage.corpus.commit(window, manifest))
    context.log.info(f"corpus {window}: {documents} documents from {input_tweets} tweets in {len(hours)} hours")
    return dg.MaterializeResult(
        metadata={
            **manifest,
            "dagster/row_count": documents,
            "path": dg.MetadataValue.path(uri),
            "seconds": clock.seconds,
        }
    )


PROMOTED_CHECK = "promoted"


@dg.asset(
    deps=[topic_corpus],
    group_name="topics",
    kinds={"spark"},
    pool="spark",
    check_specs=[
        dg.AssetCheckSpec(
            PROMOTED_CHECK,
            asset="topic_model",
            description="the new version passed the promotion gate and is models/latest.json (WARN: a refused "
            "version is committed, the previous latest keeps serving)",
        )
    ],
)
def topic_model(
    context: dg.AssetExecutionContext, config: TopicModelConfig, storage: Storage, pyspark: LazyPySparkResource
) -> dg.MaterializeResult:
    """A fitted Spark PipelineModel, versioned by corpus and settings, with quality metrics in model.json; it
    becomes the latest version only through the promotion gate (``lib/promotion.py``)."""
    import pyspark as pyspark_module

    corpus_version = storage.corpus.latest()
    corpus_info = storage.corpus.manifest(corpus_version)
    clock = StageClock()
    spark = clock.run("session", lambda: pyspark.spark_session)
    if "files" not in corpus_info:
        raise TopicModelError(f"corpus {corpus_version} predates the file list in its manifest: rematerialize it")
    objects = [(entry["key"], None, entry["sha256"], int(entry["bytes"])) for entry in corpus_info["files"]]
    corpus = spark_io.read_objects(spark, storage, objects, ["id", "processed_text"]).cache()
    params = config.params()
    stop_words = read_term_file(Path(config.stopwords_file))
    scratch = spark_io.shared_dir(storage, "scratch", context.run_id)
    try:
        fitted, candidates = fit_best(corpus, params, stop_words, scratch, config.k_values or None, config.restarts)
    finally:
        corpus.unpersist()
    chosen = {**params.to_dict(), "k": fitted.metrics["k"], "seed": fitted.metrics["seed"]}
    version = fingerprint(corpus_info["fingerprint"], chosen, sorted(stop_words))
    local = clock.run("save", lambda: spark_io.save_fitted(fitted, storage, version))
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
    promotion = _gate(storage, manifest)
    manifest["promotion"] = promotion.to_dict()
    uri = clock.run("upload", lambda: storage.models.write(version, local, manifest, promote=promotion.promoted))
    measured = f"NPMI {fitted.metrics['coherence_npmi']:.3f}, diversity {fitted.metrics['topic_diversity']:.3f}"
    (context.log.info if promotion.promoted else context.log.warning)(
        f"model {version} ({measured}): {promotion.summary()}"
    )
    metadata = {"version": version, **_model_metadata(fitted.metrics, fitted.topics, candidates)}
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "promoted": promotion.promoted,
            "promotion": promotion.summary(),
            "path": dg.MetadataValue.path(uri),
            "seconds": {**clock.seconds, **{k: round(v, 3) for k, v in fitted.metrics["seconds"].items()}},
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=PROMOTED_CHECK,
                passed=promotion.promoted and not promotion.first,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "version": version,
                    "latest": storage.models.latest() if storage.models.exists_latest() else "none",
                    "reasons": "; ".join(promotion.reasons) or "none",
                    "forced": promotion.forced,
                    "first_model": promotion.first,
                    "compared_with": promotion.compared_with or "none (no comparable latest)",
                },
            )
        ],
    )


def _gate(storage: Storage, manifest: dict[str, Any]) -> Promotion:
    """The promotion decision for ``manifest`` against the current latest version (if any)."""
    current = None
    if storage.models.exists_latest():
        current = storage.models.manifest(storage.models.latest())
    return decide(manifest, storage.promotion_policy, current)


def _model_metadata(metrics: dict[str, Any], topics: list[dict], candidates: list[dict]) -> dict[str, Any]:
    metric_names = ("documents", "vocabulary_size", "log_likelihood", "log_perplexity", "coherence_npmi")
    return {
        **{name: metrics[name] for name in (*metric_names, "topic_diversity", "k")},
        "top_terms": dg.MetadataValue.md(
            markdown_table(
                ["topic", "top terms", "NPMI"],
                [(t["topic"], ", ".join(t["terms"][:8]), f"{t['coherence_npmi']:.3f}") for t in topics],
            )
        ),
        "candidates": dg.MetadataValue.md(
            markdown_table(
                ["k", "seed", "chosen", "screening log-lik/token", "NPMI", "log perplexity"],
                [
                    (
                        c["k"],
                        c["seed"],
                        "yes" if c["chosen"] else "",
                        f"{c['screen_log_likelihood']:.3f}",
                        f"{c['coherence_npmi']:.3f}",
                        f"{c['log_perplexity']:.3f}",
                    )
                    for c in candidates
                ],
            )
        ),
    }


@dg.asset(deps=[topic_model], group_name="topics", kinds={"s3", "csv"})
def topic_terms(config: TopicTermsConfig, storage: Storage) -> dg.MaterializeResult:
    """Topic x top term x weight for the latest model, with a readable name per topic."""
    version = storage.models.latest()
    manifest = storage.models.manifest(version)
    names = topic_names(manifest["topics"], config.topic_names)
    rows = [
        {"topic": t["topic"], "topic_name": names[t["topic"]], "rank": rank, "term": term, "weight": weight}
        for t in manifest["topics"]
        for rank, (term, weight) in enumerate(zip(t["terms"], t["weights"], strict=True), start=1)
    ]
    uri = storage.models.put(version, "topic_terms.csv", table_to_csv(pa.Table.from_pylist(rows)), "text/csv")
    storage.put_topic_names(version, names)
    return dg.MaterializeResult(
        metadata={
            "model_version": version,
            "dagster/row_count": len(rows),
            "topics": dg.MetadataValue.md(markdown_table(["topic", "name"], names.items())),
            "path": dg.MetadataValue.path(uri),
        }
    )
