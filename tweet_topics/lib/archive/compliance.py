"""X's compliance actions applied to stored lines: which tweets to delete or scrub, and each line rewritten.

Input: a text file of tweet ids (each one to delete), or the result file of X's batch compliance jobs (JSON lines
with ``id`` and ``action``). What each action does here:

- ``delete``: the tweet is removed from every line; so is a retweet of it (X deletes retweets with their
  tweet); a record that only refers to it (``quoted_id``, ``in_reply_to_id``, ``conversation_id``) keeps its own
  content with that reference set to null; a line still naming the id anywhere (a URL in the text, a quarantined
  malformed line) is removed whole, so no stored line names a deleted id ("anywhere": as a number of 15+ digits,
  i.e. any snowflake id; a pre-2010 id is matched in the id and reference fields only, see ``named_runs``, in a
  legacy TAB line its first field);
- ``scrub_geo``: the tweet stays; its place and coordinates are nulled (and ``geo``/``place``/``coordinates``
  dropped from its original JSON);
- ``protect``, ``suspend``, ``deactivate``: the tweet is withheld exactly like ``delete`` (removed from every
  dataset, so it is in no later report); unlike ``delete`` it is not tombstoned, so a later import may bring it back
  once it is public again.

Tombstones hold sha256 digests of deleted ids, never the ids, so the tombstones are no trace of them either.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tweet_topics.lib.ledger import DELIVERY_PATTERN
from tweet_topics.lib.records.legacy import LEGACY_FIELDS
from tweet_topics.lib.records.storable import MAX_LINE_BYTES

REMOVING = ("delete", "protect", "suspend", "deactivate")
ACTIONS = (*REMOVING, "scrub_geo")
REFERENCE_FIELDS = ("quoted_id", "in_reply_to_id", "conversation_id")
GEO_FIELDS = ("place_id", "place_full_name", "place_country", "place_country_code", "coords_lon", "coords_lat")
GEO_KEYS = {"geo", "place", "places", "coordinates"}
_DIGITS = re.compile(rb"\d{1,19}")
_ID = re.compile(r"^\d{1,19}\Z")
_ONLY_DIGITS = bytes(c if 48 <= c <= 57 else 32 for c in range(256))  # every other byte becomes a space
_CHUNK = 1 << 20
NAMED_DIGITS = 15  # a number this long names a tweet wherever it stands (named_runs)


def id_digest(tweet_id: str) -> str:
    """A tombstone: the id's sha256 (the import and the combine compare digests, never keep the ids)."""
    return hashlib.sha256(f"tweet:{tweet_id}".encode()).hexdigest()


@dataclass
class Actions:
    remove: set[str] = field(default_factory=set)  # delete + protect/suspend/deactivate
    tombstone: set[str] = field(default_factory=set)  # delete only
    scrub_geo: set[str] = field(default_factory=set)
    by_action: dict[str, int] = field(default_factory=dict)
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) - never the line itself

    @property
    def named(self) -> set[bytes]:
        return {i.encode() for i in self.remove | self.scrub_geo}


def read_actions(lines: Iterable[bytes]) -> Actions:
    """Ids (one per line: delete) or compliance results (``{"id": .., "action": ..}``); a bad line is counted."""
    actions = Actions()
    for number, raw in enumerate(lines, start=1):
        text = raw.strip().decode("utf-8", "replace")
        if not text:
            continue
        if text.startswith("{"):
            try:
                entry = json.loads(text)
                tweet_id, action = str(entry["id"]), str(entry.get("action", "delete"))
            except (ValueError, KeyError, TypeError):
                actions.unreadable.append((number, "invalid_json"))
                continue
        else:
            tweet_id, action = text, "delete"
        if not _ID.match(tweet_id) or action not in ACTIONS:
            actions.unreadable.append(
                (number, "bad_id" if not _ID.match(tweet_id) else f"unknown_action:{action[:20]}")
            )
            continue
        actions.by_action[action] = actions.by_action.get(action, 0) + 1
        if action in REMOVING:
            actions.remove.add(tweet_id)
            if action == "delete":
                actions.tombstone.add(tweet_id)
        else:
            actions.scrub_geo.add(tweet_id)
    return actions


@dataclass
class Rewrite:
    body: bytes
    removed: int = 0
    scrubbed: int = 0
    references_nulled: int = 0
    removed_delivery: dict[str, list[int]] = field(default_factory=dict)  # streamer/import run -> seqs

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.scrubbed or self.references_nulled)


def _drop_geo(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_geo(v) for k, v in value.items() if k not in GEO_KEYS}
    if isinstance(value, list):
        return [_drop_geo(v) for v in value]
    return value


def _fix_record(obj: dict[str, Any], actions: Actions, out: Rewrite) -> dict[str, Any] | None:
    """A raw record with the actions applied, or None when it goes."""
    if obj.get("id") in actions.remove or obj.get("retweeted_id") in actions.remove:
        return None
    for name in REFERENCE_FIELDS:
        if obj.get(name) in actions.remove:
            obj[name] = None
            out.references_nulled += 1
    if obj.get("id") in actions.scrub_geo:
        obj.update(dict.fromkeys(GEO_FIELDS))
        out.scrubbed += 1
    return obj


def _fix_original(obj: Any, actions: Actions, out: Rewrite) -> Any:
    """An original payload: None when its tweet goes, scrubbed of geo when it is to be scrubbed."""
    tweet = obj.get("data", obj.get("tweet", obj)) if isinstance(obj, dict) else None
    if isinstance(tweet, dict) and str(tweet.get("id_str", tweet.get("id"))) in actions.remove:
        return None
    if isinstance(tweet, dict) and str(tweet.get("id_str", tweet.get("id"))) in actions.scrub_geo:
        out.scrubbed += 1
        return _drop_geo(obj)
    return obj


