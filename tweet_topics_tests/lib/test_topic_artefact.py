"""The online-VB pipeline the driver writes itself (``lib/topics/artefact.py``) is Spark's saved model: Spark
loads it, holds exactly the fitted state, and Spark's own save of it has the same files and contents."""

import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from tweet_topics.lib.topics import lda
from tweet_topics.lib.topics.lda import dominant_topics
from tweet_topics.lib.topics.pipeline import LdaParams
from tweet_topics.lib.topics.planted import PlantedShape, planted_corpus
from tweet_topics.lib.topics.vectorize import vectorize


def _files(root: Path) -> dict[str, Path]:
    """Relative path (Spark's per-save UUIDs masked) -> file, without checksum files."""
    uuid = r"-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
    return {
        re.sub(uuid, "-<uuid>", p.relative_to(root).as_posix()): p
        for p in root.rglob("*")
        if p.is_file() and p.suffix != ".crc"
    }


def _strip(metadata: dict) -> dict:
    return {k: v for k, v in metadata.items() if k not in ("timestamp", "defaultParamMap")}


def test_driver_written_pipeline_is_sparks_own_model(spark, tmp_path):
    from pyspark.ml import PipelineModel

    texts, truth = planted_corpus(PlantedShape(docs=1_200), seed=5)
    frame = spark.createDataFrame(list(enumerate(texts)), "row long, processed_text string").cache()
    vectorized = vectorize(frame, LdaParams(), ["custom"])
    try:
        fitted = lda.fit_lda(vectorized, LdaParams(), tempfile.mkdtemp(), restarts=1)
        assert fitted.write_local(tmp_path / "ours")
        ours = PipelineModel.load(str(tmp_path / "ours"))
        # What Spark loaded is the driver's state: lambda, priors, vocabulary, the text stages' settings.
        tokenizer, remover, counter, model = ours.stages
        lam = fitted.state.lam
        assert np.array_equal(model.topicsMatrix().toArray(), lam.T)
        assert model.getK() == len(lam) and model.vocabSize() == lam.shape[1]
        assert model.getDocConcentration() == [fitted.state.alpha] * len(lam)
        assert model.getTopicConcentration() == fitted.state.eta
        assert counter.vocabulary == fitted.vocabulary
        assert "custom" in remover.getStopWords() and tokenizer.getMinTokenLength() == 3
        # Spark's own save of the loaded pipeline: the same files, the same settings, the same data.
        ours.write().save(str(tmp_path / "spark"))
        mine, sparks = _files(tmp_path / "ours"), _files(tmp_path / "spark")
        assert sorted(mine) == sorted(sparks)
        for name, path in mine.items():
            if name.endswith(".txt"):
                assert _strip(json.loads(path.read_text())) == _strip(json.loads(sparks[name].read_text()))
            elif name.endswith(".parquet"):
                assert pq.read_table(path).equals(pq.read_table(sparks[name]))
        # Scored by Spark, the model recovers the planted themes (what tweet_topic_assignments relies on).
        scored = dominant_topics(ours.transform(frame)).select("row", "dominant_topic").collect()
        by_row = {r[0]: r[1] for r in scored}
        from tweet_topics.lib.topics.evaluation import recovery_accuracy

        assert recovery_accuracy(truth, [by_row[i] for i in range(len(truth))])[0] > 0.95
        # The lazily loaded model (bench, tests) is the same pipeline.
        again = dominant_topics(fitted.model.transform(frame)).select("row", "dominant_topic").collect()
        assert {r[0]: r[1] for r in again} == by_row
    finally:
        vectorized.release()
        frame.unpersist()


def test_spark_optimizers_keep_sparks_writer(spark, tmp_path):
    """Spark's own optimizers have no driver state to write: ``write_local`` declines, ``model`` is Spark's."""
    texts, _ = planted_corpus(PlantedShape(docs=400), seed=6)
    frame = spark.createDataFrame(list(enumerate(texts)), "row long, processed_text string")
    params = LdaParams(optimizer="online", max_iter=2)
    vectorized = vectorize(frame, params, [])
    try:
        fitted = lda.fit_lda(vectorized, params)
        assert not fitted.write_local(tmp_path / "ours") and not (tmp_path / "ours").exists()
        assert type(fitted.model.stages[-1]).__name__ == "LocalLDAModel"
    finally:
        vectorized.release()
