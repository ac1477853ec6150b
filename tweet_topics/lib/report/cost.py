"""Monthly cost and quota estimate from measured hourly volumes and the dated prices in ``config/prices.json``.

Why measured: the combine's metadata already counts records, bytes and Firehose objects per hour, so the
estimate follows the real stream rather than a guess. Every line says which measured input drives it; a price
missing from the file leaves the usage visible and the cost blank, never invented.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tweet_topics.config import CONFIG_DIR

PRICES_FILE = CONFIG_DIR / "prices.json"
GB = 1024**3
# Objects the pipeline itself PUTs per hour: each hourly dataset's files (written once under a run prefix) plus
# its _commit.json: combined 2 + 1, filtered 2 + 1, predictions 1 + 1, trends 1 + 1 (a test derives it from the
# storage catalog, so it follows the commits).
PIPELINE_WRITES_PER_HOUR = 10
# GETs per hour besides the raw objects: commits and files read by filter (2), scoring (4: commit, two footer
# ranges, the file), trends (2), the hourly checks (2) and the report (2).
PIPELINE_READS_PER_HOUR = 12


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


@dataclass(frozen=True)
class Volumes:
    """Mean per-hour volumes over the measured hours."""

    hours: int
    records: float
    bytes: float
    objects: float

    @property
    def record_bytes(self) -> float:
        return self.bytes / self.records if self.records else 0.0


def measured_volumes(per_hour: Sequence[Mapping[str, Any]]) -> Volumes:
    """From the combined hours' metadata (``records_read``, ``bytes_read``, ``objects_read``)."""
    n = len(per_hour)
    if not n:
        return Volumes(0, 0.0, 0.0, 0.0)

    def mean(key: str) -> float:
        return sum(float(h.get(key) or 0) for h in per_hour) / n

    return Volumes(n, mean("records_read"), mean("bytes_read"), mean("objects_read"))


@dataclass(frozen=True)
class CostLine:
    item: str
    usage: str
    monthly_usd: float | None  # None: no price in prices.json for this region (or instance type)
    driver: str
    source: str = ""  # the page the price comes from


def _money(quantity: float, price: float | None) -> float | None:
    return None if price is None else round(quantity * price, 2)


def regional(prices: Mapping[str, Any], region: str) -> dict[str, Any]:
    """The prices of ``region`` (empty when the file has none: every line then says its price is missing)."""
    return dict(prices.get("regions", {}).get(region, {}))


def estimate(
    volumes: Volumes,
    prices: Mapping[str, Any],
    tier: str = "basic",
    region: str = "us-east-1",
    instance_type: str = "t3.micro",
    live_instance_type: str | None = None,
) -> list[CostLine]:
    """Firehose ingestion, S3 storage and requests, EC2 hours and the X API post cap, per month.

    ``live_instance_type``: the live query's host, when it is meant to run (its desired state); None leaves it out.
    """
    hours = float(prices.get("hours_per_month", 730))
    local, sources, x = regional(prices, region), prices.get("sources", {}), prices["x_api"]
    fh, s3 = local.get("firehose", {}), local.get("s3", {})
    increment = int(fh.get("billing_increment_kb", 5)) * 1024
    billed_record = math.ceil(volumes.record_bytes / increment) * increment if volumes.records else 0
    firehose_gb = volumes.records * hours * billed_record / GB
    stored_gb = volumes.bytes * hours / GB
    puts = (volumes.objects + PIPELINE_WRITES_PER_HOUR) * hours
    gets = (volumes.objects + PIPELINE_READS_PER_HOUR) * hours
    posts = volumes.records * hours
    cap = x["monthly_post_cap"].get(tier)
    cap_share = f"{posts / cap:.0%} of the {tier} cap ({cap:,}/month)" if cap else f"no cap known for tier {tier!r}"
    days_to_cap = f"; cap reached after {cap / (volumes.records * 24):.1f} days" if cap and volumes.records else ""
    ec2_prices = local.get("ec2_on_demand_per_hour", {})

    def ec2(item: str, instance: str, driver: str) -> CostLine:
        price = _money(hours, ec2_prices.get(instance))
        return CostLine(f"{item} ({instance})", f"{hours:,.0f} instance hours", price, driver, sources.get("ec2", ""))

    lines = [
        CostLine(
            "Firehose ingestion",
            f"{firehose_gb:,.2f} GB billed ({billed_record // 1024} KB per record)",
            _money(firehose_gb, fh.get("ingestion_per_gb")),
            f"records/hour {volumes.records:,.0f} x mean record {volumes.record_bytes:,.0f} B rounded up to 5 KB",
            sources.get("firehose", ""),
        ),
        CostLine(
            "S3 storage (one month of raw data)",
            f"{stored_gb:,.3f} GB-month",
            _money(stored_gb, s3.get("standard_storage_per_gb_month")),
            f"bytes/hour {volumes.bytes:,.0f}",
            sources.get("s3", ""),
        ),
        CostLine(
            "S3 PUT/COPY/LIST requests",
            f"{puts:,.0f} requests",
            _money(puts / 1000, s3.get("put_copy_post_list_per_1000")),
            f"objects/hour {volumes.objects:,.1f} from Firehose + {PIPELINE_WRITES_PER_HOUR} pipeline writes",
            sources.get("s3", ""),
        ),
        CostLine(
            "S3 GET requests",
            f"{gets:,.0f} requests",
            _money(gets / 1000, s3.get("get_select_per_1000")),
            f"objects/hour {volumes.objects:,.1f} read by the combine + {PIPELINE_READS_PER_HOUR} pipeline reads",
            sources.get("s3", ""),
        ),
        ec2("EC2 streamer", instance_type, "one instance running all month"),
        CostLine(
            f"X API posts ({tier} tier)",
            f"{posts:,.0f} posts/month: {cap_share}{days_to_cap}",
            None,
            f"records/hour {volumes.records:,.0f}",
            sources.get("x_api", ""),
        ),
    ]
    if live_instance_type:
        driver = "one instance all month while the live query's desired state is running"
        lines.append(ec2("EC2 live query host", live_instance_type, driver))
    return lines


def total(lines: Sequence[CostLine]) -> tuple[float, list[str]]:
    """The sum of the priced lines and the items whose price is missing."""
    return (
        round(sum(line.monthly_usd or 0.0 for line in lines), 2),
        [line.item for line in lines if line.monthly_usd is None and not line.item.startswith("X API")],
    )


def summary_line(lines: Sequence[CostLine], prices: Mapping[str, Any]) -> str:
    """One line for the Dagster UI: the priced total, what is unpriced, and the X API quota use."""
    amount, missing = total(lines)
    unpriced = f" (no price yet for: {', '.join(missing)})" if missing else ""
    quota = next(line.usage for line in lines if line.item.startswith("X API"))
    as_of = prices.get("as_of", "?")
    return f"~${amount:,.2f}/month{unpriced}; X API {quota}; list prices as of {as_of}, confirm on the source pages"
