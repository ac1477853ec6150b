"""Infra test helpers: an InfraResource on the moto server with chosen knobs, and job runs."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg

from tweet_topics.defs.infra.deployment import Deployment
from tweet_topics.defs.infra.resource import InfraResource
from tweet_topics.settings import Settings

CANARY = "canary-bearer-7f3a9c-never-log-me"


def make_infra(
    resources: dict, settings: Settings | None = None, token: str | None = None, **knobs: Any
) -> InfraResource:
    """The test session's AwsResource with a Deployment from ``settings`` (default: the session settings)."""
    base: InfraResource = resources["infra"]
    deployment = Deployment.from_settings(settings, token) if settings else base.deployment
    if token and not settings:
        deployment = Deployment(**{**deployment.model_dump(), "bearer_token": token})
    return InfraResource(aws=resources["aws"], deployment=deployment, **knobs)


def run(
    job: dg.JobDefinition, resources: dict, run_config: dict | None = None, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    return (
        dg.Definitions(jobs=[job], resources=resources)
        .resolve_job_def(job.name)
        .execute_in_process(run_config=run_config or {}, **kwargs)
    )


def delete_bucket(s3: Any, bucket: str) -> None:
    """Test setup only: remove a bucket whatever its tags (provisioning itself never deletes a foreign one)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        return
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        items = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if items:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": items})
    s3.delete_bucket(Bucket=bucket)


def inline_policy(iam: Any, role: str, name: str) -> dict:
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document
