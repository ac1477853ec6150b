"""Combine one hour of raw Firehose objects into one deduplicated table, a quarantine and a count ledger.

Reads NDJSON records (current format) and the reference's legacy TAB lines. Nothing is dropped silently:
every non-empty line ends up kept, quarantined (with its reason) or counted as a duplicate, and
``records_read == kept + malformed + duplicates`` always holds.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from tweet_topics.lib.records import (
    LIST_FIELDS,
    RECORD_FIELDS,
    SCHEMA_VERSION,
    RecordError,
    record_from_legacy_line,
    validate_record,
)
from tweet_topics.lib.records.storable import (
    ASCII_ID,
    CANONICAL_FORMAT,
    MAX_FLOAT,
    MAX_LINE_BYTES,
    TIME_FIELDS,
    storable,
)

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


@dataclass
class CombineResult:
    table: pa.Table
    quarantine: list[dict[str, Any]]
    stats: dict[str, Any] = field(default_factory=dict)


def _parse_line(line: bytes, is_unterminated_last: bool) -> dict[str, Any]:
    """One raw line -> validated, storable record, or RecordError with a reason."""
    if len(line) > MAX_LINE_BYTES:
        raise RecordError("oversize_line", f"{len(line)} bytes > {MAX_LINE_BYTES}")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError("invalid_utf8", str(exc)[:80]) from None
    if text.lstrip().startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError as exc:
            reason = "truncated_line" if is_unterminated_last else "invalid_json"
            raise RecordError(reason, str(exc)[:80]) from None
        return storable(validate_record(obj))
    if "\t" in text:
        return storable(record_from_legacy_line(text))
    raise RecordError("unrecognized_line", "neither a JSON record nor a legacy TAB record")


_JSON_SCHEMA = pa.schema(
    [pa.field(n, pa.list_(pa.string()) if n in LIST_FIELDS else t) for n, t in _ARROW_TYPES.items()]
)


QUARANTINE_LINE_BYTES = 64 * 1024
# A lone surrogate escape (a high one not followed by a low one, or a low one without a high one before it);
# valid pairs such as "\\ud83d\\ude80" (an emoji written by json.dumps) are fine.
_SURROGATE_ESCAPE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _has_long_line(body: bytes) -> bool:
    if len(body) <= MAX_LINE_BYTES:
        return False
    return any(len(line) > MAX_LINE_BYTES for line in body.split(b"\n"))


def _fast_object(key: str, body: bytes) -> pa.Table | None:
    """Parse a clean Firehose object in one vectorized pass (pyarrow's JSON reader).

    Returns None when the object needs the line-by-line path: any blank, legacy or malformed line, a type
    mismatch, or a record that fails validation. Accepted objects give exactly what the slow path would.
    """
    if not body.endswith(b"\n") or b"\n\n" in body or b"\r" in body or not body.startswith(b"{"):
        return None
    if _SURROGATE_ESCAPE.search(body) or _has_long_line(body):
        return None  # the line path quarantines these with their reason
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        table = pajson.read_json(
            io.BytesIO(body),
            read_options=pajson.ReadOptions(use_threads=False, block_size=1 << 23),
            parse_options=pajson.ParseOptions(explicit_schema=_JSON_SCHEMA, unexpected_field_behavior="ignore"),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != body.count(b"\n"):
        return None

    def every(mask: Any) -> bool:  # nulls count as failures
        return bool(pc.all(pc.fill_null(mask, False)).as_py())

    ok = every(pc.equal(table["schema_version"], SCHEMA_VERSION))
    ok = ok and every(pc.match_substring_regex(table["id"], ASCII_ID.pattern.replace("\\Z", "$")))
    for name in ("created_at", "text", "author_id"):
        ok = ok and every(pc.greater(pc.utf8_length(table[name]), 0))
    for name in TIME_FIELDS:  # only canonical UTC times; others are normalized (or quarantined) line by line
        column = table[name]
        if column.null_count < len(column):
            parsed = pc.strptime(column, format=CANONICAL_FORMAT, unit="s", error_is_null=True)
            # Arrow rolls 2026-02-30 over to 03-02: only times that print back unchanged are real dates.
            same = pc.equal(pc.strftime(parsed, format=CANONICAL_FORMAT), column)
            ok = ok and every(pc.or_(pc.is_null(column), same))
    for name in RECORD_FIELDS:
        if pa.types.is_floating(table.schema.field(name).type):
            ok = ok and not bool(pc.any(pc.is_nan(pc.fill_null(table[name], 0.0))).as_py())
            ok = ok and not bool(pc.any(pc.is_inf(pc.fill_null(table[name], 0.0))).as_py())
            ok = ok and every(pc.less_equal(pc.abs(pc.fill_null(table[name], 0.0)), MAX_FLOAT))
        elif name in LIST_FIELDS:  # a null element would vanish in the join; the line path quarantines it
            ok = ok and pc.list_flatten(table[name]).null_count == 0
    if not ok or table.num_rows == 0:
        return None
    columns = {}
    for name in _ARROW_TYPES:
        column = table[name]
        if name in LIST_FIELDS:
            column = pc.fill_null(
                pc.binary_join(pc.fill_null(column, pa.scalar([], pa.list_(pa.string()))), LIST_SEPARATOR), ""
            )
        columns[name] = column
    columns["source_key"] = pa.array([key] * table.num_rows, pa.string())
    columns["line_number"] = pa.array(range(1, table.num_rows + 1), pa.int64())
    return pa.table(columns, schema=COMBINED_SCHEMA)


def parse_row(key: str, number: int, line: bytes, last: bool) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """One non-empty raw line -> ``(row, None)`` ready for the combined table (lists joined, ``source_key``,
    ``line_number`` and a ``_legacy`` flag set), or ``(None, quarantine entry)`` with the reason.
    ``last`` marks the final line of an object without a trailing newline (a truncated write)."""
    try:
        record = _parse_line(line, last)
    except (RecordError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        if not isinstance(exc, RecordError):  # anything unexpected about one line is that line's problem
            exc = RecordError("unreadable_line", f"{type(exc).__name__}: {str(exc)[:60]}")
        kept = line[:QUARANTINE_LINE_BYTES]  # an oversize line is kept as its head, its length and its hash
        try:
            raw, encoding = kept.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            raw, encoding = base64.b64encode(kept).decode(), "base64"
        entry = {
            "source_key": key,
            "line_number": number,
            "reason": exc.reason,
            "detail": exc.detail,
            "line": raw,
            "encoding": encoding,
        }
        if len(line) > QUARANTINE_LINE_BYTES:
            entry.update(line_bytes=len(line), line_sha256=hashlib.sha256(line).hexdigest(), truncated=True)
        return None, entry
    for name in LIST_FIELDS:
        record[name] = LIST_SEPARATOR.join(record[name])
    record["source_key"] = key
    record["line_number"] = number
    record["_legacy"] = not line.startswith(b"{")
    return record, None


def _slow_object(
    key: str, body: bytes, quarantine: list[dict[str, Any]], reasons: Counter[str]
) -> tuple[pa.Table, int, int, int, int]:
    """Line-by-line parse with a reason for every bad line; returns (table, read, bad, blank, legacy)."""
    rows: list[dict[str, Any]] = []
    lines = body.split(b"\n")
    unterminated = not body.endswith(b"\n")
    read = bad = blank = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            blank += number < len(lines)  # the empty tail after the final newline is no line
            continue
        read += 1
        row, entry = parse_row(key, number, line, unterminated and number == len(lines))
        if entry is not None:
            bad += 1
            reasons[entry["reason"]] += 1
            quarantine.append(entry)
        else:
            rows.append(row)
    legacy = sum(r.pop("_legacy") for r in rows)
    return pa.Table.from_pylist(rows, schema=COMBINED_SCHEMA), read, bad, blank, legacy


def combine_objects(
    objects: Iterable[tuple[str, bytes]],
    hour: datetime | None = None,
    late_tolerance: timedelta = timedelta(minutes=15),
    fast: bool = True,
) -> CombineResult:
    """Combine ``(key, body)`` pairs (processed in key order, so the output never depends on list order).

    Clean objects take the vectorized pyarrow path; any object with a bad line takes the line-by-line path,
    so malformed input costs speed, never correctness. Duplicated ids keep their first occurrence in
    (key, line) order; output rows are sorted by numeric id.
    """
    quarantine: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    per_object: list[dict[str, Any]] = []
    tables: list[pa.Table] = []
    records_read = blank_lines = bytes_read = legacy = slow_objects = 0
    ordered = sorted(objects, key=lambda kv: kv[0])
    # Objects are parsed concurrently (pyarrow releases the GIL); one worker per core beats intra-object threads.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        fast_tables = list(pool.map(lambda kv: _fast_object(*kv), ordered)) if fast else [None] * len(ordered)
    for index, ((key, body), table) in enumerate(zip(ordered, fast_tables, strict=True), start=1):
        bytes_read += len(body)
        if table is not None:
            read, bad = table.num_rows, 0
        else:
            slow_objects += 1
            table, read, bad, blank, object_legacy = _slow_object(key, body, quarantine, reasons)
            blank_lines += blank
            legacy += object_legacy
        tables.append(table)
        records_read += read
        per_object.append(
            {
                "file": index,
                "file_name": key.rsplit("/", 1)[-1],
                "key": key,
                "encoded_length": len(body),
                "records": read,
                "malformed": bad,
            }
        )
    combined = pa.concat_tables(tables) if tables else COMBINED_SCHEMA.empty_table()
    combined = combined.append_column("_row", pa.array(range(combined.num_rows), pa.int64()))
    deduped = combined
    if pc.count_distinct(combined["id"]).as_py() != combined.num_rows:  # take() only when there are duplicates
        first = combined.group_by("id", use_threads=False).aggregate([("_row", "min")])["_row_min"]
        deduped = combined.take(first.sort())  # the first rows themselves in input order (sort_indices gave ranks)
    duplicates = combined.num_rows - deduped.num_rows
    kept_by_object = Counter(deduped["source_key"].to_pylist())
    for entry in per_object:
        entry["kept"] = kept_by_object.get(entry["key"], 0)
    deduped = deduped.append_column("_id_len", pc.utf8_length(deduped["id"]))
    order = pc.sort_indices(deduped, sort_keys=[("_id_len", "ascending"), ("id", "ascending")])
    if not pc.all(pc.equal(order, pa.array(range(len(order)), pa.uint64()))).as_py():  # Firehose order is ~sorted
        deduped = deduped.take(order)
    table = deduped.drop_columns(["_row", "_id_len"])
    late = 0
    created = table["created_at"]
    if hour is not None and table.num_rows:
        low = (hour - late_tolerance).strftime("%Y-%m-%dT%H:%M:%SZ")
        high = (hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        inside = pc.and_(pc.greater_equal(created, low), pc.less(created, high))
        late = table.num_rows - int(pc.sum(inside).as_py() or 0)
    stats = {
        "objects_read": len(per_object),
        "objects_parsed_line_by_line": slow_objects,
        "bytes_read": bytes_read,
        "records_read": records_read,
        "blank_lines": blank_lines,
        "kept": table.num_rows,
        "malformed": sum(reasons.values()),
        "malformed_by_reason": dict(sorted(reasons.items())),
        "duplicates": duplicates,
        "legacy_records": legacy,
        "outside_hour": late,
        "min_created_at": pc.min(created).as_py() if table.num_rows else None,
        "max_created_at": pc.max(created).as_py() if table.num_rows else None,
        "objects": per_object,
    }
    if records_read != stats["kept"] + stats["malformed"] + duplicates:
        raise AssertionError(f"count ledger does not reconcile: {stats}")
    return CombineResult(table=table, quarantine=quarantine, stats=stats)


def table_to_csv(table: pa.Table) -> bytes:
    """RFC 4180 CSV (header, ``"`` doubled, fields with separators/newlines quoted), UTF-8."""
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
    return sink.getvalue()


def csv_to_table(data: bytes) -> pa.Table:
    """Read a combined CSV back with the exact schema: unquoted empty is null, ``""`` is an empty string."""
    options = pacsv.ConvertOptions(
        column_types=COMBINED_SCHEMA, strings_can_be_null=True, quoted_strings_can_be_null=False
    )
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(use_threads=True),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=options,
    )
    return table.select(COMBINED_COLUMNS)


def quarantine_to_ndjson(quarantine: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(q, ensure_ascii=False).encode() + b"\n" for q in quarantine)


def csv_ids(data: bytes) -> pa.Array:
    """Only the ``id`` column of a combined CSV (for cross-hour duplicate checks)."""
    options = pacsv.ConvertOptions(column_types={"id": pa.string()}, include_columns=["id"])
    table = pacsv.read_csv(
        io.BytesIO(data), parse_options=pacsv.ParseOptions(newlines_in_values=True), convert_options=options
    )
    return table["id"].combine_chunks()


def drop_known_ids(result: CombineResult, known: pa.Array) -> int:
    """Drop rows whose id a neighbouring hour already committed (at-least-once retries at an hour boundary).

    They count as duplicates, so ``records_read == kept + malformed + duplicates`` still holds; returns how many.
    """
    result.stats["cross_hour_duplicates"] = 0
    if not len(known) or not result.table.num_rows:
        return 0
    seen = pc.is_in(result.table["id"], value_set=known)
    dropped = int(pc.sum(seen).as_py() or 0)
    if dropped:
        result.table = result.table.filter(pc.invert(seen))
        kept_by_object = Counter(result.table["source_key"].to_pylist())
        for entry in result.stats["objects"]:
            entry["kept"] = kept_by_object.get(entry["key"], 0)
        result.stats.update(kept=result.table.num_rows, duplicates=result.stats["duplicates"] + dropped)
    result.stats["cross_hour_duplicates"] = dropped
    return dropped
