"""Provisioning touches only what carries the project's three tags: foreign resources with the project's names are
refused (provision fails, teardown keeps them), tags and lifecycle rules are merged by key, and delete_data on a
bucket the project does not manage removes only the project's prefixes."""

from __future__ import annotations

import json

import pytest

from tweet_topics.defs.infra import policies
from tweet_topics.defs.infra.jobs import provision_infra, teardown_infra
from tweet_topics.defs.infra.reconcilers.base import ADOPTED_TAG, OwnershipError
from tweet_topics_tests.defs.infra.helpers import CANARY, delete_bucket, make_infra, run

DELETE_DATA = {"ops": {"teardown_all": {"config": {"delete_data": True}}}}
TEAM_RULE = {"ID": "team-archive", "Status": "Enabled", "Filter": {"Prefix": "team/"}, "Expiration": {"Days": 400}}


@pytest.fixture()
def clean(resources):
    infra = make_infra(resources)
    own = {**resources, "infra": infra}
    run(teardown_infra, own, DELETE_DATA)
    delete_bucket(resources["aws"].client("s3"), infra.deployment.bucket)
    yield own
    run(teardown_infra, {**own, "infra": make_infra(resources, adopt_existing=True)}, DELETE_DATA)
    delete_bucket(resources["aws"].client("s3"), infra.deployment.bucket)


def test_a_team_bucket_is_used_but_never_changed_and_delete_data_removes_only_project_prefixes(clean):
    infra = clean["infra"]
    d, s3 = infra.deployment, clean["aws"].client("s3")
    s3.create_bucket(Bucket=d.bucket)
    s3.put_bucket_tagging(Bucket=d.bucket, Tagging={"TagSet": [{"Key": "team", "Value": "astro"}]})
    s3.put_bucket_lifecycle_configuration(Bucket=d.bucket, LifecycleConfiguration={"Rules": [TEAM_RULE]})
    for key in ("team/keep.csv", "notes.txt", f"{d.raw_prefix}2026/01/01/00/x", f"{d.streamer_prefix}heartbeat.json"):
        s3.put_object(Bucket=d.bucket, Key=key, Body=b"1")

    assert run(provision_infra, {**clean, "infra": make_infra(clean, raw_expiration_days=7)}).success
    assert s3.get_bucket_tagging(Bucket=d.bucket)["TagSet"] == [{"Key": "team", "Value": "astro"}]
    assert s3.get_bucket_lifecycle_configuration(Bucket=d.bucket)["Rules"] == [TEAM_RULE]
    assert s3.get_bucket_versioning(Bucket=d.bucket).get("Status") is None, "no setting of theirs changed"

    gone = run(teardown_infra, clean, DELETE_DATA).output_for_node("teardown_all")
    assert (
        f"s3-bucket {d.bucket}: kept (foreign bucket kept; 2 object versions under the project's prefixes removed)"
        in gone
    )
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=d.bucket)["Contents"])
    assert left == ["notes.txt", "team/keep.csv"]


def test_adopting_a_bucket_merges_tags_and_lifecycle_rules_by_key(clean):
    infra = make_infra(clean, adopt_existing=True, raw_expiration_days=7)
    d, s3 = infra.deployment, clean["aws"].client("s3")
    s3.create_bucket(Bucket=d.bucket)
    s3.put_bucket_tagging(Bucket=d.bucket, Tagging={"TagSet": [{"Key": "team", "Value": "astro"}]})
    s3.put_bucket_lifecycle_configuration(Bucket=d.bucket, LifecycleConfiguration={"Rules": [TEAM_RULE]})
    assert [c.action for c in infra.bucket.ensure()] == ["adopt"]
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=d.bucket)["TagSet"]}
    assert tags == {"team": "astro", **d.tags, ADOPTED_TAG: "tweet_topics"}, "adoption is recorded on the bucket"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=d.bucket)["Rules"]
    assert sorted(r["ID"] for r in rules) == [
        "team-archive",
        "tweet-topics-expire-noncurrent",
        "tweet-topics-expire-raw",
        "tweet-topics-expire-staging",
    ]
    assert [c.action for c in make_infra(clean, raw_expiration_days=7).bucket.ensure()] == ["exists"], (
        "adopted: now it is ours"
    )


