"""A systemd unit on a project EC2 instance, driven through a project SSM control document (no SSH, no IP).

Shared by the streamer's host and the live query's host: each is its own instance (Name + the three ownership
tags), unit and control document, but finding the instance, starting it, sending a command and reading its result
are the same. The service state comes from the process's own heartbeat, not from the instance state.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import dagster as dg
from botocore.exceptions import ClientError

from tweet_topics.storage.s3 import AwsResource

TERMINAL = {"Success", "Failed", "Cancelled", "TimedOut", "DeliveryTimedOut", "ExecutionTimedOut", "Undeliverable"}


class CommandFailed(RuntimeError):
    """An SSM RunCommand invocation ended in a status other than Success; carries the command's stderr."""

    def __init__(self, verb: str, instance_id: str, status: str, stderr: str) -> None:
        super().__init__(f"systemctl {verb} on {instance_id}: {status}: {stderr.strip() or '(no stderr)'}")
        self.verb, self.instance_id, self.status, self.stderr = verb, instance_id, status, stderr


class SsmUnitHost(dg.ConfigurableResource):
    """The instance named ``instance_name`` carrying all of ``owner_tags``, and ``document_name``'s four verbs."""

    service: ClassVar[str] = "the service"  # how messages name what the unit runs
    missing_hint: ClassVar[str] = "create it with provision_infra"

    aws: AwsResource
    instance_name: str
    owner_tags: dict[str, str]
    document_name: str
    command_timeout_s: int = 120
    dead_after_s: float = 300.0  # a "running" heartbeat older than this: the process is gone
    poll_interval_s: float = 1.0

    def _instance(self) -> dict[str, Any]:
        filters = [
            {"Name": "tag:Name", "Values": [self.instance_name]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
            *[{"Name": f"tag:{k}", "Values": [v]} for k, v in self.owner_tags.items()],
        ]
        found = self.aws.client("ec2").describe_instances(Filters=filters)
        instances = [i for r in found["Reservations"] for i in r["Instances"]]
        if not instances:
            raise RuntimeError(
                f"no EC2 instance tagged Name={self.instance_name} and {self.owner_tags}: {self.missing_hint}"
            )
        return instances[0]

    def _ensure_running(self) -> str:
        instance = self._instance()
        if instance["State"]["Name"] in ("stopped", "stopping"):
            ec2 = self.aws.client("ec2")
            if instance["State"]["Name"] == "stopping":
                ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance["InstanceId"]])
            ec2.start_instances(InstanceIds=[instance["InstanceId"]])
            ec2.get_waiter("instance_running").wait(
                InstanceIds=[instance["InstanceId"]], WaiterConfig={"Delay": 2, "MaxAttempts": 150}
            )
        return instance["InstanceId"]

    def run_command(self, instance_id: str, verb: str) -> dict[str, Any]:
        """Send one control-document command and read its invocation until it ends (or the deadline passes);
        anything but Success raises ``CommandFailed`` with the command's stderr."""
        ssm = self.aws.client("ssm")
        command_id = ssm.send_command(
            InstanceIds=[instance_id],
            DocumentName=self.document_name,
            Parameters={"action": [verb]},
            TimeoutSeconds=self.command_timeout_s,
            Comment=f"tweet_topics: systemctl {verb}",
        )["Command"]["CommandId"]
        deadline = time.monotonic() + self.command_timeout_s + 30
        while True:
            try:
                invocation = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
            except ClientError as exc:  # right after send_command the invocation may not exist yet
                if exc.response["Error"]["Code"] != "InvocationDoesNotExist":
                    raise
                invocation = {"Status": "Pending"}
            status = invocation["Status"]
            if status in TERMINAL:
                break
            if time.monotonic() > deadline:
                raise CommandFailed(verb, instance_id, f"no result after {self.command_timeout_s + 30}s", "")
            time.sleep(self.poll_interval_s)
        if status != "Success":
            raise CommandFailed(verb, instance_id, status, invocation.get("StandardErrorContent", ""))
        return {"command_id": command_id, "status": status, "stdout": invocation.get("StandardOutputContent", "")}

    def _act(self, verb: str) -> str:
        """start / restart start the instance first when it is stopped; stop never starts it."""
        if verb == "stop":
            instance = self._instance()
            instance_id, state = instance["InstanceId"], instance["State"]["Name"]
            if state != "running":
                return f"instance {instance_id} is {state}: {self.service} is not running"
        else:
            instance_id = self._ensure_running()
        result = self.run_command(instance_id, verb)
        return f"systemctl {verb} on {instance_id}: {result['status']} (command {result['command_id']})"

    def start(self) -> str:
        return self._act("start")

    def stop(self) -> str:
        return self._act("stop")

    def restart(self) -> str:
        return self._act("restart")

    def unit_status(self, beat: dict[str, Any] | None, up_states: tuple[str, ...]) -> dict[str, Any]:
        """Running when the instance runs and the last heartbeat says the process is up (``up_states``) and is
        younger than ``dead_after_s`` (stale but younger: running and unhealthy, so a supervisor restarts it)."""
        instance = self._instance()
        service = beat["state"] if beat else None
        age = round(beat["age_s"], 1) if beat else None
        running = (
            instance["State"]["Name"] == "running"
            and service in up_states
            and age is not None
            and age <= self.dead_after_s
        )
        return {
            "host": "ec2",
            "instance_id": instance["InstanceId"],
            "instance_state": instance["State"]["Name"],
            "service_state": service,
            "heartbeat_age_s": age,
            "running": running,
        }

    def log_tail(self) -> str:
        """``systemctl status`` through the control document: the unit's state and its last journal lines."""
        instance = self._instance()
        if instance["State"]["Name"] != "running":
            return f"instance {instance['InstanceId']} is {instance['State']['Name']}"
        return self.run_command(instance["InstanceId"], "status")["stdout"][-2000:]
