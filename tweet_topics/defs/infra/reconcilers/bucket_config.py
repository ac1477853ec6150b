"""The bucket's desired configuration: SSE, public access block, versioning, lifecycle rules, TLS-only policy and
ownership tags, as the calls that bring an existing bucket there (merged by key, never replacing a team's own)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tweet_topics.defs.infra import policies
from tweet_topics.defs.infra.deployment import MANAGED_BY
from tweet_topics.defs.infra.reconcilers.base import ADOPTED_TAG, error_code
from tweet_topics.defs.infra.reconcilers.merge import merge_rules, merge_statements, tag_pairs

if TYPE_CHECKING:
    from tweet_topics.defs.infra.resource import InfraResource

EXPIRE_RULE = "tweet-topics-expire-raw"
STAGING_RULE = "tweet-topics-expire-staging"  # leftovers of runs that died before their commit
NONCURRENT_RULE = "tweet-topics-expire-noncurrent"  # replaced/deleted versions, kept for recovery a while
ORIGINAL_RULE = "tweet-topics-expire-original"  # the original JSON beside raw (issue 25), when a retention is set
RULE_IDS = {EXPIRE_RULE, STAGING_RULE, NONCURRENT_RULE, ORIGINAL_RULE}
PUBLIC_BLOCK = dict.fromkeys(
    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
)


def get_or(call: Callable[[], Any], default: Any, missing: tuple[str, ...]) -> Any:
    try:
        return call()
    except ClientError as exc:
        if error_code(exc) in missing:
            return default
        raise


def encryption(infra: InfraResource) -> dict[str, Any]:
    key = infra.sse_kms_key_arn
    rule: dict[str, Any] = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key} if key else {"SSEAlgorithm": "AES256"}
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": bool(key)}]}


def lifecycle_rules(infra: InfraResource) -> list[dict[str, Any]]:
    days = infra.raw_expiration_days
    rules = [
        {
            "ID": STAGING_RULE,
            "Status": "Enabled",
            "Filter": {"Prefix": "_staging/"},
            "Expiration": {"Days": 1},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]
    if infra.versioning:
        rules.append(
            {
                "ID": NONCURRENT_RULE,
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "NoncurrentVersionExpiration": {"NoncurrentDays": infra.noncurrent_version_days},
            }
        )
    if days:
        rules.append(
            {
                "ID": EXPIRE_RULE,
                "Status": "Enabled",
                "Filter": {"Prefix": infra.deployment.raw_prefix},
                "Expiration": {"Days": days},
            }
        )
    if infra.original_expiration_days:
        rules.append(
            {
                "ID": ORIGINAL_RULE,
                "Status": "Enabled",
                "Filter": {"Prefix": infra.deployment.prefixes["original_prefix"]},
                "Expiration": {"Days": infra.original_expiration_days},
            }
        )
    return rules


def config_fixes(s3: Any, infra: InfraResource, tags: dict[str, str]) -> dict[str, Callable[[], Any]]:
    """What differs from the desired state, as name -> the call that fixes it (merged, never replaced)."""
    b = infra.deployment.bucket
    out: dict[str, Callable[[], Any]] = {}
    rules = get_or(
        lambda: s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"],
        [],
        ("ServerSideEncryptionConfigurationNotFoundError",),
    )
    current = (rules or [{}])[0].get("ApplyServerSideEncryptionByDefault", {})
    desired = encryption(infra)
    if current != desired["Rules"][0]["ApplyServerSideEncryptionByDefault"]:
        out["encryption"] = lambda: s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=desired)
    block = get_or(
        lambda: s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"],
        {},
        ("NoSuchPublicAccessBlockConfiguration",),
    )
    if block != PUBLIC_BLOCK:
        out["public_access_block"] = lambda: s3.put_public_access_block(
            Bucket=b, PublicAccessBlockConfiguration=PUBLIC_BLOCK
        )
    if infra.versioning and s3.get_bucket_versioning(Bucket=b).get("Status") != "Enabled":
        out["versioning"] = lambda: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    lifecycle = get_or(
        lambda: s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"], [], ("NoSuchLifecycleConfiguration",)
    )
    rules = merge_rules(lifecycle, lifecycle_rules(infra), RULE_IDS)
    if rules is not None:
        out["lifecycle"] = lambda: (
            s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})
            if rules
            else s3.delete_bucket_lifecycle(Bucket=b)
        )
    raw_policy = get_or(lambda: s3.get_bucket_policy(Bucket=b)["Policy"], None, ("NoSuchBucketPolicy",))
    policy = merge_statements(
        json.loads(raw_policy) if raw_policy else None, policies.bucket_policy(infra.deployment)["Statement"]
    )
    if infra.tls_only() and policy is not None:
        out["tls_only_policy"] = lambda: s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
    if not infra.deployment.owns(tags):  # an existing bucket without our tags: adoption, recorded on the bucket
        merged = tag_pairs({**tags, **infra.deployment.tags, ADOPTED_TAG: MANAGED_BY})
        out["tags"] = lambda: s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": merged})
    return out


def release_settings(s3: Any, infra: InfraResource, remove_tags: list[str]) -> None:
    """Take the project's settings off an adopted bucket: its lifecycle rules, policy statements and tags.

    Encryption, the public access block and versioning stay as they are (turning them off could expose a team's
    data, and their values before adoption were not recorded).
    """
    b = infra.deployment.bucket
    lifecycle = get_or(
        lambda: s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"], [], ("NoSuchLifecycleConfiguration",)
    )
    rules = [r for r in lifecycle if r.get("ID") not in RULE_IDS]
    if rules != lifecycle:
        if rules:
            s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})
        else:
            s3.delete_bucket_lifecycle(Bucket=b)
    raw_policy = get_or(lambda: s3.get_bucket_policy(Bucket=b)["Policy"], None, ("NoSuchBucketPolicy",))
    if raw_policy:
        policy = json.loads(raw_policy)
        ours = {st["Sid"] for st in policies.bucket_policy(infra.deployment)["Statement"]}
        kept = [st for st in policy["Statement"] if st.get("Sid") not in ours]
        if not kept:
            s3.delete_bucket_policy(Bucket=b)
        elif len(kept) != len(policy["Statement"]):
            s3.put_bucket_policy(Bucket=b, Policy=json.dumps({**policy, "Statement": kept}))
    tags = get_or(lambda: s3.get_bucket_tagging(Bucket=b)["TagSet"], [], ("NoSuchTagSet",))
    left = [t for t in tags if t["Key"] not in remove_tags]
    if left:
        s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": left})
    else:
        s3.delete_bucket_tagging(Bucket=b)
