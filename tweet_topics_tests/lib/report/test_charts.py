"""Chart builders on small aggregate frames: values drawn, not only trace counts; every builder is empty-safe."""

from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa

from tweet_topics.lib.report import charts
from tweet_topics.lib.report import sections as report
from tweet_topics.lib.report.aggregates import aggregate
from tweet_topics.lib.report.tables import HtmlTable

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


def test_tables_are_html_and_escape_every_cell():
    table = charts.table("t <i>", ["<th>"], [["<script>alert(1)</script>"]])
    page = table.to_html()
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page and "<script>" not in page
    assert "t &lt;i&gt;" in page and "&lt;th&gt;" in page


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
    ):
        assert fig.layout.annotations[0].text == charts.NO_DATA
    empty_table = charts.table("t", ["a"], [[]])
    assert not empty_table.rows and charts.NO_DATA in empty_table.to_html()


EVIL = '<a href="https://evil.example/x">click</a><b>bold</b><br>&#60;i&#62;'


def hostile_sections():
    """Every report section built from data whose every free-text field is markup."""
    table = predictions()
    for column in ("source", "user_screen_name", "in_reply_to_screen_name", "mentions", "hashtags", "text"):
        table = table.set_column(table.column_names.index(column), column, pa.array([EVIL] * table.num_rows))
    table = table.append_column("user_location", pa.array([EVIL + ", France"] * table.num_rows))
    agg = aggregate([table])
    names = {0: EVIL, 1: "Mars " + EVIL, 2: "x"}
    topics = [{"topic": t, "terms": [EVIL, "b"], "weights": [0.2, 0.1]} for t in names]
    shift = {"name": EVIL, "share": 0.5, "baseline": 0.2, "z": 4.0, "alert": True}
    term = {"term": EVIL, "count": 9, "baseline_count": 0, "g2": 50.0, "ratio": 9.0}
    records = [{"hour": "2026-03-02-10:00", "topics": [shift], "low_confidence": shift, "emerging_terms": [term]}]
    return report.sections(agg, topics, names, [("model", EVIL)], records)


def plotted_strings(value):
    """Every string in a figure's JSON (data and layout): what plotly renders as labels, legends and hovers."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from plotted_strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from plotted_strings(v)


def test_data_strings_never_become_markup_in_any_chart():
    """Plotly renders <a href>, <b>, <br> and &#..; in ticks, legends, hovers and cells: data must arrive escaped."""
    import json

    seen_escaped = 0
    for heading, section in hostile_sections():
        if isinstance(section, HtmlTable):
            page = section.to_html()
            assert "<a " not in page and "<b>" not in page and "<br>" not in page, heading
            seen_escaped += "&lt;a href" in page
            continue
        for text in plotted_strings(json.loads(section.to_json())):
            markup = text.replace("<extra>", "").replace("</extra>", "")
            assert "<" not in markup and "&#60;" not in markup, (heading, text)
            seen_escaped += "&lt;a href" in text
    assert seen_escaped > 10  # the hostile values are drawn (escaped), not dropped


def test_every_chart_titles_every_axis_it_shows():
    """The top-terms grid had no axis titles: every visible axis of every chart now says what it measures."""
    missing = []
    for heading, section in hostile_sections():
        if isinstance(section, HtmlTable):
            continue
        figure = section.to_plotly_json()
        layout = figure["layout"]
        used = {f"{d}axis{t.get(d + 'axis', d)[1:]}" for t in figure["data"] for d in "xy"}  # axes traces draw on
        for name in used | {k for k in layout if k.startswith(("xaxis", "yaxis"))}:
            axis = layout.get(name, {})
            shown = axis.get("visible", True) and axis.get("showticklabels", True)
            if shown and not (axis.get("title") or {}).get("text"):
                missing.append(f"{heading}: {name}")
    assert not missing, missing


def test_window_title_reads_as_dates_not_the_key_id() -> None:
    day = [datetime(2026, 12, 4, h, tzinfo=UTC) for h in (0, 23)]
    assert report.window_title(day) == "2026-12-04 00:00 – 23:59 UTC"
    two_days = [datetime(2026, 12, 4, 22, tzinfo=UTC), datetime(2026, 12, 5, 1, tzinfo=UTC)]
    assert report.window_title(two_days) == "2026-12-04 22:00 – 2026-12-05 01:59 UTC"
    assert report.window_title([]) == "no scored hours"
    assert report.report_window(day) != report.window_title(day)  # the key id stays as it was
