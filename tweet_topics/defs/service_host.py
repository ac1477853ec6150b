"""What the streamer and the live query have in common as services Dagster starts, stops and watches.

Each is a long-running process that writes a heartbeat and reads a desired state (small JSON objects under its own
catalog prefix), runs either as a background process of this machine (``LocalProcessHost``) or as a systemd unit
on its own EC2 instance (``defs/ssm_unit.py``), and is driven by ops that act, then wait for the process's own
heartbeat to confirm. One copy of that lives here; ``defs/streaming`` and ``defs/live`` say only what differs.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg

from tweet_topics.defs.ssm_unit import CommandFailed
from tweet_topics.local.processes import process_alive, terminate
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.s3 import AwsResource


class ServiceState(dg.ConfigurableResource):
    """The service's heartbeat and desired state; ``section`` names its catalog section (``storage.<section>``)."""

    section: ClassVar[str]

    storage: Storage

    def _keys(self) -> Any:
        return getattr(self.storage, self.section)

    def heartbeat(self) -> dict[str, Any] | None:
        """The last heartbeat with its age (``age_s``), or None when the process never wrote one."""
        key = self._keys().heartbeat
        if not self.storage.s3.exists(key):
            return None
        beat = json.loads(self.storage.s3.get(key))
        beat["age_s"] = (datetime.now(UTC) - datetime.fromisoformat(beat["updated_at"])).total_seconds()
        return beat

    def desired(self) -> str:
        key = self._keys().desired
        return json.loads(self.storage.s3.get(key))["state"] if self.storage.s3.exists(key) else "stopped"

    def set_desired(self, state: str, by: str) -> None:
        body = {"state": state, "updated_at": datetime.now(UTC).isoformat(), "by": by}
        self.storage.s3.put(self._keys().desired, json.dumps(body).encode(), "application/json")


class ServiceHost(dg.ConfigurableResource, ABC):
    """start / stop / restart / status of a service, wherever it runs (local process or EC2 unit)."""

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


class LocalProcessHost(ServiceHost):
    """The service as a background process of this machine: a pidfile and a log under ``<local_dir>/<name>/``."""

    name: ClassVar[str]  # directory, pidfile and log name
    stop_timeout_s: ClassVar[float] = 60.0  # SIGTERM, then this long to finish (flush, spool) before SIGKILL

    aws: AwsResource
    local_dir: str

    @abstractmethod
    def command(self) -> list[str]:
        """The process's command line."""

    @property
    def state_dir(self) -> Path:
        path = Path(self.local_dir).resolve() / self.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def pidfile(self) -> Path:
        return self.state_dir / f"{self.name}.pid"

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
        log = open(self.state_dir / f"{self.name}.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(self.command(), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pidfile.write_text(str(proc.pid))
        return f"started (pid {proc.pid})"

    def stop(self) -> str:
        pid = self._pid()
        if not pid:
            self.pidfile.unlink(missing_ok=True)
            return "not running"
        terminate(pid, timeout=self.stop_timeout_s)
        self.pidfile.unlink(missing_ok=True)
        return f"stopped (pid {pid})"

    def restart(self) -> str:
        return f"{self.stop()}; {self.start()}"

    def status(self) -> dict[str, Any]:
        pid = self._pid()
        return {"host": "local", "running": pid is not None, "pid": pid}

    def log_tail(self) -> str:
        log = self.state_dir / f"{self.name}.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def act(host: ServiceHost, action: str, what: str) -> str:
    """Run one host action; a failed remote command fails the op with the command's own stderr."""
    try:
        return getattr(host, action)()
    except CommandFailed as exc:
        raise dg.Failure(
            description=f"{what} {action} failed: {exc}",
            metadata={"status": exc.status, "stderr": dg.MetadataValue.text(exc.stderr), "instance": exc.instance_id},
        ) from exc


def _tail(host: ServiceHost) -> str:
    """The log's tail for a failure report; reading it must not hide the failure being reported."""
    try:
        return host.log_tail()
    except (CommandFailed, RuntimeError, OSError) as exc:
        return f"(log not readable: {exc})"


def bring_up(
    host: ServiceHost, state: ServiceState, action: str, what: str, confirming: tuple[str, ...], timeout_s: float
) -> tuple[str, dict[str, Any]]:
    """start or restart, then wait for a heartbeat in one of ``confirming`` written after it; none within the
    timeout: the op fails with the host's status and the log's tail (alert-ready), never a false success."""
    since = datetime.now(UTC)
    message = act(host, action, what)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        beat = state.heartbeat()
        if beat and beat["state"] in confirming and datetime.fromisoformat(beat["updated_at"]) >= since:
            return message, beat
        time.sleep(0.5)
    raise dg.Failure(
        description=f"{what} {action} not confirmed: no {'/'.join(confirming)} heartbeat within {timeout_s:.0f}s",
        metadata={
            "host": dg.MetadataValue.json(host.status()),
            "action_result": message,
            "log_tail": dg.MetadataValue.text(_tail(host)),
        },
    )


def bring_down(host: ServiceHost, state: ServiceState, what: str, timeout_s: float) -> dict[str, Any]:
    """Stop, then wait until the host reports the service not running (on EC2: its own "stopped" heartbeat), so a
    supervisor's desired=stopped converges; ``clean``: that "stopped" heartbeat was written after the stop."""
    since = datetime.now(UTC)
    message = act(host, "stop", what)
    deadline = time.monotonic() + timeout_s
    status = host.status()
    while status["running"] and time.monotonic() < deadline:
        time.sleep(0.5)
        status = host.status()
    if status["running"]:
        raise dg.Failure(
            description=f"{what} still running {timeout_s:.0f}s after stop",
            metadata={"result": message, "host": dg.MetadataValue.json(status)},
        )
    beat = state.heartbeat()
    clean = bool(beat and beat["state"] == "stopped" and datetime.fromisoformat(beat["updated_at"]) >= since)
    return {"result": message, "clean": clean, "host": status}
