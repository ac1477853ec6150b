"""The parse phase of an import on real and hostile inputs: every format detected by content, every bad input a
reject with its reason or one ArchiveError line naming the file and the line, nothing held whole in memory."""

import csv
import gzip
import json
from pathlib import Path

import pytest

from tweet_topics.lib.archive.inputs import ArchiveError
from tweet_topics.lib.archive.pipeline import RejectsFile, parse_inputs
from tweet_topics.lib.archive.spill import HourSpill
from tweet_topics_tests.conftest import DATA, REAL_TWEETS

V1_FILE = DATA / "archive" / "v1-statuses.jsonl"


def _parse(tmp_path: Path, *names: Path, fmt: str = "auto", buffer_bytes: int = 1 << 20):
    tmp_path.mkdir(parents=True, exist_ok=True)
    spill = HourSpill(tmp_path, buffer_bytes=buffer_bytes)
    rejects = RejectsFile(tmp_path / "rejects.ndjson")
    stats = parse_inputs([str(n) for n in names], spill, rejects, "import-test", fmt, workers=1)
    rejects.close()
    entries = [json.loads(line) for line in (tmp_path / "rejects.ndjson").read_text().splitlines()]
    tweets = {h: list(spill.read(h)) for h in spill.hours()}
    return stats, tweets, entries


def _pages() -> list[dict]:
    return [json.loads(line) for line in REAL_TWEETS.read_text().splitlines()]


def test_real_twarc2_pages_and_v1_statuses_land_in_their_posting_hours(tmp_path):
    stats, tweets, rejects = _parse(tmp_path, REAL_TWEETS, V1_FILE)
    assert [f["format"] for f in stats.files] == ["twarc2", "v1"]
    assert stats.read == 200 + 19 and stats.rejected == 0 and not rejects
    assert sorted(tweets) == ["2021032313", "2021032314", "2021032315", "2021032316"]
    assert len(tweets["2021032316"]) == 200
    page_ids = {t["id"] for p in _pages() for t in p["data"]}
    assert {t.id for t in tweets["2021032316"]} == page_ids
    first = json.loads(tweets["2021032316"][0].record)
    assert first["delivery"] == {"run": "import-test", "seq": 1} and first["user_screen_name"]
    original = json.loads(tweets["2021032316"][0].original)
    assert original["data"]["id"] == first["id"]
    assert {u["id"] for u in original["includes"]["users"]} >= {original["data"]["author_id"]}
    v1 = [json.loads(t.record) for h in ("2021032313", "2021032314", "2021032315") for t in tweets[h]]
    assert len(v1) == 19 and all(r["text"] and "&amp;" not in r["text"] for r in v1)
    extended = [json.loads(line) for line in V1_FILE.read_text().splitlines() if "extended_tweet" in line]
    assert extended and {r["id"]: r["text"] for r in v1}[extended[0]["id_str"]].endswith(
        extended[0]["extended_tweet"]["full_text"][-20:].replace("&amp;", "&")
    )


