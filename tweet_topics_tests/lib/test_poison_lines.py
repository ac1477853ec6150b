"""No line can fail an hour: hostile values become quarantine entries with a reason, the rest of the hour is
kept, both parse paths agree, and what is written can be read back and filtered."""

import json
import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from tweet_topics.lib.combine import combine_objects, csv_to_table, table_to_csv
from tweet_topics.lib.combine_fast import fast_object
from tweet_topics.lib.filtering import Blocklist, filter_tweets
from tweet_topics.lib.records import RECORD_FIELDS
from tweet_topics.lib.synthetic import TweetGenerator, render_hour

HOUR = datetime(2026, 3, 1, 7, tzinfo=UTC)


def clean_lines(n: int = 40, seed: int = 3) -> list[dict]:
    tweets = TweetGenerator(seed=seed).tweets_between(HOUR, HOUR + timedelta(hours=1), n)
    hour = render_hour(tweets, HOUR, "raw/", "s", n_objects=1)
    return [json.loads(line) for _, body in hour.objects for line in body.splitlines() if line.strip()]


def body_of(records: list[dict], raw_lines: tuple[bytes, ...] = ()) -> bytes:
    lines = [json.dumps(r).encode() for r in records] + list(raw_lines)
    return b"\n".join(lines) + b"\n"


POISON = {
    "list element not a string": ({"hashtags": ["ok", 5]}, "bad_type:hashtags"),
    "integer above int64": ({"user_followers": 2**70}, "out_of_range:user_followers"),
    "lone surrogate": ({"text": "\ud800 rocket"}, "invalid_unicode:text"),
    "created_at not a date": ({"created_at": "not-a-date"}, "bad_created_at"),
    "created_at well shaped but impossible": ({"created_at": "2026-02-30T05:10:00Z"}, "bad_created_at"),
    "created_at with a trailing newline": ({"created_at": "2026-03-01T07:10:00Z\n"}, "bad_created_at"),
    "null inside a list": ({"hashtags": ["a", None]}, "bad_type:hashtags"),
    "non-ASCII digits as id": ({"id": "١٢٣"}, "bad_type:id"),
    "infinite coordinate": ({"coords_lat": float("inf")}, "out_of_range:coords_lat"),
    "text is a number": ({"text": 5}, "bad_type:text"),
}


@pytest.mark.parametrize("case", sorted(POISON))
def test_one_poison_line_is_quarantined_and_the_hour_goes_on(case):
    change, reason = POISON[case]
    records = clean_lines()
    records[7] = {**records[7], **change}
    result = combine_objects([("raw/o1", body_of(records))], hour=HOUR)
    assert [q["reason"] for q in result.quarantine] == [reason]
    assert result.stats["kept"] + result.stats["duplicates"] == len(records) - 1
    assert csv_to_table(table_to_csv(result.table)).num_rows == result.table.num_rows


def test_invalid_utf8_and_oversize_lines_are_quarantined_on_the_fast_path_too():
    records = clean_lines()
    huge = json.dumps({**records[0], "id": "999", "text": "x" * (1100 * 1024)}).encode()
    bad_utf8 = json.dumps({**records[1], "id": "998"}).encode().replace(b'"text": "', b'"text": "\xff\xfe', 1)
    result = combine_objects([("raw/o1", body_of(records, (huge, bad_utf8)))], hour=HOUR)
    assert sorted(q["reason"] for q in result.quarantine) == ["invalid_utf8", "oversize_line"]
    oversize = next(q for q in result.quarantine if q["reason"] == "oversize_line")
    assert oversize["line_bytes"] == len(huge) and len(oversize["line"]) < 100 * 1024
    csv = table_to_csv(result.table)
    csv.decode("utf-8")  # every written byte is valid UTF-8


def test_time_offsets_are_normalized_to_utc_before_bucketing():
    records = clean_lines()
    records[3] = {**records[3], "created_at": "2026-03-01T12:30:00+05:00"}
    result = combine_objects([("raw/o1", body_of(records))], hour=HOUR)
    row = result.table.filter(pa.compute.equal(result.table["id"], records[3]["id"]))
    assert row["created_at"].to_pylist() == ["2026-03-01T07:30:00Z"]


HOSTILE = [
    None,
    5,
    -1,
    2**64,
    1.5,
    float("nan"),
    True,
    "",
    "x" * 5000,
    "\ud800",
    "=cmd|' /C calc'!A0",
    [],
    ["a", 1],
    {"nested": [1, {"deep": None}]},
    "2026-03-01T07:00:00+02:00",
    "not-a-date",
    "\x00\u202e",
]


