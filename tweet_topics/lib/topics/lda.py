"""The Spark ML topic pipeline: tokenizer -> stop words -> CountVectorizer -> (IDF) -> LDA, plus its metrics.

pyspark is imported inside functions so that loading the Dagster definitions stays fast.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tweet_topics.lib.topics import artefact
from tweet_topics.lib.topics.artefact import LdaState
from tweet_topics.lib.topics.evaluation import documents_bound, npmi_from_counts, topic_diversity, topics_bound
from tweet_topics.lib.topics.online_vb import top_term_cooccurrence
from tweet_topics.lib.topics.pipeline import LdaParams, TopicModelError, build_pipeline
from tweet_topics.lib.topics.vectorize import Vectorized, vectorize


@dataclass
class FittedTopics:
    text_model: Any  # PipelineModel of the text stages (tokenizer, stop words, CountVectorizerModel, IDF)
    vocabulary: list[str]
    topics: list[dict[str, Any]]  # [{"topic": i, "terms": [...], "weights": [...]}]
    metrics: dict[str, Any] = field(default_factory=dict)
    state: LdaState | None = None  # online VB: the model as the driver holds it (lambda and priors)
    spark_lda: Any = None  # Spark's own optimizers: their fitted LDA model
    scratch: str | None = None  # where ``model`` writes the online-VB pipeline for Spark to load
    _model: Any = field(default=None, repr=False)

    @property
    def model(self) -> Any:
        """The fitted Spark ``PipelineModel``. Online VB: written from ``state`` and loaded on first use only (a
        topic run saves its artefact with ``write_local`` and never needs it)."""
        from pyspark.ml import PipelineModel
        from pyspark.sql import SparkSession

        if self._model is None:
            stages = list(self.text_model.stages)
            if self.state is None:
                self._model = PipelineModel(stages=[*stages, self.spark_lda])
            else:
                spark = SparkSession.getActiveSession()
                scratch = self.scratch or tempfile.mkdtemp()
                self._model = artefact.load_pipeline(spark, stages, self.vocabulary, self.state, scratch)
        return self._model

    def write_local(self, directory: Path) -> bool:
        """Write the pipeline into ``directory`` from the driver (no Spark job); False when a stage needs
        Spark's writer (Spark's optimizers, IDF): then save ``model`` with Spark."""
        import pyspark

        stages = list(self.text_model.stages)
        if self.state is None or not artefact.writable(stages):
            return False
        artefact.write_pipeline(directory, stages, self.vocabulary, self.state, pyspark.__version__)
        return True


def fit_lda(vectorized: Vectorized, params: LdaParams, scratch: str | None = None, restarts: int = 1) -> FittedTopics:
    """Fit LDA with ``params.k`` (best of ``restarts`` seeds from ``params.seed``) and measure only the winner.

    ``scratch`` is a directory every Spark node can read (only used if ``FittedTopics.model`` is asked for: the
    online-VB pipeline is then written there for Spark to load); by default a driver temp dir (``local[*]``).
    """
    if len(vectorized.vocabulary) < params.k:
        raise TopicModelError(f"vocabulary has {len(vectorized.vocabulary)} terms, fewer than k={params.k}")
    seeds = [params.seed + attempt for attempt in range(max(restarts, 1))]
    started = time.perf_counter()
    if params.optimizer == "vb":
        from tweet_topics.lib.topics.online_vb import Schedule, fit_online

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
        state, lda_model = LdaState(lam, alpha, eta, chosen["seed"]), None
    else:
        lda_model, chosen, candidates = _fit_spark_lda(vectorized, params, seeds)
        state = None
    fit_seconds = time.perf_counter() - started
    fitted = describe(lda_model, vectorized, params, state)
    fitted.scratch = scratch
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
    terms = np.array(sorted({t for topic in top_terms for t in topic}), dtype=np.int64)
    co, df, docs = blocks.mapPartitions(lambda it: [top_term_cooccurrence(list(it), terms)]).reduce(
        lambda a, b: (a[0] + b[0], a[1] + b[1], a[2] + b[2])
    )
    column = {int(t): i for i, t in enumerate(terms)}
    return npmi_from_counts([[column[t] for t in topic] for topic in top_terms], co, df, docs)


def describe(lda_model: Any, vectorized: Vectorized, params: LdaParams, state: LdaState | None = None) -> FittedTopics:
    """Top terms, NPMI and the log-likelihood bound on a bounded sample (all in Spark), for one fitted model.

    With the online-VB state ``(lambda, alpha, eta)`` everything comes from one pass over the cached blocks and
    ``lambda`` on the driver (issue 27: Spark's ``describeTopics``, a transformed sample and its
    ``logLikelihood`` were 8 Spark jobs and ~1/3 of a small fit's time); Spark's optimizers use Spark's own.
    """
    if state is not None:
        lam = state.lam
        weights = lam / lam.sum(axis=1, keepdims=True)
        top = np.argsort(-weights, axis=1, kind="stable")[:, : params.top_n]
        rows = [(i, top[i].tolist(), weights[i, top[i]].tolist()) for i in range(len(lam))]
    else:
        described = lda_model.describeTopics(params.top_n).orderBy("topic").collect()
        rows = [(int(r["topic"]), [int(i) for i in r["termIndices"]], list(r["termWeights"])) for r in described]
    topics = [
        {
            "topic": topic,
            "term_indices": indices,
            "terms": [vectorized.vocabulary[i] for i in indices],
            "weights": [float(w) for w in weights],
        }
        for topic, indices, weights in rows
    ]
    term_lists = [t["term_indices"] for t in topics]
    if state is not None:
        coherence, log_likelihood, tokens, sampled = _vb_metrics(vectorized, term_lists, state, params)
    else:
        coherence = npmi_from_blocks(vectorized.blocks, term_lists)
        log_likelihood, tokens, sampled = _spark_log_likelihood(lda_model, vectorized, params)
    for topic, score in zip(topics, coherence, strict=True):
        topic["coherence_npmi"] = score
    metrics = {
        "documents": vectorized.documents,
        "vocabulary_size": len(vectorized.vocabulary),
        "metric_sample_documents": sampled,
        "log_likelihood": log_likelihood,
        "log_perplexity": -log_likelihood / tokens if tokens else float("nan"),
        "coherence_npmi": float(sum(coherence) / len(coherence)),
        "topic_diversity": topic_diversity(term_lists),
    }
    bad = [name for name, value in metrics.items() if isinstance(value, float) and not math.isfinite(value)]
    if bad:
        raise TopicModelError(f"non-finite metrics {bad}: check the corpus (empty documents?) and use_idf=False")
    fitted = FittedTopics(vectorized.text_model, vectorized.vocabulary, topics, metrics, state, spark_lda=lda_model)
    return fitted


def _spark_log_likelihood(lda_model: Any, vectorized: Vectorized, params: LdaParams) -> tuple[float, float, int]:
    """(Spark's bound, tokens, documents) on a ``metric_sample`` sample of the corpus."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    fraction = min(1.0, params.metric_sample / max(vectorized.documents, 1))
    column = "tfidf" if params.use_idf else "counts"
    sample = vectorized.text_model.transform(vectorized.corpus.sample(False, fraction, params.seed)).cache()
    tokens = sample.select(F.sum(F.aggregate(vector_to_array(column), F.lit(0.0), lambda a, x: a + x))).first()[0]
    log_likelihood = float(lda_model.logLikelihood(sample))
    sample.unpersist()
    return log_likelihood, tokens, round(fraction * vectorized.documents)


def _vb_metrics(
    vectorized: Vectorized, term_lists: list[list[int]], state: LdaState, params: LdaParams
) -> tuple[list[float], float, float, int]:
    """(NPMI per topic, bound, tokens, documents) from one Spark job over the cached blocks: every document
    counts for NPMI; the first ``metric_sample`` (shuffled) documents, spread over the partitions, get the bound."""
    from functools import partial

    lam, alpha, eta = state.lam, state.alpha, state.eta
    terms = np.array(sorted({t for topic in term_lists for t in topic}), dtype=np.int64)
    blocks = vectorized.blocks
    per_part = max(1, -(-params.metric_sample // max(blocks.getNumPartitions(), 1)))
    shared = blocks.context.broadcast((lam, np.full(len(lam), alpha)))
    task = partial(_metrics_task, terms=terms, shared=shared, sample_docs=per_part, seed=params.seed)
    try:
        co, df, docs, bound, tokens, sampled = blocks.mapPartitionsWithIndex(task).reduce(
            lambda a, b: tuple(x + y for x, y in zip(a, b, strict=True))
        )
    finally:
        shared.destroy()
    column = {int(t): i for i, t in enumerate(terms)}
    coherence = npmi_from_counts([[column[t] for t in topic] for topic in term_lists], co, df, docs)
    return coherence, bound + topics_bound(lam, eta), tokens, int(sampled)


def _metrics_task(index: int, blocks: Any, terms: np.ndarray, shared: Any, sample_docs: int, seed: int) -> Any:
    """One partition's NPMI counts and the bound of its first ``sample_docs`` documents (runs in the executors)."""
    from tweet_topics.lib.topics.online_vb import Batch, dirichlet_expectation, e_step

    blocks = list(blocks)
    co, df, docs = top_term_cooccurrence(blocks, terms)
    lam, alpha = shared.value
    taken, room = [], sample_docs
    for block in blocks:
        if room > 0 and block.docs:
            taken.append(block.rows(0, min(room, block.docs)))
            room -= taken[-1].docs
    sample = Batch.concat(taken)
    elog_beta = dirichlet_expectation(lam)
    bound = 0.0
    if sample.docs:
        rng = np.random.default_rng([seed, index])
        gamma, _ = e_step(sample, np.exp(elog_beta), alpha, rng, 100, 1e-3)
        bound = documents_bound(sample.indptr, sample.ids, sample.cts, gamma, elog_beta, alpha)
    yield co, df, docs, bound, float(sample.cts.sum()), sample.docs


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
