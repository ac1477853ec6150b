"""Where the live query runs and what it says: the process host and its heartbeat/desired state.

Why a separate host from the streamer's: the live query needs a JDK and a Spark driver (the t3.micro streamer host
has neither). Locally (``LocalLiveHost``) it is ``python -m tweet_topics live`` in the background with a pidfile
under ``.local/live``; on AWS (``Ec2LiveHost``) the same command runs as the ``tweet-topics-live`` systemd unit on
its own host (Name ``<project>-<env>-live`` + the ownership tags, its own role and control document), driven
through SSM with the streamer host's code (``defs/ssm_unit.py``). docs/live.md says how to run it there.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from tweet_topics.defs.service_host import LocalProcessHost, ServiceHost, ServiceState
from tweet_topics.defs.ssm_unit import SsmUnitHost

UP_STATES = ("starting", "running", "degraded", "waiting_for_model")


class LiveState(ServiceState):
    """The live query's heartbeat and desired state (under the live prefix), and where its page is."""

    section: ClassVar[str] = "live"

    def page_url(self, expires_s: int = 3600) -> str:
        """A pre-signed URL of the live page in the (private) bucket."""
        s3 = self.storage.s3.aws.client("s3")
        params = {"Bucket": self.storage.bucket, "Key": self.storage.live.page}
        return s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)


class LiveHost(ServiceHost):
    """start / stop / restart / status of the live query, wherever it runs (local process or EC2 unit)."""


class LocalLiveHost(LocalProcessHost, LiveHost):
    """``python -m tweet_topics live`` as a background process of this machine (pidfile, log under .local/live);
    SIGTERM lets the running micro-batch finish and the query stop, exit 0."""

    name: ClassVar[str] = "live"

    trigger_seconds: int = 5

    def command(self) -> list[str]:
        return [sys.executable, "-m", "tweet_topics", "live", "--trigger-seconds", str(self.trigger_seconds)]


class Ec2LiveHost(SsmUnitHost, LiveHost):
    """The live query's own EC2 host (a size with a JDK), found by its Name and all three ownership tags and driven
    with the live control document; the service state comes from the live query's heartbeat."""

    service: ClassVar[str] = "the live query"
    missing_hint: ClassVar[str] = "run provision_infra with create_live_instance: true (docs/live.md)"

    state: LiveState

    def status(self) -> dict[str, Any]:
        return self.unit_status(self.state.heartbeat(), UP_STATES)
