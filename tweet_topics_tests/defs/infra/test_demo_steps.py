"""The demo materializes what its jobs do not select (infra_state, delivery_ledger) and records the seeded raw hours,
so after `make demo` every asset shows as materialized (README: 'materializes every asset')."""

from datetime import UTC, datetime

import dagster as dg

from tweet_topics import demo


def test_demo_steps_materialize_infra_state_and_the_ledger_and_record_raw_hours(resources, bucket, capsys):
    from tweet_topics.definitions import defs

    instance = dg.DagsterInstance.ephemeral()
    demo._materialize(defs, instance, "infra_state", "delivery_ledger")
    demo._record_raw_hours(instance, datetime(2026, 3, 1, tzinfo=UTC), 3)
    for asset in ("infra_state", "delivery_ledger"):
        assert instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None, asset
    raw = instance.get_materialized_partitions(dg.AssetKey("raw_tweets"))
    assert raw == {"2026-03-01-00:00", "2026-03-01-01:00", "2026-03-01-02:00"}
    out = capsys.readouterr().out
    assert "✓ infra_state, delivery_ledger" in out and "✓ raw_tweets: 3 seeded hours recorded" in out
