"""The live query on its own EC2 host, through the live jobs and live_supervisor, against moto.

provision (iam, ssm, ec2 with ``create_live_instance``) creates the live role, its instance profile, the live control
document and the host; a stranger's instance with the same Name but not the tags is launched next to it. moto runs
no commands (nor user-data), so helpers.InstanceAgent plays the unit: it writes the live heartbeat for each command
of the live document.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import dagster as dg
import pytest

from tweet_topics.defs.infra import policies
from tweet_topics.defs.infra.resource import InfraResource
from tweet_topics.defs.live.jobs import live_status, set_live_desired_state
from tweet_topics.defs.live.resources import Ec2LiveHost
from tweet_topics.defs.live.sensors import JOBS, live_supervisor
from tweet_topics_tests.defs.infra.helpers import InstanceAgent, inline_policy, make_infra, run

PACKAGE = "tweet_topics==0.1.0"


def launch(res: dict, infra: InfraResource, tags: list[dict[str, str]], profile: str | None) -> str:
    """An instance as an operator launches the live host (or a stranger's instance with the same Name)."""
    ec2 = res["aws"].client("ec2")
    ami = res["aws"].client("ssm").get_parameter(Name=infra.ami_parameter)["Parameter"]["Value"]
    extra = {"IamInstanceProfile": {"Name": profile}} if profile else {}
    named = [*tags, {"Key": "Name", "Value": infra.deployment.live_instance_name}]
    instance = ec2.run_instances(
        ImageId=ami,
        InstanceType="m6i.large",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": named}],
        **extra,
    )["Instances"][0]
    return instance["InstanceId"]


@pytest.fixture()
def live_ec2(resources: dict, bucket: str) -> Iterator[dict]:
    infra = make_infra(
        resources, create_live_instance=True, streamer_package=PACKAGE, live_checkpoint="s3a://b/live/checkpoint/"
    )
    d = infra.deployment
    infra.iam.ensure()
    infra.ssm.ensure()
    infra.ec2.ensure(infra.user_data())
    changes = infra.live_ec2.ensure(infra.live_user_data())
    ours = changes[0].detail
    stranger = launch(resources, infra, [{"Key": "team", "Value": "astro"}], None)
    host = Ec2LiveHost(
        aws=resources["aws"],
        state=resources["live_state"],
        instance_name=d.live_instance_name,
        owner_tags=d.tags,
        document_name=d.live_control_document,
        poll_interval_s=0.1,
    )
    agent = InstanceAgent(resources["aws"], bucket, resources["storage"].live.heartbeat, d.live_control_document)
    agent.start()
    yield {**resources, "infra": infra, "live_host": host, "agent": agent, "ours": ours, "stranger": stranger}
    agent.halt.set()
    resources["aws"].client("ec2").terminate_instances(InstanceIds=[stranger])
    for reconciler in (infra.live_ec2, infra.ec2, infra.ssm, infra.iam):  # not the session's bucket
        reconciler.teardown()


def job_resources(res: dict) -> dict:
    return {k: v for k, v in res.items() if k not in ("agent", "ours", "stranger")}


def tick(res: dict, cursor: str | None) -> dg.SensorResult:
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(instance=instance, cursor=cursor, resources=job_resources(res)) as context,
    ):
        return live_supervisor(context)


def run_job(job: dg.JobDefinition, res: dict, config: dict | None = None) -> dg.ExecuteInProcessResult:
    return run(job, job_resources(res), config, raise_on_error=False)