def test_fuzz_both_parse_paths_agree_and_every_output_reads_back():
    """Every field of a record x a dozen hostile values, one hostile value in each object of 5 records (so clean and
    dirty objects alike reach the vectorized path): 0 exceptions; fast == line path; written CSV reads back; the
    filter runs on what was read back."""
    rng = random.Random(5)
    base = clean_lines(300, seed=9)
    fields = sorted(RECORD_FIELDS)
    objects = []
    for index, (field, value) in enumerate((f, v) for f in fields for v in HOSTILE):
        records = [dict(r) for r in rng.sample(base, 5)]
        records[rng.randrange(5)][field] = value
        objects.append((f"raw/o{index:04d}", body_of(records)))
    clean = [(f"raw/c{index:04d}", body_of(rng.sample(base, 5))) for index in range(50)]
    objects += clean
    fast = combine_objects(objects, hour=HOUR, fast=True)
    slow = combine_objects(objects, hour=HOUR, fast=False)
    vectorized = len(objects) - fast.stats["objects_parsed_line_by_line"]
    assert vectorized > len(clean) + 20, "hostile objects the fast path accepts are compared too"
    assert slow.stats["objects_parsed_line_by_line"] == len(objects)
    assert fast.table.equals(slow.table)
    assert fast.quarantine == slow.quarantine
    ignore = {"objects_parsed_line_by_line"}
    assert {k: v for k, v in fast.stats.items() if k not in ignore} == {
        k: v for k, v in slow.stats.items() if k not in ignore
    }
    assert fast.stats["malformed"] > 0 and fast.stats["kept"] > 0
    back = csv_to_table(table_to_csv(fast.table))
    assert back.num_rows == fast.table.num_rows
    result = filter_tweets(back, Blocklist(terms=("crypto",)), min_words=5, languages=("en",))
    assert result.kept.num_rows + result.rejected.num_rows == back.num_rows


def test_escapes_and_line_shapes_take_the_same_decision_on_both_paths():
    """The vectorized path screens escapes and line shapes without a regex over each body (issue 27): every
    variant below must give exactly what the line path gives, and the clean ones must stay vectorized."""
    records = clean_lines(12, seed=4)
    text = body_of(records[:3]).replace(b'"text": "', b'"text": "@@', 1)
    variants = {  # the escape put into one text: does the object stay on the vectorized path?
        "pair": (rb"\ud83d\ude80", True),
        "escaped backslash, then u": (rb"\\ud800", True),  # valid text (no screen of its own since issue 27)
        "other escapes": (rb"\u00e9\u0041", True),
        "lone high at the end": (rb"\ud83d", False),
        "lone low": (rb"\ude80", False),
        "high, high, low": (rb"\ud83d\ud83d\ude80", False),
        "pair, then a low": (rb"\ud83d\ude80\ude80", False),
    }
    objects = [(f"raw/e-{name}", text.replace(b"@@", escape)) for name, (escape, _) in variants.items()]
    objects += [
        ("raw/s-cr", body_of(records[3:6]).replace(b"\n", b"\r\n", 1)),
        ("raw/s-spaces", body_of(records[6:9]) + b"   \n"),
        ("raw/s-unknown-field", body_of([{**records[9], "extra": "\ud800"}])),
        ("raw/s-bad-utf8-unknown", body_of([{**records[10], "extra": "x"}]).replace(b'"x"', b'"\xff"')),
    ]
    fast = combine_objects(objects, hour=HOUR, fast=True)
    slow = combine_objects(objects, hour=HOUR, fast=False)
    assert fast.table.equals(slow.table)
    assert fast.quarantine == slow.quarantine
    vectorized = sum(fast_path for _, fast_path in variants.values())
    assert fast.stats["objects_parsed_line_by_line"] == len(objects) - vectorized
    assert fast.stats["malformed"] >= 4


@pytest.mark.parametrize(
    "escape",
    [rb"\ud800", rb"\udc00", rb"\uDBFF x", rb"\ud83d\ud83d\ude80", rb"\ud83d\ude80\ude80", rb"\ud800\u0041"],
)
@pytest.mark.parametrize("where", ["text", "unknown field", "key"])
def test_arrow_refuses_every_lone_surrogate_so_the_object_takes_the_line_path(escape, where):
    """The vectorized path has no surrogate screen of its own: it relies on Arrow's JSON parser refusing an
    unpaired surrogate escape anywhere in an object (this pins that behaviour across pyarrow upgrades)."""
    records = clean_lines(4, seed=8)
    body = body_of(records)
    assert fast_object("raw/clean", body) is not None
    if where == "text":
        poisoned = body.replace(b'"text": "', b'"text": "' + escape, 1)
    else:  # a field the schema does not know, so no column check could catch it: only the parser can
        field = b'"extra": "' + escape + b'", ' if where == "unknown field" else b'"extra' + escape + b'": 1, '
        poisoned = body.replace(b"{", b"{" + field, 1)
    assert fast_object("raw/poisoned", poisoned) is None
    slow = combine_objects([("raw/poisoned", poisoned)], hour=HOUR, fast=False)
    fast = combine_objects([("raw/poisoned", poisoned)], hour=HOUR, fast=True)
    assert fast.table.equals(slow.table) and fast.quarantine == slow.quarantine


