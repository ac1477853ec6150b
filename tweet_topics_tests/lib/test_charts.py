import pandas as pd

from tweet_topics.lib import charts

NAMES = {0: "Launches", 1: "Mars", 2: "an extraordinarily long topic name that goes on"}


def frame():
    return pd.DataFrame(
        {
            "created_at": [
                "2026-03-02T10:05:00Z",
                "2026-03-02T10:40:00Z",
                "2026-03-02T11:10:00Z",
                "2026-03-03T11:20:00Z",
                "2026-03-03T11:25:00Z",
            ],
            "dominant_topic": [0, 1, 0, -1, 1],
            "source": ["Twitter for iPhone", "Twitter Web App", "Twitter for iPhone", None, "Twitter Web App"],
            "user_followers": [10, 2000, 5, 7, None],
            "in_reply_to_screen_name": [None, "NASA", "a_really_really_long_username_x", "NASA", ""],
            "mentions": ["NASA|esa", "", "NASA", "", "SpaceX"],
            "hashtags": ["Artemis|Moon", "Mars", "", "", "mars"],
        }
    )


def test_prevalence_counts_per_hour_and_topic():
    fig = charts.prevalence_over_time(frame(), NAMES)
    traces = {t.name: list(t.y) for t in fig.data}
    assert traces["Launches"] == [1, 1, 0] and traces["Mars"] == [1, 0, 1]
    assert traces[NAMES[2]] == [0, 0, 0]  # a topic with no tweets still has its own (empty) trace


def test_source_heatmap_values_and_annotations():
    fig = charts.source_topic_heatmap(frame(), NAMES)
    heat = fig.data[0]
    assert list(heat.y) == ["Twitter for iPhone", "Twitter Web App"]
    assert heat.text[0][0] == "2" and heat.text[1][1] == "2"


def test_weekday_hour_picks_most_frequent_topic():
    fig = charts.weekday_hour_heatmap(frame(), NAMES)
    heat = fig.data[0]
    assert list(heat.x) == charts.WEEKDAYS and len(heat.y) == 24
    # 2026-03-02 is a Monday: hour 10 has one Launches and one Mars tweet; ties go to the lower topic id.
    assert heat.text[10][0] == "Launches" and heat.z[10][0] == 1


def test_users_are_split_counted_and_shortened():
    mentions = charts.top_users(frame(), "mentions", "Most mentioned")
    bar = mentions.data[0]
    assert dict(zip(bar.customdata, bar.x, strict=True)) == {"NASA": 2, "esa": 1, "SpaceX": 1}
    replies = charts.top_users(frame(), "in_reply_to_screen_name", "Most replied-to")
    assert all(len(label) <= charts.LABEL_MAX for label in replies.data[0].y)
    assert "a_really_really_long_username_x" in replies.data[0].customdata


def test_hashtags_lowercased_per_topic_and_followers_box():
    fig = charts.top_hashtags_per_topic(frame(), NAMES)
    mars = next(t for t in fig.data if t.name == "Mars")
    assert list(mars.x) == ["#mars"] and list(mars.y) == [2]
    box = charts.followers_by_topic(frame(), NAMES)
    assert [len(t.y) for t in box.data] == [2, 1, 0]


def test_every_builder_survives_an_empty_frame():
    empty = frame().iloc[0:0]
    for fig in (
        charts.prevalence_over_time(empty, NAMES),
        charts.source_topic_heatmap(empty, NAMES),
        charts.weekday_hour_heatmap(empty, NAMES),
        charts.followers_by_topic(empty, NAMES),
        charts.top_users(empty, "mentions", "x"),
        charts.top_hashtags_per_topic(empty, NAMES),
        charts.top_terms_bars([], NAMES),
    ):
        assert fig.layout.annotations[0].text == "no data for this window"


def test_colours_are_consistent_across_charts():
    colors = charts.topic_colors(NAMES)
    terms = charts.top_terms_bars([{"topic": 1, "terms": ["mars"], "weights": [0.5]}], NAMES)
    assert terms.data[0].marker.color == colors["Mars"]
    box = charts.followers_by_topic(frame(), NAMES)
    assert box.data[1].marker.color == colors["Mars"]
