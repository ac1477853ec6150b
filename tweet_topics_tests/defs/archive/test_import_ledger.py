"""delivery_ledger covers an import: its ledger object is written now, its tweets land in hours years before the
72-hour window, and the ledger still finds them there (the hours the object names), or says which one is missing."""

import json

import dagster as dg

from tweet_topics.archive.importer import run_import
from tweet_topics.defs.ingest.ledger import delivery_ledger
from tweet_topics_tests.conftest import DATA, REAL_TWEETS
from tweet_topics_tests.defs.archive.archive_hours import COMBINED_2021, RAW_2021
from tweet_topics_tests.helpers import materialize_range

V1_FILE = DATA / "archive" / "v1-statuses.jsonl"
NO_GRACE = {"ops": {"delivery_ledger": {"config": {"grace_minutes": 0}}}}


def _backfill(resources, summary: dict) -> None:
    run = materialize_range([RAW_2021, COMBINED_2021], resources, summary["first_hour"], summary["last_hour"])
    assert run.success


def _ledger(resources) -> tuple[bool, dict, dict]:
    result = dg.materialize(
        [RAW_2021, COMBINED_2021, delivery_ledger],
        resources=resources,
        selection=[delivery_ledger],
        run_config=NO_GRACE,
        raise_on_error=False,
    )
    [check] = result.get_asset_check_evaluations()
    meta = {k: v.value for k, v in result.asset_materializations_for_node("delivery_ledger")[0].metadata.items()}
    return check.passed, meta, check.metadata["missing"].value


def _drop_one_record(storage, hour_prefix: str) -> tuple[str, int]:
    """Remove the first record of the hour's first raw object (a record lost after its hand-over)."""
    key = next(o.key for o in storage.s3.list(hour_prefix))
    first, rest = storage.s3.get(key).split(b"\n", 1)
    storage.s3.aws.client("s3").put_object(Bucket=storage.bucket, Key=key, Body=rest)
    delivery = json.loads(first)["delivery"]
    return delivery["run"], delivery["seq"]


def test_imported_hours_older_than_the_window_are_reconciled(resources, bucket):
    storage = resources["storage"]
    imported = run_import(storage, [str(REAL_TWEETS)], workers=1)
    assert imported.imported == 200 and imported.summary()["first_hour"].startswith("2021-03-23")
    _backfill(resources, imported.summary())
    passed, meta, missing = _ledger(resources)
    assert passed and not missing
    assert (meta["handed"], meta["found"], meta["missing"]) == (200, 200, 0)
    assert meta["hours_named_by_ledger"] == imported.summary()["hours"]

    # A second import loses one record between its hand-over and the combine: reported missing, by run and seq.
    planted = run_import(storage, [str(V1_FILE)], workers=1)
    assert planted.imported == 19
    hour = planted.written_hours()[0].hour
    run, seq = _drop_one_record(storage, storage.raw_hour(hour))
    assert run == planted.run
    _backfill(resources, planted.summary())
    passed, meta, missing = _ledger(resources)
    assert not passed
    assert (meta["handed"], meta["found"], meta["missing"]) == (219, 218, 1)
    assert missing == {planted.run: [[seq, seq]]}
