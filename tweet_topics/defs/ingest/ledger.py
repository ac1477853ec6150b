"""delivery_ledger: nothing lost between the streamer and the combined CSV, shown on the asset page.

Reads the streamer's ledger objects written in the window (which sequence ranges it handed to Firehose, whether or
not any hour was committed since) and the sequence ranges each committed combined hour from the window's start
found in its raw objects, and reconciles them per streamer run (``lib/ledger.py``). An archive import writes its
ledger object now but its tweets into the hours they were posted, often long before the window: the hours a
window's ledger object names (``"hours"``) are searched too.
"""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
from pydantic import Field

from tweet_topics.defs.ingest.handed import read_ledger
from tweet_topics.lib.ledger import count, merge, reconcile, sent_by_hour
from tweet_topics.lib.naming import markdown_table
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.keys import parse_partition_key, partition_key


class LedgerConfig(dg.Config):
    window_hours: int = Field(72, ge=1, description="hours of ledger objects (newest first) reconciled")
    grace_minutes: int = Field(30, ge=0, description="records handed to Firehose more recently may still be in flight")


def _spans(ranges: list[list[int]], limit: int = 5) -> str:
    text = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in ranges[:limit])
    return text + (" …" if len(ranges) > limit else "")


def named_hours(entries: list[dict]) -> set[datetime]:
    """The hours ledger objects name as written (an import's posting hours); a malformed name is skipped."""
    out: set[datetime] = set()
    for entry in entries:
        names = entry.get("hours")
        for name in names if isinstance(names, list) else []:
            try:
                out.add(parse_partition_key(str(name)))
            except ValueError:
                continue
    return out


def deleted_deliveries(storage: Storage) -> dict[str, list[list[int]]]:
    """Delivery sequences that ``apply_deletions`` removed from the raw data, per streamer run (its audit entries)."""
    keys = [o.key for o in storage.s3.list(storage.audit_prefix)]
    out: dict[str, list[list[int]]] = {}
    for _, body in storage.s3.get_many(keys):
        for run, ranges in json.loads(body).get("deleted_delivery", {}).items():
            out.setdefault(run, []).extend(ranges)
    return {run: merge(ranges) for run, ranges in out.items()}


@dg.asset(
    deps=["combined_tweets"],
    group_name="ingest",
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
    start = now - timedelta(hours=config.window_hours)
    # The handed side is every ledger object written in the window, committed hours or not (nothing committed
    # while records were handed is a loss, not a pass); the found side is every committed hour a record handed
    # in the window can have landed in (Firehose files by arrival; an hour of slack for ledger objects written
    # just after the window opened), plus the committed hours the window's ledger objects name (an import's).
    entries = read_ledger(storage, start)
    first_hour = start.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    named = named_hours(entries)
    hours = [h for h in storage.combined.committed_hours() if h >= first_hour or h in named]
    found = {partition_key(h): storage.combined.read_metadata(h).get("delivery_ranges", {}) for h in hours}
    deleted = deleted_deliveries(storage)
    found["deleted on request"] = deleted  # apply_deletions removed them on purpose: accounted for, not lost
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
            "hours_named_by_ledger": len(named),
            "ledger_objects": len(entries),
            "handed": sum(r.handed for r in runs),
            "found": sum(r.found for r in runs),
            "missing": sum(count(r.missing) for r in runs),
            "deleted_on_request": sum(count(r) for r in deleted.values()),
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
