"""Combine one hour of raw Firehose objects into one deduplicated table, a quarantine and a count ledger.

Reads NDJSON records (current format) and the reference's legacy TAB lines. Nothing is dropped silently:
every non-empty line ends up kept, quarantined (with its reason) or counted as a duplicate, and
``records_read == kept + malformed + duplicates`` always holds.
"""

from __future__ import annotations

import base64
import io
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from tweet_topics.lib.records import (
    LIST_FIELDS,
    RECORD_FIELDS,
    RecordError,
    record_from_legacy_line,
    validate_record,
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
    """One raw line -> validated record, or RecordError with a reason."""
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
        return validate_record(obj)
    if "\t" in text:
        return record_from_legacy_line(text)
    raise RecordError("unrecognized_line", "neither a JSON record nor a legacy TAB record")


def combine_objects(
    objects: Iterable[tuple[str, bytes]],
    hour: datetime | None = None,
    late_tolerance: timedelta = timedelta(minutes=15),
) -> CombineResult:
    """Combine ``(key, body)`` pairs (processed in key order, so the output never depends on list order)."""
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    per_object: list[dict[str, Any]] = []
    duplicates = records_read = blank_lines = bytes_read = legacy = 0
    for index, (key, body) in enumerate(sorted(objects, key=lambda kv: kv[0]), start=1):
        bytes_read += len(body)
        lines = body.split(b"\n")
        unterminated = not body.endswith(b"\n")
        obj_read = obj_bad = obj_kept = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                blank_lines += number < len(lines)  # the empty tail after the final newline is no line
                continue
            obj_read += 1
            try:
                record = _parse_line(line, unterminated and number == len(lines))
            except RecordError as exc:
                obj_bad += 1
                reasons[exc.reason] += 1
                try:
                    raw, encoding = line.decode("utf-8"), "utf-8"
                except UnicodeDecodeError:
                    raw, encoding = base64.b64encode(line).decode(), "base64"
                quarantine.append(
                    {
                        "source_key": key,
                        "line_number": number,
                        "reason": exc.reason,
                        "detail": exc.detail,
                        "line": raw,
                        "encoding": encoding,
                    }
                )
                continue
            if record["id"] in seen:
                duplicates += 1
                continue
            seen.add(record["id"])
            legacy += not line.startswith(b"{")
            for name in LIST_FIELDS:
                record[name] = LIST_SEPARATOR.join(record[name])
            record["source_key"] = key
            record["line_number"] = number
            rows.append(record)
            obj_kept += 1
        records_read += obj_read
        per_object.append(
            {
                "file": index,
                "file_name": key.rsplit("/", 1)[-1],
                "key": key,
                "encoded_length": len(body),
                "records": obj_read,
                "malformed": obj_bad,
                "kept": obj_kept,
            }
        )
    rows.sort(key=lambda r: (len(r["id"]), r["id"]))
    table = pa.Table.from_pylist(rows, schema=COMBINED_SCHEMA)
    created = [r["created_at"] for r in rows]
    late = 0
    if hour is not None:
        low = (hour - late_tolerance).strftime("%Y-%m-%dT%H:%M:%SZ")
        high = (hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        late = sum(1 for c in created if not (low <= c < high))
    stats = {
        "objects_read": len(per_object),
        "bytes_read": bytes_read,
        "records_read": records_read,
        "blank_lines": blank_lines,
        "kept": len(rows),
        "malformed": sum(reasons.values()),
        "malformed_by_reason": dict(sorted(reasons.items())),
        "duplicates": duplicates,
        "legacy_records": legacy,
        "outside_hour": late,
        "min_created_at": min(created) if created else None,
        "max_created_at": max(created) if created else None,
        "objects": per_object,
    }
    assert records_read == stats["kept"] + stats["malformed"] + duplicates, "count ledger does not reconcile"
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
