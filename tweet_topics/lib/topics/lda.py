"""The Spark ML topic pipeline: tokenizer -> stop words -> CountVectorizer -> (IDF) -> LDA, plus its metrics.

pyspark is imported inside functions so that loading the Dagster definitions stays fast.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tweet_topics.lib.topics.evaluation import npmi_from_counts, topic_diversity
from tweet_topics.lib.topics.pipeline import LdaParams, TopicModelError, build_pipeline
from tweet_topics.lib.topics.vectorize import Vectorized, vectorize


@dataclass
class FittedTopics:
    model: Any  # pyspark.ml.PipelineModel
    vocabulary: list[str]
    topics: list[dict[str, Any]]  # [{"topic": i, "terms": [...], "weights": [...]}]
    metrics: dict[str, Any] = field(default_factory=dict)


def fit_lda(vectorized: Vectorized, params: LdaParams, scratch: str | None = None, restarts: int = 1) -> FittedTopics:
    """Fit LDA with ``params.k`` (best of ``restarts`` seeds from ``params.seed``) and measure only the winner.

    ``scratch`` is a directory every Spark node can read and write (the online-VB model is handed to Spark
    through its own file format there); by default a driver temp dir, which only ``local[*]`` shares.
    """
    from pyspark.ml import PipelineModel

    if len(vectorized.vocabulary) < params.k:
        raise TopicModelError(f"vocabulary has {len(vectorized.vocabulary)} terms, fewer than k={params.k}")
    seeds = [params.seed + attempt for attempt in range(max(restarts, 1))]
    started = time.perf_counter()
    if params.optimizer == "vb":
        from tweet_topics.lib.topics.online_vb import Schedule, fit_online, spark_lda_model

        schedule = Schedule.for_corpus(
            vectorized.documents,
            params.batch_docs,
            params.max_updates,
            params.min_visits,
            params.learning_offset,
            params.learning_decay,
            params.converged,
        )
        alpha = params.doc_concentration or 1.0 / params.k
        eta = params.topic_concentration or 1.0 / params.k
        lam, candidates, progress = fit_online(
            vectorized.blocks, vectorized.documents, len(vectorized.vocabulary), params.k, seeds, alpha, eta, schedule
        )
        chosen = next(c for c in candidates if c["chosen"])
        spark = vectorized.corpus.sparkSession
        lda_model = spark_lda_model(spark, lam, alpha, eta, chosen["seed"], scratch or tempfile.mkdtemp())
    else:
        lda_model, chosen, candidates = _fit_spark_lda(vectorized, params, seeds)
    model = PipelineModel(stages=[*vectorized.text_model.stages, lda_model])
    fit_seconds = time.perf_counter() - started
    fitted = describe(model, vectorized, params)
    fitted.metrics["seconds"] = {"fit": fit_seconds, "metrics": time.perf_counter() - started - fit_seconds}
    fitted.metrics.update({"k": params.k, "seed": chosen["seed"]})
    if params.optimizer == "vb":
        fitted.metrics["progress"] = progress
    for row in candidates:
        row.update(fitted.metrics if row is chosen else {"coherence_npmi": float("nan")})
    fitted.metrics["candidates"] = candidates
    return fitted


def _fit_spark_lda(vectorized: Vectorized, params: LdaParams, seeds: list[int]) -> tuple[Any, dict, list[dict]]:
    """Spark ML's own online/EM LDA (the reference preset): every seed fitted in full, the most coherent kept."""
    import dataclasses

    best: tuple[float, Any, dict] | None = None
    table = []
    for seed in seeds:
        lda = build_pipeline(dataclasses.replace(params, seed=seed), []).getStages()[-1]
        lda_model = lda.fit(vectorized.features)
        described = lda_model.describeTopics(params.top_n).orderBy("topic").collect()
        terms = [[int(i) for i in r["termIndices"]] for r in described]
        score = float(np.mean(npmi_from_blocks(vectorized.blocks, terms)))
        row = {"k": params.k, "seed": seed, "coherence_npmi": score, "chosen": False}
        table.append(row)
        if best is None or score > best[0]:
            best = (score, lda_model, row)
    assert best is not None
    best[2]["chosen"] = True
    return best[1], best[2], table


def npmi_from_blocks(blocks: Any, top_terms: list[list[int]]) -> list[float]:
    """NPMI per topic from co-document counts of the top terms, aggregated in Spark (top-term pairs only)."""
    from tweet_topics.lib.topics.online_vb import top_term_cooccurrence

    terms = np.array(sorted({t for topic in top_terms for t in topic}), dtype=np.int64)
    co, df, docs = blocks.mapPartitions(lambda it: [top_term_cooccurrence(list(it), terms)]).reduce(
        lambda a, b: (a[0] + b[0], a[1] + b[1], a[2] + b[2])
    )
    column = {int(t): i for i, t in enumerate(terms)}
    return npmi_from_counts([[column[t] for t in topic] for topic in top_terms], co, df, docs)


