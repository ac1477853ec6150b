"""The tombstones apply_deletions wrote, read for the import and the combine (digests only, never ids)."""

from __future__ import annotations

import json

from tweet_topics.storage.catalog import Storage


def load_tombstones(storage: Storage) -> set[str]:
    """Digests of every id deleted so far (``lib.archive.compliance.id_digest``), one object per deletion run."""
    keys = [o.key for o in storage.s3.list(storage.tombstones_prefix)]
    return {d for _, body in (storage.s3.get_many(keys) if keys else []) for d in json.loads(body)["digests"]}
