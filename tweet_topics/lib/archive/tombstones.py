"""Tombstones consulted by the combine: a tweet deleted on X never comes back through a replay or a late object.

``apply_deletions`` keeps sha256 digests of deleted ids (``compliance.id_digest``), never the ids. The combine
hashes the distinct numbers its hour names (in any column, as ``compliance.rewrite`` searches a raw line) and
gives the stored result ``apply_deletions`` gives when it rewrites a stored hour: a deleted tweet and its retweets
are dropped; a reference to a deleted tweet (``quoted_id``, ``in_reply_to_id``, ``conversation_id``) is nulled and
the record kept; a record still naming a deleted id elsewhere (the quoted status URL in ``urls``) is dropped whole;
a quarantined line is rewritten as the raw line would be (kept with its reason and the reference nulled, or gone
whole). Dropped rows and lines are counted as ``deleted_on_request``, so
``records_read == kept + malformed + duplicates + deleted_on_request``.
"""

from __future__ import annotations

import base64
from collections.abc import Collection
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tweet_topics.lib.archive.compliance import (
    NAMED_DIGITS,
    REFERENCE_FIELDS,
    Actions,
    digit_runs,
    id_digest,
    named_runs,
    rewrite,
)
from tweet_topics.lib.combine import CombineResult, parse_row

REMOVED_WITH = ("id", "retweeted_id")  # a retweet goes with the tweet it retweets (as X deletes it)
ID_COLUMNS = (*REMOVED_WITH, *REFERENCE_FIELDS)  # matched whole, whatever the id's length
OWN_COLUMNS = ("source_key", "line_number")  # the combine's bookkeeping, not the record's content
_LONG_RUN = rf"\d{{{NAMED_DIGITS}}}"


def _other_columns(table: pa.Table) -> list[str]:
    """The record's other text columns: a snowflake id named there (a status URL) counts as ``rewrite`` counts it."""
    skip = {*ID_COLUMNS, *OWN_COLUMNS}
    return [f.name for f in table.schema if f.name not in skip and pa.types.is_string(f.type)]


def _long_runs(column: pa.ChunkedArray) -> tuple[list[int], list[str]]:
    """(row, run) for each number of 15+ digits in ``column`` (split every 19 digits); regex-selected rows only."""
    values = column.combine_chunks()
    rows = pc.indices_nonzero(pc.fill_null(pc.match_substring_regex(values, _LONG_RUN), False))
    if not len(rows):
        return [], []
    found = [(row, run) for row, text in zip(rows.to_pylist(), pc.take(values, rows).to_pylist(), strict=True)
             for run in named_runs(text.encode())]  # fmt: skip
    return [r for r, _ in found], [run.decode() for _, run in found]


TextRuns = dict[str, tuple[list[int], list[str]]]  # column -> (row, 15+ digit run) pairs


def text_runs(table: pa.Table) -> TextRuns:
    return {name: _long_runs(table[name]) for name in _other_columns(table)}


def deleted_in(table: pa.Table, digests: Collection[str], runs: TextRuns | None = None) -> pa.Array:
    """The ids ``table`` names (as a tweet or a reference, or as a snowflake number in a text) that are tombstones."""
    if not digests or not table.num_rows:
        return pa.array([], pa.string())
    values: set[str] = set()
    for name in (n for n in ID_COLUMNS if n in table.column_names):
        values.update(pc.unique(table[name].cast(pa.string())).to_pylist())
    for _, found in (text_runs(table) if runs is None else runs).values():
        values.update(found)
    values.discard(None)
    return pa.array(sorted(v for v in values if id_digest(v) in digests), pa.string())


def naming_rows(table: pa.Table, deleted: pa.Array, runs: TextRuns | None = None) -> np.ndarray:
    """Which rows name one of ``deleted`` in a text column as ``rewrite`` would (id columns are handled apart)."""
    mask = np.zeros(table.num_rows, dtype=bool)
    wanted = set(deleted.to_pylist())
    for rows, found in (text_runs(table) if runs is None else runs).values():
        mask[[r for r, run in zip(rows, found, strict=True) if run in wanted]] = True
    return mask


def _rows_by_object(table: pa.Table) -> dict[str, int]:
    if not table.num_rows:
        return {}
    counts = pc.value_counts(table["source_key"])
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))


def _drop_rows(result: CombineResult, deleted: pa.Array, runs: TextRuns) -> int:
    """Drop deleted tweets and retweets, null references, drop rows still naming them; returns refs nulled."""
    table = result.table
    drop = pc.or_(*(pc.fill_null(pc.is_in(table[n], value_set=deleted), False) for n in REMOVED_WITH))
    naming = naming_rows(table, deleted, runs)
    table, naming = table.filter(pc.invert(drop)), naming[~drop.to_numpy(zero_copy_only=False)]
    nulled = 0
    for name in REFERENCE_FIELDS:
        hit = pc.fill_null(pc.is_in(table[name], value_set=deleted), False)
        nulled += int(pc.sum(hit).as_py() or 0)
        column = pc.if_else(hit, pa.scalar(None, table.schema.field(name).type), table[name])
        table = table.set_column(table.schema.get_field_index(name), name, column)
    result.table = table.filter(pa.array(~naming))
    kept = _rows_by_object(result.table)
    for entry in result.stats.get("objects", []):
        entry["kept"] = kept.get(entry["key"], 0)
    return nulled


def _line(entry: dict[str, Any]) -> bytes:
    return base64.b64decode(entry["line"]) if entry.get("encoding") == "base64" else entry["line"].encode()


def fix_quarantined(entry: dict[str, Any], digests: Collection[str]) -> tuple[dict[str, Any] | None, int]:
    """A quarantined line as ``apply_deletions`` leaves its raw line: (the entry again, refs nulled) or (None, 0).

    The head of an oversize line is no JSON, so it goes whole, as ``rewrite`` removes an oversize raw line."""
    line = _line(entry)
    named = {run.decode() for run in set(digit_runs(line)) if id_digest(run.decode()) in digests}
    if not named:
        return entry, 0
    fixed = rewrite(line, Actions(remove=named))
    if fixed.removed or entry.get("truncated"):
        return None, 0
    row, again = parse_row(entry["source_key"], entry["line_number"], fixed.body, False)
    return (again if row is None else dict(entry, line=fixed.body.decode())), fixed.references_nulled


def drop_tombstoned(result: CombineResult, digests: Collection[str]) -> int:
    """Drop rows (and quarantined lines) of deleted tweets, null references to them; returns how many went."""
    result.stats["deleted_on_request"] = 0
    result.stats["deleted_references_nulled"] = 0
    if not digests:
        return 0
    before = result.table.num_rows
    nulled = 0
    runs = text_runs(result.table)
    deleted = deleted_in(result.table, digests, runs)
    if len(deleted):
        nulled += _drop_rows(result, deleted, runs)
    gone = before - result.table.num_rows
    kept_lines = []
    for entry in result.quarantine:
        fixed, refs = fix_quarantined(entry, digests)
        nulled += refs
        if fixed is not None:
            kept_lines.append(fixed)
    if result.quarantine:  # a line kept with its reference nulled is parsed again: its reason is recounted
        reasons: dict[str, int] = {}
        for entry in kept_lines:
            reasons[entry["reason"]] = reasons.get(entry["reason"], 0) + 1
        gone += len(result.quarantine) - len(kept_lines)
        result.stats.update(malformed=len(kept_lines), malformed_by_reason=dict(sorted(reasons.items())))
    result.quarantine = kept_lines
    result.stats.update(kept=result.table.num_rows, deleted_on_request=gone, deleted_references_nulled=nulled)
    return gone
