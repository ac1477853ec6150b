"""Provision -> inspect -> provision again -> teardown, against the moto server through the real boto3 path."""

import json
import time

import dagster as dg
import pytest
from botocore.exceptions import ClientError

from tweet_topics.defs.infra.jobs import plan_infra, provision_infra, teardown_infra
from tweet_topics.defs.infra.resource import InfraResource
from tweet_topics_tests.defs.infra.helpers import CANARY, delete_bucket, inline_policy, make_infra, run

NODES = ("ensure_bucket", "ensure_logs", "ensure_iam", "ensure_firehose", "ensure_ssm", "ensure_ec2")
DELETE_DATA = {"ops": {"teardown_all": {"config": {"delete_data": True}}}}


@pytest.fixture()
def infra_resources(resources):
    infra = make_infra(resources, token=CANARY)
    own = {**resources, "infra": infra}
    run(teardown_infra, own, DELETE_DATA)
    delete_bucket(resources["aws"].client("s3"), infra.deployment.bucket)  # start from nothing
    yield own
    run(teardown_infra, own, DELETE_DATA)


def test_provision_is_idempotent_scoped_and_secret_safe(infra_resources):
    infra: InfraResource = infra_resources["infra"]
    d = infra.deployment
    aws = infra_resources["aws"]
    plan = run(plan_infra, infra_resources)
    detail = "SSE, public access block, no TLS-only policy (plain-HTTP endpoint), tags"
    assert f"s3-bucket {d.bucket}: create ({detail})" in plan.output_for_node("plan_all")
    assert d.bucket not in [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]], "plan changed nothing"

    with dg.instance_for_test() as instance:
        first = run(provision_infra, infra_resources, instance=instance)
        created = [line for node in NODES for line in first.output_for_node(node)]
        assert f"firehose {d.firehose_stream}: create (ACTIVE)" in created
        assert any(c.startswith(f"ssm-parameter {d.bearer_parameter}: create") for c in created)
        assert any(c.startswith(f"ssm-document {d.control_document}: create") for c in created)
        second = run(provision_infra, infra_resources, instance=instance)
        again = [line for node in NODES for line in second.output_for_node(node)]
        assert all(": exists" in c for c in again), again
        for run_id in (first.run_id, second.run_id):  # the canary secret is in no event or log of either run
            for record in instance.all_logs(run_id):
                assert CANARY not in (record.message or "")
                assert CANARY not in json.dumps(str(record.dagster_event))

    s3 = aws.client("s3")
    enc = s3.get_bucket_encryption(Bucket=d.bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(s3.get_public_access_block(Bucket=d.bucket)["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_versioning(Bucket=d.bucket)["Status"] == "Enabled"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=d.bucket)["TagSet"]}
    assert tags == {"managed-by": "tweet_topics", "project": d.project, "env": d.env}
    ec2 = aws.client("ec2")
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [d.security_group]}])[
        "SecurityGroups"
    ][0]
    assert group["IpPermissions"] == []
    assert [(p["IpProtocol"], p.get("FromPort")) for p in group["IpPermissionsEgress"]] == [("tcp", 443)]
    iam = aws.client("iam")
    policy = inline_policy(iam, d.firehose_role, "firehose-delivery")
    arns = [
        r for s in policy["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    ]
    assert "*" not in arns and all(d.bucket in r or ":logs:" in r for r in arns)
    assert {t["Key"] for t in iam.list_role_tags(RoleName=d.streamer_role)["Tags"]} >= {"managed-by", "project", "env"}
    stored = aws.client("ssm").get_parameter(Name=d.bearer_parameter, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString" and stored["Value"] == CANARY
    document = json.loads(aws.client("ssm").get_document(Name=d.control_document)["Content"])
    assert document["parameters"]["action"]["allowedValues"] == ["start", "stop", "restart", "status"]

    # A record put through the provisioned Firehose lands under the hourly raw prefix.
    aws.client("firehose").put_record_batch(DeliveryStreamName=d.firehose_stream, Records=[{"Data": b'{"hello": 1}\n'}])
    hour = time.strftime("%Y/%m/%d/%H", time.gmtime())
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=d.bucket, Prefix=d.raw_prefix).get("Contents", [])]
    assert any(k.startswith(f"{d.raw_prefix}{hour}/{d.firehose_stream}-1-") for k in keys), keys

    # The infra_state asset reports what exists, through the overridden resource (describe calls only).
    from tweet_topics.defs.infra.assets import infra_state

    state = dg.materialize([infra_state], resources=infra_resources)
    metadata = state.asset_materializations_for_node("infra_state")[0].metadata
    assert metadata["provisioned"].value is True and metadata["bucket_managed"].value is True
    assert "(0 inbound rules)" in metadata["resources"].value and "ACTIVE" in metadata["resources"].value

    # Teardown keeps the bucket by default, then deletes it with delete_data; twice is harmless.
    kept = run(teardown_infra, infra_resources)
    assert f"s3-bucket {d.bucket}: kept (delete_data is false: the data stays)" in kept.output_for_node("teardown_all")
    assert s3.head_bucket(Bucket=d.bucket)
    assert not aws.client("firehose").list_delivery_streams()["DeliveryStreamNames"]
    gone = run(teardown_infra, infra_resources, DELETE_DATA)
    assert any(c.startswith(f"s3-bucket {d.bucket}: delete") for c in gone.output_for_node("teardown_all"))
    assert d.bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    twice = run(teardown_infra, infra_resources, DELETE_DATA)
    assert all(": absent" in c for c in twice.output_for_node("teardown_all"))


def test_run_config_knobs_reach_the_ops_and_keep_the_deployment(infra_resources):
    """Knobs set in run config (here a Firehose buffer) apply, and the names still come from the deployment."""
    d = infra_resources["infra"].deployment
    config = {"resources": {"infra": {"config": {"buffer_size_mb": 7, "raw_expiration_days": 30}}}}
    assert run(provision_infra, infra_resources, config).success
    desc = infra_resources["aws"].client("firehose").describe_delivery_stream(DeliveryStreamName=d.firehose_stream)
    dest = desc["DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert dest["BufferingHints"]["SizeInMBs"] == 7
    rules = infra_resources["aws"].client("s3").get_bucket_lifecycle_configuration(Bucket=d.bucket)["Rules"]
    by_id = {r["ID"]: r for r in rules}
    assert by_id["tweet-topics-expire-raw"]["Expiration"]["Days"] == 30
    assert by_id["tweet-topics-expire-staging"]["Filter"] == {"Prefix": "_staging/"}
    assert by_id["tweet-topics-expire-noncurrent"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("buffer_size_mb", 500),
        ("buffer_interval_s", 1000),
        ("log_retention_days", 2),
        ("sse_kms_key_arn", "arn:aws:kms:us-east-1:123456789012:alias/aws/s3"),
        ("permissions_boundary_arn", "boundary"),
        ("sse_kms_key_arn", "arn:aws:kms:us-east-1:123456789012:key/abc\n"),  # "$" would match before "\n"
        ("permissions_boundary_arn", "arn:aws:iam::123456789012:policy/boundary\n"),
    ],
)
def test_bad_infra_config_is_rejected_naming_the_field(resources, field, value):
    with pytest.raises(Exception) as info:
        make_infra(resources, **{field: value})
    assert field in str(info.value)


def test_tls_only_policy_denies_plain_http_and_keeps_foreign_statements(infra_resources):
    """The policy really denies: moto evaluates it, and this endpoint is plain HTTP. Statements of others stay."""
    infra = make_infra(infra_resources, require_tls=True)
    d, s3 = infra.deployment, infra_resources["aws"].client("s3")
    s3.create_bucket(Bucket=d.bucket)
    s3.put_bucket_tagging(Bucket=d.bucket, Tagging={"TagSet": d.tag_list()})
    theirs = {"Sid": "TeamRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}
    theirs |= {"Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{d.bucket}/shared/*"}
    s3.put_bucket_policy(Bucket=d.bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [theirs]}))
    assert [c.action for c in infra.bucket.ensure()] == ["update"]
    statements = json.loads(s3.get_bucket_policy(Bucket=d.bucket)["Policy"])["Statement"]
    assert statements[0] == theirs
    assert [(s["Sid"], s["Effect"], s["Condition"]) for s in statements[1:]] == [
        ("DenyInsecureTransport", "Deny", {"Bool": {"aws:SecureTransport": "false"}})
    ]
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=d.bucket, Key=f"{d.raw_prefix}x.json", Body=b"{}")
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert [c.action for c in infra.bucket.ensure()] == ["exists"], "converged: no second policy write"
    assert [c.action for c in infra.bucket.teardown(delete_data=True)] == ["delete"]
