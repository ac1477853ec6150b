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
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tweet_topics.lib.combine_fast import (
    COMBINED_COLUMNS,
    COMBINED_SCHEMA,
    LIST_SEPARATOR,
    fast_objects,
)
from tweet_topics.lib.records import (
    LIST_FIELDS,
    RecordError,
    record_from_legacy_line,
    validate_record,
)
from tweet_topics.lib.records.storable import MAX_LINE_BYTES, storable


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
        if is_unterminated_last and not text.rstrip("\r").endswith("\t"):
            # Every legacy record ends in "<text>\t\n": without its newline and its closing TAB the write was cut,
            # most likely inside the text, which would otherwise be kept shortened.
            raise RecordError("truncated_line", "legacy TAB line cut before its closing TAB")
        return storable(record_from_legacy_line(text))
    raise RecordError("unrecognized_line", "neither a JSON record nor a legacy TAB record")


QUARANTINE_LINE_BYTES = 64 * 1024


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
    record["_legacy"] = not line.lstrip().startswith(b"{")  # a JSON line may start with blanks
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


def _first_of_each_id(table: pa.Table) -> pa.Table:
    """The first row of every id in (key, line) order; take() only when there are duplicates."""
    if pc.count_distinct(table["id"]).as_py() == table.num_rows:
        return table
    numbered = table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    first = numbered.group_by("id", use_threads=False).aggregate([("_row", "min")])["_row_min"]
    return table.take(first.sort())  # the first rows themselves in input order (sort_indices gave their ranks)


def _in_id_order(table: pa.Table) -> pa.Table:
    """Rows sorted by numeric id (shorter ids first, then by text); Firehose order is nearly sorted already,
    so a cheap check of neighbours decides whether the sort is needed at all."""
    if table.num_rows < 2:
        return table
    ids, lengths = table["id"], pc.binary_length(table["id"])
    n = table.num_rows
    shorter = pc.less(lengths.slice(0, n - 1), lengths.slice(1))
    same_length = pc.equal(lengths.slice(0, n - 1), lengths.slice(1))
    in_order = pc.or_(shorter, pc.and_(same_length, pc.less_equal(ids.slice(0, n - 1), ids.slice(1))))
    if pc.all(in_order).as_py():
        return table
    keyed = table.append_column("_id_len", lengths)
    order = pc.sort_indices(keyed, sort_keys=[("_id_len", "ascending"), ("id", "ascending")])
    return table.take(order)


def _rows_by_object(table: pa.Table) -> dict[str, int]:
    counts = pc.value_counts(table["source_key"])
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))


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
    fast_tables = fast_objects(ordered) if fast else [None] * len(ordered)
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
    table = _in_id_order(_first_of_each_id(combined))
    duplicates = combined.num_rows - table.num_rows
    kept_by_object = _rows_by_object(table)
    for entry in per_object:
        entry["kept"] = kept_by_object.get(entry["key"], 0)
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
    """RFC 4180 CSV (header, ``"`` doubled, fields with separators/newlines quoted), UTF-8.

    One writer on one thread: row slices written on two threads were no faster (issue 27, measured); batches
    of 16,384 rows instead of Arrow's 1,024 write fewer, larger pieces through the Python sink (10 % faster)."""
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=True, quoting_style="needed", batch_size=16384))
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
        kept_by_object = _rows_by_object(result.table)
        for entry in result.stats["objects"]:
            entry["kept"] = kept_by_object.get(entry["key"], 0)
        result.stats.update(kept=result.table.num_rows, duplicates=result.stats["duplicates"] + dropped)
    result.stats["cross_hour_duplicates"] = dropped
    return dropped
