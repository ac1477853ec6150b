import subprocess
import sys

import pytest

from tweet_topics.settings import SettingsError, load_settings


def test_defaults_are_local():
    settings = load_settings({})
    assert settings.env == "local"
    assert settings.raw_prefix.endswith("/")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TWEET_TOPICS_BUCKET": "Bad_Bucket"}, "TWEET_TOPICS_BUCKET"),
        ({"TWEET_TOPICS_REGION": "us-east-9"}, "TWEET_TOPICS_REGION"),
        ({"AWS_REGION": "mars-north-1"}, "TWEET_TOPICS_REGION"),
        ({"TWEET_TOPICS_ENV": "staging"}, "TWEET_TOPICS_ENV"),
        ({"TWEET_TOPICS_RAW_PREFIX": "/abs"}, "TWEET_TOPICS_RAW_PREFIX"),
        ({"TWEET_TOPICS_AWS_ENDPOINT_URL": "not a url"}, "TWEET_TOPICS_AWS_ENDPOINT_URL"),
        ({"TWEET_TOPICS_BUKET": "x"}, "TWEET_TOPICS_BUKET"),
        (
            {"TWEET_TOPICS_ENV": "prod", "TWEET_TOPICS_AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
            "TWEET_TOPICS_AWS_ENDPOINT_URL",
        ),
        ({"TWEET_TOPICS_PARTITIONS_START": "2026-02-30-00:00"}, "TWEET_TOPICS_PARTITIONS_START"),
        ({"TWEET_TOPICS_PARTITIONS_START": "2026-02-28-05:30"}, "TWEET_TOPICS_PARTITIONS_START"),
        ({"TWEET_TOPICS_PARTITIONS_START": "2026-02-28"}, "TWEET_TOPICS_PARTITIONS_START"),
        ({"TWEET_TOPICS_SPARK_MASTER": "garbage"}, "TWEET_TOPICS_SPARK_MASTER"),
        ({"TWEET_TOPICS_SPARK_MASTER": "local[0]"}, "TWEET_TOPICS_SPARK_MASTER"),
        ({"TWEET_TOPICS_SPARK_MASTER": "spark://host-without-port"}, "TWEET_TOPICS_SPARK_MASTER"),
        # a trailing newline (an .env line copied with its end) is not part of a valid value
        ({"TWEET_TOPICS_BUCKET": "tweet-topics-data\n"}, "TWEET_TOPICS_BUCKET"),
        ({"TWEET_TOPICS_RAW_PREFIX": "raw/tweets/\n"}, "TWEET_TOPICS_RAW_PREFIX"),
        ({"TWEET_TOPICS_SPARK_MASTER": "yarn\n"}, "TWEET_TOPICS_SPARK_MASTER"),
        ({"TWEET_TOPICS_MODEL_PROMOTION": "always"}, "TWEET_TOPICS_MODEL_PROMOTION"),
        ({"TWEET_TOPICS_MODEL_MIN_NPMI": "1.5"}, "TWEET_TOPICS_MODEL_MIN_NPMI"),
        ({"TWEET_TOPICS_MODEL_MIN_DIVERSITY": "high"}, "TWEET_TOPICS_MODEL_MIN_DIVERSITY"),
        ({"TWEET_TOPICS_MODEL_MAX_PERPLEXITY_RISE": "-0.1"}, "TWEET_TOPICS_MODEL_MAX_PERPLEXITY_RISE"),
    ],
)
def test_bad_setting_names_the_variable(env, named):
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    assert named in str(info.value)


@pytest.mark.parametrize(
    "master",
    [
        "local",
        "local[2]",
        "local[*]",
        "local[4,2]",
        "local[*,3]",
        "spark://a:7077",
        "spark://a:7077,b.c:7078",
        "yarn",
        "k8s://https://10.0.0.1:6443",
        "mesos://zk://zk1:2181/mesos",
    ],
)
def test_spark_masters_spark_accepts_are_accepted(master):
    assert load_settings({"TWEET_TOPICS_SPARK_MASTER": master}).spark_master == master


def test_bad_setting_fails_definitions_load():
    """A wrong value fails the code location at load time, naming the variable (real CLI, subprocess)."""
    env = {"TWEET_TOPICS_BUCKET": "UPPER_case", "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "tweet_topics.definitions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "TWEET_TOPICS_BUCKET" in result.stdout + result.stderr


def test_promotion_settings_reach_the_gate():
    from tweet_topics.lib.promotion import PromotionPolicy
    from tweet_topics.storage.catalog import Storage

    env = {"TWEET_TOPICS_MODEL_PROMOTION": "force", "TWEET_TOPICS_MODEL_MIN_NPMI": "0.1"}
    assert Storage.from_settings(load_settings(env)).promotion_policy == PromotionPolicy("force", 0.1, 0.3, 0.02)
    assert Storage.from_settings(load_settings({})).promotion_policy == PromotionPolicy()
