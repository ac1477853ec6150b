"""A legacy TAB line of a pre-2010 (short) id: no JSON, and its id too short to name a tweet anywhere, so the rewrite
checks its id field exactly - removed or geo-scrubbed - while a line merely holding that number stays byte for byte."""

from tweet_topics.lib.archive.compliance import Actions, rewrite
from tweet_topics.lib.records import LEGACY_FIELDS, legacy_line_from_record, record_from_legacy_line, record_from_v2


def _line(tweet_id: str, text: str) -> bytes:
    payload = {"data": {"id": tweet_id, "text": text, "author_id": "5", "created_at": "2009-03-01T10:00:00.000Z",
                        "geo": {"coordinates": {"type": "Point", "coordinates": [2.35, 48.85]}}},
               "includes": {"users": [{"id": "5", "username": "u5", "name": "U"}]}}  # fmt: skip
    line = legacy_line_from_record(record_from_v2(payload)).rstrip("\n").encode()
    values = line.split(b"\t")
    values[LEGACY_FIELDS.index("coords_lon")], values[LEGACY_FIELDS.index("coords_lat")] = b"2.35", b"48.85"
    return b"\t".join(values)


def test_a_legacy_line_of_a_short_id_is_removed_by_its_id_field_only():
    deleted, other = _line("20", "just setting up my twttr"), _line("21", "20 people at the 2009 meetup")
    body = deleted + b"\n" + other + b"\n"
    out = rewrite(body, Actions(remove={"20"}))
    assert out.removed == 1 and out.body == other + b"\n"
    assert rewrite(body, Actions(remove={"22"})).body == body  # no line of that id: byte for byte


def test_a_legacy_line_of_a_short_id_is_scrubbed_of_geo():
    line = _line("20", "just setting up my twttr")
    out = rewrite(line, Actions(scrub_geo={"20"}))
    assert out.scrubbed == 1 and out.removed == 0
    record = record_from_legacy_line(out.body.decode())
    assert record["id"] == "20" and record["coords_lon"] is None and record["coords_lat"] is None
    assert record_from_legacy_line(line.decode())["coords_lon"] == 2.35