def describe(model: Any, vectorized: Vectorized, params: LdaParams) -> FittedTopics:
    """Top terms, NPMI (in Spark) and the log-likelihood bound on a bounded sample, for one fitted model."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    lda_model = model.stages[-1]
    described = lda_model.describeTopics(params.top_n).orderBy("topic").collect()
    topics = [
        {
            "topic": int(r["topic"]),
            "term_indices": [int(i) for i in r["termIndices"]],
            "terms": [vectorized.vocabulary[i] for i in r["termIndices"]],
            "weights": [float(w) for w in r["termWeights"]],
        }
        for r in described
    ]
    coherence = npmi_from_blocks(vectorized.blocks, [t["term_indices"] for t in topics])
    for topic, score in zip(topics, coherence, strict=True):
        topic["coherence_npmi"] = score
    fraction = min(1.0, params.metric_sample / max(vectorized.documents, 1))
    column = "tfidf" if params.use_idf else "counts"
    sample = vectorized.text_model.transform(vectorized.corpus.sample(False, fraction, params.seed)).cache()
    tokens = sample.select(F.sum(F.aggregate(vector_to_array(column), F.lit(0.0), lambda a, x: a + x))).first()[0]
    log_likelihood = float(lda_model.logLikelihood(sample))
    sample.unpersist()
    metrics = {
        "documents": vectorized.documents,
        "vocabulary_size": len(vectorized.vocabulary),
        "metric_sample_documents": round(fraction * vectorized.documents),
        "log_likelihood": log_likelihood,
        "log_perplexity": -log_likelihood / tokens if tokens else float("nan"),
        "coherence_npmi": float(sum(coherence) / len(coherence)),
        "topic_diversity": topic_diversity([t["term_indices"] for t in topics]),
    }
    bad = [name for name, value in metrics.items() if isinstance(value, float) and not math.isfinite(value)]
    if bad:
        raise TopicModelError(f"non-finite metrics {bad}: check the corpus (empty documents?) and use_idf=False")
    return FittedTopics(model=model, vocabulary=vectorized.vocabulary, topics=topics, metrics=metrics)


def fit_topics(corpus: Any, params: LdaParams, stop_words: list[str], scratch: str | None = None) -> FittedTopics:
    """One fit: vectorize, then LDA with ``params``."""
    vectorized = vectorize(corpus, params, stop_words)
    try:
        return fit_lda(vectorized, params, scratch)
    finally:
        vectorized.release()


def dominant_topics(predictions: Any) -> Any:
    """Add ``dominant_topic`` (argmax, first on ties; -1 for documents with no known term) and its probability."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    probs = vector_to_array("topic_distribution")
    best = F.array_max(probs)
    return (
        predictions.withColumn("topic_probabilities", probs)
        .withColumn("dominant_prob", best)
        .withColumn(
            "dominant_topic",
            F.when(~F.exists(vector_to_array("counts"), lambda c: c > 0), F.lit(-1)).otherwise(
                F.array_position(probs, best) - 1
            ),
        )
    )


def fit_best(
    corpus: Any,
    params: LdaParams,
    stop_words: list[str],
    scratch: str,
    k_values: list[int] | None = None,
    restarts: int = 1,
) -> tuple[FittedTopics, list[dict[str, Any]]]:
    """Fit every k (each the best of ``restarts`` seeds) on one vectorized corpus; the most coherent k wins.

    Online LDA can settle in a local optimum that merges two topics; restarts screened on held-out
    likelihood avoid that at a fraction of a full fit each (README: "Topic model").
    """
    import dataclasses

    started = time.perf_counter()
    vectorized = vectorize(corpus, dataclasses.replace(params, k=min(k_values or [params.k])), stop_words)
    vectorize_seconds = time.perf_counter() - started
    best: FittedTopics | None = None
    table: list[dict[str, Any]] = []
    try:
        for k in k_values or [params.k]:
            fitted = fit_lda(vectorized, dataclasses.replace(params, k=k), scratch, restarts)
            table.extend(_candidate_row(c) for c in fitted.metrics.pop("candidates"))
            if best is None or fitted.metrics["coherence_npmi"] > best.metrics["coherence_npmi"]:
                best = fitted
    finally:
        vectorized.release()
    assert best is not None
    best.metrics["seconds"]["vectorize"] = vectorize_seconds
    return best, table


def _candidate_row(row: dict[str, Any]) -> dict[str, Any]:
    names = ("k", "seed", "chosen", "screen_log_likelihood", "coherence_npmi", "topic_diversity", "log_perplexity")
    return {name: row.get(name, float("nan")) for name in names}
