"""A materialization of combined_tweets + filtered_tweets for an hour range, in its own process.

``python -m tweet_topics_tests.soak.run_hours FIRST LAST [--hang-before-commit PARTITION MARKER]``. The soak
launches backfills with it (two at once), and the run it kills mid-commit: with ``--hang-before-commit`` the
combined hour's data files are written, then ``MARKER`` is created and the process waits before the commit
object is put, so the soak's SIGKILL lands exactly between the files and the commit.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import dagster as dg

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def hang_before_commit(partition: str, marker: Path) -> None:
    """Wrap the storage layer's public commit step: stop (and wait to be killed) before ``partition`` commits."""
    from tweet_topics.storage.hourly import HourlyDataset
    from tweet_topics.storage.keys import partition_key

    original = HourlyDataset.commit_written

    def commit_written(self, hour, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.name == "combined_tweets" and partition_key(hour) == partition:
            marker.write_text("files written, commit not")
            time.sleep(120)  # the soak's SIGKILL comes first; bounded anyway
        return original(self, hour, *args, **kwargs)

    HourlyDataset.commit_written = commit_written  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    first, last = argv[0], argv[1]
    if len(argv) >= 5 and argv[2] == "--hang-before-commit":
        hang_before_commit(argv[3], Path(argv[4]))
    from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
    from tweet_topics.defs.resources import build_resources
    from tweet_topics.settings import get_settings

    result = dg.materialize(
        [RAW_TWEETS, combined_tweets, filtered_tweets],
        selection=[combined_tweets, filtered_tweets],
        resources=build_resources(get_settings()),
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        run_config=QUIET,
        raise_on_error=False,
    )
    if not result.success:
        failures = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
        print(failures[-1] if failures else "run failed", file=sys.stderr)
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
