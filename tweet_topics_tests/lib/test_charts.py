"""Chart builders on small aggregate frames: values drawn, not only trace counts; every builder is empty-safe."""

import pandas as pd
import pyarrow as pa

from tweet_topics.lib.report import charts
from tweet_topics.lib.report import sections as report
from tweet_topics.lib.report.aggregates import aggregate

NAMES = {0: "Launches", 1: "Mars", 2: "an extraordinarily long topic name that goes on"}


def predictions() -> pa.Table:
    return pa.table(
        {
            "id": ["1", "2", "3", "4", "5"],
            "created_at": [
                "2026-03-02T10:05:00.000Z",
                "2026-03-02T10:40:00.000Z",
                "2026-03-02T11:10:00.000Z",
                "2026-03-03T11:20:00.000Z",
                "2026-03-03T11:25:00.000Z",
            ],
            "text": ["a <b>launch</b> &amp; more", "mars", "launch", "zz", "mars rover"],
            "dominant_topic": [0, 1, 0, -1, 1],
            "dominant_prob": [0.9, 0.8, 0.7, 0.0, 0.95],
            "source": ["Twitter for iPhone", "Twitter Web App", "Twitter for iPhone", None, "Twitter Web App"],
            "user_screen_name": ["a", "b", "c", "d", "e"],
            "user_followers": [10, 2000, 5, 7, None],
            "in_reply_to_screen_name": [None, "NASA", "a_really_really_long_username_x", "NASA", ""],
            "mentions": ["NASA|esa", "", "NASA", "", "SpaceX"],
            "hashtags": ["Artemis|Moon", "Mars", "", "", "mars"],
        }
    )


def frames():
    agg = aggregate([predictions()])
    return agg, report.hourly_frame(agg), report.counts_frame(agg.sources, ["source", "topic"])


def test_prevalence_counts_per_hour_and_topic():
    _, hourly, _ = frames()
    traces = {t.name: list(t.y) for t in charts.prevalence_over_time(hourly, NAMES).data}
    assert traces["Launches"] == [1, 1, 0] and traces["Mars"] == [1, 0, 1]
    assert traces[NAMES[2]] == [0, 0, 0]  # a topic with no tweets still has its own (empty) trace


def test_source_heatmap_values_and_annotations():
    _, _, sources = frames()
    heat = charts.source_topic_heatmap(sources, NAMES).data[0]
    assert list(heat.y) == ["Twitter Web App", "Twitter for iPhone"]  # ties by name
    assert heat.text[0][1] == "2" and heat.text[1][0] == "2" and heat.text[0][0] == "0"


def test_clients_missing_from_x_say_not_available():
    none = pd.DataFrame({"source": [None, None], "topic": [0, 1], "tweets": [3, 4]})
    fig = charts.source_topic_heatmap(none, NAMES)
    assert fig.layout.annotations[0].text.startswith("not available")


def test_weekday_hour_picks_most_frequent_topic_and_shows_only_present_days():
    _, hourly, _ = frames()
    heat = charts.weekday_hour_heatmap(hourly, NAMES).data[0]
    assert list(heat.x) == ["Mon", "Tue"] and len(heat.y) == 24  # a two-day window: two columns, not seven
    # 2026-03-02 is a Monday: hour 10 has one Launches and one Mars tweet; ties go to the lower topic id.
    assert heat.text[10][0] == "Launches" and heat.z[10][0] == 1


def test_users_are_split_counted_and_shortened():
    agg, _, _ = frames()
    bar = charts.top_users(report.series(agg.mentions), "Most mentioned").data[0]
    assert dict(zip(bar.customdata, bar.x, strict=True)) == {"NASA": 2, "esa": 1, "SpaceX": 1}
    replies = charts.top_users(report.series(agg.replies), "Most replied-to").data[0]
    assert all(len(label) <= charts.LABEL_MAX for label in replies.y)
    assert (
        "a_really_really_long_username_x" in replies.customdata
        and dict(zip(replies.customdata, replies.x, strict=True))["NASA"] == 2
    )


def test_hashtags_lowercased_per_topic_and_followers_box():
    agg, _, _ = frames()
    fig = charts.top_hashtags_per_topic(report.counts_frame(agg.hashtags, ["topic", "tag"]), NAMES)
    mars = next(t for t in fig.data if t.name == "Mars")
    assert list(mars.x) == ["#mars"] and list(mars.y) == [2]
    box = charts.followers_by_topic(report.followers_frame(agg), NAMES)
    launches = next(t for t in box.data if t.name == "Launches")
    assert launches.lowerfence == (6,) and launches.upperfence == (11,) and launches.mean == (8.5,)
    assert launches.x == ("Launches",)  # its own category, not stacked at x=0
    assert [t.name for t in box.data] == ["Launches", "Mars"]  # Mars has one known follower count (2000)


def test_tables_escape_html():
    fig = charts.table("t", ["text"], [["<script>alert(1)</script>"]])
    assert fig.data[0].cells.values[0][0] == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_every_builder_survives_an_empty_frame():
    agg = aggregate([])
    hourly, sources = report.hourly_frame(agg), report.counts_frame(agg.sources, ["source", "topic"])
    for fig in (
        charts.prevalence_over_time(hourly, NAMES),
        charts.source_topic_heatmap(sources, NAMES),
        charts.weekday_hour_heatmap(hourly, NAMES),
        charts.followers_by_topic(report.followers_frame(agg), NAMES),
        charts.top_users(report.series(agg.mentions), "x"),
        charts.top_hashtags_per_topic(report.counts_frame(agg.hashtags, ["topic", "tag"]), NAMES),
        charts.top_terms_bars([], NAMES),
        charts.table("t", ["a"], [[]]),
    ):
        assert fig.layout.annotations[0].text == charts.NO_DATA


def test_topic_names_column_for_predictions():
    from tweet_topics.lib.naming import with_topic_names

    named = with_topic_names(pa.table({"dominant_topic": [0, -1, 1, None]}), NAMES)
    assert named["topic_name"].to_pylist() == ["Launches", "unassigned", "Mars", None]
