"""Provision -> inspect -> provision again -> teardown, against the moto server through the real boto3 path."""

import json
import time

import dagster as dg
import pytest

from tweet_topics.defs.infra.aws_resources import InfraSettings
from tweet_topics.defs.infra.jobs import plan_infra, provision_infra, teardown_infra
from tweet_topics.defs.infra.names import InfraNames
from tweet_topics.defs.resources import build_resources
from tweet_topics.settings import get_settings

CANARY = "canary-bearer-7f3a9c-never-log-me"


@pytest.fixture()
def infra_resources(resources, monkeypatch):
    monkeypatch.setenv("TWEET_TOPICS_X_BEARER_TOKEN", CANARY)
    own = build_resources(get_settings().model_copy(update={"aws_endpoint_url": resources["aws"].endpoint_url}))
    # Start from nothing: this test owns the infra of the test settings.
    dg.Definitions(jobs=[teardown_infra], resources=own).get_job_def("teardown_infra").execute_in_process(
        run_config={"ops": {"teardown_all": {"config": {"delete_data": True}}}}
    )
    yield own


def run(job, resources, run_config=None, instance=None):
    return (
        dg.Definitions(jobs=[job], resources=resources)
        .get_job_def(job.name)
        .execute_in_process(run_config=run_config or {}, instance=instance)
    )


def logs_of(result) -> str:
    return "\n".join(str(e.message) + json.dumps(str(e.dagster_event)) for e in result.all_events)


def test_provision_is_idempotent_scoped_and_secret_safe(infra_resources):
    names = InfraNames.from_settings(get_settings())
    aws = infra_resources["aws"]
    plan = run(plan_infra, infra_resources)
    assert any(c.startswith("s3-bucket tweet-topics-test: create") for c in plan.output_for_node("plan_all"))
    assert not aws.client("s3").list_buckets()["Buckets"] or all(
        b["Name"] != names.bucket for b in aws.client("s3").list_buckets()["Buckets"]
    )

    with dg.instance_for_test() as instance:
        first = run(provision_infra, infra_resources, instance=instance)
        assert first.success
        created = [
            line
            for node in ("ensure_bucket", "ensure_logs", "ensure_iam", "ensure_firehose", "ensure_ssm", "ensure_ec2")
            for line in first.output_for_node(node)
        ]
        assert any("firehose tweet-topics-delivery: create" in c for c in created)
        assert any("ssm-parameter" in c and ": create" in c for c in created)
        second = run(provision_infra, infra_resources, instance=instance)
        again = [
            line
            for node in ("ensure_bucket", "ensure_logs", "ensure_iam", "ensure_firehose", "ensure_ssm", "ensure_ec2")
            for line in second.output_for_node(node)
        ]
        assert all(": exists" in c for c in again), again
        # The canary secret never shows up in any event or captured log of either run.
        for run_id in (first.run_id, second.run_id):
            for record in instance.all_logs(run_id):
                assert CANARY not in (record.message or "")
                assert CANARY not in json.dumps(str(record.dagster_event))

    s3 = aws.client("s3")
    enc = s3.get_bucket_encryption(Bucket=names.bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(s3.get_public_access_block(Bucket=names.bucket)["PublicAccessBlockConfiguration"].values())
    ec2 = aws.client("ec2")
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [names.security_group]}])[
        "SecurityGroups"
    ][0]
    assert group["IpPermissions"] == []
    assert [(p["IpProtocol"], p.get("FromPort")) for p in group["IpPermissionsEgress"]] == [("tcp", 443)]
    iam = aws.client("iam")
    policy = iam.get_role_policy(RoleName=names.firehose_role, PolicyName="firehose-delivery")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    resources = [
        r for s in policy["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    ]
    assert "*" not in resources and all(names.bucket in r or "logs" in r for r in resources)
    assert not any(a.startswith("kinesis:") for s in policy["Statement"] for a in s["Action"])
    stored = aws.client("ssm").get_parameter(Name=names.bearer_parameter, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString" and stored["Value"] == CANARY

    # A record put through the provisioned Firehose lands under the hourly raw prefix.
    aws.client("firehose").put_record_batch(
        DeliveryStreamName=names.firehose_stream, Records=[{"Data": b'{"hello": 1}\n'}]
    )
    hour = time.strftime("%Y/%m/%d/%H", time.gmtime())
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=names.bucket, Prefix=names.raw_prefix).get("Contents", [])]
    assert any(k.startswith(f"{names.raw_prefix}{hour}/{names.firehose_stream}-1-") for k in keys), keys

    # The infra_state asset reports what exists (describe calls only).
    from tweet_topics.defs.infra.assets import infra_state

    state = dg.materialize([infra_state], resources=infra_resources)
    metadata = state.asset_materializations_for_node("infra_state")[0].metadata
    assert metadata["provisioned"].value is True
    assert "(0 inbound rules)" in metadata["resources"].value and "ACTIVE" in metadata["resources"].value

    # Teardown keeps the bucket by default, then deletes it with delete_data; twice is harmless.
    kept = run(teardown_infra, infra_resources)
    assert any("s3-bucket tweet-topics-test: kept" in c for c in kept.output_for_node("teardown_all"))
    assert s3.head_bucket(Bucket=names.bucket)
    assert not aws.client("firehose").list_delivery_streams()["DeliveryStreamNames"]
    config = {"ops": {"teardown_all": {"config": {"delete_data": True}}}}
    gone = run(teardown_infra, infra_resources, config)
    assert any("s3-bucket tweet-topics-test: delete" in c for c in gone.output_for_node("teardown_all"))
    assert names.bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    twice = run(teardown_infra, infra_resources, config)
    assert all(": absent" in c for c in twice.output_for_node("teardown_all"))


@pytest.mark.parametrize(
    ("field", "value"),
    [("buffer_size_mb", 500), ("buffer_interval_s", 1000), ("log_retention_days", 2)],
)
def test_bad_infra_config_is_rejected_naming_the_field(field, value):
    with pytest.raises(Exception) as info:
        InfraSettings(**{field: value})
    assert field in str(info.value)


def test_user_data_installs_the_package_and_unit_without_secrets(monkeypatch):
    from tweet_topics.defs.infra.aws_resources import render_user_data

    monkeypatch.setenv("TWEET_TOPICS_X_BEARER_TOKEN", CANARY)
    names = InfraNames.from_settings(get_settings())
    user_data = render_user_data(names, "tweet_topics @ https://example.invalid/tweet_topics-0.1.0-py3-none-any.whl")
    assert user_data.startswith("#!/bin/bash")
    assert "pip install --quiet 'tweet_topics @ https://example.invalid/" in user_data
    assert "ExecStart=/opt/tweet-topics/venv/bin/python -m tweet_topics stream x --sink firehose" in user_data
    assert f"TWEET_TOPICS_X_BEARER_PARAMETER={names.bearer_parameter}" in user_data
    assert "{{" not in user_data and CANARY not in user_data and "authorized_keys" not in user_data
