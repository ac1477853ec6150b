"""apply_deletions' storage side: rewrite the hours that hold affected tweets or records naming them (found by
``archive/references.py``), rebuild what depends on them, and record tombstones and an audit entry.

Raw objects are Firehose's and the project's store refuses to touch them; honouring X's deletions is the one
exception, done here with the raw client (in AWS the operator's role needs ``s3:DeleteObjectVersion``): each raw
and original object that names an affected id is rewritten in place, and every noncurrent version of the touched
hours' objects is deleted, so old versions keep no copy. Then the hour's combined_tweets is re-committed from the
rewritten raw objects (its raw fingerprint follows, so raw_tweets_sensor does not request the hour again),
filtered_tweets is re-filtered with the settings of its last commit, and tweet_topic_assignments rows of removed
tweets are dropped.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tweet_topics.archive.references import candidate_hours
from tweet_topics.config import BLOCKLIST_FILE
from tweet_topics.defs.hourly.hours import combine_hour, filter_hour
from tweet_topics.lib.archive.compliance import Actions, id_digest, rewrite
from tweet_topics.lib.combine import csv_ids
from tweet_topics.lib.filtering import Blocklist
from tweet_topics.lib.ledger import merge
from tweet_topics.storage.catalog import COMBINED_CSV, PREDICTIONS_PARQUET, Storage
from tweet_topics.storage.clients import delete_all
from tweet_topics.storage.hourly import parquet_bytes
from tweet_topics.storage.keys import PARTITION_FORMAT, partition_key


@dataclass
class HourDeletion:
    hour: datetime
    objects_rewritten: int = 0
    removed: int = 0
    scrubbed: int = 0
    references_nulled: int = 0
    removed_delivery: dict[str, list[int]] = field(default_factory=dict)


def purge_versions(storage: Storage, prefix: str) -> int:
    """Delete every noncurrent version and delete marker under ``prefix`` (no-op on an unversioned bucket)."""
    s3, doomed = storage.s3.aws.client("s3"), []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=storage.bucket, Prefix=prefix):
        doomed += [v for v in page.get("Versions", []) if not v["IsLatest"]]
        doomed += page.get("DeleteMarkers", [])
    return delete_all(s3, storage.bucket, ({"Key": v["Key"], "VersionId": v["VersionId"]} for v in doomed))


def progress_key(storage: Storage, hour: datetime) -> str:
    """The hour's progress record: what each rewritten object lost, kept until the audit is written, so a retry
    after a failure mid-hour still rebuilds the hour and still accounts for the sequences removed the first time."""
    return f"{storage.compliance_prefix}pending/{partition_key(hour)}.json"


def pending_hours(storage: Storage) -> set[datetime]:
    """Hours an earlier, failed run rewrote but did not finish (their progress records are still there)."""
    prefix = f"{storage.compliance_prefix}pending/"
    return {datetime.strptime(o.key[len(prefix) : -len(".json")], PARTITION_FORMAT).replace(tzinfo=UTC)
            for o in storage.s3.list(prefix) if o.key.endswith(".json")}  # fmt: skip


def _load_progress(storage: Storage, hour: datetime) -> dict[str, dict[str, Any]]:
    key = progress_key(storage, hour)
    return json.loads(storage.s3.get(key)) if storage.s3.exists(key) else {}


def _rewrite_prefix(
    storage: Storage, hour: datetime, actions: Actions, progress: dict[str, dict[str, Any]], original: bool
) -> None:
    """Rewrite the objects naming an id; each object's losses go to the progress record before the object is put."""
    s3 = storage.s3.aws.client("s3")  # the raw client: the one sanctioned rewrite of raw objects
    keys = [o.key for o in storage.s3.list(storage.original_hour(hour) if original else storage.raw_hour(hour))]
    for key, body in storage.s3.get_many(keys) if keys else []:
        data = gzip.decompress(body) if original else body
        out = rewrite(data, actions, original=original)
        if not out.changed:
            continue
        new = gzip.compress(out.body, compresslevel=6, mtime=0) if original else out.body
        counted = not original  # an original's lines are the raw lines' payloads: counted once, in raw
        entry = {
            "removed": out.removed * counted,
            "scrubbed": out.scrubbed * counted,
            "references_nulled": out.references_nulled * counted,
            "removed_delivery": out.removed_delivery if counted else {},
            "after": hashlib.sha256(new).hexdigest(),
        }
        progress[key] = _accumulate(progress.get(key), entry, hashlib.sha256(body).hexdigest())
        storage.s3.put(progress_key(storage, hour), json.dumps(progress).encode())
        s3.put_object(Bucket=storage.bucket, Key=key, Body=new)  # an emptied raw object stays, empty


def _accumulate(earlier: dict[str, Any] | None, entry: dict[str, Any], current: str) -> dict[str, Any]:
    """An object's progress entry: an earlier attempt's losses count too when its rewrite was put (the object is
    what it wrote, and now loses more: another list); when the put never happened, this rewrite repeats it."""
    if earlier is None or earlier.get("after") != current:
        return entry
    merged = {name: earlier[name] + entry[name] for name in ("removed", "scrubbed", "references_nulled")}
    delivery = {run: list(seqs) for run, seqs in earlier["removed_delivery"].items()}
    for run, seqs in entry["removed_delivery"].items():
        delivery.setdefault(run, []).extend(seqs)
    return merged | {"removed_delivery": delivery, "after": entry["after"]}


