"""Audience and operations charts on small aggregates: flags, coverage, locations, countries, clients, samples,
trends, delivery health and the cost table."""

import pandas as pd
import pyarrow as pa

from tweet_topics.lib.report import charts, charts_audience, charts_ops, cost, delivery
from tweet_topics.lib.report import sections as report
from tweet_topics.lib.report.aggregates import aggregate
from tweet_topics_tests.lib.report.test_charts import NAMES, predictions


def with_users() -> pa.Table:
    table = predictions()
    return (
        table.append_column("user_protected", pa.array([False, False, True, None, False]))
        .append_column("user_verified", pa.array([True, False, False, None, True]))
        .append_column("user_location", pa.array(["Houston, TX", "Earth", "London, England", "", "Paris, TX"]))
        .append_column("place_country", pa.array(["United States", None, None, None, ""]))
    )


def test_account_flags_and_coverage_counts():
    agg = aggregate([with_users()])
    bars = charts_audience.account_flags(agg.flags).data[0]
    values = dict(zip(bars.y, bars.x, strict=True))
    assert values["protected: true"] == 1 and values["verified: true"] == 2 and values["verified: unknown"] == 1
    cover = charts_audience.location_coverage(agg.coverage).data[0]
    values = dict(zip(cover.y, cover.x, strict=True))
    assert values["place_country present"] == 1 and values["user_location empty"] == 1
    assert values["user_location present"] == 4


def test_locations_exclude_placeholders_and_map_to_countries():
    agg = aggregate([with_users()])
    places, countries = report.location_counts(agg)
    assert set(places.index) == {"Houston, TX", "London, England", "Paris, TX"}  # Earth dropped
    table = charts_audience.top_locations_table(places, unique=len(places))
    assert "3 unique" in table.title
    assert dict(zip(table.column(1), table.column(2), strict=True))["London, England"] == "United Kingdom"
    assert countries == {("United States", 0): 1, ("United States", 1): 1, ("United Kingdom", 0): 1}
    heat = charts_audience.country_topic_heatmap(report.counts_frame(countries, ["country", "topic"]), NAMES).data[0]
    assert list(heat.y) == ["United States", "United Kingdom"] and heat.text[0][:2] == ["1", "1"]
    bars = charts_audience.tweets_by_country(pd.Series({"United States": 2, "United Kingdom": 1})).data[0]
    assert list(bars.y) == ["United Kingdom", "United States"] and list(bars.x) == [1, 2]


def test_top_clients_table_and_not_available():
    fig = charts_audience.top_clients_table(pd.Series({"Twitter Web App": 3, "Twitter for iPhone": 1, None: 4}))
    assert fig.column(0) == ["Twitter Web App", "Twitter for iPhone"] and fig.column(2)[0] == "37.5%"
    gone = charts_audience.top_clients_table(pd.Series({None: 4}))
    assert not gone.rows and charts.SOURCE_UNAVAILABLE in gone.to_html()


def test_representative_tweets_show_full_text_author_time_and_distinct_probabilities():
    table = predictions()
    long_text = "word " * 60 + "end"
    table = table.set_column(2, "text", pa.array([long_text, "mars", "launch", "zz", "mars rover"]))
    table = table.set_column(4, "dominant_prob", pa.array([0.96512, 0.8, 0.96498, 0.0, 0.95]))
    tweets = charts_audience.representative_tweets(aggregate([table]).samples, NAMES)
    assert tweets.column(0) == ["Launches", "Launches", "Mars", "Mars"]
    assert tweets.column(1)[:2] == ["0.9651", "0.9650"], "enough digits to tell the rows apart"
    assert tweets.column(2) == ["@a", "@c", "@e", "@b"] and tweets.column(3)[0] == "2026-03-02 10:05 UTC"
    assert tweets.column(4)[0] == " ".join(long_text.split()), "the full text, not cut"
    assert "highest probability" in tweets.note and "4 decimals" in tweets.note
    escaped = charts_audience.representative_tweets(aggregate([predictions()]).samples, NAMES).to_html()
    assert "a &lt;b&gt;launch&lt;/b&gt; &amp;amp; more" in escaped and "<b>launch" not in escaped


def trend_record(hour: str, baseline_hours: int, z: float, baseline: float | None) -> dict:
    mars = {"name": "Mars", "share": 0.6, "baseline": baseline, "z": z, "alert": z >= 3}
    low = {"name": "unassigned or low-probability", "share": 0.1, "baseline": baseline, "z": -0.01, "alert": False}
    term = {"term": "starship", "count": 30, "baseline_count": 0, "g2": 150.0, "ratio": 90.0}
    return {
        "hour": hour,
        "baseline_hours": baseline_hours,
        "topics": [mars],
        "low_confidence": low,
        "emerging_terms": [term],
    }


