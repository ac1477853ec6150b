"""Warnings we know and accept, filtered by their exact message where the code location loads, so a user sees
none of them and any other (new) warning still shows.

Each entry says why the project opts into the API the warning is about.
"""

from __future__ import annotations

import warnings

import dagster as dg

KNOWN: list[tuple[type[Warning], str, str]] = [
    (
        dg.PreviewWarning,
        r"Function `load_definitions_from_(package_module|modules)` is currently in preview",
        "definitions.py loads the defs package without the components machinery: ~1 s less per load",
    ),
    (
        dg.PreviewWarning,
        r"Function `Definitions\.map_(resolved_)?asset_specs` is currently in preview",
        "definitions.py gives every asset its domain's owner from one table (DOMAIN_OWNERS), not one per asset",
    ),
    (
        dg.BetaWarning,
        r"Parameter `backfill_policy` of function `asset` is currently in beta",
        "the hourly and assignment assets run a backfill of many hours as one run (BackfillPolicy.single_run)",
    ),
    (
        dg.BetaWarning,
        r"Parameter `owners` of initializer `SensorDefinition.__init__` is currently in beta",
        "raised inside Dagster when it copies a sensor (our sensors set no owners)",
    ),
    (
        dg.PreviewWarning,
        r"Specifying a partitions_def on an AssetCheckSpec is currently in preview",
        "hourly checks record one result per hour (AssetCheckEvaluation(partition=...)), so a failed hour is found "
        "from its partition page (issue 24)",
    ),
    (
        dg.SupersessionWarning,
        r"Function `build_(time_partition_freshness_checks|sensor_for_freshness_checks)` is superseded",
        "freshness results are asset check evaluations per hourly asset, which the alert sensor publishes like every "
        "other failed check (issue 24's decision); FreshnessPolicy results are not check evaluations",
    ),
    (
        FutureWarning,
        r"PySpark does not yet fully support pandas >= 3\.0\.0",
        "PySpark probes pandas when it loads its helpers; our Spark code exchanges data through Arrow and Parquet, "
        "never pandas (tweet_topics_tests/local/test_quiet.py runs those paths with warnings as errors)",
    ),
]


def filter_known_warnings() -> None:
    """Ignore exactly the warnings in ``KNOWN`` (idempotent: ``warnings`` drops duplicate filters)."""
    for category, message, _why in KNOWN:
        warnings.filterwarnings("ignore", message=message, category=category)
