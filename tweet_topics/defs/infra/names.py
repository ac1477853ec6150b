"""Names and tags of every AWS resource, derived from settings (project + environment prefix)."""

from dataclasses import dataclass

from tweet_topics.settings import Settings


@dataclass(frozen=True)
class InfraNames:
    project: str
    env: str
    region: str
    bucket: str
    raw_prefix: str
    streamer_prefix: str
    firehose_stream: str

    @classmethod
    def from_settings(cls, s: Settings) -> "InfraNames":
        return cls(s.project, s.env, s.region, s.bucket, s.raw_prefix, s.streamer_prefix, s.firehose_stream)

    @property
    def stem(self) -> str:
        return f"{self.project}-{self.env}"

    @property
    def log_group(self) -> str:
        return f"/aws/kinesisfirehose/{self.stem}"

    log_stream = "S3Delivery"

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
    def tags(self) -> dict[str, str]:
        return {"project": self.project, "env": self.env, "managed-by": "tweet_topics"}

    def tag_list(self, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
        return [{key: k, value: v} for k, v in self.tags.items()]