def test_a_legacy_line_cut_inside_its_text_is_a_truncated_line_not_a_shorter_tweet():
    """A legacy record ends in "<text>\\t\\n"; the object's last line without its newline and closing TAB was cut
    (here in the middle of its text, the last field: all 53 fields are still there): quarantined, not kept shortened.
    The same line cut right after its closing TAB is whole and kept."""
    from tweet_topics.lib.records import legacy_line_from_record, record_from_v2

    hour = datetime(2026, 3, 1, 5, tzinfo=UTC)
    first, second = TweetGenerator(seed=4).tweets_between(hour, hour + timedelta(hours=1), 2)
    lines = [legacy_line_from_record(record_from_v2(t.payload)).encode() for t in (first, second)]
    assert lines[1].endswith(b"\t\n") and lines[1].count(b"\t") == 53
    text_start = lines[1].removesuffix(b"\t\n").rfind(b"\t") + 1  # the text is the last field
    cut = lines[1][: text_start + (len(lines[1]) - 2 - text_start) // 2]
    assert cut.count(b"\t") == 52  # all 53 fields are there, the text half: a field count cannot see the cut
    result = combine_objects([("raw/k", lines[0] + cut)], hour=hour)
    assert result.table["id"].to_pylist() == [first.payload["data"]["id"]]
    assert [(q["reason"], q["line"].encode()) for q in result.quarantine] == [("truncated_line", cut)]
    whole = combine_objects([("raw/k", lines[0] + lines[1].removesuffix(b"\n"))], hour=hour)
    assert whole.table.num_rows == 2 and not whole.quarantine


@pytest.mark.parametrize("poisoned_at", [None, 0, 3, 5])
def test_batched_gates_send_only_the_failing_object_down_the_line_path(poisoned_at):
    """The storable gates run once over every parsed object of the hour; when that pass fails, only the objects
    that fail it on their own take the line path, and each kept row keeps its own object's key and line."""
    records = clean_lines(60, seed=12)
    sizes = [10, 7, 13, 5, 15, 10]  # objects of different lengths, so a slice off by one object shows
    starts = [sum(sizes[:i]) for i in range(6)]
    objects = [(f"raw/b{i}", body_of(records[starts[i] : starts[i] + sizes[i]])) for i in range(6)]
    if poisoned_at is not None:  # parses fine, fails one gate (an impossible date), so only the gate can catch it
        bad = body_of([{**records[starts[poisoned_at]], "created_at": "2026-02-30T07:10:00Z"}])
        objects[poisoned_at] = (objects[poisoned_at][0], bad + objects[poisoned_at][1])
    fast = combine_objects(objects, hour=HOUR, fast=True)
    slow = combine_objects(objects, hour=HOUR, fast=False)
    assert fast.stats["objects_parsed_line_by_line"] == (0 if poisoned_at is None else 1)
    assert fast.table.equals(slow.table) and fast.quarantine == slow.quarantine
    where = dict(
        zip(
            fast.table["id"].to_pylist(),
            zip(fast.table["source_key"].to_pylist(), fast.table["line_number"].to_pylist(), strict=True),
            strict=True,
        )
    )
    for i, record in enumerate(records):
        index = max(j for j in range(6) if starts[j] <= i)
        shift = 1 if poisoned_at == index else 0
        assert where[record["id"]] == (f"raw/b{index}", i - starts[index] + 1 + shift)


EDGE_LINES = {  # (the second line, what both paths must do with it: kept, or quarantined with this reason)
    "year 0000 (Arrow's strptime takes it, Python's datetime does not)": (
        lambda r: json.dumps({**r, "created_at": "0000-02-29T00:00:00Z"}).encode(),
        "bad_created_at",
    ),
    "an unknown field nested 1,000 deep (past Python's recursion limit)": (
        lambda r: json.dumps(r)[:-1].encode() + b', "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        "unreadable_line",
    ),
    "an unknown object nested 1,000 deep": (
        lambda r: json.dumps(r)[:-1].encode() + b', "x": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1000 + b"}",
        "unreadable_line",
    ),
    "an unknown field nested 400 deep": (
        lambda r: json.dumps(r)[:-1].encode() + b', "x": ' + b"[" * 400 + b"]" * 400 + b"}",
        None,
    ),
    "a JSON line led by blanks (not a legacy record)": (lambda r: b"  \t" + json.dumps(r).encode(), None),
}


@pytest.mark.parametrize("case", sorted(EDGE_LINES))
def test_both_paths_decide_edge_lines_alike(case):
    """Lines where Arrow's parser and the line path could disagree: the vectorized path must leave them to the
    line path (or agree with it), so the kept rows, the quarantine and every count are the same."""
    make, reason = EDGE_LINES[case]
    records = clean_lines(3, seed=21)
    body = body_of([records[0]], (make(records[1]),))
    fast = combine_objects([("raw/o", body)], hour=HOUR, fast=True)
    slow = combine_objects([("raw/o", body)], hour=HOUR, fast=False)
    assert (
        fast.table.equals(slow.table)
        and fast.quarantine == slow.quarantine
        and fast.stats == {**slow.stats, "objects_parsed_line_by_line": fast.stats["objects_parsed_line_by_line"]}
    )
    assert [q["reason"] for q in slow.quarantine] == ([reason] if reason else [])
    assert slow.stats["legacy_records"] == 0