def _fix_legacy(line: bytes, actions: Actions, out: Rewrite) -> bytes | None:
    """A legacy TAB line (no JSON, so ``named_runs`` sees no pre-2010 id in it): None when its id field names a
    removed tweet, its geo fields set to ``None`` when a scrubbed one (the layout has no reference fields)."""
    values = line.split(b"\t")
    tweet_id = values[0].strip().decode("ascii", "replace")
    if tweet_id in actions.remove:
        return None
    if tweet_id in actions.scrub_geo and len(values) in (len(LEGACY_FIELDS), len(LEGACY_FIELDS) + 1):
        for i, name in enumerate(LEGACY_FIELDS):
            if name in ("geo", "coordinates", "place") or name.startswith(("place_", "coords_", "geo_")):
                values[i] = b"None"
        out.scrubbed += 1
        return b"\t".join(values)
    return line


def named_runs(data: bytes) -> set[bytes]:
    """The numbers that name a tweet anywhere in a line: digit runs (split every 19 digits) of 15+ digits, so every
    snowflake id. A shorter (pre-2010) id is matched only in the id and reference fields: as a bare number it is a
    count, a date part, a user id far more often than that tweet."""
    return {run for run in _DIGITS.findall(data) if len(run) >= NAMED_DIGITS}


def rewrite(body: bytes, actions: Actions, original: bool = False) -> Rewrite:
    """``body`` (NDJSON lines) with the actions applied; lines naming no affected id are kept byte for byte."""
    named = actions.named
    removing = {i.encode() for i in actions.remove}
    out = Rewrite(b"")
    lines: list[bytes] = []
    for line in body.split(b"\n"):
        if not line or named.isdisjoint(_DIGITS.findall(line)):
            lines.append(line)
            continue
        before = (out.removed, out.scrubbed, out.references_nulled)
        try:
            obj = json.loads(line)
            fixed = _fix_original(obj, actions, out) if original else _fix_record(obj, actions, out)
            new = None if fixed is None else json.dumps(fixed, ensure_ascii=False, separators=(",", ":")).encode()
        except (ValueError, TypeError, AttributeError):
            if b"\t" in line and not line.lstrip().startswith(b"{"):  # a legacy TAB line: its id field, exactly
                new = _fix_legacy(line, actions, out)
            elif named.isdisjoint(named_runs(line)):
                lines.append(line)  # malformed, with only a short number like an affected pre-2010 id: no naming
                continue
            else:
                new = None  # a malformed line naming an affected id: it goes whole
        if len(line) > MAX_LINE_BYTES and not removing.isdisjoint(named_runs(line)):
            new = None  # no record (the combine quarantines only its head, which no tombstone check can rewrite)
        if new is not None and removing.isdisjoint(named_runs(new)):
            lines.append(line if before == (out.removed, out.scrubbed, out.references_nulled) else new)
            continue
        out.removed += 1
        for run, seq in DELIVERY_PATTERN.findall(line):
            out.removed_delivery.setdefault(run.decode(), []).append(int(seq))
    out.body = b"\n".join(lines)
    return out


def digit_runs(data: bytes) -> list[bytes]:
    """The numbers ``rewrite`` compares with affected ids (digit runs, split every 19 digits)."""
    return _DIGITS.findall(data)


def _names_run(data: bytes, ids: set[bytes]) -> bool:
    """Digit runs as ``rewrite`` splits them, a MiB at a time (``translate`` + ``split``: ~5x ``findall``)."""
    start = 0
    while start < len(data):
        cut = data.find(b"\n", start + _CHUNK)
        end = len(data) if cut < 0 else cut + 1
        runs = set(data[start:end].translate(_ONLY_DIGITS).split())
        for run in [r for r in runs if len(r) > 19]:
            runs.update(_DIGITS.findall(run))
        if not ids.isdisjoint(runs):
            return True
        start = end
    return False


def names_any(data: bytes, ids: set[bytes]) -> bool:
    """Whether ``data`` names one of ``ids`` as ``rewrite`` decides (a pre-2010 id: as any number, a superset of
    its fields); for a short list a substring search first."""
    if not ids or (len(ids) <= 8 and not any(i in data for i in ids)):  # 8 memchr scans cost one split
        return False
    return _names_run(data, ids)


def quarantine_names_any(body: bytes, ids: set[bytes]) -> tuple[bool, list[str]]:
    """(whether a ``quarantine.ndjson`` names one of ``ids``, base64 lines decoded - a line that is no UTF-8, e.g. a
    retweet cut mid-emoji, is stored encoded; the source keys of its truncated entries: an oversize line is kept as
    its first 64 KiB, so only the raw object still holds the rest of it)."""
    if names_any(body, ids):
        return True, []
    if b'"base64"' not in body and b'"truncated"' not in body:
        return False, []
    truncated = []
    for line in body.splitlines():
        entry = json.loads(line)
        if entry.get("encoding") == "base64" and names_any(base64.b64decode(entry["line"]), ids):
            return True, []
        if entry.get("truncated"):
            truncated.append(entry["source_key"])
    return False, sorted(set(truncated))


def tombstoned_ids(line: bytes, digests: set[str]) -> set[str]:
    """The ids named in ``line`` whose digest is a tombstone (numbers of 15+ digits: snowflake tweet ids)."""
    return {run.decode() for run in named_runs(line) if id_digest(run.decode()) in digests}
