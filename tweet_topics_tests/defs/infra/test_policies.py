"""Every IAM document the project writes, through two IAM analyzers and direct checks of what they ignore.

cloudsplaining: 0 privilege-escalation and 0 resource-exposure findings (and no data exfiltration) for the
operator policy, its KMS add-on, the permissions boundary and the generated runtime policies. parliament: no
findings but the few listed below, each with its reason. Analyzers ignore conditions, so the boundary,
iam:PassedToService, the attachable-policy limit, ec2:CreateAction and the env tag are asserted directly.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from cloudsplaining.scan.policy_document import PolicyDocument
from parliament import analyze_policy_string

from tweet_topics.defs.infra import policies
from tweet_topics.defs.infra.deployment import Deployment
from tweet_topics.settings import Settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VALUES = {
    "PROJECT": "tweet-topics",
    "ENV": "prod",
    "REGION": "us-east-1",
    "ACCOUNT": "123456789012",
    "BUCKET": "tweet-topics-prod",
    "STREAM": "tweet-topics-delivery",
    "KMS_KEY_ARN": KEY,
}
# (document, Sid, parliament issue): why each is expected.
ALLOWED = {
    # One action, several resource types, one statement per type (the AWS pattern for tag conditions per type).
    **{
        ("operator", sid, "RESOURCE_MISMATCH"): "split by resource type"
        for sid in (
            "SendOnlyTheControlDocuments",
            "SendOnlyToOwnInstances",
            "RunTaggedInstancesAndVolumes",
            "RunInstancesWithOwnSecurityGroup",
            "RunInstancesFromTheseUntaggableInputs",
            "CreateTaggedSecurityGroup",
            "CreateSecurityGroupInAVpc",
        )
    },
    ("operator", "PublicAmiParameter", "RESOURCE_MISMATCH"): "AWS's public parameters have no account in the ARN",
    # PutBucketPolicy is needed for the TLS-only policy (on the project bucket only); BlockPublicPolicy stays on and
    # the identity policy's explicit denies (ACLs, other buckets' policies) win over anything a bucket policy allows.
    ("operator", "ProjectBucket", "RESOURCE_POLICY_PRIVILEGE_ESCALATION"): "TLS-only policy on the project bucket",
    (
        "boundary",
        "SsmAgentCoreIsNotResourceScoped",
        "RESOURCE_STAR",
    ): "as AmazonSSMManagedInstanceCore, which AWS scopes to *",
}


def render(name: str) -> dict[str, Any]:
    return json.loads(string.Template((DEPLOY / name).read_text()).substitute(VALUES))


def deployment() -> Deployment:
    settings = Settings(env="prod", bucket=VALUES["BUCKET"], project=VALUES["PROJECT"], local_dir=Path("/tmp"))
    return Deployment.from_settings(settings)


def documents() -> dict[str, dict[str, Any]]:
    d, account = deployment(), VALUES["ACCOUNT"]
    package = "s3://artifacts-bucket/tweet_topics-0.1.0-py3-none-any.whl"
    return {
        "operator": render("operator-policy.json"),
        "operator-kms": render("operator-policy-kms.json"),
        "boundary": render("boundary-policy.json"),
        "firehose": policies.firehose_delivery_policy(d, account),
        "firehose-kms": policies.firehose_delivery_policy(d, account, KEY),
        "streamer": policies.streamer_policy(d, account),
        "streamer-kms": policies.streamer_policy(d, account, KEY, package),
        "live": policies.live_policy(d, account),
        "live-kms": policies.live_policy(d, account, KEY, package),
    }


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["Statement"]


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


@pytest.mark.parametrize("name", list(documents()))
def test_cloudsplaining_finds_no_escalation_exposure_or_exfiltration(name):
    doc = PolicyDocument(documents()[name])
    assert doc.allows_privilege_escalation == []
    assert doc.permissions_management_without_constraints == []
    assert doc.allows_data_exfiltration_actions == []
    assert "*" not in doc.all_allowed_actions and not any(a.endswith(":*") for a in doc.all_allowed_actions)


@pytest.mark.parametrize("name", list(documents()))
def test_parliament_finds_nothing_unexpected(name):
    found = set()
    for statement in statements(documents()[name]):
        policy = analyze_policy_string(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
        found |= {(name, statement.get("Sid", "?"), f.issue) for f in policy.findings}
    assert found - set(ALLOWED) == set()


def test_cloudsplaining_flags_the_old_escalation_path():
    """The analyzer can fail: attach-any-policy plus PassRole on "*" is reported as escalation."""
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iam:CreateRole", "iam:AttachRolePolicy", "iam:PassRole"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["ec2:RunInstances"], "Resource": "*"},
        ],
    }
    assert PolicyDocument(bad).allows_privilege_escalation != []


def test_roles_are_created_and_changed_only_within_the_boundary():
    operator = statements(render("operator-policy.json"))
    boundary = f"arn:aws:iam::{VALUES['ACCOUNT']}:policy/{VALUES['PROJECT']}-{VALUES['ENV']}-boundary"
    for statement in operator:
        actions = set(listed(statement["Action"]))
        if statement["Effect"] == "Allow" and actions & {
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "iam:PutRolePermissionsBoundary",
            "iam:AttachRolePolicy",
        }:
            assert statement["Condition"]["ArnEquals"]["iam:PermissionsBoundary"] == boundary, statement["Sid"]
    denies = [s for s in operator if s["Effect"] == "Deny"]
    assert any("iam:DeleteRolePermissionsBoundary" in listed(s["Action"]) for s in denies)


def test_pass_role_only_to_its_service_and_only_the_ssm_core_policy_is_attachable():
    operator = statements(render("operator-policy.json"))
    passes = [s for s in operator if "iam:PassRole" in listed(s["Action"])]
    assert {
        (s["Resource"].rsplit("-", 1)[-1], s["Condition"]["StringEquals"]["iam:PassedToService"]) for s in passes
    } == {
        ("firehose", "firehose.amazonaws.com"),
        ("streamer", "ec2.amazonaws.com"),
        ("live", "ec2.amazonaws.com"),
    }
    assert all(s["Effect"] == "Allow" and len(listed(s["Action"])) == 1 for s in passes)
    attach = [s for s in operator if "iam:AttachRolePolicy" in listed(s["Action"])]
    assert [s["Condition"]["ArnEquals"]["iam:PolicyARN"] for s in attach] == [policies.SSM_MANAGED_POLICY]


def test_every_tag_condition_names_the_env_and_create_tags_only_while_creating():
    operator = statements(render("operator-policy.json"))
    conditioned = 0
    for statement in operator:
        keys = statement.get("Condition", {}).get("StringEquals", {})
        for kind in ("aws:ResourceTag", "aws:RequestTag"):
            if any(k.startswith(kind) for k in keys):
                conditioned += 1
                assert keys[f"{kind}/env"] == VALUES["ENV"], statement["Sid"]
    assert conditioned >= 10
    tagging = [s for s in operator if "ec2:CreateTags" in listed(s["Action"])]
    assert [s["Condition"]["StringEquals"]["ec2:CreateAction"] for s in tagging] == [
        ["RunInstances", "CreateSecurityGroup"]
    ]


def test_commands_only_through_the_project_document_and_no_acl_or_foreign_bucket_policy_changes():
    operator = statements(render("operator-policy.json"))
    text = json.dumps(operator)
    assert "AWS-RunShellScript" not in text and "s3:PutBucket*" not in text and "s3:*" not in text
    send = [s for s in operator if "ssm:SendCommand" in listed(s["Action"])]
    documents_ = [r for s in send for r in listed(s["Resource"]) if ":document/" in r]
    assert documents_ == [
        f"arn:aws:ssm:us-east-1:123456789012:document/{VALUES['PROJECT']}-prod-{unit}-control"
        for unit in ("streamer", "live")
    ]
    deny = {a for s in operator if s["Effect"] == "Deny" for a in listed(s["Action"])}
    assert {"s3:PutBucketAcl", "s3:PutObjectAcl"} <= deny
    policy_writes = [s for s in operator if s["Effect"] == "Allow" and "s3:PutBucketPolicy" in listed(s["Action"])]
    assert [s["Resource"] for s in policy_writes] == [f"arn:aws:s3:::{VALUES['BUCKET']}"]
    document = policies.control_document("tweet-topics-streamer")
    assert document["parameters"]["action"]["allowedValues"] == ["start", "stop", "restart", "status"]


def test_kms_grants_go_through_the_service_and_name_a_key_not_an_alias():
    for name in ("firehose-kms", "streamer-kms", "live-kms", "operator-kms", "boundary"):
        grants = [s for s in statements(documents()[name]) if any(a.startswith("kms:") for a in listed(s["Action"]))]
        uses = [s for s in grants if set(listed(s["Action"])) & {"kms:Decrypt", "kms:GenerateDataKey"}]
        assert uses, name
        for statement in uses:
            assert "kms:ViaService" in statement["Condition"]["StringEquals"], name
            assert all(":key/" in r and ":alias/" not in r for r in listed(statement["Resource"])), name
    assert not any("kms" in json.dumps(documents()[n]) for n in ("firehose", "streamer", "live")), "no key, no grant"


def test_the_live_role_reads_raw_and_models_and_writes_only_its_prefix_within_the_boundary():
    """The live query's host: objects of raw/ and models/ read-only, the live prefix read/write/expire, nothing
    else (no Firehose, no parameters, no other prefix), and the boundary lets it expire its own results only."""
    bucket = f"arn:aws:s3:::{VALUES['BUCKET']}"
    grants = {
        (action, resource)
        for statement in statements(documents()["live"])
        for action in listed(statement["Action"])
        for resource in listed(statement["Resource"])
    }
    assert grants == {
        ("s3:ListBucket", bucket),
        ("s3:GetObject", f"{bucket}/raw/tweets/*"),
        ("s3:GetObject", f"{bucket}/models/*"),
        *((a, f"{bucket}/live/*") for a in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")),
        ("s3:AbortMultipartUpload", f"{bucket}/live/*"),
    }
    boundary = statements(render("boundary-policy.json"))
    deletes = [r for s in boundary if "s3:DeleteObject" in listed(s["Action"]) for r in listed(s["Resource"])]
    assert deletes == [f"{bucket}/live/*"], "no other role may delete objects, whatever its own policy says"
    operator = statements(render("operator-policy.json"))
    profiles = [listed(s["Resource"]) for s in operator if "iam:CreateInstanceProfile" in s["Action"]]
    assert [sorted(r.rsplit("-", 1)[-1] for r in p) for p in profiles] == [["live", "streamer"]]