def test_flattened_csv_and_x_archive_give_the_same_ids_and_times(tmp_path):
    page = _pages()[0]
    users = {u["id"]: u for u in page["includes"]["users"]}
    tweets = page["data"][:20]
    flat = tmp_path / "flat.jsonl"
    flat.write_text("".join(json.dumps({**t, "author": users[t["author_id"]]}) + "\n" for t in tweets))
    rows = tmp_path / "tweets.csv"
    with open(rows, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "created_at", "text", "author_id", "author.username", "lang", "entities.mentions"])
        for t in tweets:
            mentions = json.dumps((t.get("entities") or {}).get("mentions", []))
            writer.writerow([t["id"], t["created_at"], t["text"], t["author_id"], "someone", t["lang"], mentions])
    archive = tmp_path / "data"
    archive.mkdir()
    (archive / "account.js").write_text(
        'window.YTD.account.part0 = [ {\n  "account" : {\n    "accountId" : "242874600",\n    "username" : "owner",\n'
        '    "accountDisplayName" : "Owner",\n    "createdAt" : "2011-01-25T20:05:52.000Z"\n  }\n} ]'
    )
    elements = []
    for i, t in enumerate(tweets):
        created = f"Tue Mar 23 16:2{i % 3}:00 +0000 2021"
        fields = {"id_str": t["id"], "full_text": t["text"], "lang": t["lang"], "favorite_count": "3"}
        elements.append({"tweet": {**fields, "id": t["id"], "created_at": created}})
    (archive / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps(elements, indent=2))
    for path, fmt in ((flat, "twarc2-flat"), (rows, "csv"), (archive / "tweets.js", "x-archive")):
        stats, spilled, rejects = _parse(tmp_path / fmt, path)
        assert stats.files[0]["format"] == fmt and not rejects, (fmt, rejects[:2])
        records = [json.loads(t.record) for t in spilled["2021032316"]]
        assert [r["id"] for r in records] == [t["id"] for t in tweets], fmt
    assert {r["author_id"] for r in records} == {"242874600"} and records[0]["like_count"] == 3


def test_bad_lines_are_rejects_with_their_reasons(tmp_path):
    page = _pages()[0]
    good = json.dumps(page).encode()
    tweet = page["data"][0]

    def variant(**changes) -> bytes:
        return json.dumps({"data": [{**tweet, **changes}], "includes": page["includes"]}).encode()

    lines = [
        good,
        b'{"id_str": "1", "user": {}}',  # a v1.1 status in a twarc2 file: mixed formats
        good[:5000] + b"\xff\xfe" + good[5000:],  # bytes that are not UTF-8
        variant(id="12ab"),
        variant(id="99", created_at="2099-01-01T00:00:00.000Z"),
        variant(id="98", created_at="2005-12-31T23:00:00.000Z"),
        variant(id="97", created_at="2021-02-30T00:00:00.000Z"),
        b'{"data": [{"id": "96", "text": "cut',  # truncated line
        b"{" + b" " * (50 * 1024 * 1024) + b"}",  # a 50 MB line
        good,  # the same page again: duplicates are decided per hour at write time, not here
    ]
    path = tmp_path / "mixed.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n", compresslevel=1))
    stats, tweets, rejects = _parse(tmp_path, path)
    reasons = {(r["line"], r["reason"]) for r in rejects}
    assert reasons == {
        (2, "format_mismatch:twarc2"),
        (3, "invalid_utf8"),
        (4, "bad_type:id"),
        (5, "created_at_out_of_range"),
        (6, "created_at_out_of_range"),
        (7, "bad_created_at"),
        (8, "invalid_json"),
        (9, "oversize_line"),
    }
    assert stats.read == 100 + 8 + 100 and stats.rejected == 8 and sum(map(len, tweets.values())) == 200
    assert len(next(r for r in rejects if r["reason"] == "oversize_line")["raw"]) <= 64 * 1024 + 10


def test_unreadable_inputs_fail_in_one_line_naming_file_and_line(tmp_path):
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(gzip.compress(REAL_TWEETS.read_bytes())[:-5000])
    unknown = tmp_path / "notes.txt"
    unknown.write_text("\n\nhello world\n")
    foreign = tmp_path / "other.jsonl"
    foreign.write_text('{"kind": "not a tweet"}\n')
    for path, expected in (
        (truncated, f"{truncated}:2: truncated gzip stream"),
        (unknown, f"{unknown}:3: no known format fits"),
        (foreign, f"{foreign}:1: no known format fits"),
    ):
        with pytest.raises(ArchiveError) as info:
            _parse(tmp_path / path.stem, path)
        assert str(info.value).startswith(expected) and "\n" not in str(info.value)


