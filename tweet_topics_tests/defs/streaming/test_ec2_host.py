"""The streamer on EC2, through the Dagster jobs and the supervisor sensor, against moto.

moto records SSM commands but runs nothing, so a small "instance agent" thread (helpers.InstanceAgent) plays the
instance: for every control-document command it writes the heartbeat object the real streamer would write (running
after start/restart, stopped after stop). A failing command is produced with botocore's Stubber on the SSM client.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
from botocore.stub import Stubber

from tweet_topics.defs.streaming.jobs import set_streamer_desired_state, streamer_status
from tweet_topics.defs.streaming.resources import Ec2StreamerHost
from tweet_topics.defs.streaming.sensors import JOBS, SupervisorSettings, streamer_supervisor
from tweet_topics_tests.defs.infra.helpers import InstanceAgent, make_infra, run

COMMAND_ID = "5f0c7a52-8d7e-4c1a-9b3e-2a6f1d0e4c77"
STDERR = "Job for tweet-topics-streamer.service failed because the control process exited with error code."


@pytest.fixture()
def ec2(resources: dict, bucket: str) -> Iterator[dict]:
    infra = make_infra(resources, create_instance=True, streamer_package="tweet_topics==0.1.0")
    d = infra.deployment
    infra.iam.ensure()
    infra.ssm.ensure()
    infra.ec2.ensure(infra.user_data())
    host = Ec2StreamerHost(
        aws=resources["aws"],
        state=resources["streamer_state"],
        instance_name=d.instance_name,
        owner_tags=d.tags,
        document_name=d.control_document,
        poll_interval_s=0.1,
    )
    agent = InstanceAgent(resources["aws"], bucket, resources["storage"].streamer.heartbeat, d.control_document)
    agent.start()
    own = {
        **resources,
        "infra": infra,
        "streamer_host": host,
        "supervisor": SupervisorSettings(stale_after_s=60, settle_s=30, base_backoff_s=1, max_failures=3),
        "agent": agent,
    }
    yield own
    agent.halt.set()
    infra.ec2.teardown()


def tick(res: dict, cursor: str | None) -> dg.SensorResult:
    sensor_resources = {k: v for k, v in res.items() if k != "agent"}
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(instance=instance, cursor=cursor, resources=sensor_resources) as context,
    ):
        return streamer_supervisor(context)


def run_job(job: dg.JobDefinition, res: dict, config: dict | None = None) -> dg.ExecuteInProcessResult:
    job_resources = {k: v for k, v in res.items() if k != "agent"}
    return run(job, job_resources, config, raise_on_error=False)


def desire(res: dict, state: str) -> None:
    assert run_job(set_streamer_desired_state, res, {"ops": {"set_desired_op": {"config": {"state": state}}}}).success


def test_ec2_start_restart_status_and_stop_converge_through_jobs_and_supervisor(ec2):
    host: Ec2StreamerHost = ec2["streamer_host"]
    assert host.status()["instance_state"] == "running" and not host.status()["running"], "no heartbeat yet"

    desire(ec2, "running")
    first = tick(ec2, None)
    assert [r.job_name for r in first.run_requests] == ["start_streamer"]
    started = run_job(JOBS["start"], ec2)
    assert started.success
    status = host.status()
    assert status["running"] and status["service_state"] == "running" and status["heartbeat_age_s"] < 30
    assert tick(ec2, first.cursor).run_requests == [], "running as desired"

    # A degraded streamer (e.g. Firehose unreachable, spooling) is a live process: not "started" again.
    ec2["agent"].beat("degraded")
    assert host.status()["running"] and host.status()["service_state"] == "degraded"
    assert tick(ec2, first.cursor).run_requests == [], "degraded but fresh: judged, not started twice"
    assert run_job(JOBS["restart"], ec2).success
    report = run_job(streamer_status, ec2).output_for_node("streamer_status_op")
    assert report["host"]["service_state"] == "running" and report["heartbeat_state"] == "running"

    # desired=stopped converges: the instance keeps running, the service reports stopped through its heartbeat.
    desire(ec2, "stopped")
    stop = tick(ec2, first.cursor)
    assert [r.job_name for r in stop.run_requests] == ["stop_streamer"]
    stopped = run_job(JOBS["stop"], ec2)
    assert stopped.success, "a stop on a running instance converges"
    assert stopped.output_for_node("stop_streamer_op")["flushed"] is True
    status = host.status()
    assert status["instance_state"] == "running" and status["service_state"] == "stopped" and not status["running"]
    settled = tick(ec2, stop.cursor)
    assert settled.run_requests == [] and "stopped as desired" in (settled.skip_reason or "")
    assert ec2["agent"].actions == ["start", "restart", "stop"], "each action went through the control document"


def test_a_failed_ssm_command_fails_the_op_with_its_stderr(ec2):
    host: Ec2StreamerHost = ec2["streamer_host"]
    ssm = ec2["aws"].client("ssm")
    assert ssm is ec2["aws"].client("ssm"), "the host uses the same (cached) client the stub wraps"
    instance_id = host.status()["instance_id"]
    ec2["agent"].halt.set()
    with Stubber(ssm) as stub:
        stub.add_response(
            "send_command",
            {"Command": {"CommandId": COMMAND_ID}},
            {
                "InstanceIds": [instance_id],
                "DocumentName": ec2["infra"].deployment.control_document,
                "Parameters": {"action": ["stop"]},
                "TimeoutSeconds": host.command_timeout_s,
                "Comment": "tweet_topics: systemctl stop",
            },
        )
        stub.add_client_error("get_command_invocation", service_error_code="InvocationDoesNotExist")
        stub.add_response("get_command_invocation", {"CommandId": COMMAND_ID, "Status": "InProgress"})
        stub.add_response(
            "get_command_invocation",
            {"CommandId": COMMAND_ID, "Status": "Failed", "ResponseCode": 1, "StandardErrorContent": STDERR},
        )
        result = run_job(JOBS["stop"], ec2)
        stub.assert_no_pending_responses()
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    error = failure.event_specific_data.error.to_string()
    assert "streamer stop failed" in error and STDERR in error
