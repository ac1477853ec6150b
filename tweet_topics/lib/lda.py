"""The Spark ML topic pipeline: tokenizer -> stop words -> CountVectorizer -> (IDF) -> LDA, plus its metrics.

pyspark is imported inside functions so that loading the Dagster definitions stays fast.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from tweet_topics.lib.evaluation import npmi_coherence, topic_diversity

TEXT_COLUMN = "processed_text"


class TopicModelError(ValueError):
    """Input that cannot give a model (too few documents, empty vocabulary); the message names the cause."""


@dataclass(frozen=True)
class LdaParams:
    """Hyper-parameters. Defaults are the project's tuned values (see README, "Topic model tuning")."""

    k: int = 6
    optimizer: str = "online"
    max_iter: int = 30
    learning_offset: float = 1.0
    learning_decay: float = 0.51
    subsampling_rate: float = 0.1
    optimize_doc_concentration: bool = True
    doc_concentration: float | None = None  # None: Spark's default (1/k)
    topic_concentration: float | None = None
    min_token_length: int = 3  # the reference's 5 dropped nasa, mars, moon and webb
    min_df: float = 5.0
    max_df: float = 0.3
    vocab_size: int = 20_000
    use_idf: bool = False  # LDA wants counts; TF-IDF with EM gives NaN perplexity
    seed: int = 88
    top_n: int = 10

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The reference's settings (4_data_processing.ipynb), kept as a documented preset.
REFERENCE_PRESET = LdaParams(
    k=4,
    optimizer="em",
    max_iter=85,
    learning_offset=1024.0,
    learning_decay=0.51,
    subsampling_rate=0.05,
    optimize_doc_concentration=True,
    min_token_length=5,
    min_df=5.0,
    max_df=0.75,
    vocab_size=262_144,
    use_idf=True,
    seed=88,
)


@dataclass
class FittedTopics:
    model: Any  # pyspark.ml.PipelineModel
    vocabulary: list[str]
    topics: list[dict[str, Any]]  # [{"topic": i, "terms": [...], "weights": [...]}]
    metrics: dict[str, Any] = field(default_factory=dict)


def build_pipeline(params: LdaParams, stop_words: list[str]) -> Any:
    from pyspark.ml import Pipeline
    from pyspark.ml.clustering import LDA
    from pyspark.ml.feature import IDF, CountVectorizer, RegexTokenizer, StopWordsRemover

    stages: list[Any] = [
        RegexTokenizer(
            inputCol=TEXT_COLUMN,
            outputCol="tokens",
            pattern=r"\s+",
            minTokenLength=params.min_token_length,
            toLowercase=True,
        ),
        StopWordsRemover(
            inputCol="tokens",
            outputCol="terms",
            stopWords=sorted(set(StopWordsRemover.loadDefaultStopWords("english")) | set(stop_words)),
        ),
        CountVectorizer(
            inputCol="terms", outputCol="counts", minDF=params.min_df, maxDF=params.max_df, vocabSize=params.vocab_size
        ),
    ]
    features = "counts"
    if params.use_idf:
        stages.append(IDF(inputCol="counts", outputCol="tfidf"))
        features = "tfidf"
    lda = LDA(
        featuresCol=features,
        topicDistributionCol="topic_distribution",
        k=params.k,
        optimizer=params.optimizer,
        maxIter=params.max_iter,
        seed=params.seed,
        learningOffset=params.learning_offset,
        learningDecay=params.learning_decay,
        subsamplingRate=params.subsampling_rate,
        optimizeDocConcentration=params.optimize_doc_concentration,
    )
    if params.doc_concentration is not None:
        lda.setDocConcentration([params.doc_concentration] * params.k)
    if params.topic_concentration is not None:
        lda.setTopicConcentration(params.topic_concentration)
    stages.append(lda)
    return Pipeline(stages=stages)


@dataclass
class Vectorized:
    """The corpus after the text stages: shared by every (k, seed) candidate, so restarts and a k sweep
    tokenize and count once."""

    text_model: Any  # PipelineModel of tokenizer, stop words, CountVectorizer (and IDF)
    features: Any  # cached DataFrame with the LDA input column
    vocabulary: list[str]
    term_sets: list[list[int]]  # term indices per document, for NPMI
    documents: int
    tokens: float  # sum of the LDA input vectors: Spark's logPerplexity is -logLikelihood / tokens


