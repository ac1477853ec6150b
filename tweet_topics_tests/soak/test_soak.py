"""A compressed day of faults on the real local stack (``make soak`` runs the full one): the ledger's proof.

Six simulated hours with every kind of fault the full soak injects - poison lines, in-hour duplicates, a
duplicated raw object, late objects for closed hours, the real streamer SIGKILLed, blackholed and SIGTERMed
under Firehose partial failures, a run SIGKILLed between its files and its commit, two overlapping backfills,
a deletion list applied mid-day - then every committed hour is counted independently. Select it with
``-m soak``.
"""

import pytest

from tweet_topics_tests.soak.day import SoakConfig
from tweet_topics_tests.soak.engine import report_lines, run_soak


@pytest.mark.soak
def test_a_compressed_day_of_faults_loses_nothing(resources, bucket, settings, tmp_path):
    config = SoakConfig(
        seed=26,
        hours=6,
        tweets_per_hour=20,
        streamer_tweets=100,
        streamer_kill_after=(100, 250),
        backfill_hours=2,
        late_objects=2,
    )
    result = run_soak(resources, config, settings.firehose_stream, tmp_path)
    print("\n" + "\n".join(report_lines(result)))
    a, stream = result.audit, result.stream
    assert a is not None and stream is not None
    # The faults really struck: the streamer was killed and cut off, Firehose failed entries, a run was killed.
    assert [r["exit"] for r in stream.runs][:2] == [-9, 3], stream.runs
    assert stream.failed_entries > 0 and stream.objects_moved > 0
    assert any("killed mid-commit" in what for _, what in result.faults)
    assert sum(1 for _, what in result.faults if "late raw object" in what) == 2
    # Every bad line is quarantined with its reason (less the lines naming a tweet the deletion list removed);
    # the streamer's own books balanced at every clean exit.
    assert a.quarantine_without_reason == 0 and a.quarantined == a.quarantine_expected
    assert sum(a.quarantined.values()) > 0
    assert all(r.get("balanced") == "True" for r in stream.runs if r["exit"] in (0, 3)), stream.runs
    # The deletion list removed what it named, nothing else.
    assert result.deleted and not a.undeleted and result.deleted_streamer > 0
    # The independent count: every record in exactly one committed hour, every check green on the final state.
    assert not a.uncommitted_hours and not a.unexpected
    assert not a.lost and not a.duplicated, (a.lost[:5], a.duplicated[:5])
    assert not a.failing_checks, a.failing_checks
    assert a.delivered == a.expected
    assert result.launcher is not None and not result.launcher.record.red_at_the_end
    assert result.ledger["passed"] and result.ledger["missing"] == 0, result.ledger