def test_trend_charts_mark_alerts_and_show_no_baseline_before_enough_hours():
    records = [trend_record("2026-03-02-00:00", 0, 0.0, None), trend_record("2026-03-02-10:00", 10, 4.2, 0.3)]
    shifts, terms = report.trend_frames(records)
    fig = charts_ops.topic_share_z(shifts, 3.0, min_baseline_hours=6)
    heat = fig.data[0]
    cells = dict(zip(heat.y, heat.text, strict=True))
    assert cells["Mars"] == ["", "⚠ +4.2"], "the first hour has no baseline: blank, not +0.0"
    assert cells["unassigned or low-probability"][1] == "0.0", "no '-0.0'"
    assert "no baseline yet" in fig.layout.annotations[0].text and "first 1 hour" in fig.layout.annotations[0].text
    assert charts_ops.emerging_terms_table(terms).column(1) == ["starship", "starship"]
    assert charts_ops.topic_share_z(shifts.iloc[0:0], 3.0).layout.annotations[0].text.startswith("no topic_trends")


def test_delivery_segments_add_up_to_raw_and_sent():
    from datetime import UTC, datetime

    h = datetime(2026, 3, 1, tzinfo=UTC)
    flow = delivery.delivery_frame(
        {h: {"records_read": 100, "kept": 90, "malformed": 4, "duplicates": 6}},
        {h: {"input": 90, "kept": 60}},
        sent={h: 105},
    )
    row = flow.iloc[0]
    assert (row.in_corpus, row.filtered_out, row.duplicates, row.quarantined, row.not_delivered) == (60, 30, 6, 4, 5)
    fig = charts_ops.delivery_health(flow)
    bars = {t.name: t.y[0] for t in fig.data if t.type == "bar"}
    assert sum(bars.values()) == 105 and {t.name for t in fig.data if t.type == "scatter"} == {
        "raw records (Firehose objects)",
        "sent by the streamer",
    }
    assert {t.name: t.yaxis for t in fig.data}["quarantined (malformed)"] == "y2", "small counts on their own axis"
    without_ledger = delivery.delivery_frame({h: {"records_read": 10, "kept": 10}}, {})
    no_ledger = charts_ops.delivery_health(without_ledger)
    assert "sent by the streamer" not in {t.name for t in no_ledger.data}
    assert any("no streamer ledger" in a.text for a in no_ledger.layout.annotations)
    assert "not filtered yet" in delivery.health_line(without_ledger)


def test_cost_estimate_from_measured_volumes_with_dated_regional_prices():
    prices = cost.load_prices()
    east = prices["regions"]["us-east-1"]
    assert prices["as_of"] and "confirm on the source page" in prices["confirm"]
    assert east["firehose"] == {"ingestion_per_gb": 0.029, "billing_increment_kb": 5}
    assert east["ec2_on_demand_per_hour"]["t3.micro"] == 0.0104
    assert all(prices["sources"][k].startswith("https://") for k in ("firehose", "s3", "ec2", "x_api"))
    volumes = cost.measured_volumes([{"records_read": 1000, "bytes_read": 2_000_000, "objects_read": 60}] * 2)
    lines = {line.item: line for line in cost.estimate(volumes, prices, "basic", "us-east-1", "t3.micro")}
    firehose = lines["Firehose ingestion"]
    # 2,000 B per record bills as 5 KB: 1,000 records/h x 730 h x 5,120 B, at $0.029/GB.
    gb = 1000 * 730 * 5120 / 1024**3
    assert firehose.usage.startswith(f"{gb:,.2f} GB billed") and firehose.monthly_usd == round(gb * 0.029, 2)
    assert lines["EC2 streamer (t3.micro)"].monthly_usd == round(730 * 0.0104, 2)
    assert lines["S3 PUT/COPY/LIST requests"].monthly_usd == round(
        (60 + cost.PIPELINE_WRITES_PER_HOUR) * 730 * 0.005 / 1000, 2
    )
    assert "7300% of the basic cap" in lines["X API posts (basic tier)"].usage  # 730,000 posts vs 10,000
    assert not any(item.startswith("EC2 live") for item in lines)  # the live host only when it is meant to run
    live = cost.estimate(volumes, prices, "basic", "us-east-1", "t3.micro", live_instance_type="m6i.large")
    assert live[-1].item == "EC2 live query host (m6i.large)" and live[-1].monthly_usd == round(730 * 0.096, 2)
    assert cost.total(live)[0] == round(cost.total(list(lines.values()))[0] + 730 * 0.096, 2)
    other = {line.item: line for line in cost.estimate(volumes, prices, "basic", "us-east-1", "m7g.large")}
    assert other["EC2 streamer (m7g.large)"].monthly_usd is None, "the EC2 price follows the instance type"
    away = cost.estimate(volumes, prices, "basic", "eu-west-1", "t3.micro")
    summary = cost.summary_line(away, prices)
    table = charts_ops.cost_table(away, prices, summary, "eu-west-1")
    assert "no price in prices.json for eu-west-1" in table.column(2) and "confirm on the source pages" in summary
    assert "confirm on the source page" in table.note and table.column(4)[0].startswith("https://aws.amazon.com")


def test_pipeline_writes_per_hour_follow_the_hourly_commits(resources):
    """Each hourly dataset PUTs its files once (under a run prefix) and its _commit.json: no staging copies."""
    storage = resources["storage"]
    datasets = (storage.combined, storage.filtered, storage.predictions, storage.trends)
    assert sum(len(d.files) + 1 for d in datasets) == cost.PIPELINE_WRITES_PER_HOUR