def test_spill_keeps_memory_bounded_and_input_order(tmp_path):
    _, tweets, _ = _parse(tmp_path, REAL_TWEETS, buffer_bytes=4096)
    spilled = list(tmp_path.glob("tweet-topics-import-*/2021032316.*"))
    assert spilled and spilled[0].stat().st_size > 4096
    assert [t.seq for t in tweets["2021032316"]] == list(range(1, 201))


def test_import_records_are_the_streamers_records(tmp_path):
    """The import's conversion (per-tweet includes, the emoji shortcut) gives exactly what the streamer's replay
    path gives for the same payloads: real pages and generated tweets with emoji, mentions and URLs."""
    from datetime import UTC, datetime, timedelta

    from tweet_topics.lib.archive import fast
    from tweet_topics.lib.records import record_from_payload
    from tweet_topics.lib.records.entities import clean_text
    from tweet_topics.lib.synthetic import TweetGenerator

    generator = TweetGenerator(seed=9)
    generated = [generator.tweet(datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=i)).payload for i in range(300)]
    path = tmp_path / "generated.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in generated))
    _, tweets, _ = _parse(tmp_path / "parse", REAL_TWEETS, path)
    ours = {t.id: json.loads(t.record) for hour in tweets.values() for t in hour}
    payloads = [{"data": t, "includes": p["includes"]} for p in _pages() for t in p["data"]] + generated
    assert len(ours) == len(payloads) == 500
    for payload in payloads:
        expected = record_from_payload(payload)
        got = ours[expected["id"]]
        got.pop("delivery")
        assert got == expected
    emoji_texts = [p["data"]["text"] for p in generated if not p["data"]["text"].isascii()]
    assert emoji_texts and all(fast.clean_text(t) == clean_text(t) for t in emoji_texts)
    assert fast.clean_text("#\ufe0f\u20e3 a\u200db \U0001f469\u200d\U0001f680!") == clean_text(
        "#\ufe0f\u20e3 a\u200db \U0001f469\u200d\U0001f680!"
    )


def test_a_forced_format_is_not_detected_and_other_lines_are_mismatches(tmp_path):
    """``--format v1`` on twarc2 pages: no detection error, every page a ``format_mismatch:v1`` reject."""
    stats, tweets, rejects = _parse(tmp_path, REAL_TWEETS, fmt="v1")
    assert stats.files[0]["format"] == "v1" and not tweets
    assert [r["reason"] for r in rejects] == ["format_mismatch:v1", "format_mismatch:v1"] and stats.rejected == 2


