import io
import json
from datetime import UTC, datetime, timedelta

import pandas as pd

from tweet_topics.lib.combine import (
    COMBINED_COLUMNS,
    combine_objects,
    csv_to_table,
    quarantine_to_ndjson,
    table_to_csv,
)
from tweet_topics.lib.synthetic import FaultSpec, TweetGenerator, render_hour

HOUR = datetime(2026, 3, 1, 5, tzinfo=UTC)
FAULTS = FaultSpec(malformed_json=3, duplicates=4, missing_text=2, truncated_last_line=True, legacy_tab_lines=5)


def rendered(n=400, faults=FAULTS):
    batch = TweetGenerator(seed=3).tweets_between(HOUR, HOUR + timedelta(hours=1), n)
    return render_hour(batch, HOUR, "raw/", "s", n_objects=7, faults=faults)


def test_combine_with_faults_reconciles_and_quarantines_every_bad_line():
    hour = rendered()
    result = combine_objects(hour.objects, hour=HOUR)
    stats = result.stats
    assert stats["records_read"] == hour.lines
    assert stats["records_read"] == stats["kept"] + stats["malformed"] + stats["duplicates"]
    assert stats["malformed_by_reason"] == hour.expected_malformed
    assert stats["duplicates"] == hour.expected_duplicates
    assert sorted(result.table["id"].to_pylist(), key=int) == sorted(hour.expected_ids, key=int)
    assert stats["legacy_records"] == 5
    assert len(result.quarantine) == stats["malformed"]
    keys = {k for k, _ in hour.objects}
    for entry in result.quarantine:
        assert entry["source_key"] in keys and entry["line_number"] >= 1 and entry["reason"]
        body = dict(hour.objects)[entry["source_key"]]
        assert body.split(b"\n")[entry["line_number"] - 1].decode() == entry["line"]
    lines = quarantine_to_ndjson(result.quarantine).decode().splitlines()
    assert [json.loads(x)["reason"] for x in lines] == [q["reason"] for q in result.quarantine]


def test_csv_round_trip_with_pandas_and_arrow_is_exact():
    result = combine_objects(rendered().objects, hour=HOUR)
    data = table_to_csv(result.table)
    assert csv_to_table(data).equals(result.table)
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    assert list(frame.columns) == COMBINED_COLUMNS
    assert frame["text"].tolist() == result.table["text"].to_pylist()
    tricky = [t for t in frame["text"] if "\n" in t and '"' in t and "\t" in t and "," in t]
    assert tricky, "the generator plants quotes, commas, newlines and tabs"


def test_output_is_deterministic_regardless_of_object_order():
    hour = rendered()
    forward = table_to_csv(combine_objects(hour.objects, hour=HOUR).table)
    backward = table_to_csv(combine_objects(list(reversed(hour.objects)), hour=HOUR).table)
    assert forward == backward


def test_empty_hour_gives_header_only():
    result = combine_objects([], hour=HOUR)
    assert result.stats["records_read"] == 0 and result.table.num_rows == 0
    assert table_to_csv(result.table).decode().strip().split(",")[0] == '"schema_version"'


def test_late_tweets_are_flagged_not_dropped():
    batch = TweetGenerator(seed=1).tweets_between(HOUR - timedelta(hours=2), HOUR - timedelta(hours=1), 10)
    hour = render_hour(batch, HOUR, "raw/", "s", n_objects=1)
    result = combine_objects(hour.objects, hour=HOUR)
    assert result.stats["kept"] == 10 and result.stats["outside_hour"] == 10
