"""live_topic_shares' observation, the freshness check and the live page, on real moto objects (no Spark)."""

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from tweet_topics.defs.live.assets import freshness, live_freshness, observation
from tweet_topics.live.page import render, write_page
from tweet_topics.live.results import expire, update_hour_counts

VERSION = "page-test"


def beat(storage, key, **fields) -> None:
    body = {"state": "running", "updated_at": datetime.now(UTC).isoformat(), "pid": 1, **fields}
    storage.s3.put(key, json.dumps(body).encode(), "application/json")


@pytest.fixture()
def counted(resources, bucket):
    """24 h of steady per-minute counts, then a last 10 minutes where topic 1 surges; a hostile topic name."""
    storage = resources["storage"]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    rows = []
    for back in range(24 * 60, -1, -1):
        minute = (now - timedelta(minutes=back)).strftime("%Y-%m-%dT%H:%M")
        surge = back < 10
        for topic, n in ((0, 30), (1, 60 if surge else 10), (2, 10)):
            rows.append({"minute": minute, "model_version": VERSION, "dominant_topic": topic, "tweets": n})
    update_hour_counts(storage.s3, storage.live, rows)
    topics = [{"topic": t, "terms": [f"term{t}", "x"]} for t in range(3)]
    topics[1]["terms"] = ["<script>alert(1)</script>", "launch"]
    storage.s3.put(storage.models.key(VERSION, "model.json"), json.dumps({"topics": topics}).encode())
    return storage, now


def test_observation_reports_last_ten_minutes(counted, resources):
    storage, _ = counted
    beat(storage, storage.live.heartbeat, lag_s=3.0, last_committed_minute="x", model_version=VERSION)
    metadata = observation(storage, resources["live_state"]).metadata
    assert metadata["model_version"].value == VERSION and metadata["lag_s"].value == 3.0
    assert metadata["tweets_last_10_min"].value in (1000, 1050)  # 10 minutes (11 at a minute boundary)
    table = metadata["shares_last_10_min"].value
    assert "| 1 | <script>alert(1)</script> / launch | 5" in table and table.count("\n") == 4  # header, rule, 3


def test_freshness_fails_only_when_behind_while_delivering(resources, bucket):
    storage, live_state, streamer_state = resources["storage"], resources["live_state"], resources["streamer_state"]
    beat(storage, storage.live.heartbeat, lag_s=400.0)
    assert freshness(live_state, streamer_state)[0]  # behind, but the streamer delivers nothing
    beat(storage, storage.streamer.heartbeat, state_since=datetime.now(UTC).isoformat())
    passed, details = freshness(live_state, streamer_state)
    assert not passed and details["delivering"] and "lag 400.0s" in details["reason"]
    result = live_freshness(live_state=live_state, streamer_state=streamer_state)
    assert not result.passed
    beat(storage, storage.live.heartbeat, lag_s=12.0)
    assert live_freshness(live_state=live_state, streamer_state=streamer_state).passed


def test_page_escapes_names_and_flags_the_surge(counted):
    storage, now = counted
    page = render(storage, now + timedelta(seconds=30))
    assert '<meta http-equiv="refresh" content="30">' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the movers table
    assert '"name":"&lt;script&gt;alert(1)&lt;' in page  # the legend: escaped before plotly's JSON encoding
    movers = page.split('id="movers"')[1]
    assert "launch" in movers and "term0" in movers  # topic 1 up, topic 0 down by |z| >= 3
    assert "term2" not in movers or "+" not in movers.split("term2")[1][:80]


def test_page_renders_in_a_real_browser(counted, tmp_path):
    storage, _ = counted
    path = write_page(storage)
    assert storage.s3.exists(storage.live.page)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is installed by `make test` (apt package chromium)"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'p'}"]
    dom = subprocess.run(
        [chromium, *flags, "--virtual-time-budget=10000", "--dump-dom", f"file://{path}"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'class="plot-container plotly"' in dom and "Live topics" in dom
    assert dom.count('class="scatterlayer') >= 1 and "launch" in dom


def test_a_single_minute_of_tweets_is_visible_in_a_real_browser(resources, bucket, tmp_path):
    """The demo's case right after its stream: one or two minutes with tweets. A stacked area over one x value
    draws nothing; the page marks each minute's points and labels the axis in minutes."""
    storage = resources["storage"]
    minute = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
    rows = [{"minute": minute, "model_version": VERSION, "dominant_topic": t, "tweets": 5} for t in range(3)]
    update_hour_counts(storage.s3, storage.live, rows)
    path = write_page(storage)
    assert "15 tweets scored in the 1 minute\nwith tweets" in path.read_text()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is installed by `make test` (apt package chromium)"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'p'}"]
    dom = subprocess.run(
        [chromium, *flags, "--virtual-time-budget=10000", "--dump-dom", f"file://{path}"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert dom.count('class="point"') >= 3, "one marker per topic for the lone minute"
    ticks = re.findall(r'class="xtick"[^>]*>.*?<text[^>]*>([^<]*)<', dom)
    assert ticks and all(re.fullmatch(r"\d\d:\d\d", t) for t in ticks), ticks


def test_expire_deletes_only_old_hours(counted):
    storage, now = counted
    before = len(list(storage.s3.list(storage.live.counts_root)))
    deleted = expire(storage.s3, storage.live, now, timedelta(hours=12))
    after = len(list(storage.s3.list(storage.live.counts_root)))
    assert deleted and after == before - deleted and 12 <= after <= 14
