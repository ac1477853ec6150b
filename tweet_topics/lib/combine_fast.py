"""The vectorized path of the combine: a clean Firehose object parsed by pyarrow's JSON reader in one pass.

Also the combined table's schema. An object is taken here only when every line passes the same gate as the
line path (``records.storable``) as whole-column checks; otherwise ``fast_object`` returns None and the combine
parses it line by line, quarantining each bad line with its reason. Every check is one pass over bytes or a
column, none a Python loop over lines: a regex over each whole body was 64 % of the combine (issue 27). A lone
surrogate escape (``\\ud800`` unpaired, in any string or key) needs no screen: Arrow's JSON parser refuses the
object (tested), which sends it down the line path.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from tweet_topics.lib.records import LIST_FIELDS, RECORD_FIELDS, SCHEMA_VERSION
from tweet_topics.lib.records.storable import CANONICAL_FORMAT, MAX_FLOAT, MAX_LINE_BYTES, TIME_FIELDS

LIST_SEPARATOR = "|"
_ARROW_TYPES: dict[str, pa.DataType] = {}
for _name, _kind in RECORD_FIELDS.items():
    if _name in LIST_FIELDS:
        _ARROW_TYPES[_name] = pa.string()  # pipe-joined in CSV, as the reference did
    elif _kind is bool:
        _ARROW_TYPES[_name] = pa.bool_()
    elif _kind is int:
        _ARROW_TYPES[_name] = pa.int64()
    elif _kind == (float, int):
        _ARROW_TYPES[_name] = pa.float64()
    else:
        _ARROW_TYPES[_name] = pa.string()
COMBINED_SCHEMA = pa.schema(
    [pa.field(n, t) for n, t in _ARROW_TYPES.items()]
    + [pa.field("source_key", pa.string()), pa.field("line_number", pa.int64())]
)
COMBINED_COLUMNS = COMBINED_SCHEMA.names


# Python's json (the line path) stops near 1,000 levels of nesting, Arrow's parser does not: a line that may nest
# this deep is left to the line path, so both paths decide it alike.
MAX_NESTING = 500
_JSON_SCHEMA = pa.schema(
    [pa.field(n, pa.list_(pa.string()) if n in LIST_FIELDS else t) for n, t in _ARROW_TYPES.items()]
)


def _line_shape_ok(body: bytes) -> int:
    """Number of lines when the body is line-shaped for the vectorized path, else 0 (numpy passes over the bytes).

    Needs: starts with "{", ends with a newline, no CR, no empty line, no line over MAX_LINE_BYTES and none with
    MAX_NESTING opening brackets.
    """
    if not body.startswith(b"{") or not body.endswith(b"\n") or b"\r" in body:  # memchr: 2x a numpy compare
        return 0
    raw = np.frombuffer(body, np.uint8)
    ends = np.flatnonzero(raw == 10)
    lengths = np.diff(ends, prepend=-1) - 1
    if lengths.min() == 0 or lengths.max() > MAX_LINE_BYTES:
        return 0
    opening = np.flatnonzero((raw | 0x20) == 0x7B)  # "[" (0x5B) and "{", in strings too (an upper bound)
    if len(opening) >= MAX_NESTING and np.diff(np.searchsorted(opening, ends), prepend=0).max() >= MAX_NESTING:
        return 0  # deep enough to exceed Python's recursion limit: the line path decides (and says why)
    return len(ends)


def _valid_utf8(body: bytes) -> bool:
    """Arrow's UTF-8 validation of the whole body as one string (20x faster than bytes.decode, no copy)."""
    offsets = pa.py_buffer(np.array([0, len(body)], np.int32).tobytes())
    try:
        pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(body)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _gates_pass(table: pa.Table) -> bool:
    """The storable() gate on whole columns: every row of the object passes, or the object takes the line path."""

    def every(mask: Any) -> bool:  # nulls count as failures
        return bool(pc.all(pc.fill_null(mask, False)).as_py())

    if table.num_rows == 0 or not every(pc.equal(table["schema_version"], SCHEMA_VERSION)):
        return False
    ids = table["id"]
    if not every(pc.and_(pc.ascii_is_decimal(ids), pc.less_equal(pc.binary_length(ids), 19))):
        return False  # ASCII_ID: 1 to 19 ASCII digits
    for name in ("created_at", "text", "author_id"):
        if not every(pc.greater(pc.binary_length(table[name]), 0)):
            return False
    for name in TIME_FIELDS:  # only canonical UTC times; others are normalized (or quarantined) line by line
        distinct = pc.drop_null(pc.unique(table[name]))  # an hour holds few distinct times: parse each once
        if len(distinct):
            parsed = pc.strptime(distinct, format=CANONICAL_FORMAT, unit="s", error_is_null=True)
            # Arrow rolls 2026-02-30 over to 03-02: only times that print back unchanged are real dates; and it
            # takes year 0000, which Python's datetime (the line path) has not.
            if not every(pc.equal(pc.strftime(parsed, format=CANONICAL_FORMAT), distinct)):
                return False
            if not every(pc.greater_equal(distinct, "0001")):
                return False
    for name in RECORD_FIELDS:
        if pa.types.is_floating(table.schema.field(name).type):  # NaN and inf fail the comparison
            if not every(pc.or_kleene(pc.is_null(table[name]), pc.less_equal(pc.abs(table[name]), MAX_FLOAT))):
                return False
        elif name in LIST_FIELDS and pc.list_flatten(table[name]).null_count:
            return False  # a null element would vanish in the join; the line path quarantines it
    return True


