"""Where the streamer runs: one interface, two hosts. Local: a subprocess with a pidfile under .local/.
EC2: the systemd unit on the instance found by its tags, driven through the project's SSM control document
(no SSH, no IP)."""

import json
import os
import subprocess
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from botocore.exceptions import ClientError

from tweet_topics.local.processes import process_alive, terminate
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.s3 import AwsResource
from tweet_topics.streamer.options import synthetic_command

UNIT = "tweet-topics-streamer"
SERVICE_UP_STATES = ("running", "degraded", "disk_full")  # heartbeat states of a live streamer process


class StreamerHost(dg.ConfigurableResource, ABC):
    """start / stop / restart / status of the streamer, wherever it runs (local process or EC2 unit)."""

    @abstractmethod
    def start(self) -> str: ...

    @abstractmethod
    def stop(self) -> str: ...

    @abstractmethod
    def restart(self) -> str: ...

    @abstractmethod
    def status(self) -> dict[str, Any]:
        """At least ``{"running": bool}``."""


class LocalStreamerHost(StreamerHost):
    """The embedded default: ``python -m tweet_topics stream synthetic --resume`` as a background process."""

    aws: AwsResource
    local_dir: str
    rate: float = 20.0
    seed: int = 7
    heartbeat_interval_s: float = 5.0

    @property
    def state_dir(self) -> Path:
        path = Path(self.local_dir).resolve() / "streamer"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def pidfile(self) -> Path:
        return self.state_dir / "streamer.pid"

    def _pid(self) -> int | None:
        if not self.pidfile.exists():
            return None
        pid = int(self.pidfile.read_text())
        return pid if process_alive(pid) else None

    def start(self) -> str:
        pid = self._pid()
        if pid:
            return f"already running (pid {pid})"
        env = {**os.environ, "TWEET_TOPICS_AWS_ENDPOINT_URL": self.aws.endpoint() or ""}
        log = open(self.state_dir / "streamer.log", "ab")  # noqa: SIM115 - handed to the child
        command = synthetic_command(
            resume=True,
            rate=self.rate,
            seed=self.seed,
            state_dir=self.state_dir,
            heartbeat_interval=self.heartbeat_interval_s,
        )
        proc = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pidfile.write_text(str(proc.pid))
        return f"started (pid {proc.pid})"

    def stop(self) -> str:
        pid = self._pid()
        if not pid:
            self.pidfile.unlink(missing_ok=True)
            return "not running"
        terminate(pid, timeout=30)  # on SIGTERM the streamer flushes or spools, then exits 0
        self.pidfile.unlink(missing_ok=True)
        return f"stopped (pid {pid})"

    def restart(self) -> str:
        return f"{self.stop()}; {self.start()}"

    def status(self) -> dict[str, Any]:
        pid = self._pid()
        return {"host": "local", "running": pid is not None, "pid": pid}


class StreamerState(dg.ConfigurableResource):
    """The desired state and the heartbeat, both small JSON objects under the streamer prefix."""

    storage: Storage

    def desired(self) -> str:
        if not self.storage.s3.exists(self.storage.streamer.desired):
            return "stopped"
        return json.loads(self.storage.s3.get(self.storage.streamer.desired))["state"]

    def set_desired(self, state: str, by: str) -> None:
        body = {"state": state, "updated_at": datetime.now(UTC).isoformat(), "by": by}
        self.storage.s3.put(self.storage.streamer.desired, json.dumps(body).encode(), "application/json")

    def heartbeat(self) -> dict[str, Any] | None:
        if not self.storage.s3.exists(self.storage.streamer.heartbeat):
            return None
        beat = json.loads(self.storage.s3.get(self.storage.streamer.heartbeat))
        updated = datetime.fromisoformat(beat["updated_at"])
        beat["age_s"] = (datetime.now(UTC) - updated).total_seconds()
        return beat

    def raw_age_s(self) -> float | None:
        """Age of the newest raw object of the current or previous hour (Firehose freshness)."""
        now = datetime.now(UTC)
        newest = None
        for hour in (now, now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)):
            for info in self.storage.s3.list(self.storage.raw_hour(hour)):
                newest = max(newest or info.last_modified, info.last_modified)
        return (now - newest).total_seconds() if newest else None


class CommandFailed(RuntimeError):
    """An SSM RunCommand invocation ended in a status other than Success; carries the command's stderr."""

    def __init__(self, verb: str, instance_id: str, status: str, stderr: str) -> None:
        super().__init__(f"systemctl {verb} on {instance_id}: {status}: {stderr.strip() or '(no stderr)'}")
        self.verb, self.instance_id, self.status, self.stderr = verb, instance_id, status, stderr


TERMINAL = {"Success", "Failed", "Cancelled", "TimedOut", "DeliveryTimedOut", "ExecutionTimedOut", "Undeliverable"}


class Ec2StreamerHost(StreamerHost):
    """The project's EC2 instance (its Name and all three ownership tags), driven with the project's SSM control
    document. The service state comes from the streamer's own heartbeat, not from the instance state: a running
    instance whose streamer stopped is "not running", so a stop converges."""

    aws: AwsResource
    state: StreamerState
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
                f"no EC2 instance tagged Name={self.instance_name} and {self.owner_tags}: "
                "run provision_infra with create_instance: true"
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

    def start(self) -> str:
        instance_id = self._ensure_running()
        result = self.run_command(instance_id, "start")
        return f"systemctl start on {instance_id}: {result['status']} (command {result['command_id']})"

    def stop(self) -> str:
        instance = self._instance()
        if instance["State"]["Name"] != "running":
            return f"instance {instance['InstanceId']} is {instance['State']['Name']}: the streamer is not running"
        result = self.run_command(instance["InstanceId"], "stop")
        return f"systemctl stop on {instance['InstanceId']}: {result['status']} (command {result['command_id']})"

    def restart(self) -> str:
        instance_id = self._ensure_running()
        result = self.run_command(instance_id, "restart")
        return f"systemctl restart on {instance_id}: {result['status']} (command {result['command_id']})"

    def status(self) -> dict[str, Any]:
        """The service as its heartbeat reports it: running when the instance runs and the last heartbeat says the
        process is up (running, degraded or disk_full) and is younger than ``dead_after_s`` (stale but younger:
        running and unhealthy, so the supervisor restarts it)."""
        instance = self._instance()
        beat = self.state.heartbeat()
        service = beat["state"] if beat else None
        age = round(beat["age_s"], 1) if beat else None
        running = (
            instance["State"]["Name"] == "running"
            and service in SERVICE_UP_STATES
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
