"""import_archive_job: the same import from Dagster, reading an s3:// archive, with the counts on the run."""

import gzip

import dagster as dg

from tweet_topics.defs.archive.jobs import import_archive_job
from tweet_topics_tests.conftest import DATA, REAL_TWEETS


def _run(resources, paths, **config) -> dg.ExecuteInProcessResult:
    return import_archive_job.execute_in_process(
        run_config={"ops": {"import_archive": {"config": {"paths": paths, **config}}}},
        resources={"storage": resources["storage"]},
        raise_on_error=False,
    )


def test_job_imports_local_and_s3_archives_and_fails_in_one_line(resources, bucket):
    storage = resources["storage"]
    storage.s3.put("inbox/v1.jsonl.gz", gzip.compress((DATA / "archive" / "v1-statuses.jsonl").read_bytes()))
    result = _run(resources, [str(REAL_TWEETS), f"s3://{bucket}/inbox/v1.jsonl.gz"])
    assert result.success
    assert result.output_for_node("import_archive") == {
        "read": 219,
        "imported": 219,
        "duplicates": 0,
        "rejected": 0,
        "hours": 4,
        "first_hour": "2021-03-23-13:00",
        "last_hour": "2021-03-23-16:00",
    }
    raw = [o.key for o in storage.s3.list(storage.raw_prefix)]
    assert len(raw) == 4
    missing = _run(resources, [f"s3://{bucket}/inbox/nothing.jsonl"])
    assert not missing.success
    failure = missing.failure_data_for_node("import_archive")
    assert failure.user_failure_data.description == f"s3://{bucket}/inbox/nothing.jsonl: cannot be read (NoSuchKey)"
    assert [o.key for o in storage.s3.list(storage.raw_prefix)] == raw
