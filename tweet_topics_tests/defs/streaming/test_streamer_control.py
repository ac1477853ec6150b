"""The supervisor with a real local streamer process and the real local Firehose (EC2: test_ec2_host.py)."""

import json
import os
import signal
import time
from datetime import datetime, timedelta

import dagster as dg
import pytest

from tweet_topics.defs.streaming.jobs import set_streamer_desired_state, start_streamer, stop_streamer
from tweet_topics.defs.streaming.resources import LocalStreamerHost
from tweet_topics.defs.streaming.sensors import JOBS, SupervisorSettings, streamer_supervisor
from tweet_topics.lib.records import record_from_v2
from tweet_topics.lib.synthetic import TweetGenerator

RATE = 100.0


@pytest.fixture()
def control(resources, bucket, tmp_path):
    infra = resources["infra"]
    infra.logs.ensure()
    infra.iam.ensure()
    infra.ensure_firehose()
    host = LocalStreamerHost(aws=resources["aws"], local_dir=str(tmp_path), rate=RATE, heartbeat_interval_s=0.5)
    own = {
        **resources,
        "streamer_host": host,
        "supervisor": SupervisorSettings(stale_after_s=3, settle_s=20, base_backoff_s=1, max_failures=3),
    }
    yield own
    host.stop()


def tick(res, cursor):
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(instance=instance, cursor=cursor, resources=res) as context,
    ):
        return streamer_supervisor(context)


def run_job(job, res, config=None):
    defs = dg.Definitions(jobs=[job], resources=res)
    return defs.resolve_job_def(job.name).execute_in_process(run_config=config or {}, raise_on_error=False)


def test_supervisor_starts_restarts_and_stops_the_local_streamer(control):
    state = control["streamer_state"]
    desired = run_job(
        set_streamer_desired_state, control, {"ops": {"set_desired_op": {"config": {"state": "running"}}}}
    )
    assert desired.success and state.desired() == "running"

    first = tick(control, None)
    assert [r.job_name for r in first.run_requests] == ["start_streamer"]
    assert first.run_requests[0].tags["tweet_topics/streamer_action"] == "start"
    assert tick(control, first.cursor).run_requests == [], "an action in flight is not launched twice"
    assert run_job(JOBS["start"], control).success
    time.sleep(2)
    ok = tick(control, first.cursor)
    assert ok.run_requests == []

    # Kill it hard: the heartbeat goes stale and the supervisor brings it back.
    os.kill(control["streamer_host"].status()["pid"], signal.SIGKILL)
    time.sleep(4)
    again = tick(control, ok.cursor)
    assert [r.job_name for r in again.run_requests] == ["start_streamer"]
    assert run_job(start_streamer, control).success
    time.sleep(3)

    run_job(set_streamer_desired_state, control, {"ops": {"set_desired_op": {"config": {"state": "stopped"}}}})
    stop = tick(control, again.cursor)
    assert [r.job_name for r in stop.run_requests] == ["stop_streamer"]
    assert run_job(stop_streamer, control).success
    assert not control["streamer_host"].status()["running"]
    assert state.heartbeat()["state"] == "stopped"

    # Data kept flowing across the kill: the delivered ids are exactly a prefix of the synthetic sequence.
    checkpoint = json.loads((control["streamer_host"].state_dir / "checkpoint.json").read_text())
    storage = control["storage"]
    store = storage.s3
    delivered = {
        json.loads(line)["id"]
        for info in store.list(storage.raw_prefix)
        for line in store.get(info.key).splitlines()
        if line
    }
    generator = TweetGenerator(seed=7)
    origin = datetime.fromisoformat(checkpoint["origin"])
    expected = [
        record_from_v2(generator.tweet(origin + timedelta(seconds=i / RATE)).payload)["id"]
        for i in range(checkpoint["delivered"])
    ]
    assert len(expected) > 200
    assert delivered == set(expected), "no gaps and nothing extra across the restart"


def test_start_fails_with_a_reason_when_the_streamer_never_comes_up(control):
    class BrokenHost(LocalStreamerHost):
        def start(self) -> str:
            return "pretended to start"

    broken = {**control, "streamer_host": BrokenHost(aws=control["aws"], local_dir=control["streamer_host"].local_dir)}
    result = run_job(start_streamer, broken, {"ops": {"start_streamer_op": {"config": {"confirm_timeout_s": 2}}}})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "not confirmed: no running heartbeat" in str(failure.event_specific_data.error)
