"""With a customer KMS key every writer can use it (S3, Firehose, the parameter), and the streamer instance gets
IMDSv2 only and no public IP unless asked: provisioned through the job against moto."""

from __future__ import annotations

import pytest

from tweet_topics.defs.infra.jobs import provision_infra, teardown_infra
from tweet_topics_tests.defs.infra.helpers import CANARY, delete_bucket, inline_policy, make_infra, run

DELETE_DATA = {"ops": {"teardown_all": {"config": {"delete_data": True}}}}


@pytest.fixture()
def keyed(resources):
    key = resources["aws"].client("kms").create_key(Description="tweet_topics test key")["KeyMetadata"]["Arn"]
    infra = make_infra(
        resources, token=CANARY, sse_kms_key_arn=key, create_instance=True, streamer_package="tweet_topics==0.1.0"
    )
    own = {**resources, "infra": infra}
    run(teardown_infra, own, DELETE_DATA)
    delete_bucket(resources["aws"].client("s3"), infra.deployment.bucket)
    yield own, key
    run(teardown_infra, own, DELETE_DATA)


def test_a_customer_key_is_used_and_granted_through_the_services_only(keyed):
    own, key = keyed
    aws, d = own["aws"], own["infra"].deployment
    assert run(provision_infra, own).success
    rule = aws.client("s3").get_bucket_encryption(Bucket=d.bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    desc = aws.client("firehose").describe_delivery_stream(DeliveryStreamName=d.firehose_stream)
    dest = desc["DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert dest["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": key}}
    iam = aws.client("iam")
    for role, name, services in (
        (d.firehose_role, "firehose-delivery", ["s3.us-east-1.amazonaws.com"]),
        (d.streamer_role, "streamer", ["s3.us-east-1.amazonaws.com", "ssm.us-east-1.amazonaws.com"]),
    ):
        grants = [s for s in inline_policy(iam, role, name)["Statement"] if s["Sid"] == "UseKeyViaService"]
        assert [(g["Action"], g["Resource"], g["Condition"]) for g in grants] == [
            (["kms:GenerateDataKey", "kms:Decrypt"], key, {"StringEquals": {"kms:ViaService": services}})
        ]
    instance = own["infra"].ec2.instances()[0]
    assert "PublicIpAddress" not in instance or not instance["PublicIpAddress"]
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    volume_tags = {t["Key"] for t in instance.get("Tags", [])}
    assert {"managed-by", "project", "env", "Name"} <= volume_tags