def test_worker_processes_spill_exactly_what_one_process_does(tmp_path, monkeypatch):
    """Batches converted and spilled by two worker processes (files of their own) read back as one process's:
    the same tweets, records, originals and delivery sequences per hour, in input order, the same rejects."""
    from datetime import UTC, datetime, timedelta

    from tweet_topics.lib.archive import pipeline, readers
    from tweet_topics.lib.synthetic import TweetGenerator

    monkeypatch.setattr(pipeline, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(readers, "BATCH_LINES", 7)  # many small batches, spread over both workers
    generator = TweetGenerator(seed=4)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    generated = [generator.tweet(start + timedelta(minutes=i % 180)).payload for i in range(400)]
    lines = [json.dumps(p).encode() for p in generated]
    lines[50:50] = [b"{broken", *REAL_TWEETS.read_bytes().splitlines()]
    path = tmp_path / "pages.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    outcome = []
    for workers in (1, 2):
        spill = HourSpill(tmp_path, buffer_bytes=64 * 1024)
        rejects = RejectsFile(tmp_path / f"rejects-{workers}.ndjson")
        stats = parse_inputs([str(path)], spill, rejects, "import-test", workers=workers)
        rejects.close()
        if workers == 2:
            owners = {p.suffix for p in spill.dir.iterdir()}
            assert len(owners) == 2  # both workers spilled, each to files of its own
        outcome.append(
            (
                {h: list(spill.read(h)) for h in spill.hours()},
                (tmp_path / f"rejects-{workers}.ndjson").read_text(),
                (stats.read, stats.rejected, stats.seq),
            )
        )
        spill.close()
    assert outcome[0] == outcome[1]
    tweets, rejected, counts = outcome[0]
    assert counts == (601, 1, 601) and json.loads(rejected)["seq"] == 51
    seqs = sorted(t.seq for hour in tweets.values() for t in hour)
    assert seqs == [s for s in range(1, 602) if s != 51]
    assert all([t.seq for t in hour] == sorted(t.seq for t in hour) for hour in tweets.values())


ACCOUNT_JS = (
    'window.YTD.account.part0 = [{"account": {"accountId": "12", "username": "u", "accountDisplayName": "U", '
    '"createdAt": "2010-01-01T00:00:00.000Z"}}]'
)


def _x_archive(tmp_path: Path, body: bytes) -> Path:
    folder = tmp_path / "x"
    folder.mkdir(parents=True)
    (folder / "account.js").write_text(ACCOUNT_JS)
    (folder / "tweets.js").write_bytes(body)
    return folder / "tweets.js"


def test_cut_gzip_and_deep_nesting_in_csv_and_x_archives_fail_in_one_line(tmp_path):
    """Found by fuzzing the reading layer: these raised EOFError, BadGzipFile or RecursionError as tracebacks."""
    rows = b"id,text,created_at,author_id\n" + b"1374345189733453826,hello,2021-03-23T13:00:01.000Z,12\n" * 50
    element = (
        b'{"tweet": {"id": "1374345189733453826", "full_text": "hi", "created_at": "Tue Mar 23 13:00:01 +0000 2021"}}'
    )
    js = b"window.YTD.tweets.part0 = [\n" + b",\n".join([element] * 3000) + b"\n]\n"
    cut_csv, garbage_csv = tmp_path / "cut.csv.gz", tmp_path / "garbage.csv.gz"
    cut_csv.write_bytes(gzip.compress(rows)[:-30])
    garbage_csv.write_bytes(gzip.compress(rows) + b"garbage")
    cases = {
        cut_csv: "truncated gzip stream",
        garbage_csv: "corrupt gzip stream",
        _x_archive(tmp_path / "cut", gzip.compress(js)[:-300]): "truncated gzip stream",
        _x_archive(tmp_path / "deep", b"window.YTD.tweets.part0 = [" + b"[" * 100_000 + b"]" * 100_000 + b"]"): (
            "X archive element nested too deep"
        ),
    }
    for path, expected in cases.items():
        with pytest.raises(ArchiveError) as info:
            _parse(tmp_path / "out" / path.parent.name / path.stem, path)
        assert str(info.value).startswith(f"{path}:") and expected in str(info.value), str(info.value)


def test_a_byte_order_mark_is_skipped_by_every_reader(tmp_path):
    """Format detection skipped an editor's BOM but the readers did not: a twarc2 file lost its first page as
    invalid_json and a spreadsheet's CSV every row (its first column was named "\\ufeffid")."""
    bom = b"\xef\xbb\xbf"
    page = REAL_TWEETS.read_bytes().splitlines()[0]
    twarc2, rows = tmp_path / "bom.jsonl", tmp_path / "bom.csv"
    twarc2.write_bytes(bom + page + b"\n")
    rows.write_bytes(bom + b"id,text,created_at,author_id\n1374345189733453826,hello,2021-03-23T13:00:01.000Z,12\n")
    archive = _x_archive(
        tmp_path / "js",
        bom + b'window.YTD.tweets.part0 = [{"tweet": {"id": "1374345189733453826", '
        b'"full_text": "hi", "created_at": "Tue Mar 23 13:00:01 +0000 2021"}}]',
    )
    for path, tweets in ((twarc2, len(json.loads(page)["data"])), (rows, 1), (archive, 1)):
        stats, _, rejects = _parse(tmp_path / "out" / path.stem, path)
        assert (stats.files[0]["tweets"], stats.files[0]["rejected"], rejects) == (tweets, 0, []), path
