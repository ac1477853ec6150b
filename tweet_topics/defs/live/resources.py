"""Where the live query runs and what it says: the process host and its heartbeat/desired state.

Why a separate host from the streamer's: the live query needs a JDK and a Spark driver (the t3.micro streamer host
has neither). Locally (``LocalLiveHost``) it is ``python -m tweet_topics live`` in the background with a pidfile
under ``.local/live``; on AWS (``Ec2LiveHost``) the same command runs as the ``tweet-topics-live`` systemd unit on
its own host (Name ``<project>-<env>-live`` + the ownership tags, its own role and control document), driven
through SSM with the streamer host's code (``defs/ssm_unit.py``). docs/live.md says how to run it there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg

from tweet_topics.defs.ssm_unit import SsmUnitHost
from tweet_topics.local.processes import process_alive, terminate
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.s3 import AwsResource

UNIT = "tweet-topics-live"
UP_STATES = ("starting", "running", "degraded", "waiting_for_model")


class LiveState(dg.ConfigurableResource):
    """The live query's heartbeat and desired state: small JSON objects under the live prefix."""

    storage: Storage

    def heartbeat(self) -> dict[str, Any] | None:
        if not self.storage.s3.exists(self.storage.live.heartbeat):
            return None
        beat = json.loads(self.storage.s3.get(self.storage.live.heartbeat))
        beat["age_s"] = (datetime.now(UTC) - datetime.fromisoformat(beat["updated_at"])).total_seconds()
        return beat

    def desired(self) -> str:
        if not self.storage.s3.exists(self.storage.live.desired):
            return "stopped"
        return json.loads(self.storage.s3.get(self.storage.live.desired))["state"]

    def set_desired(self, state: str, by: str) -> None:
        body = {"state": state, "updated_at": datetime.now(UTC).isoformat(), "by": by}
        self.storage.s3.put(self.storage.live.desired, json.dumps(body).encode(), "application/json")

    def page_url(self, expires_s: int = 3600) -> str:
        """A pre-signed URL of the live page in the (private) bucket."""
        s3 = self.storage.s3.aws.client("s3")
        params = {"Bucket": self.storage.bucket, "Key": self.storage.live.page}
        return s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)


class LiveHost(dg.ConfigurableResource, ABC):
    """start / stop / restart / status of the live query, wherever it runs (local process or EC2 unit)."""

    @abstractmethod
    def start(self) -> str: ...

    @abstractmethod
    def stop(self) -> str: ...

    @abstractmethod
    def restart(self) -> str: ...

    @abstractmethod
    def status(self) -> dict[str, Any]:
        """At least ``{"running": bool}``."""

    @abstractmethod
    def log_tail(self) -> str:
        """The end of the process's log, for a start that was never confirmed."""


class LocalLiveHost(LiveHost):
    """``python -m tweet_topics live`` as a background process of this machine (pidfile, log under .local/live)."""

    aws: AwsResource
    local_dir: str
    trigger_seconds: int = 5

    @property
    def state_dir(self) -> Path:
        path = Path(self.local_dir).resolve() / "live"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def pidfile(self) -> Path:
        return self.state_dir / "live.pid"

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
        log = open(self.state_dir / "live.log", "ab")  # noqa: SIM115 - handed to the child
        command = [sys.executable, "-m", "tweet_topics", "live", "--trigger-seconds", str(self.trigger_seconds)]
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pidfile.write_text(str(proc.pid))
        return f"started (pid {proc.pid})"

    def log_tail(self) -> str:
        log = self.state_dir / "live.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def stop(self, timeout: float = 60.0) -> str:
        pid = self._pid()
        if not pid:
            self.pidfile.unlink(missing_ok=True)
            return "not running"
        terminate(pid, timeout=timeout)  # SIGTERM: the running micro-batch finishes, the query stops, exit 0
        self.pidfile.unlink(missing_ok=True)
        return f"stopped (pid {pid})"

    def restart(self) -> str:
        return f"{self.stop()}; {self.start()}"

    def status(self) -> dict[str, Any]:
        pid = self._pid()
        return {"host": "local", "running": pid is not None, "pid": pid}


class Ec2LiveHost(SsmUnitHost, LiveHost):
    """The live query's own EC2 host (a size with a JDK), found by its Name and all three ownership tags and driven
    with the live control document; the service state comes from the live query's heartbeat."""

    service: ClassVar[str] = "the live query"
    missing_hint: ClassVar[str] = "run provision_infra with create_live_instance: true (docs/live.md)"

    state: LiveState

    def status(self) -> dict[str, Any]:
        return self.unit_status(self.state.heartbeat(), UP_STATES)

    def log_tail(self) -> str:
        """``systemctl status`` through the control document: the unit's state and its last journal lines."""
        instance = self._instance()
        if instance["State"]["Name"] != "running":
            return f"instance {instance['InstanceId']} is {instance['State']['Name']}"
        return self.run_command(instance["InstanceId"], "status")["stdout"][-2000:]