def test_provision_gives_the_live_host_its_own_role_profile_document_and_instance(live_ec2):
    infra = live_ec2["infra"]
    d, aws = infra.deployment, live_ec2["aws"]
    iam, ssm = aws.client("iam"), aws.client("ssm")
    account = aws.client("sts").get_caller_identity()["Account"]
    assert inline_policy(iam, d.live_role, "live") == policies.live_policy(d, account)
    attached = iam.list_attached_role_policies(RoleName=d.live_role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policies.SSM_MANAGED_POLICY]
    profile = iam.get_instance_profile(InstanceProfileName=d.live_role)["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [d.live_role]
    assert {t["Key"]: t["Value"] for t in profile["Tags"]} == d.tags
    content = json.loads(ssm.get_document(Name=d.live_control_document)["Content"])
    command = content["mainSteps"][0]["inputs"]["runCommand"][0]
    assert "tweet-topics-live" in command and "tweet-topics-streamer" not in command
    streamer = json.loads(ssm.get_document(Name=d.control_document)["Content"])["mainSteps"][0]["inputs"]
    assert "tweet-topics-live" not in streamer["runCommand"][0], "each document drives only its own unit"

    ec2 = aws.client("ec2")
    instance = ec2.describe_instances(InstanceIds=[live_ec2["ours"]])["Reservations"][0]["Instances"][0]
    assert instance["InstanceType"] == "m6i.large" and instance["IamInstanceProfile"]["Arn"].endswith(f"/{d.live_role}")
    assert instance["MetadataOptions"]["HttpTokens"] == "required" and not instance.get("PublicIpAddress")
    attribute = ec2.describe_instance_attribute(InstanceId=live_ec2["ours"], Attribute="userData")
    user_data = base64.b64decode(attribute["UserData"]["Value"]).decode()
    assert "java-17-amazon-corretto-headless" in user_data and "systemctl enable --now tweet-topics-live" in user_data
    assert "TWEET_TOPICS_LIVE_CHECKPOINT=s3a://b/live/checkpoint/\n" in user_data and "ExecStart=" in user_data
    assert "X_BEARER" not in user_data and "{{" not in user_data
    assert [str(c) for c in infra.live_ec2.ensure(infra.live_user_data())] == [
        f"ec2-instance {d.live_instance_name}: exists ({live_ec2['ours']})"
    ], "a second provision changes nothing (the stranger with the same Name is not ours and not refused)"
    assert {i["InstanceId"] for i in infra.ec2.instances()}.isdisjoint({live_ec2["ours"]}), "not the streamer's"


def test_ec2_live_start_restart_status_and_stop_converge_through_jobs_and_supervisor(live_ec2):
    host: Ec2LiveHost = live_ec2["live_host"]
    agent: InstanceAgent = live_ec2["agent"]
    assert host.status()["instance_id"] == live_ec2["ours"], "found by the ownership tags, not by the Name alone"
    assert not host.status()["running"], "no heartbeat yet"

    desire = {"ops": {"set_live_desired_op": {"config": {"state": "running"}}}}
    assert run_job(set_live_desired_state, live_ec2, desire).success
    first = tick(live_ec2, None)
    assert [r.job_name for r in first.run_requests] == ["start_live"]
    started = run_job(JOBS["start"], live_ec2)
    assert started.success and started.output_for_node("start_live_op")["state"] == "running"
    results = [started.output_for_node("start_live_op")["result"]]
    report = run_job(live_status, live_ec2).output_for_node("live_status_op")
    assert report["host"]["host"] == "ec2" and report["host"]["running"] and report["state"] == "running"
    settled = tick(live_ec2, first.cursor)
    assert settled.run_requests == [] and "running as desired" in (settled.skip_reason or "")

    agent.beat("running", age_s=200)  # the process hangs: its heartbeat goes stale (still < dead_after_s)
    stale = tick(live_ec2, settled.cursor)
    assert [r.job_name for r in stale.run_requests] == ["restart_live"], "the sensor asks, a run restarts"
    assert agent.actions == ["start"], "the sensor itself sent no command"
    restarted = run_job(JOBS["restart"], live_ec2)
    assert restarted.success
    results.append(restarted.output_for_node("restart_live_op")["result"])

    desire["ops"]["set_live_desired_op"]["config"]["state"] = "stopped"
    assert run_job(set_live_desired_state, live_ec2, desire).success
    stop = tick(live_ec2, stale.cursor)
    assert [r.job_name for r in stop.run_requests] == ["stop_live"]
    stopped = run_job(JOBS["stop"], live_ec2)
    assert stopped.success and stopped.output_for_node("stop_live_op")["stopped_cleanly"]
    results.append(stopped.output_for_node("stop_live_op")["result"])
    status = host.status()
    assert status["instance_state"] == "running" and status["service_state"] == "stopped" and not status["running"]
    assert agent.actions == ["start", "restart", "stop"], "each action went through the live control document"
    assert [r.split(": ")[0] for r in results] == [f"systemctl {a} on {live_ec2['ours']}" for a in agent.actions]
    assert not any(live_ec2["stranger"] in r for r in results), "never the stranger that only shares the Name"


def test_an_unconfirmed_start_fails_with_the_units_status_and_no_host_fails_naming_the_tags(live_ec2):
    live_ec2["agent"].halt.set()  # the unit never comes up: no heartbeat follows the command
    config = {"ops": {"start_live_op": {"config": {"confirm_timeout_s": 2}}}}
    result = run_job(JOBS["start"], live_ec2, config)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    error = failure.event_specific_data.error.to_string()
    assert "live query start not confirmed" in error

    aws = live_ec2["aws"]
    aws.client("ec2").stop_instances(InstanceIds=[live_ec2["ours"]])
    host: Ec2LiveHost = live_ec2["live_host"]
    assert "is stopped" in host.log_tail() or "is stopping" in host.log_tail()
    gone = [str(c) for c in live_ec2["infra"].live_ec2.teardown()]
    name = live_ec2["infra"].deployment.live_instance_name
    assert f"ec2-instance {name}: delete ({live_ec2['ours']})" in gone, gone
    assert any(": foreign" in c and live_ec2["stranger"] in c for c in gone), gone
    stranger = aws.client("ec2").describe_instances(InstanceIds=[live_ec2["stranger"]])
    assert stranger["Reservations"][0]["Instances"][0]["State"]["Name"] == "running", "teardown kept the stranger"
    with pytest.raises(RuntimeError, match=r"no EC2 instance tagged Name=.*-live"):
        host.status()