def test_an_instance_that_only_shares_the_name_is_refused_and_never_terminated(clean):
    infra = make_infra(clean, create_instance=True, streamer_package="tweet_topics==0.1.0")
    d, ec2 = infra.deployment, clean["aws"].client("ec2")
    infra.iam.ensure()
    ami = clean["aws"].client("ssm").get_parameter(Name=infra.ami_parameter)["Parameter"]["Value"]
    stranger = ec2.run_instances(
        ImageId=ami,
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        MetadataOptions={"HttpTokens": "optional"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": d.instance_name}]}],
    )["Instances"][0]["InstanceId"]
    try:
        assert any(str(c).startswith(f"ec2-instance {d.instance_name}: foreign") for c in infra.ec2.plan())
        with pytest.raises(OwnershipError, match="not this project's"):
            infra.ec2.ensure(infra.user_data())
        assert infra.ec2.instances() == [], "nothing adopted"
        kept = run(teardown_infra, {**clean, "infra": infra}).output_for_node("teardown_all")
        assert any(line.startswith(f"ec2-instance {d.instance_name}: foreign") for line in kept)
        state = ec2.describe_instances(InstanceIds=[stranger])["Reservations"][0]["Instances"][0]["State"]["Name"]
        assert state == "running"
    finally:
        ec2.terminate_instances(InstanceIds=[stranger])


def test_a_role_with_the_project_name_but_not_its_tags_is_refused_and_kept(clean):
    infra = make_infra(clean)
    d, iam = infra.deployment, clean["aws"].client("iam")
    iam.create_role(RoleName=d.firehose_role, AssumeRolePolicyDocument=json.dumps(policies.trust("ec2.amazonaws.com")))
    try:
        result = run(provision_infra, clean, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
        assert (
            failure.step_key == "ensure_iam" and "not this project's" in failure.event_specific_data.error.to_string()
        )
        assert iam.list_role_policies(RoleName=d.firehose_role)["PolicyNames"] == [], "no policy put on it"
        kept = run(teardown_infra, clean).output_for_node("teardown_all")
        assert f"iam-role {d.firehose_role}: foreign (not tagged as ours: kept)" in kept
        assert iam.get_role(RoleName=d.firehose_role)["Role"]["RoleName"] == d.firehose_role
    finally:
        iam.delete_role(RoleName=d.firehose_role)


def test_created_roles_carry_the_permissions_boundary(clean):
    iam = clean["aws"].client("iam")
    boundary = iam.create_policy(
        PolicyName="tweet-topics-test-boundary",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    try:
        infra = make_infra(clean, permissions_boundary_arn=boundary)
        infra.iam.ensure()
        for role in (infra.deployment.firehose_role, infra.deployment.streamer_role):
            assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
        attached = iam.list_attached_role_policies(RoleName=infra.deployment.streamer_role)["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [policies.SSM_MANAGED_POLICY]
        infra.iam.teardown()
    finally:
        iam.delete_policy(PolicyArn=boundary)


def make_team_resources(infra, aws) -> dict[str, str]:
    """A team's own resources that happen to carry the project's names (none of the project's tags)."""
    d = infra.deployment
    s3, iam, logs, fh, ssm = (aws.client(s) for s in ("s3", "iam", "logs", "firehose", "ssm"))
    s3.create_bucket(Bucket=d.bucket)
    s3.put_bucket_tagging(Bucket=d.bucket, Tagging={"TagSet": [{"Key": "team", "Value": "astro"}]})
    s3.put_bucket_lifecycle_configuration(Bucket=d.bucket, LifecycleConfiguration={"Rules": [TEAM_RULE]})
    for key in ("team/keep.csv", f"{d.raw_prefix}2026/01/01/00/x"):
        s3.put_object(Bucket=d.bucket, Key=key, Body=b"1")
    logs.create_log_group(logGroupName=d.log_group, tags={"team": "astro"})
    # moto keeps a deleted group's tags for the next group of that name (AWS does not): start from the team's only.
    logs.untag_log_group(logGroupName=d.log_group, tags=[*d.tags, ADOPTED_TAG])
    trust = json.dumps(policies.trust("firehose.amazonaws.com"))
    arn = iam.create_role(RoleName=d.firehose_role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    destination = {"RoleARN": arn, "BucketARN": f"arn:aws:s3:::{d.bucket}", "Prefix": "team/"}
    fh.create_delivery_stream(DeliveryStreamName=d.firehose_stream, ExtendedS3DestinationConfiguration=destination)
    ssm.put_parameter(Name=d.bearer_parameter, Value="team-token", Type="SecureString")
    return {"role_arn": arn}


def test_adopted_resources_are_released_not_deleted_by_a_later_teardown(clean):
    """Adoption is recorded on each resource; teardown(delete_data) without adopt_existing keeps every adopted
    one (the bucket keeps the team's objects, rule and tag) and removes only the project's prefixes and settings."""
    aws = clean["aws"]
    adopting = make_infra(clean, token=CANARY, adopt_existing=True)
    d = adopting.deployment
    s3, iam, logs, fh, ssm = (aws.client(s) for s in ("s3", "iam", "logs", "firehose", "ssm"))
    team = make_team_resources(adopting, aws)
    try:
        assert [c.action for c in adopting.bucket.ensure()] == ["adopt"]
        assert [c.action for c in adopting.logs.ensure()] == ["adopt"]
        assert next(c.action for c in adopting.iam.ensure()) == "adopt"
        assert [c.action for c in adopting.firehose.ensure(team["role_arn"])] == ["adopt"]
        assert next(c.action for c in adopting.ssm.ensure()) == "adopt"
        assert {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=d.bucket)["TagSet"]}[ADOPTED_TAG]
        s3.put_object(Bucket=d.bucket, Key=f"{d.prefixes['combined_prefix']}x/tweets.csv", Body=b"ours")

        later = make_infra(clean, token=CANARY)  # no adopt_existing: an ordinary teardown, months later
        changes = [str(c) for r in (later.ssm, later.firehose, later.iam, later.logs) for c in r.teardown(True)]
        changes += [str(c) for c in later.bucket.teardown(delete_data=True)]
        for name in (d.bucket, d.log_group, d.firehose_role, d.firehose_stream, d.bearer_parameter):
            assert any(c.startswith(f"{name}: release") or f" {name}: release" in c for c in changes), (name, changes)

        assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=d.bucket)["Contents"]) == ["team/keep.csv"]
        assert s3.get_bucket_tagging(Bucket=d.bucket)["TagSet"] == [{"Key": "team", "Value": "astro"}]
        assert s3.get_bucket_lifecycle_configuration(Bucket=d.bucket)["Rules"] == [TEAM_RULE]
        assert logs.list_tags_log_group(logGroupName=d.log_group)["tags"] == {"team": "astro"}
        assert iam.list_role_tags(RoleName=d.firehose_role)["Tags"] == []
        assert iam.list_role_policies(RoleName=d.firehose_role)["PolicyNames"] == [], "the project's policy went"
        assert fh.list_tags_for_delivery_stream(DeliveryStreamName=d.firehose_stream)["Tags"] == []
        assert ssm.get_parameter(Name=d.bearer_parameter)["Parameter"]["Name"] == d.bearer_parameter
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=d.bearer_parameter)["TagList"]
        assert tags == []
    finally:
        fh.delete_delivery_stream(DeliveryStreamName=d.firehose_stream)
        ssm.delete_parameter(Name=d.bearer_parameter)
        logs.delete_log_group(logGroupName=d.log_group)
        for policy in iam.list_role_policies(RoleName=d.firehose_role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=d.firehose_role, PolicyName=policy)
        iam.delete_role(RoleName=d.firehose_role)


def test_a_live_role_or_control_document_that_only_shares_the_name_is_refused_and_kept(clean):
    """The live host's role and control document follow the same rule as every other resource."""
    infra = make_infra(clean)
    d, iam, ssm = infra.deployment, clean["aws"].client("iam"), clean["aws"].client("ssm")
    iam.create_role(RoleName=d.live_role, AssumeRolePolicyDocument=json.dumps(policies.trust("ec2.amazonaws.com")))
    team_doc = json.dumps(policies.control_document("team-unit"))
    ssm.create_document(Name=d.live_control_document, Content=team_doc, DocumentType="Command", DocumentFormat="JSON")
    try:
        plan = [str(c) for c in infra.ssm.plan()]
        refused = "foreign (not tagged as ours: refused unless adopt_existing)"
        assert f"ssm-document {d.live_control_document}: {refused}" in plan
        with pytest.raises(OwnershipError):
            infra.iam.ensure()
        assert iam.list_role_policies(RoleName=d.live_role)["PolicyNames"] == [], "no policy put on it"
        with pytest.raises(OwnershipError):
            infra.ssm.ensure()
        assert json.loads(ssm.get_document(Name=d.live_control_document)["Content"]) == json.loads(team_doc)
        kept = [str(c) for c in (*infra.ssm.teardown(), *infra.iam.teardown())]
        assert f"ssm-document {d.live_control_document}: foreign (not tagged as ours: kept)" in kept
        assert f"iam-role {d.live_role}: foreign (not tagged as ours: kept)" in kept
        assert iam.get_role(RoleName=d.live_role)["Role"]["RoleName"] == d.live_role
        assert ssm.get_document(Name=d.live_control_document)["Name"] == d.live_control_document
    finally:
        iam.delete_role(RoleName=d.live_role)
        ssm.delete_document(Name=d.live_control_document)
