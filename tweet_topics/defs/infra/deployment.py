"""``Deployment``: what provisioning targets (project, env, region, bucket, stream, prefixes) and every AWS name
derived from it. Built from ``Settings`` only, so no field has a default of its own to drift from them."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from tweet_topics.settings import Settings

MANAGED_BY = "tweet_topics"
UNIT = "tweet-topics-streamer"
LIVE_UNIT = "tweet-topics-live"  # the live query's unit (templates/tweet-topics-live.service), on its own host
# Object prefixes the project writes besides the settings' own: Firehose's error output and S3Store's staging.
EXTRA_PREFIXES = ("errors/", "_staging/", "dagster/")


class Deployment(dg.ConfigurableResource):
    """A nested resource of ``InfraResource``: run config that changes the infra knobs never resets these."""

    project: str
    env: str
    region: str
    bucket: str
    firehose_stream: str
    prefixes: dict[str, str]  # settings field name -> prefix, e.g. raw_prefix -> raw/tweets/
    bearer_token: str | None = None  # bound from dg.EnvVar("TWEET_TOPICS_X_BEARER_TOKEN"); never logged
    alert_emails: list[str] = Field(default_factory=list)  # subscribed to the alert topic (TWEET_TOPICS_ALERT_EMAILS)

    @classmethod
    def from_settings(cls, settings: Settings, bearer_token: str | dg.EnvVar | None = None) -> Deployment:
        prefixes = {name: getattr(settings, name) for name in Settings.model_fields if name.endswith("_prefix")}
        return cls(
            project=settings.project,
            env=settings.env,
            region=settings.region,
            bucket=settings.bucket,
            firehose_stream=settings.firehose_stream,
            prefixes=prefixes,
            bearer_token=bearer_token,
            alert_emails=[a for a in settings.alert_emails.split(",") if a],
        )

    @property
    def raw_prefix(self) -> str:
        return self.prefixes["raw_prefix"]

    @property
    def streamer_prefix(self) -> str:
        return self.prefixes["streamer_prefix"]

    @property
    def project_prefixes(self) -> list[str]:
        """Every prefix the project writes: what ``delete_data`` removes from a bucket it does not own."""
        return sorted({*self.prefixes.values(), *EXTRA_PREFIXES})

    @property
    def stem(self) -> str:
        return f"{self.project}-{self.env}"

    @property
    def log_group(self) -> str:
        return f"/aws/kinesisfirehose/{self.stem}"

    @property
    def log_stream(self) -> str:
        return "S3Delivery"

    @property
    def firehose_role(self) -> str:
        return f"{self.stem}-firehose"

    @property
    def streamer_role(self) -> str:
        return f"{self.stem}-streamer"

    @property
    def bearer_parameter(self) -> str:
        return f"/{self.project}/{self.env}/x-bearer-token"

    @property
    def security_group(self) -> str:
        return f"{self.stem}-streamer"

    @property
    def instance_name(self) -> str:
        return f"{self.stem}-streamer"

    @property
    def control_document(self) -> str:
        """The project's SSM Command document: systemctl start|stop|restart|status of the unit, nothing else."""
        return f"{self.stem}-streamer-control"

    @property
    def live_prefix(self) -> str:
        return self.prefixes["live_prefix"]

    @property
    def models_prefix(self) -> str:
        return self.prefixes["models_prefix"]

    @property
    def live_role(self) -> str:
        """The live query host's role and instance profile: read raw/ and models/, write the live prefix."""
        return f"{self.stem}-live"

    @property
    def live_instance_name(self) -> str:
        """The Name tag of the host that runs the live query (with a JDK; never the streamer's t3.micro)."""
        return f"{self.stem}-live"

    @property
    def live_control_document(self) -> str:
        """systemctl start|stop|restart|status of the live unit, nothing else."""
        return f"{self.stem}-live-control"

    @property
    def alert_topic(self) -> str:
        """The SNS topic failed runs and failed checks are published to (``defs/alerts``)."""
        return f"{self.stem}-alerts"

    @property
    def tags(self) -> dict[str, str]:
        """The ownership tags: a resource is the project's only when all three match."""
        return {"managed-by": MANAGED_BY, "project": self.project, "env": self.env}

    def tag_list(self, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
        return [{key: k, value: v} for k, v in self.tags.items()]

    def owns(self, tags: dict[str, str]) -> bool:
        return all(tags.get(k) == v for k, v in self.tags.items())
