"""What the deploy files and docs promise matches what runs: classic Spark clusters only (a Spark Connect master is
refused at load, and no document offers Databricks or Spark Connect), and compose requires the partition start."""

from pathlib import Path

import pytest
import yaml

from tweet_topics.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("master", ["sc://localhost:15002", "sc://dbc-1234.cloud.databricks.com:443/;token=x"])
def test_a_spark_connect_master_fails_at_load_naming_the_setting(master):
    with pytest.raises(SettingsError, match="TWEET_TOPICS_SPARK_MASTER"):
        load_settings({"TWEET_TOPICS_SPARK_MASTER": master})


def test_no_document_offers_databricks_or_spark_connect_as_a_runtime():
    documents = [ROOT / "README.md", ROOT / "deploy" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    claims = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in documents
        for line in path.read_text().splitlines()
        if ("databricks" in line.lower() or "spark connect" in line.lower())
        and not any(word in line.lower() for word in ("not", "cannot", "refuse"))
    ]
    assert not claims, claims


def test_compose_requires_the_partition_start():
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yaml").read_text())
    start = compose["x-common"]["environment"]["TWEET_TOPICS_PARTITIONS_START"]
    assert start.startswith("${TWEET_TOPICS_PARTITIONS_START:?"), "compose fails with a message when it is unset"
    assert "TWEET_TOPICS_PARTITIONS_START=" in (ROOT / "deploy" / ".env.example").read_text()