def _tally(hour: datetime, progress: dict[str, dict[str, Any]]) -> HourDeletion:
    result = HourDeletion(hour, objects_rewritten=len(progress))
    for entry in progress.values():
        result.removed += entry["removed"]
        result.scrubbed += entry["scrubbed"]
        result.references_nulled += entry["references_nulled"]
        for run, seqs in entry["removed_delivery"].items():
            result.removed_delivery.setdefault(run, []).extend(seqs)
    return result


def _drop_predictions(storage: Storage, hour: datetime, ids: set[str]) -> None:
    dataset = storage.predictions
    if not dataset.is_committed(hour):
        return
    token = dataset.begin(hour)
    table = pq.read_table(io.BytesIO(dataset.read_bytes(hour, PREDICTIONS_PARQUET)))
    if "id" not in table.column_names:
        return
    keep = pc.invert(pc.is_in(table["id"].cast(pa.string()), value_set=pa.array(sorted(ids), pa.string())))
    kept = table.filter(keep)
    if kept.num_rows == table.num_rows:
        return
    metadata = dict(dataset.read_metadata(hour), rows_removed_by_deletion=table.num_rows - kept.num_rows)
    dataset.write_hour(hour, {PREDICTIONS_PARQUET: parquet_bytes(kept)}, metadata, token=token)


def delete_in_hour(storage: Storage, hour: datetime, actions: Actions, rebuild: bool = False) -> HourDeletion:
    """Rewrite one hour everywhere; then drop the old versions of everything touched. The hour is rebuilt when an
    object changed now or in an earlier attempt, or when its committed data still names an id (``rebuild``)."""
    progress = _load_progress(storage, hour)  # an earlier attempt's rewrites: the hour is rebuilt all the same
    _rewrite_prefix(storage, hour, actions, progress, original=False)
    _rewrite_prefix(storage, hour, actions, progress, original=True)
    result = _tally(hour, progress)
    if result.objects_rewritten or rebuild:
        gone = set(actions.remove)
        if storage.combined.is_committed(hour):  # a quote removed whole (it names the tweet) leaves with its id
            before = set(csv_ids(storage.combined.read_bytes(hour, COMBINED_CSV)).to_pylist())
            combine_hour(storage, hour)
            gone |= before - set(csv_ids(storage.combined.read_bytes(hour, COMBINED_CSV)).to_pylist())
        if storage.filtered.is_committed(hour):
            recorded = storage.filtered.read_metadata(hour)
            blocklist = Blocklist.from_file(Path(BLOCKLIST_FILE))
            filter_hour(storage, hour, blocklist, recorded["min_words"], tuple(recorded["languages"]))
        _drop_predictions(storage, hour, gone)
    for dataset_prefix in (storage.raw_hour(hour), storage.original_hour(hour)):
        purge_versions(storage, dataset_prefix)
    for dataset in (storage.combined, storage.filtered, storage.predictions):
        purge_versions(storage, dataset.hour_prefix(hour))
    return result


def apply_deletions(
    storage: Storage, actions: Actions, run_id: str, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Apply ``actions`` to every candidate hour, then write tombstones and the audit entry (counts, no ids)."""
    now = datetime.now(UTC)
    label = f"{now:%Y%m%dT%H%M%SZ}-{run_id[:8]}"
    if actions.tombstone:  # first: an import racing this run already skips the ids
        digests = sorted(id_digest(i) for i in actions.tombstone)
        storage.s3.put(f"{storage.tombstones_prefix}{label}.json", json.dumps({"digests": digests}).encode())
    candidates, read, found = candidate_hours(storage, actions.remove | actions.scrub_geo)
    candidates = sorted(set(candidates) | pending_hours(storage))
    hours = [delete_in_hour(storage, h, actions, rebuild=h in found) for h in candidates]
    touched = [h for h in hours if h.objects_rewritten]
    removed_delivery: dict[str, list[int]] = {}
    for h in touched:
        for run, seqs in h.removed_delivery.items():
            removed_delivery.setdefault(run, []).extend(seqs)
        if progress:
            progress(f"{partition_key(h.hour)}: removed {h.removed}, scrubbed {h.scrubbed}")
    audit = {
        "run": run_id,
        "applied_at": now.isoformat(),
        "ids": len(actions.remove | actions.scrub_geo),
        "by_action": actions.by_action,
        "unreadable_lines": len(actions.unreadable),
        "hours": [partition_key(h.hour) for h in touched],
        "hours_searched": len(hours),
        "committed_hours_read": read,  # the search for later hours naming an id (archive/references.py)
        "objects_rewritten": sum(h.objects_rewritten for h in touched),
        "records_removed": sum(h.removed for h in touched),
        "records_scrubbed": sum(h.scrubbed for h in touched),
        "references_nulled": sum(h.references_nulled for h in touched),
        # The delivery sequences that left the raw data: delivery_ledger subtracts them from what must be found.
        "deleted_delivery": {run: merge(seqs) for run, seqs in sorted(removed_delivery.items())},
    }
    storage.s3.put(f"{storage.audit_prefix}{label}.json", json.dumps(audit).encode(), "application/json")
    storage.s3.delete_keys([progress_key(storage, h.hour) for h in touched])  # accounted for in the audit now
    return audit
