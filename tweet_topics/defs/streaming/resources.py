"""Where the streamer runs: one interface, two hosts (``defs/service_host.py`` holds what they share with the live
query's). Local: a subprocess with a pidfile under .local/streamer. EC2: the systemd unit on the instance found by
its tags, driven through the project's SSM control document (no SSH, no IP)."""

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from tweet_topics.defs.service_host import LocalProcessHost, ServiceHost, ServiceState
from tweet_topics.defs.ssm_unit import SsmUnitHost
from tweet_topics.streamer.options import synthetic_command

SERVICE_UP_STATES = ("running", "degraded", "disk_full")  # heartbeat states of a live streamer process


class StreamerHost(ServiceHost):
    """start / stop / restart / status of the streamer, wherever it runs (local process or EC2 unit)."""


class LocalStreamerHost(LocalProcessHost, StreamerHost):
    """The embedded default: ``python -m tweet_topics stream synthetic --resume`` as a background process."""

    name: ClassVar[str] = "streamer"
    stop_timeout_s: ClassVar[float] = 30.0  # on SIGTERM the streamer flushes or spools, then exits 0

    rate: float = 20.0
    seed: int = 7
    heartbeat_interval_s: float = 5.0

    def command(self) -> list[str]:
        return synthetic_command(
            resume=True,
            rate=self.rate,
            seed=self.seed,
            state_dir=self.state_dir,
            heartbeat_interval=self.heartbeat_interval_s,
        )


class StreamerState(ServiceState):
    """The streamer's desired state and heartbeat (under the streamer prefix), and the raw data's freshness."""

    section: ClassVar[str] = "streamer"

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
