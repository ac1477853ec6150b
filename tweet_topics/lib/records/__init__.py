"""The flat, versioned tweet record that travels from the streamer through Firehose to S3.

One record is one JSON object on one line (NDJSON). It is built from an X API v2 filtered-stream payload,
from a v1.1 status (archives), or from the reference system's legacy TAB-separated line (migration).
This module is the one import for all of it; the parts live in ``record_schema`` (fields, validation, NDJSON),
``record_payloads`` (X payloads) and ``record_legacy`` (TAB lines).
"""

from __future__ import annotations

from tweet_topics.lib.records.legacy import LEGACY_FIELDS, legacy_line_from_record, record_from_legacy_line
from tweet_topics.lib.records.payloads import record_from_payload, record_from_v1, record_from_v2
from tweet_topics.lib.records.schema import (
    LIST_FIELDS,
    RECORD_FIELDS,
    REQUIRED_FIELDS,
    SCHEMA_VERSION,
    RecordError,
    dumps_record,
    normalize_time,
    validate_record,
)

__all__ = [
    "LEGACY_FIELDS",
    "LIST_FIELDS",
    "RECORD_FIELDS",
    "REQUIRED_FIELDS",
    "SCHEMA_VERSION",
    "RecordError",
    "dumps_record",
    "legacy_line_from_record",
    "normalize_time",
    "record_from_legacy_line",
    "record_from_payload",
    "record_from_v1",
    "record_from_v2",
    "validate_record",
]
