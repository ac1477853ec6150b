"""apply_deletions finds the quarantined lines the combine stores in a form a plain search misses: a line that is
no UTF-8 (a retweet cut mid-emoji, stored base64) and an oversize malformed line naming the id past its first
64 KiB (stored as its head only). Both hours are far from the deleted tweet's own hour; afterwards no object names
the id, base64 lines decoded."""

import base64
import json
from datetime import timedelta

from tweet_topics.archive.deletions import apply_deletions
from tweet_topics.lib.archive.compliance import Actions, quarantine_names_any
from tweet_topics.lib.records import dumps_record
from tweet_topics.storage.catalog import QUARANTINE
from tweet_topics_tests.defs.archive.test_deletions_later_hours import (
    H,
    _commit,
    _deliver,
    _records,
    _searchable,
)

CUT, LONG = H + timedelta(hours=7), H + timedelta(hours=20)


def _decoded(key: str, data: bytes) -> bytes:
    """What an object holds, searchable: base64 quarantine lines decoded too."""
    text = _searchable(key, data)
    if key.endswith(QUARANTINE):
        text += b"".join(base64.b64decode(json.loads(q)["line"]) for q in text.splitlines() if b'"base64"' in q)
    return text


def test_quarantine_names_any_decodes_base64_and_reports_truncated_entries():
    tid = b"2028334482846646273"
    encoded = {"source_key": "k", "line": base64.b64encode(b'{"id":"' + tid + b'","t":"\xf0\x9f').decode(),
               "encoding": "base64"}  # fmt: skip
    head = {"source_key": "raw/x", "line": "{" + "a" * 10, "encoding": "utf-8", "truncated": True}
    assert quarantine_names_any(json.dumps(encoded).encode(), {tid}) == (True, [])
    assert quarantine_names_any(json.dumps(head).encode(), {tid}) == (False, ["raw/x"])
    assert quarantine_names_any(json.dumps(dict(encoded, line=base64.b64encode(b"\xff1").decode())).encode(),
                                {tid}) == (False, [])  # fmt: skip


def test_base64_and_truncated_quarantined_lines_naming_a_deleted_tweet_are_removed(resources, bucket):
    storage = resources["storage"]
    own = _records(H, 1)
    tid = own[0]["id"]
    cut, long = _records(CUT, 2), _records(LONG, 3)
    retweet = dumps_record(dict(cut[0], retweeted_id=tid, text=f"RT @a: twitter.com/a/status/{tid} \U0001f600"))
    retweet = retweet[: retweet.index("\U0001f600".encode()) + 2] + b"\n"  # cut mid-emoji: no UTF-8, no JSON
    oversize = b'{"id":"' + long[0]["id"].encode() + b'","text":"' + b"a" * 70_000 + b" " + tid.encode() + b"\n"
    lines = {H: [dumps_record(r) for r in own], CUT: [retweet, *map(dumps_record, cut[1:])],
             LONG: [oversize, *map(dumps_record, long[1:])]}  # fmt: skip
    for seed, (hour, body) in enumerate(lines.items()):
        _deliver(storage, hour, body, seed)
        _commit(resources, hour)
    quarantined = {h: json.loads(storage.combined.read_bytes(h, QUARANTINE)) for h in (CUT, LONG)}
    assert quarantined[CUT]["encoding"] == "base64" and quarantined[LONG]["truncated"]
    assert tid.encode() not in storage.combined.read_bytes(LONG, QUARANTINE)

    audit = apply_deletions(storage, Actions(remove={tid}, tombstone={tid}, by_action={"delete": 1}), "run")
    assert set(audit["hours"]) >= {"2026-03-02-12:00", "2026-03-03-01:00"}, audit["hours"]
    for info in storage.s3.list(""):
        assert tid.encode() not in _decoded(info.key, storage.s3.get(info.key)), info.key
    for hour in (CUT, LONG):
        assert storage.combined.read_bytes(hour, QUARANTINE) == b""
