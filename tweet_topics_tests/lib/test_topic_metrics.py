"""The online-VB model's metrics come from one pass over the cached blocks: they must equal Spark's own
``describeTopics``, ``logLikelihood`` and the NPMI job they replaced (real Spark, a planted corpus)."""

import tempfile

from tweet_topics.lib.topics import lda
from tweet_topics.lib.topics.pipeline import LdaParams
from tweet_topics.lib.topics.planted import PlantedShape, planted_corpus
from tweet_topics.lib.topics.vectorize import vectorize


def test_vb_metrics_equal_sparks_own(spark):
    texts, _ = planted_corpus(PlantedShape(docs=1_500), seed=3)
    frame = spark.createDataFrame(list(enumerate(texts)), "row long, processed_text string").cache()
    params = LdaParams(metric_sample=10**6)  # every document: the same sample as Spark's
    vectorized = vectorize(frame, params, [])
    try:
        fitted = lda.fit_lda(vectorized, params, tempfile.mkdtemp(), restarts=1)
        spark_model = fitted.model.stages[-1]
        described = spark_model.describeTopics(params.top_n).orderBy("topic").collect()
        assert [t["term_indices"] for t in fitted.topics] == [[int(i) for i in r["termIndices"]] for r in described]
        for topic, row in zip(fitted.topics, described, strict=True):
            assert max(abs(a - b) for a, b in zip(topic["weights"], row["termWeights"], strict=True)) < 1e-9
        ll, tokens, sampled = lda._spark_log_likelihood(spark_model, vectorized, params)
        assert fitted.metrics["metric_sample_documents"] == sampled == vectorized.documents
        # Spark's E-step starts from its own random gamma: the bounds agree to ~1e-6, not exactly.
        assert abs(fitted.metrics["log_likelihood"] - ll) < 1e-4 * abs(ll)
        assert abs(fitted.metrics["log_perplexity"] - (-ll / tokens)) < 1e-3
        npmi = lda.npmi_from_blocks(vectorized.blocks, [t["term_indices"] for t in fitted.topics])
        assert [t["coherence_npmi"] for t in fitted.topics] == npmi
    finally:
        vectorized.release()
        frame.unpersist()
