"""The model promotion gate in real ``materialize`` runs of ``topic_model`` (moto S3, the shared Spark session):
the first model is promoted even below the floors (its check warns); a planted corpus is promoted; a worse fit of
the same corpus and a fit of noise are committed but not promoted, and the ``promoted`` check fails;
``model_promotion=force`` promotes anyway."""

import dagster as dg
import numpy as np
import pytest

from tweet_topics.defs.topics import spark_io
from tweet_topics.defs.topics.assets import PROMOTED_CHECK, topic_model
from tweet_topics.lib.topics.corpus import fingerprint
from tweet_topics.lib.topics.planted import PlantedShape, planted_corpus
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.clients import ensure_bucket
from tweet_topics_tests.conftest import empty_bucket

DOCS = 1500


def noise_texts(docs: int = DOCS) -> list[str]:
    """Documents of words drawn uniformly from one vocabulary: no topic structure for any fit to find."""
    rng = np.random.default_rng(1)
    words = [f"w{a}{b}{c}x" for a in "bcdfghjklmnp" for b in "aeiou" for c in "klmnprstvz"]  # 600 words
    return [" ".join(rng.choice(words, size=int(rng.integers(8, 17)))) for _ in range(docs)]


def commit_corpus(storage, spark, name: str, texts: list[str]) -> None:
    """A corpus version as topic_corpus commits one (Parquet files, then the manifest naming them)."""
    frame = spark.createDataFrame([(str(i), t) for i, t in enumerate(texts)], ["id", "processed_text"])
    written = spark_io.write_version_files(frame.repartition(2), storage, storage.corpus, name, "data")
    files = sorted(({"key": o["key"], "sha256": o["sha256"], "bytes": o["bytes"]} for o in written), key=str)
    manifest = {"version": name, "documents": len(texts), "fingerprint": fingerprint(name, texts), "files": files}
    storage.corpus.commit(name, manifest)


def with_policy(storage: Storage, **update) -> Storage:
    """The same Storage with other gate settings (a resource's config is what a run initializes it from)."""
    return Storage(**{**{name: getattr(storage, name) for name in Storage.model_fields}, **update})


def fit(resources: dict, storage, **config) -> tuple[dg.ExecuteInProcessResult, dict, dg.AssetCheckEvaluation]:
    run_config = {"ops": {"topic_model": {"config": {"restarts": 1, "k": 6, **config}}}}
    result = dg.materialize([topic_model], resources={**resources, "storage": storage}, run_config=run_config)
    assert result.success
    [materialization] = result.asset_materializations_for_node("topic_model")
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == PROMOTED_CHECK
    return result, {k: v.value for k, v in materialization.metadata.items()}, check


@pytest.fixture(scope="module")
def storage(resources, spark):
    store = resources["storage"].s3
    ensure_bucket(store.aws.client("s3"), store.bucket, "us-east-1")
    empty_bucket(store)
    return resources["storage"]


def test_the_gate_promotes_refuses_and_can_be_forced(resources, spark, storage):
    # Noise into a bucket without a model: promoted all the same (nothing to protect), the check warns.
    commit_corpus(storage, spark, "noise", noise_texts())
    _, meta, check = fit(resources, storage)
    noise = meta["version"]
    assert meta["promoted"] is True and not check.passed and check.metadata["first_model"].value is True
    assert meta["promotion"].startswith("promoted as the first model") and "NPMI coherence" in meta["promotion"]
    assert storage.models.latest() == noise

    planted, _ = planted_corpus(PlantedShape(docs=DOCS, length=(8, 16)), seed=3)
    commit_corpus(storage, spark, "planted", planted)
    _, meta, check = fit(resources, storage)
    good = meta["version"]
    assert meta["promoted"] is True and check.passed and storage.models.latest() == good
    assert meta["coherence_npmi"] > 0.1  # the planted themes' top terms co-occur

    # Same corpus, k=2: floors relaxed, so only the comparison with the latest can refuse it (themes merged:
    # the bound on the same documents is clearly worse).
    relaxed = with_policy(storage, model_min_npmi=-1.0, model_min_diversity=0.0)
    _, meta, check = fit(resources, relaxed, k=2)
    assert meta["promoted"] is False and not check.passed, meta["promotion"]
    assert meta["promotion"].startswith("refused: log-perplexity") and f"worse than latest {good}" in meta["promotion"]
    assert check.severity == dg.AssetCheckSeverity.WARN and check.metadata["compared_with"].value == good
    assert storage.models.latest() == good
    refused = storage.models.manifest(meta["version"])  # committed all the same, with the decision
    assert refused["promotion"]["promoted"] is False and refused["promotion"]["compared_with"] == good

    # Noise again, now that a good model serves: the default floor refuses it (another corpus: no comparison).
    commit_corpus(storage, spark, "noise-again", noise_texts())
    _, meta, check = fit(resources, storage)
    noise = meta["version"]
    assert meta["promoted"] is False and not check.passed
    assert "NPMI coherence" in meta["promotion"] and "below the floor" in meta["promotion"]
    assert check.metadata["latest"].value == good and storage.models.latest() == good
    assert storage.models.exists(noise, "model.json") and list(storage.s3.list(storage.models.key(noise, "pipeline/")))

    # Forced: promoted, the reasons kept in the manifest and the metadata.
    _, meta, check = fit(resources, with_policy(storage, model_promotion="force"))
    assert meta["version"] == noise and meta["promoted"] is True and check.passed
    assert meta["promotion"].startswith("forced despite: mean NPMI coherence")
    assert storage.models.latest() == noise
    assert storage.models.manifest(noise)["promotion"]["forced"] is True
