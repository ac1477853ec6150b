"""delivery_ledger: nothing lost between the streamer and the combined CSV, shown on the asset page.

Reads the streamer's ledger objects (which sequence ranges it handed to Firehose) and the sequence ranges each
committed combined hour found in its raw objects, and reconciles them per streamer run (``lib/ledger.py``).
"""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
from pydantic import Field

from tweet_topics.lib.ledger import count, reconcile, sent_by_hour
from tweet_topics.lib.naming import markdown_table
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.keys import partition_key


class LedgerConfig(dg.Config):
    window_hours: int = Field(72, ge=1, description="combined hours (newest first) searched for delivered records")
    grace_minutes: int = Field(30, ge=0, description="records handed to Firehose more recently may still be in flight")


def _spans(ranges: list[list[int]], limit: int = 5) -> str:
    text = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in ranges[:limit])
    return text + (" …" if len(ranges) > limit else "")


@dg.asset(
    deps=["combined_tweets"],
    group_name="hourly",
    kinds={"s3"},
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        dg.AssetCheckSpec(
            "no_lost_records",
            asset="delivery_ledger",
            description="every record the streamer handed to Firehose is in some combined hour after the grace period",
        )
    ],
)
def delivery_ledger(context: dg.AssetExecutionContext, config: LedgerConfig, storage: Storage) -> dg.MaterializeResult:
    """Streamer sequences handed to Firehose vs found in the combined hours, per streamer run."""
    now = datetime.now(UTC)
    hours = storage.combined.committed_hours()[-config.window_hours :]
    found = {partition_key(h): storage.combined.read_metadata(h).get("delivery_ranges", {}) for h in hours}
    # Only ledger objects written since the oldest hour searched (less an hour of Firehose buffering and spool
    # drain): older records were found in hours outside the window and must not count as missing.
    since = (hours[0] - timedelta(hours=1)) if hours else now
    listed = [o.key for o in storage.s3.list(storage.streamer.ledger_prefix) if o.last_modified >= since]
    entries = [json.loads(body) for _, body in storage.s3.get_many(listed)]
    runs = reconcile(found, entries, now, timedelta(minutes=config.grace_minutes))
    lost = {r.run: r.missing for r in runs if r.missing}
    table = markdown_table(
        ["streamer run", "handed", "found", "rejected", "pending", "missing", "never handed"],
        [
            (r.run, r.handed, r.found, r.rejected, r.pending, _spans(r.missing) or "0", count(r.unexpected))
            for r in runs
        ],
    )
    summary = {"written_at": now.isoformat(), "sent_by_hour": sent_by_hour(entries), "lost": lost}
    storage.s3.put(storage.streamer.summary, json.dumps(summary).encode(), "application/json")
    for run, missing in lost.items():
        context.log.warning(
            f"streamer run {run}: {count(missing)} records handed to Firehose are missing: {_spans(missing)}"
        )
    return dg.MaterializeResult(
        metadata={
            "hours_searched": len(hours),
            "ledger_objects": len(entries),
            "handed": sum(r.handed for r in runs),
            "found": sum(r.found for r in runs),
            "missing": sum(count(r.missing) for r in runs),
            "runs": dg.MetadataValue.md(table),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="no_lost_records",
                passed=not lost,
                metadata={"missing": dg.MetadataValue.json({run: m[:50] for run, m in lost.items()})},
            )
        ],
    )
