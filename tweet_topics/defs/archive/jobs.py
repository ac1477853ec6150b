"""import_archive_job: archives (local paths or s3:// URIs) into the raw hours of their tweets' ``created_at``.

The same import as ``python -m tweet_topics import`` (``tweet_topics.archive.importer``). The raw_tweets_sensor
only looks back 72 hours, so the run says which backfill to launch for the hours it wrote, and which partition
start the UI needs when the archive begins before it.
"""

import dagster as dg
from pydantic import Field

from tweet_topics.archive.importer import run_import
from tweet_topics.lib.archive.formats import FORMATS
from tweet_topics.lib.archive.inputs import ArchiveError
from tweet_topics.partitions import HOURLY
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.keys import partition_key


class ImportConfig(dg.Config):
    paths: list[str] = Field(description="archive files on the run's host, or s3://bucket/key URIs (gzip accepted)")
    format: str = Field("auto", description=f"auto (by content) or one of: {', '.join(FORMATS)}")
    dry_run: bool = Field(False, description="count tweets per hour; write nothing")


@dg.op
def import_archive(context: dg.OpExecutionContext, config: ImportConfig, storage: Storage) -> dict:
    """Parse every input (nothing is written if one cannot be read), then add each hour's new tweets."""
    try:
        result = run_import(storage, list(config.paths), config.format, config.dry_run)
    except ArchiveError as exc:
        raise dg.Failure(description=str(exc)) from None
    summary = result.summary()
    per_hour = {partition_key(h.hour): h.imported for h in result.written_hours()}
    first, last = summary["first_hour"], summary["last_hour"]
    if first and first < partition_key(HOURLY.start):
        context.log.warning(
            f"the archive starts at {first}, before the first partition {partition_key(HOURLY.start)}: set "
            f"TWEET_TOPICS_PARTITIONS_START={first[:10]}-00:00 to see and backfill those hours"
        )
    if first and not config.dry_run:
        context.log.info(
            f"raw hours {first}...{last} written; the sensor looks back 72 h only: launch a backfill of "
            f"combined_tweets and filtered_tweets over that range (asset page -> Materialize, or dagster asset "
            f"materialize --select combined_tweets,filtered_tweets --partition-range {first}...{last})"
        )
    context.add_output_metadata(
        {
            **{k: v for k, v in summary.items() if v is not None},
            "objects_written": result.objects,
            "rejected_by_reason": dg.MetadataValue.json(dict(result.parse.reasons)),
            "tweets_per_hour": dg.MetadataValue.json(per_hour),
            "rejects_file": str(result.rejects_path or ""),
            "delivery_run": result.run,
        }
    )
    return summary


@dg.job(description="import archives (twarc2, v1.1, X archive, twarc-csv) into the raw hours of their created_at")
def import_archive_job() -> None:
    import_archive()