def parse_object(body: bytes) -> pa.Table | None:
    """Arrow's JSON parse of a line-shaped, valid UTF-8 object (before the storable gates), or None."""
    lines = _line_shape_ok(body)
    if not lines or not _valid_utf8(body):
        return None  # the line path quarantines these with their reason
    try:
        table = pajson.read_json(
            pa.BufferReader(body),
            read_options=pajson.ReadOptions(use_threads=False, block_size=1 << 23),
            parse_options=pajson.ParseOptions(explicit_schema=_JSON_SCHEMA, unexpected_field_behavior="ignore"),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows == lines else None


def _to_combined(table: pa.Table, keys: list[str], rows: list[int]) -> pa.Table:
    """Parsed objects (concatenated, ``rows[i]`` lines of ``keys[i]`` each) as combined rows: lists joined."""
    columns = {}
    for name in _ARROW_TYPES:
        column = table[name]
        if name in LIST_FIELDS:
            column = pc.fill_null(
                pc.binary_join(pc.fill_null(column, pa.scalar([], pa.list_(pa.string()))), LIST_SEPARATOR), ""
            )
        columns[name] = column
    columns["source_key"] = pa.array(keys, pa.string()).take(np.repeat(np.arange(len(keys)), rows))
    columns["line_number"] = pa.array(np.concatenate([np.arange(1, n + 1, dtype=np.int64) for n in rows]))
    return pa.table(columns, schema=COMBINED_SCHEMA)


def fast_object(key: str, body: bytes) -> pa.Table | None:
    """Parse a clean Firehose object in one vectorized pass (pyarrow's JSON reader).

    Returns None when the object needs the line-by-line path: any blank, legacy or malformed line, a type
    mismatch, or a record that fails validation. Accepted objects give exactly what the slow path would.
    """
    table = parse_object(body)
    if table is None or not _gates_pass(table):
        return None
    return _to_combined(table, [key], [table.num_rows])


def fast_objects(objects: list[tuple[str, bytes]]) -> list[pa.Table | None]:
    """``fast_object`` for each object, the parses on one thread per core (Arrow releases the GIL).

    The storable gates are row-wise, so they run once over every parsed object together (a score of kernel
    calls per object was 7 % of the combine); only when that pass fails are they run object by object to find
    the objects that go down the line path.
    """
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        parsed = list(pool.map(lambda item: parse_object(item[1]), objects))
    chosen = [i for i, table in enumerate(parsed) if table is not None]
    if chosen and not _gates_pass(pa.concat_tables([parsed[i] for i in chosen])):
        chosen = [i for i in chosen if _gates_pass(parsed[i])]
    out: list[pa.Table | None] = [None] * len(objects)
    if not chosen:
        return out
    rows = [parsed[i].num_rows for i in chosen]
    whole = _to_combined(pa.concat_tables([parsed[i] for i in chosen]), [objects[i][0] for i in chosen], rows)
    for i, start, count in zip(chosen, np.cumsum([0, *rows[:-1]]), rows, strict=True):
        out[i] = whole.slice(int(start), count)
    return out
