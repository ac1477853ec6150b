"""Tombstones consulted by the combine: a tweet deleted on X never comes back through a replay or a late object.

``apply_deletions`` keeps sha256 digests of deleted ids (``compliance.id_digest``), never the ids. The combine
hashes the distinct ids its hour holds (the tweet, the tweet it retweets, the ones it quotes or answers) and
acts as ``apply_deletions`` does on stored hours: a deleted tweet and its retweets are dropped, a reference to a
deleted tweet is nulled, a quarantined line naming a deleted id goes whole. Dropped rows and lines are counted as
``deleted_on_request``, so ``records_read == kept + malformed + duplicates + deleted_on_request``.
"""

from __future__ import annotations

import json
from collections.abc import Collection

import pyarrow as pa
import pyarrow.compute as pc

from tweet_topics.lib.archive.compliance import REFERENCE_FIELDS, id_digest, tombstoned_ids
from tweet_topics.lib.combine import CombineResult

REMOVED_WITH = ("id", "retweeted_id")  # a retweet goes with the tweet it retweets (as X deletes it)


def deleted_in(table: pa.Table, digests: Collection[str]) -> pa.Array:
    """The ids named in ``table`` (as a tweet or a reference) whose digest is a tombstone."""
    names = [n for n in (*REMOVED_WITH, *REFERENCE_FIELDS) if n in table.column_names]
    if not digests or not table.num_rows or not names:
        return pa.array([], pa.string())
    values = pc.unique(pa.chunked_array([c for n in names for c in table[n].cast(pa.string()).chunks], pa.string()))
    return pa.array([v for v in pc.drop_null(values).to_pylist() if id_digest(v) in digests], pa.string())


def _rows_by_object(table: pa.Table) -> dict[str, int]:
    if not table.num_rows:
        return {}
    counts = pc.value_counts(table["source_key"])
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))


def drop_tombstoned(result: CombineResult, digests: Collection[str]) -> int:
    """Drop rows (and quarantined lines) of deleted tweets, null references to them; returns how many went."""
    result.stats["deleted_on_request"] = 0
    result.stats["deleted_references_nulled"] = 0
    if not digests:
        return 0
    gone = 0
    deleted = deleted_in(result.table, digests)
    if len(deleted):
        table = result.table
        drop = pc.or_(*(pc.fill_null(pc.is_in(table[n], value_set=deleted), False) for n in REMOVED_WITH))
        table = table.filter(pc.invert(drop))
        nulled = 0
        for name in REFERENCE_FIELDS:
            hit = pc.fill_null(pc.is_in(table[name], value_set=deleted), False)
            nulled += int(pc.sum(hit).as_py() or 0)
            column = pc.if_else(hit, pa.scalar(None, table.schema.field(name).type), table[name])
            table = table.set_column(table.schema.get_field_index(name), name, column)
        gone = result.table.num_rows - table.num_rows
        result.table = table
        result.stats["deleted_references_nulled"] = nulled
        kept = _rows_by_object(table)
        for entry in result.stats.get("objects", []):
            entry["kept"] = kept.get(entry["key"], 0)
    digest_set = set(digests)
    kept_lines = [
        q for q in result.quarantine if not tombstoned_ids(json.dumps(q, ensure_ascii=False).encode(), digest_set)
    ]
    if len(kept_lines) < len(result.quarantine):
        reasons: dict[str, int] = {}
        for entry in kept_lines:
            reasons[entry["reason"]] = reasons.get(entry["reason"], 0) + 1
        gone += len(result.quarantine) - len(kept_lines)
        result.quarantine = kept_lines
        result.stats.update(malformed=len(kept_lines), malformed_by_reason=dict(sorted(reasons.items())))
    result.stats.update(kept=result.table.num_rows, deleted_on_request=gone)
    return gone
