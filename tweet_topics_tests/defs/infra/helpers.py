"""Infra test helpers: an InfraResource on the moto server with chosen knobs, job runs, and an instance agent that
plays an EC2 host's unit for SSM control commands (moto records commands but runs nothing)."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from tweet_topics.defs.infra.deployment import Deployment
from tweet_topics.defs.infra.resource import InfraResource
from tweet_topics.settings import Settings
from tweet_topics.storage.clients import all_versions, delete_all

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
    delete_all(s3, bucket, all_versions(s3, bucket))
    s3.delete_bucket(Bucket=bucket)


def inline_policy(iam: Any, role: str, name: str) -> dict:
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document


class InstanceAgent(threading.Thread):
    """Writes the heartbeat for each command of ``document``, as the unit's process on the instance would (the
    streamer's or the live query's); records each command's action. (moto lists every instance as a command's
    target when it was sent with InstanceIds only, so targets are checked on the host's own result lines.)"""

    def __init__(self, aws: Any, bucket: str, key: str, document: str) -> None:
        super().__init__(daemon=True)
        self.ssm, self.s3 = aws.client("ssm"), aws.client("s3")
        self.bucket, self.key, self.document = bucket, key, document
        self.seen = {c["CommandId"] for c in self.ssm.list_commands()["Commands"]}
        self.actions: list[str] = []
        self.halt = threading.Event()

    def beat(self, state: str, age_s: float = 0.0) -> None:
        at = (datetime.now(UTC) - timedelta(seconds=age_s)).isoformat()
        body = {
            "state": state,
            "started_at": at,
            "updated_at": at,
            "last_tweet_at": None,
            "counts": {"sent": 0},
            "version": "1",
            "host": socket.gethostname(),
            "pid": 4242,
        }
        self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=json.dumps(body).encode())

    def run(self) -> None:
        while not self.halt.wait(0.1):
            for command in self.ssm.list_commands()["Commands"]:
                if command["CommandId"] in self.seen or command["DocumentName"] != self.document:
                    continue
                self.seen.add(command["CommandId"])
                action = command["Parameters"]["action"][0]
                self.actions.append(action)
                if action in ("start", "restart"):
                    self.beat("running")
                elif action == "stop":
                    self.beat("stopped")
