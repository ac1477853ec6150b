"""The combine step on Spark, for hours too large for one machine (the reference had a Databricks variant).

Lines are parsed on the executors with the very same rules as ``combine.py`` and deduplicated with a window
(first occurrence in key/line order), so both engines give the same rows, quarantine and counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from tweet_topics.lib.combine import COMBINED_SCHEMA, CombineResult, parse_row


def _parse(item: tuple[str, int, bytes, bool]) -> tuple[str, str, int, str | None, Any]:
    """(key, line number, raw line, unterminated last) -> ("ok"|"bad", key, line, id, row or entry)."""
    key, number, line, last = item
    row, entry = parse_row(key, number, line, last)
    if entry is not None:
        return ("bad", key, number, None, entry)
    return ("ok", key, number, row["id"], row)


def combine_objects_spark(
    objects: Iterable[tuple[str, bytes]],
    hour: datetime | None = None,
    spark: Any = None,
    late_tolerance: timedelta = timedelta(minutes=15),
) -> CombineResult:
    from pyspark.sql import SparkSession

    spark = spark or SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    ordered = sorted(objects, key=lambda kv: kv[0])
    items, blank_lines, per_object = [], 0, []
    for index, (key, body) in enumerate(ordered, start=1):
        lines = body.split(b"\n")
        unterminated = not body.endswith(b"\n")
        for number, line in enumerate(lines, start=1):
            if line.strip():
                items.append((key, number, line, unterminated and number == len(lines)))
            elif number < len(lines):
                blank_lines += 1
        per_object.append({"file": index, "file_name": key.rsplit("/", 1)[-1], "key": key, "encoded_length": len(body)})
    parsed = spark.sparkContext.parallelize(items, max(1, min(len(items) // 2000, 64))).map(_parse).cache()
    quarantine = sorted(
        (p[4] for p in parsed.filter(lambda p: p[0] == "bad").collect()),
        key=lambda q: (q["source_key"], q["line_number"]),
    )
    # First occurrence per id in (key, line) order, computed on the cluster.
    good = (
        parsed.filter(lambda p: p[0] == "ok")
        .map(lambda p: (p[3], p))
        .reduceByKey(lambda a, b: a if (a[1], a[2]) <= (b[1], b[2]) else b)
    )
    rows = [p[4] for _, p in good.collect()]
    records_read = parsed.count()
    parsed.unpersist()
    legacy = sum(r.pop("_legacy") for r in rows)
    rows.sort(key=lambda r: (len(r["id"]), r["id"]))
    table = pa.Table.from_pylist(rows, schema=COMBINED_SCHEMA)
    reasons = Counter(q["reason"] for q in quarantine)
    good_count = records_read - len(quarantine)
    by_key_read = Counter(key for key, *_ in items)
    by_key_bad = Counter(q["source_key"] for q in quarantine)
    by_key_kept = Counter(r["source_key"] for r in rows)
    for entry in per_object:
        entry.update(
            records=by_key_read[entry["key"]], malformed=by_key_bad[entry["key"]], kept=by_key_kept[entry["key"]]
        )
    created = [r["created_at"] for r in rows]
    late = 0
    if hour is not None:
        low = (hour - late_tolerance).strftime("%Y-%m-%dT%H:%M:%SZ")
        high = (hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        late = sum(1 for c in created if not (low <= c < high))
    stats = {
        "objects_read": len(ordered),
        "objects_parsed_line_by_line": len(ordered),
        "bytes_read": sum(len(b) for _, b in ordered),
        "records_read": records_read,
        "blank_lines": blank_lines,
        "kept": len(rows),
        "malformed": len(quarantine),
        "malformed_by_reason": dict(sorted(reasons.items())),
        "duplicates": good_count - len(rows),
        "legacy_records": legacy,
        "outside_hour": late,
        "min_created_at": min(created) if created else None,
        "max_created_at": max(created) if created else None,
        "objects": per_object,
    }
    if records_read != stats["kept"] + stats["malformed"] + stats["duplicates"]:
        raise AssertionError(f"count ledger does not reconcile: {stats}")
    return CombineResult(table=table, quarantine=quarantine, stats=stats)
