"""What an alert says: the asset, the hour, the check or the failed steps, and a link into the Dagster UI.

Plain Python over Dagster's records, so the wording is tested without a topic; SNS takes a subject of at most
100 printable ASCII characters and a body of at most 256 KB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

SUBJECT_MAX = 100
DETAIL_MAX = 2_000  # characters of an error or of check metadata carried in one message
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


@dataclass(frozen=True)
class Alert:
    subject: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)


def subject(text: str) -> str:
    """SNS subjects: printable ASCII, no line breaks, at most 100 characters."""
    clean = re.sub(r"[^\x20-\x7e]", "?", " ".join(text.split()))
    return clean if len(clean) <= SUBJECT_MAX else clean[: SUBJECT_MAX - 1] + "~"


def _clip(text: str) -> str:
    return text if len(text) <= DETAIL_MAX else text[:DETAIL_MAX] + f" … ({len(text) - DETAIL_MAX} more characters)"


def asset_link(ui: str, asset: str, partition: str | None = None, view: str = "checks") -> str:
    link = f"{ui}/assets/{quote(asset)}?view={view}"
    return link + (f"&partition={quote(partition)}" if partition else "")


def check_alert(
    stem: str, ui: str, asset: str, check: str, severity: str, partition: str | None, run_id: str | None, details: str
) -> Alert:
    """A failed check evaluation: which asset, which hour, which check, why, and where to look."""
    hour = partition or "(unpartitioned)"
    lines = [
        f"Check {check} on {asset} failed ({severity}) for hour {hour}.",
        f"Asset checks: {asset_link(ui, asset, partition)}",
    ]
    if run_id:
        lines.append(f"Run: {ui}/runs/{run_id}")
    lines += ["", "Details:", _clip(details)]
    return Alert(
        subject(f"[{stem}] {severity} {check} failed: {asset} {hour}"),
        "\n".join(lines),
        {"kind": "check", "asset": asset, "check": check, "severity": severity, "hour": hour},
    )


def run_alert(
    stem: str, ui: str, run_id: str, job: str, tags: dict[str, str], assets: list[str], errors: list[str]
) -> Alert:
    """A failed run: its job, assets, hour (or hour range) and the failed steps' errors."""
    if "dagster/partition" in tags:
        hours = tags["dagster/partition"]
    elif all(t in tags for t in RANGE_TAGS):
        hours = f"{tags[RANGE_TAGS[0]]} … {tags[RANGE_TAGS[1]]}"
    else:
        hours = "(no hour)"
    lines = [
        f"Run of {job} failed for hours {hours}.",
        f"Assets: {', '.join(assets) or '(none)'}",
        f"Run: {ui}/runs/{run_id}",
        "",
        "Errors:",
        *(_clip(e) for e in errors[:3]),
    ]
    return Alert(
        subject(f"[{stem}] run failed: {job} {hours}"),
        "\n".join(lines),
        {"kind": "run", "job": job, "hour": hours, "run_id": run_id},
    )


def sns_attributes(attributes: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Message attributes subscribers can filter on (e.g. only kind=run)."""
    return {k: {"DataType": "String", "StringValue": str(v)[:256]} for k, v in attributes.items() if str(v)}
