"""The topic chain inside real `materialize` runs: moto S3, the shared local Spark session, planted topics."""

import dagster as dg
import pytest

from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
from tweet_topics.defs.topics.assets import topic_corpus, topic_model, topic_terms
from tweet_topics.defs.topics.assignments import tweet_topic_assignments
from tweet_topics.defs.topics.spark_io import load_pipeline_model
from tweet_topics.lib.topics.evaluation import recovery_accuracy
from tweet_topics.lib.topics.pipeline import TopicModelError
from tweet_topics.storage.keys import parse_partition_key
from tweet_topics.storage.versions import VersionNotFound
from tweet_topics_tests.conftest import empty_bucket
from tweet_topics_tests.helpers import materialize_range, seed

HOURLY = [RAW_TWEETS, combined_tweets, filtered_tweets]
TOPICS = [topic_corpus, topic_model, topic_terms]
HOURS = 12
TWEETS_PER_HOUR = 300  # 3,600 tweets -> about 2,500 documents after filtering


@pytest.fixture(scope="module")
def pipeline(resources, spark):
    """Seed a day, run the hourly assets, fit the model and score every hour, once for this module."""
    from tweet_topics.storage.clients import ensure_bucket

    store = resources["storage"].s3
    ensure_bucket(store.aws.client("s3"), store.bucket, "us-east-1")
    empty_bucket(store)
    seeded = seed(resources, hours=HOURS, tweets_per_hour=TWEETS_PER_HOUR, seed_value=21)
    keys = sorted(seeded.expected)
    assert materialize_range(HOURLY, resources, keys[0], keys[-1]).success
    topics = dg.materialize([*HOURLY, *TOPICS], selection=TOPICS, resources=resources)
    assert topics.success
    scored = materialize_range(
        [*HOURLY, *TOPICS, tweet_topic_assignments], resources, keys[0], keys[-1], selection=[tweet_topic_assignments]
    )
    assert scored.success
    return {"seeded": seeded, "keys": keys, "topics": topics, "scored": scored}


def predictions(resources, keys):
    predictions = resources["storage"].predictions
    for key in keys:
        hour = parse_partition_key(key)
        yield predictions.read_parquet(hour, "part.parquet"), predictions.read_metadata(hour)


def test_planted_topics_are_recovered(pipeline, resources):
    """Corpus: 12 h x 300 synthetic tweets, k=6, online LDA with the project defaults and 3 restarts."""
    truth, predicted = [], []
    for table, _ in predictions(resources, pipeline["keys"]):
        for tweet_id, topic in zip(table["id"].to_pylist(), table["dominant_topic"].to_pylist(), strict=True):
            truth.append(pipeline["seeded"].topics[tweet_id])
            predicted.append(topic)
    accuracy, mapping = recovery_accuracy(truth, predicted)
    assert len(truth) > 2000
    assert accuracy >= 0.95, (accuracy, mapping)
    assert len(set(mapping.values())) == 6  # one-to-one onto the six themes


def test_manifest_metrics_are_finite_and_versioned(pipeline, resources):
    store, models = resources["storage"].s3, resources["storage"].models
    version = models.latest()
    manifest = models.manifest(version)
    metrics = manifest["metrics"]
    for name in ("log_likelihood", "log_perplexity", "coherence_npmi", "topic_diversity"):
        assert isinstance(metrics[name], float) and metrics[name] == metrics[name]
    assert metrics["k"] == 6 and len(manifest["topics"]) == 6 and len(manifest["candidates"]) == 3
    # ~2,500 documents: min_visits would allow 8 passes; the held-out likelihood converges long before.
    progress = metrics["progress"]
    assert progress["passes"] < 8 and len(progress["log_likelihood_per_pass"]) == progress["passes"]
    assert manifest["params"]["min_token_length"] <= 4
    assert {"nasa", "mars", "moon", "webb"} & set(t for topic in manifest["topics"] for t in topic["terms"])
    terms_csv = store.get(models.key(version, "topic_terms.csv")).decode().splitlines()
    assert terms_csv[0] == '"topic","topic_name","rank","term","weight"' and len(terms_csv) == 1 + 6 * 10
    names = models.read_json(version, "topic_names.json")
    for table, meta in predictions(resources, pipeline["keys"][:2]):
        assert meta["model_version"] == version
        # Each prediction carries its dominant topic's display name, as topic_terms stored it.
        pairs = set(zip(table["dominant_topic"].to_pylist(), table["topic_name"].to_pylist(), strict=True))
        assert pairs and all(name == names.get(str(topic), "unassigned") for topic, name in pairs), pairs
        assert all(name for _, name in pairs)


def test_save_load_round_trip_gives_same_predictions(pipeline, resources, spark):
    storage = resources["storage"]
    version = storage.models.latest()
    model = load_pipeline_model(storage, version)
    from tweet_topics.lib.topics.lda import dominant_topics

    rows = spark.createDataFrame(
        [
            ("1", "perseverance rover drilled a rock core in jezero crater on mars"),
            ("2", "webb telescope infrared image of a distant galaxy cluster"),
            ("3", "zzzz qqqq"),
        ],
        ["id", "processed_text"],
    )
    first = [r["dominant_topic"] for r in dominant_topics(model.transform(rows)).orderBy("id").collect()]
    assert first[2] == -1  # no known term: unassigned, not a random topic
    assert first[0] != first[1]
    # The reloaded model reproduces the stored predictions of an hour exactly.
    from tweet_topics.lib.topics.text import cleaned_text_column

    stored, _ = next(predictions(resources, pipeline["keys"][:1]))
    frame = spark.createDataFrame(stored.select(["id", "clean_text"]).to_pylist())
    again = dominant_topics(model.transform(frame.withColumn("processed_text", cleaned_text_column("clean_text"))))
    again_topics = {r["id"]: r["dominant_topic"] for r in again.select("id", "dominant_topic").collect()}
    assert again_topics == dict(zip(stored["id"].to_pylist(), stored["dominant_topic"].to_pylist(), strict=True))
    with pytest.raises(VersionNotFound, match="not found"):
        storage.models.resolve("doesnotexist")
    with pytest.raises(ValueError, match="not a version name"):
        storage.models.resolve("../..")


