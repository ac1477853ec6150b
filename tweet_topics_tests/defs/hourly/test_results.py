"""How an hourly asset reports to Dagster (results.py), on real Dagster runs: a failing blocking check stops the
downstream step in a one-hour run only; in a range run every hour gets its own non-blocking evaluation and the
downstream step still runs (the storage gate holds the bad hour back instead)."""

from collections.abc import Iterator

import dagster as dg

from tweet_topics.defs.hourly.results import HourCheck, evaluate, record_hours, results
from tweet_topics.partitions import HOURLY
from tweet_topics_tests.helpers import materialize_range

BAD = "2026-03-01-01:00"
CHECKS = [HourCheck("fine", "every hour passes", lambda _s, _h: (True, {"n": 1}), blocking=True)]
CHECKS.append(HourCheck("not_01", "fails for 01:00", lambda _s, h: (h.hour != 1, {"hour": h.hour}), blocking=True))


@dg.multi_asset(
    specs=[dg.AssetSpec("upstream", partitions_def=HOURLY)],
    can_subset=True,
    partitions_def=HOURLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[c.spec("upstream") for c in CHECKS],
)
def upstream(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation]:
    keys = list(context.partition_keys)
    record_hours(context, {k: {"rows": int(k[11:13])} for k in keys})
    yield from results("upstream", keys, evaluate(None, keys, CHECKS), CHECKS)  # type: ignore[arg-type]


@dg.asset(deps=[upstream], partitions_def=HOURLY, backfill_policy=dg.BackfillPolicy.single_run())
def downstream() -> None:
    return None


def test_one_hour_blocks_downstream_a_range_does_not_and_each_hour_has_its_own_result():
    single = dg.materialize([upstream, downstream], partition_key=BAD, raise_on_error=False)
    assert not single.success
    assert "downstream" not in {e.step_key for e in single.all_events if e.event_type_value == "STEP_START"}
    [failed] = [e for e in single.get_asset_check_evaluations() if not e.passed]
    assert failed.check_name == "not_01" and failed.partition == BAD and failed.blocking

    ranged = materialize_range([upstream, downstream], {}, "2026-03-01-00:00", "2026-03-01-02:00")
    assert ranged.success
    assert "downstream" in {e.step_key for e in ranged.all_events if e.event_type_value == "STEP_SUCCESS"}
    evaluations = {(e.check_name, e.partition): e.passed for e in ranged.get_asset_check_evaluations()}
    assert evaluations[("not_01", BAD)] is False and evaluations[("not_01", "2026-03-01-02:00")] is True
    assert len(evaluations) == 6
    rows = {
        e.event_specific_data.materialization.partition: e.event_specific_data.materialization.metadata["rows"].value
        for e in ranged.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION" and e.step_key == "upstream"
    }
    assert rows == {"2026-03-01-00:00": 0, "2026-03-01-01:00": 1, "2026-03-01-02:00": 2}