def vectorize(corpus: Any, params: LdaParams, stop_words: list[str]) -> Vectorized:
    """Fit the text stages on a DataFrame with ``processed_text``; raise TopicModelError on unusable input."""
    from pyspark.ml import Pipeline

    docs = corpus.count()
    if docs < max(params.k, 2):
        raise TopicModelError(f"corpus has {docs} documents, fewer than k={params.k}: widen the corpus window")
    if params.min_df >= 1 and docs < params.min_df:
        raise TopicModelError(f"corpus has {docs} documents, fewer than min_df={params.min_df:g}")
    stages = build_pipeline(params, stop_words).getStages()
    # Fit the text stages apart so an empty vocabulary is reported as such, not as a Spark stack trace.
    text_model = Pipeline(stages=stages[:-1]).fit(corpus)
    vocabulary = list(text_model.stages[2].vocabulary)
    if len(vocabulary) < params.k:
        raise TopicModelError(
            f"vocabulary has {len(vocabulary)} terms after min_df={params.min_df:g}/max_df={params.max_df:g} and "
            f"stop words, fewer than k={params.k}: lower min_df or add documents"
        )
    features = text_model.transform(corpus).cache()
    column = "tfidf" if params.use_idf else "counts"
    vectors = [row[column] for row in features.select(column).collect()]
    term_sets = [list(v.indices) for v in vectors]
    tokens = float(sum(v.values.sum() for v in vectors))
    return Vectorized(text_model, features, vocabulary, term_sets, docs, tokens)


def fit_lda(vectorized: Vectorized, params: LdaParams) -> FittedTopics:
    """Fit LDA (``params.k``, ``params.seed``) on vectorized documents and measure it."""
    from pyspark.ml import PipelineModel

    if len(vectorized.vocabulary) < params.k:
        raise TopicModelError(f"vocabulary has {len(vectorized.vocabulary)} terms, fewer than k={params.k}")
    lda = build_pipeline(params, []).getStages()[-1]
    lda_model = lda.fit(vectorized.features)
    model = PipelineModel(stages=[*vectorized.text_model.stages, lda_model])
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
    coherence = npmi_coherence([t["term_indices"] for t in topics], vectorized.term_sets)
    for topic, score in zip(topics, coherence, strict=True):
        topic["coherence_npmi"] = score
    # One variational pass: Spark's logPerplexity is the same pass divided by the token count.
    log_likelihood = float(lda_model.logLikelihood(vectorized.features))
    metrics = {
        "documents": vectorized.documents,
        "vocabulary_size": len(vectorized.vocabulary),
        "log_likelihood": log_likelihood,
        "log_perplexity": -log_likelihood / vectorized.tokens if vectorized.tokens else float("nan"),
        "coherence_npmi": float(sum(coherence) / len(coherence)),
        "topic_diversity": topic_diversity([t["term_indices"] for t in topics]),
    }
    bad = [name for name, value in metrics.items() if isinstance(value, float) and not math.isfinite(value)]
    if bad:
        raise TopicModelError(f"non-finite metrics {bad}: check the corpus (empty documents?) and use_idf=False")
    return FittedTopics(model=model, vocabulary=vectorized.vocabulary, topics=topics, metrics=metrics)


def fit_topics(corpus: Any, params: LdaParams, stop_words: list[str]) -> FittedTopics:
    """One fit: vectorize, then LDA with ``params``."""
    vectorized = vectorize(corpus, params, stop_words)
    try:
        return fit_lda(vectorized, params)
    finally:
        vectorized.features.unpersist()


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
    corpus: Any, params: LdaParams, stop_words: list[str], k_values: list[int] | None = None, restarts: int = 1
) -> tuple[FittedTopics, list[dict[str, Any]]]:
    """Fit every (k, seed) candidate on one vectorized corpus and keep the most coherent; returns it and the
    candidates table.

    Online LDA can settle in a local optimum that merges two topics; a few restarts with other seeds,
    chosen by NPMI coherence, avoid that (README: "Topic model").
    """
    import dataclasses

    vectorized = vectorize(corpus, dataclasses.replace(params, k=min(k_values or [params.k])), stop_words)
    best: FittedTopics | None = None
    table = []
    try:
        for k in k_values or [params.k]:
            for attempt in range(max(restarts, 1)):
                candidate = dataclasses.replace(params, k=k, seed=params.seed + attempt)
                fitted = fit_lda(vectorized, candidate)
                fitted.metrics["k"], fitted.metrics["seed"] = k, candidate.seed
                table.append(
                    {
                        name: fitted.metrics[name]
                        for name in (
                            "k",
                            "seed",
                            "coherence_npmi",
                            "topic_diversity",
                            "log_perplexity",
                            "log_likelihood",
                        )
                    }
                )
                if best is None or fitted.metrics["coherence_npmi"] > best.metrics["coherence_npmi"]:
                    best = fitted
    finally:
        vectorized.features.unpersist()
    assert best is not None
    return best, table
