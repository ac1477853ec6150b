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


TABLES = {"Summary", "Emerging terms", "Most representative tweets", "Top clients", "Top user locations"}
TABLES |= {"Cost and quota"}
# Runs in the page once it has loaded: what a reader would see clipped, and every axis without a title.
CHECKS = """<script>window.addEventListener("load", () => setTimeout(() => {
  const cells = [...document.querySelectorAll(".report-table th, .report-table td")];
  const clipped = cells.filter(c => c.scrollWidth > c.clientWidth + 1 || c.scrollHeight > c.clientHeight + 1);
  const wide = [...document.querySelectorAll(".report-table")].filter(t => t.scrollWidth > t.clientWidth + 1);
  const untitled = [];
  document.querySelectorAll(".js-plotly-plot").forEach(gd => {
    const layout = gd._fullLayout;
    for (const name of Object.keys(layout).filter(k => /^[xy]axis[0-9]*$/.test(k))) {
      const axis = layout[name];
      if (axis.visible && axis.showticklabels && !(axis.title && axis.title.text)) {
        untitled.push(gd.closest("section").id + ":" + name);
      }
    }
  });
  const out = {clipped: clipped.map(c => c.textContent.slice(0, 60)), wide: wide.length, untitled,
               tables: document.querySelectorAll(".report-table table").length, text: document.body.innerText};
  const json = JSON.stringify(out).replace(/</g, "\\\\u003c");
  document.body.insertAdjacentHTML("beforeend", "<pre id='checks'>" + json + "</pre>");
}, 500));</script>"""


def browser_checks(common: list[str], page: Path, tmp_path: Path) -> dict:
    """Load a copy of the page with CHECKS appended in Chromium at 1,400 px and read back what it found."""
    import html
    import json

    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", CHECKS + "</body>"))
    dom = subprocess.run(
        [*common, "--window-size=1400,16000", "--virtual-time-budget=20000", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=240,
    ).stdout
    assert '<pre id="checks">' in dom, dom[-2000:]
    return json.loads(html.unescape(dom.split('<pre id="checks">', 1)[1].split("</pre>", 1)[0]))


def test_report_renders_in_a_real_browser_from_the_bucket(scored, resources, tmp_path):
    """The page is published to the bucket (its pre-signed link serves it); `report open`'s download renders in
    Chromium at 1,400 px with every heading, every figure drawn by plotly.js (offline), HTML tables with no
    clipped cell, every axis titled, and the notes a first-time reader needs; screenshot kept."""
    import urllib.request

    from tweet_topics.storage.reports import download_latest_report

    result = dg.materialize([topic_report], resources=resources)
    assert result.success
    metadata = result.asset_materializations_for_node("topic_report")[0].metadata
    summary = metadata["summary"].value
    assert metadata["tweets"].value > 1000 and "| topic | name | top terms |" in summary
    for part in ("**Trends flagged:**", "**Delivery health:**", "quarantined", "**Cost:**", "X API"):
        assert part in summary
    page, uri = download_latest_report(resources["storage"].reports, tmp_path / "download")
    assert metadata["s3"].value == uri and not (tmp_path / "download").joinpath("latest.json").exists()
    with urllib.request.urlopen(metadata["report_url"].value, timeout=30) as response:  # the UI's link
        assert response.read() == page.read_bytes(), "the pre-signed link serves the published page"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is installed by `make test` (apt package chromium)"
    common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    found = browser_checks(common, page, tmp_path)
    missing = [h for h in HEADINGS if h not in found["text"]]
    assert not missing, missing
    assert found["tables"] == len(TABLES), "tables are HTML, not plotly SVG"
    assert found["clipped"] == [] and found["wide"] == 0, found["clipped"]
    assert found["untitled"] == [], "every axis has a title"
    for note in ("no baseline yet", "no streamer ledger", "confirm on the source page", "highest probability"):
        assert note in found["text"], note
    assert "price missing" not in found["text"] and "t3.micro" in found["text"]
    dom = page.read_text()
    assert dom.count('class="plotly-graph-div"') == len(HEADINGS) - len(TABLES), "every other section is a figure"
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
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    print(f"\nreport screenshot: {shot}")
    assert shot.exists() and shot.stat().st_size > 100_000
    console_errors = [line for line in run.stderr.splitlines() if "CONSOLE" in line and "rror" in line]
    assert not console_errors and "Uncaught" not in run.stderr
