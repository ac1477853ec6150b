"""The one hourly partitioning (UTC) shared by every hourly asset."""

from __future__ import annotations

import dagster as dg

from tweet_topics.settings import get_settings

HOURLY = dg.HourlyPartitionsDefinition(start_date=get_settings().partitions_start, timezone="UTC", fmt="%Y-%m-%d-%H:%M")
