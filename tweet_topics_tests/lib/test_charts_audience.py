"""Audience and operations charts on small aggregates: flags, coverage, locations, countries, clients, samples,
trends, delivery health and the cost table."""

import pandas as pd
import pyarrow as pa

from tweet_topics.lib.report import charts, charts_audience, charts_ops, cost, delivery
from tweet_topics.lib.report import sections as report
from tweet_topics.lib.report.aggregates import aggregate
from tweet_topics_tests.lib.test_charts import NAMES, predictions


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
    table = charts_audience.top_locations_table(places, unique=len(places)).data[0]
    assert "3 unique" in charts_audience.top_locations_table(places, 3).layout.title.text
    assert dict(zip(table.cells.values[1], table.cells.values[2], strict=True))["London, England"] == "United Kingdom"
    assert countries == {("United States", 0): 1, ("United States", 1): 1, ("United Kingdom", 0): 1}
    heat = charts_audience.country_topic_heatmap(report.counts_frame(countries, ["country", "topic"]), NAMES).data[0]
    assert list(heat.y) == ["United States", "United Kingdom"] and heat.text[0][:2] == ["1", "1"]
    bars = charts_audience.tweets_by_country(pd.Series({"United States": 2, "United Kingdom": 1})).data[0]
    assert list(bars.y) == ["United Kingdom", "United States"] and list(bars.x) == [1, 2]


def test_top_clients_table_and_not_available():
    fig = charts_audience.top_clients_table(pd.Series({"Twitter Web App": 3, "Twitter for iPhone": 1, None: 4}))
    cells = fig.data[0].cells.values
    assert list(cells[0]) == ["Twitter Web App", "Twitter for iPhone"] and cells[2][0] == "37.5%"
    gone = charts_audience.top_clients_table(pd.Series({None: 4}))
    assert gone.layout.annotations[0].text == charts.SOURCE_UNAVAILABLE


def test_representative_tweets_are_the_most_probable_and_escaped():
    agg = aggregate([predictions()])
    fig = charts_audience.representative_tweets(agg.samples, NAMES)
    topic, prob, _author, text = fig.data[0].cells.values
    assert list(topic) == ["Launches", "Launches", "Mars", "Mars"] and list(prob) == [
        "0.900",
        "0.700",
        "0.950",
        "0.800",
    ]
    assert text[0] == "a &lt;b&gt;launch&lt;/b&gt; &amp;amp; more"


def test_trend_charts_mark_alerts():
    records = [
        {
            "hour": "2026-03-02-10:00",
            "topics": [{"name": "Mars", "share": 0.6, "baseline": 0.3, "z": 4.2, "alert": True}],
            "low_confidence": {
                "name": "unassigned or low-probability",
                "share": 0.1,
                "baseline": 0.1,
                "z": 0.0,
                "alert": False,
            },
            "emerging_terms": [{"term": "starship", "count": 30, "baseline_count": 0, "g2": 150.0, "ratio": 90.0}],
        }
    ]
    shifts, terms = report.trend_frames(records)
    heat = charts_ops.topic_share_z(shifts, 3.0).data[0]
    assert "⚠ +4.2" in [cell for row in heat.text for cell in row]
    assert list(charts_ops.emerging_terms_table(terms).data[0].cells.values[1]) == ["starship"]
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
    without_ledger = delivery.delivery_frame({h: {"records_read": 10, "kept": 10}}, {})
    assert "sent by the streamer" not in {t.name for t in charts_ops.delivery_health(without_ledger).data}
    assert "not filtered yet" in delivery.health_line(without_ledger)


def test_cost_estimate_from_measured_volumes():
    prices = cost.load_prices()
    assert prices["as_of"] and prices["firehose"]["billing_increment_kb"] == 5 and "source" in prices["s3"]
    volumes = cost.measured_volumes([{"records_read": 1000, "bytes_read": 2_000_000, "objects_read": 60}] * 2)
    lines = {line.item: line for line in cost.estimate(volumes, prices, "basic")}
    firehose = lines["Firehose ingestion"]
    # 2,000 B per record bills as 5 KB: 1,000 records/h x 730 h x 5,120 B.
    assert (
        firehose.usage.startswith(f"{1000 * 730 * 5120 / 1024**3:,.2f} GB billed") and "records/hour" in firehose.driver
    )
    assert lines["S3 PUT/COPY/LIST requests"].monthly_usd == round(
        (60 + cost.PIPELINE_WRITES_PER_HOUR) * 730 * 0.005 / 1000, 2
    )
    assert "7300% of the basic cap" in lines["X API posts (basic tier)"].usage  # 730,000 posts vs 10,000
    priced = dict(prices, firehose=dict(prices["firehose"], ingestion_per_gb=0.1))
    assert cost.estimate(volumes, priced)[0].monthly_usd == round(1000 * 730 * 5120 / 1024**3 * 0.1, 2)
    fig = charts_ops.cost_table(list(lines.values()), prices, cost.summary_line(list(lines.values()), prices))
    assert "price missing in prices.json" in fig.data[0].cells.values[2]
