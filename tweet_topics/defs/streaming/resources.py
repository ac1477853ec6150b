"""Where the streamer runs: one interface, two hosts. Local: a subprocess with a pidfile under .local/.
EC2: the systemd unit on the instance found by its tags, driven through the project's SSM control document
(no SSH, no IP)."""

import json
import os
import subprocess
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg

from tweet_topics.defs.ssm_unit import SsmUnitHost
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


class Ec2StreamerHost(SsmUnitHost, StreamerHost):
    """The project's EC2 instance (its Name and all three ownership tags), driven with the project's SSM control
    document (``defs/ssm_unit.py``, shared with the live query's host). The service state comes from the streamer's
    own heartbeat, not from the instance state: a running instance whose streamer stopped is "not running", so a
    stop converges."""

    service: ClassVar[str] = "the streamer"
    missing_hint: ClassVar[str] = "run provision_infra with create_instance: true"

    state: StreamerState

    def status(self) -> dict[str, Any]:
        """The service as its heartbeat reports it (``SsmUnitHost.unit_status``)."""
        return self.unit_status(self.state.heartbeat(), SERVICE_UP_STATES)
