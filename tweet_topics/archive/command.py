"""``python -m tweet_topics import PATH...``: the import from a terminal, its JSON lines and its advice.

stdout holds only JSON lines (per hour on ``--dry-run``, then one summary), so scripts can read it; the rejects
file, the partition start the UI needs and the backfill to launch are said on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from tweet_topics.archive.importer import ImportResult, run_import
from tweet_topics.lib.archive.inputs import ArchiveError
from tweet_topics.settings import get_settings
from tweet_topics.storage.keys import parse_partition_key

PROGRESS_MIN_BYTES = 4 * 1024 * 1024


def _progress(paths: list[str]) -> Any:
    """A tqdm bar of tweets read on a terminal for inputs over a few MB; otherwise nothing."""
    size = sum(Path(p).stat().st_size for p in paths if not p.startswith("s3://") and Path(p).is_file())
    if not sys.stderr.isatty() or size < PROGRESS_MIN_BYTES:
        return nullcontext(None)
    from tqdm import tqdm

    return tqdm(unit=" tweets", unit_scale=True, file=sys.stderr, desc="import")


def advise(result: ImportResult) -> list[str]:
    """What to do next: the rejects file, the partition start the UI needs, the backfill for the hours written."""
    settings, summary, lines = get_settings(), result.summary(), []
    if result.rejects_path is not None:
        lines.append(f"rejected tweets and their reasons: {result.rejects_path}")
    first, last = summary["first_hour"], summary["last_hour"]
    if first is None or result.dry_run:
        return lines
    if first < settings.partitions_start:
        lines.append(
            f"the archive starts at {first}, before the first partition {settings.partitions_start}: the UI needs "
            f"TWEET_TOPICS_PARTITIONS_START={first[:10]}-00:00"
            + (" (written to .env for `make dev`)" if settings.env == "local" else "")
        )
        if settings.env == "local":
            from tweet_topics.local import environment

            environment.write_partitions_start(parse_partition_key(first))
    lines.append(
        "the raw_tweets_sensor only looks back 72 h; backfill the hours written: dagster asset materialize "
        f"-m tweet_topics.definitions --select combined_tweets,filtered_tweets --partition-range {first}...{last}"
    )
    return lines


def cmd_import(args: argparse.Namespace) -> int:
    settings = get_settings()
    from tweet_topics.preflight import check_aws

    check_aws(settings)  # the import consults the raw hours (ids already there) even on a dry run
    from tweet_topics.storage.catalog import Storage

    storage = Storage.from_settings(settings)
    try:
        with _progress(args.paths) as bar:
            result = run_import(
                storage,
                args.paths,
                args.format,
                dry_run=args.dry_run,
                progress=bar.update if bar is not None else None,
            )
    except ArchiveError as exc:
        print(f"python -m tweet_topics import: error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for hour in result.hours:
            if hour.imported:
                print(json.dumps({"hour": hour.hour.strftime("%Y-%m-%d-%H:00"), "tweets": hour.imported}))
    print(json.dumps(result.summary()))
    for line in advise(result):
        print(line, file=sys.stderr)
    return 0
