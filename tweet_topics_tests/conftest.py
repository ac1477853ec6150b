"""One moto server and one Spark session for the whole test session, both real.

Settings are fixed before any ``tweet_topics`` module reads them: a temporary local dir and a test bucket.
"""

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="tweet-topics-tests-"))
os.environ["TWEET_TOPICS_ENV"] = "local"
os.environ["TWEET_TOPICS_LOCAL_DIR"] = str(_SESSION_DIR / "local")
os.environ["TWEET_TOPICS_BUCKET"] = "tweet-topics-test"
os.environ["TWEET_TOPICS_SPARK_DRIVER_MEMORY"] = "2g"
os.environ["TWEET_TOPICS_PARTITIONS_START"] = "2026-01-01-00:00"  # tests pin their own (the graph snapshot too)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.pop("TWEET_TOPICS_AWS_ENDPOINT_URL", None)

from tweet_topics.local import stack  # noqa: E402
from tweet_topics.settings import Settings, get_settings  # noqa: E402

# Test data lives inside the repository (a fresh clone has no ../shared): see data/real-tweets/SOURCE.md.
DATA = Path(__file__).resolve().parent / "data"
REAL_TWEETS = DATA / "real-tweets" / "twarc-hashtags-tweets1-pages1-2.jsonl"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def moto_endpoint(settings: Settings) -> Iterator[str]:
    """The project's own local stack (``python -m tweet_topics local up``), shared by every test."""
    status = stack.up(settings)
    os.environ["TWEET_TOPICS_AWS_ENDPOINT_URL"] = status.endpoint or ""
    yield status.endpoint or ""
    stack.down(settings, save=False)


@pytest.fixture(scope="session")
def resources(settings: Settings, moto_endpoint: str) -> dict:
    from tweet_topics.defs.resources import build_resources

    return build_resources(settings.model_copy(update={"aws_endpoint_url": moto_endpoint}))


@pytest.fixture()
def bucket(resources: dict) -> Iterator[str]:
    """A fresh, empty bucket per test: the test bucket is emptied before use."""
    from tweet_topics.storage.clients import ensure_bucket

    store = resources["storage"].s3
    s3 = store.aws.client("s3")
    ensure_bucket(s3, store.bucket, "us-east-1")
    empty_bucket(store)
    yield store.bucket


def empty_bucket(store) -> None:
    """Delete every object with the raw client (the project's store refuses to delete raw data, by design).

    A bucket a test made versioned is emptied of every version and delete marker and created again unversioned:
    moto 5.2 answers 500 to any delete of a key whose latest version is a delete marker once versioning is
    suspended (``FakeDeleteMarker`` has no ``dispose``), so such a bucket would break later tests' teardowns."""
    from tweet_topics.storage.clients import all_versions, delete_all

    s3 = store.aws.client("s3")
    if s3.get_bucket_versioning(Bucket=store.bucket).get("Status"):
        s3.put_bucket_versioning(Bucket=store.bucket, VersioningConfiguration={"Status": "Enabled"})
        delete_all(s3, store.bucket, all_versions(s3, store.bucket))
        s3.delete_bucket(Bucket=store.bucket)
        s3.create_bucket(Bucket=store.bucket)
        return
    delete_all(s3, store.bucket, ({"Key": o.key} for o in store.list("")))


@pytest.fixture(scope="session")
def spark():
    """The one local Spark session (the dagster-pyspark resource returns the same via getOrCreate)."""
    from pyspark.sql import SparkSession

    from tweet_topics.defs.resources import spark_config

    builder = SparkSession.builder
    for key, value in spark_config(get_settings()).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    yield session
    session.stop()


# The slowest modules first (measured: `pytest --durations`): `make test` runs the suite on two pytest-xdist workers
# a module at a time (--dist loadfile, so a module's fixtures are built once), and a long module handed out last
# would leave the other worker idle at the end. The rest keep their collection order.
SLOW_MODULES_FIRST = (
    "cluster/test_cluster_e2e.py",
    "e2e/test_user_path.py",
    "local/test_jvm_archive.py",
    "defs/topics/test_topic_assets.py",
    "defs/topics/test_model_promotion.py",
    "streamer/test_faults.py",
    "lib/test_topic_artefact.py",
    "test_readme_commands.py",
    "soak/test_soak.py",
    "defs/reports/test_report_page.py",
    "live/test_live_query.py",
    "local/test_quiet.py",
    "live/test_faults.py",
    "defs/live/test_live_jobs.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::")[0].removeprefix("tweet_topics_tests/")
        return SLOW_MODULES_FIRST.index(module) if module in SLOW_MODULES_FIRST else len(SLOW_MODULES_FIRST)

    items.sort(key=rank)  # stable: within a rank, collection order
