"""What the topic model is made of: its parameters, the Spark ML stages, and the error unusable input raises.

Shared by ``vectorize`` (which fits the text stages) and ``lda`` (which fits the model), so neither imports the other.
pyspark is imported inside functions so that loading the Dagster definitions stays fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


class TopicModelError(ValueError):
    """Input that cannot give a model (too few documents, empty vocabulary); the message names the cause."""


TEXT_COLUMN = "processed_text"


@dataclass
class StageClock:
    """Wall seconds per named stage of a run, for the asset's metadata: where a topic run spends its time."""

    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, work: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return work()
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - started, 3)


@dataclass(frozen=True)
class LdaParams:
    """Hyper-parameters. Defaults are the project's tuned values (docs/datasets.md, "Topic model")."""

    k: int = 6
    optimizer: str = "vb"  # vb: online variational Bayes on the executors (online_lda); online|em: Spark ML's
    max_iter: int = 30  # Spark optimizers only
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
    batch_docs: int = 2_000  # vb: documents per update (gensim's chunksize) ...
    max_updates: int = 48  # ... but at most this many updates (Spark jobs) per pass; larger corpora, larger batches
    min_visits: int = 20_000  # vb: small corpora get passes until this many document visits ...
    converged: float = 0.02  # ... or until a pass gains less than this held-out log-likelihood per token
    metric_sample: int = 2_000  # documents for the log-likelihood bound of the chosen model

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
