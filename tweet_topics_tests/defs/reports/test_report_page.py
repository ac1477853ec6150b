"""topic_report through `materialize`, rendered in headless Chromium (screenshot saved), on a scored window.

The window is real up to the corpus (seeded Firehose objects with faults -> combined_tweets -> filtered_tweets);
the scores are the planted topics (no Spark: the topic chain has its own tests), so the page shows every section
with known content, including a planted trend shift in the last hour.
"""

import os
import random
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
from tweet_topics.defs.reports.assets import topic_report
from tweet_topics.defs.reports.trends import topic_trends
from tweet_topics.defs.topics.assignments import ASSIGNMENT_COLUMNS
from tweet_topics.lib.synthetic import FaultSpec
from tweet_topics.storage.catalog import FILTERED_PARQUET, PREDICTIONS_PARQUET
from tweet_topics.storage.hourly import parquet_bytes
from tweet_topics.storage.keys import parse_partition_key
from tweet_topics_tests.conftest import empty_bucket
from tweet_topics_tests.helpers import materialize_range, seed

HOURS, PER_HOUR, VERSION = 30, 80, "report-test"
SCREENSHOT_DIR = Path(os.environ.get("TWEET_TOPICS_SCREENSHOTS", Path(tempfile.gettempdir()) / "tweet-topics-screens"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HEADINGS = [
    "Summary",
    "Top terms per topic",
    "Topic prevalence over time",
    "Topic trends",
    "Emerging terms",
    "Most representative tweets",
    "Weekday and hour",
    "Source client by topic",
    "Top clients",
    "Followers by topic",
    "Account flags",
    "Place and location coverage",
    "Top user locations",
    "Tweets by country",
    "Country by topic",
    "Most replied-to users",
    "Most mentioned users",
    "Top hashtags per topic",
    "Delivery health",
    "Cost and quota",
]


def score_hour(filtered: pa.Table, planted: dict[str, int], rng: random.Random, shift: bool) -> pa.Table:
    """The assignment asset's columns with the planted topic as the dominant one (the last hour skewed)."""
    columns = [c for c in ASSIGNMENT_COLUMNS if c in filtered.column_names]
    topics = [planted.get(i, -1) for i in filtered["id"].to_pylist()]
    if shift:
        topics = [0 if t >= 0 and rng.random() < 0.6 else t for t in topics]
    return (
        filtered.select(columns)
        .append_column("dominant_topic", pa.array(topics, pa.int64()))
        .append_column("dominant_prob", pa.array([rng.uniform(0.5, 0.99) for _ in topics]))
        .append_column("model_version", pa.array([VERSION] * len(topics)))
    )


@pytest.fixture(scope="module")
def scored(resources, tmp_path_factory):
    from tweet_topics.storage.clients import ensure_bucket

    storage = resources["storage"]
    ensure_bucket(storage.s3.aws.client("s3"), storage.bucket, "us-east-1")
    empty_bucket(storage.s3)
    faults = FaultSpec(malformed_json=2, duplicates=3)
    seeded = seed(resources, hours=HOURS, tweets_per_hour=PER_HOUR, seed_value=5, faults=faults)
    keys = sorted(seeded.expected)
    assert materialize_range([RAW_TWEETS, combined_tweets, filtered_tweets], resources, keys[0], keys[-1]).success
    themes = sorted(set(seeded.topics.values()))
    planted = {tweet: themes.index(theme) for tweet, theme in seeded.topics.items()}
    rng = random.Random(3)
    terms: dict[int, list[str]] = {i: [] for i in range(len(themes))}
    for n, key in enumerate(keys):
        hour = parse_partition_key(key)
        table = score_hour(storage.filtered.read_parquet(hour, FILTERED_PARQUET), planted, rng, n == len(keys) - 1)
        meta = {"model_version": VERSION, "tweets": table.num_rows}
        storage.predictions.write_hour(hour, {PREDICTIONS_PARQUET: parquet_bytes(table)}, meta)
        for t in terms:
            words = pc.utf8_split_whitespace(pc.filter(table["clean_text"], pc.equal(table["dominant_topic"], t)))
            terms[t] += [w for w in pc.list_flatten(words).to_pylist() if len(w) > 4]
    model_dir = tmp_path_factory.mktemp("model")
    (model_dir / "README").write_text("planted topics for the report test")
    top = {t: [w for w, _ in Counter(ws).most_common(10)] for t, ws in terms.items()}
    manifest = {
        "topics": [{"topic": t, "terms": top[t], "weights": [0.1 - i * 0.005 for i in range(10)]} for t in top],
        "metrics": {
            "k": len(top),
            "documents": 1000,
            "vocabulary_size": 500,
            "coherence_npmi": 0.1,
            "topic_diversity": 0.9,
            "log_perplexity": 7.0,
        },
    }
    storage.models.write(VERSION, model_dir, manifest)
    trends = materialize_range([topic_trends], resources, keys[0], keys[-1])
    assert trends.success
    return {"keys": keys, "trends": trends}


def test_drift_check_flags_the_planted_shift(scored):
    check = scored["trends"].get_asset_check_evaluations()[0]
    assert not check.passed and scored["keys"][-1] in check.metadata["flagged_hours"].value


def test_report_renders_in_a_real_browser(scored, resources, tmp_path):
    """Every section heading, every figure drawn by plotly.js (offline), no console errors; screenshot kept."""
    result = dg.materialize([topic_report], resources=resources)
    assert result.success
    metadata = result.asset_materializations_for_node("topic_report")[0].metadata
    page = metadata["report"].value
    summary = metadata["summary"].value
    assert metadata["tweets"].value > 1000 and "| topic | name | top terms |" in summary
    for part in ("**Trends flagged:**", "**Delivery health:**", "quarantined", "**Cost:**", "X API"):
        assert part in summary
    assert metadata["report_url"].value.startswith("file://")
    store = resources["storage"].s3
    assert store.exists(metadata["s3"].value.split(store.bucket + "/", 1)[1])
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is installed by `make test` (apt package chromium)"
    common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*common, "--virtual-time-budget=15000", "--dump-dom", f"file://{page}"],
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout
    missing = [h for h in HEADINGS if f"<h2>{h}</h2>" not in dom]
    assert not missing, missing
    assert dom.count('class="plot-container plotly"') == len(HEADINGS), "plotly drew every figure (offline js)"
    assert "not available" not in dom.split("<h2>Top clients</h2>")[1].split("<h2>")[0]  # seeded tweets have clients
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOT_DIR / "report.png"
    run = subprocess.run(
        [
            *common,
            "--window-size=1400,16000",
            f"--screenshot={shot}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
            f"file://{page}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    print(f"\nreport screenshot: {shot}")
    assert shot.exists() and shot.stat().st_size > 100_000
    console_errors = [line for line in run.stderr.splitlines() if "CONSOLE" in line and "rror" in line]
    assert not console_errors and "Uncaught" not in run.stderr