def _layout(paths: list[str]) -> list[str]:
    import re

    return sorted(re.sub(r"-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "-<uuid>", p) for p in paths)


def test_models_go_through_a_uri_shared_dir(pipeline, resources, spark, tmp_path):
    """With TWEET_TOPICS_SPARK_SHARED_DIR a URI, load copies the stored model there once; save copies it back."""
    from pyspark.ml import PipelineModel

    from tweet_topics.defs.topics.spark_io import save_pipeline_model
    from tweet_topics.lib.topics.lda import dominant_topics

    storage = resources["storage"].model_copy(update={"spark_shared_dir": f"file://{tmp_path}/shared"})
    version = storage.models.latest()
    stored = sorted(
        o.key.removeprefix(storage.models.key(version))
        for o in storage.s3.list(storage.models.key(version, "pipeline/"))
    )
    model = load_pipeline_model(storage, version)
    assert (tmp_path / "shared" / "models" / version / "pipeline.complete").exists()
    assert (tmp_path / "shared" / "models" / version / "pipeline" / "metadata").is_dir()
    local = save_pipeline_model(model, storage, "uri-round-trip")
    copied = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file() and p.suffix != ".crc")
    assert _layout(copied) == _layout(stored) and copied  # Spark names part files with a fresh UUID per save
    rows = spark.createDataFrame(
        [("1", "perseverance rover drilled a rock core on mars"), ("2", "webb telescope infrared galaxy image")],
        ["id", "processed_text"],
    )
    topics = [
        dominant_topics(m.transform(rows)).orderBy("id").select("dominant_topic").collect()
        for m in (model, PipelineModel.load(str(local / "pipeline")))
    ]
    assert topics[0] == topics[1]


def test_every_scored_hour_reconciles_with_its_filtered_hour(pipeline):
    """The range run records one every_kept_tweet_scored evaluation per hour, each passed and naming its hour."""
    evaluations = pipeline["scored"].get_asset_check_evaluations()
    by_hour = {e.metadata["hour"].value: e for e in evaluations if e.check_name == "every_kept_tweet_scored"}
    assert set(by_hour) == set(pipeline["keys"])
    assert all(e.passed for e in by_hour.values())
    assert all(e.metadata["stored_rows"].value == e.metadata["filtered_kept"].value > 0 for e in by_hour.values())


def test_rescoring_an_hour_is_deterministic(pipeline, resources):
    key = pipeline["keys"][3]
    predictions, hour = resources["storage"].predictions, parse_partition_key(key)
    before = predictions.read_parquet(hour, "part.parquet")
    rescored = dg.materialize(
        [*HOURLY, *TOPICS, tweet_topic_assignments],
        selection=[tweet_topic_assignments],
        resources=resources,
        partition_key=key,
    )
    assert rescored.success
    assert predictions.read_parquet(hour, "part.parquet").equals(before)
    [check] = rescored.get_asset_check_evaluations()
    assert check.passed and check.check_name == "every_kept_tweet_scored"


def test_a_lost_scored_row_fails_its_hours_check(pipeline, resources):
    """An hour whose filtered count no longer matches its predictions (a row lost in between) fails its check."""
    from tweet_topics.defs.topics.checks import every_kept_tweet_scored

    storage, hour = resources["storage"], parse_partition_key(pipeline["keys"][5])
    passed, details = every_kept_tweet_scored(storage, hour)
    assert passed
    commit = storage.filtered.read_commit(hour)
    files = {name: storage.filtered.read_bytes(hour, name, commit) for name in commit["files"]}
    storage.filtered.write_hour(hour, files, {**commit["metadata"], "kept": details["filtered_kept"] + 1})
    try:
        passed, details = every_kept_tweet_scored(storage, hour)
        assert not passed and details["filtered_kept"] == details["stored_rows"] + 1
    finally:
        storage.filtered.write_hour(hour, files, commit["metadata"])


def test_tiny_corpus_fails_with_a_clear_message(resources, spark, tmp_path):
    """Through ``fit_best``, what topic_model calls."""
    from tweet_topics.lib.topics.lda import fit_best
    from tweet_topics.lib.topics.pipeline import LdaParams

    tiny = spark.createDataFrame([("1", "mars rover"), ("2", "moon landing")], ["id", "processed_text"])
    with pytest.raises(TopicModelError, match="fewer than k=6"):
        fit_best(tiny, LdaParams(), [], str(tmp_path))
    few_terms = spark.createDataFrame([(str(i), "alpha beta") for i in range(20)], ["id", "processed_text"])
    with pytest.raises(TopicModelError, match="vocabulary has 0 terms"):
        fit_best(few_terms, LdaParams(), [], str(tmp_path))


# The report's browser test lives in tweet_topics_tests/defs/reports/test_report_page.py (no Spark needed).
