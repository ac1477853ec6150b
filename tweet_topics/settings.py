"""Typed settings read once from the environment; a wrong value fails at definitions load, naming the variable.

``TWEET_TOPICS_ENV`` (local|prod) is the one switch that picks resources. Every other value has a sensible
default for the embedded local stack.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "TWEET_TOPICS_"

# Regions we accept; a typo such as ``us-east-3`` fails before any AWS call.
AWS_REGIONS = frozenset(
    [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "ca-west-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "ap-south-1",
        "ap-south-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-east-1",
        "sa-east-1",
        "me-south-1",
        "me-central-1",
        "af-south-1",
        "il-central-1",
    ]
)
_BUCKET = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^(?:[A-Za-z0-9!_.*'()-]+/)+$")
# The master URLs Spark itself accepts (SparkContext.createTaskScheduler), so a typo fails at load, not at the
# first Spark step: local, local[N], local[*], local[N|*,M], spark://h:p[,h:p…], yarn, k8s://…, mesos://….
_SPARK_MASTER = re.compile(
    r"^(?:local(?:\[(?:[1-9]\d*|\*)(?:\s*,\s*[1-9]\d*)?\])?"
    r"|spark://[\w.-]+:\d{1,5}(?:,[\w.-]+:\d{1,5})*"
    r"|yarn|k8s://\S+|mesos://\S+)$"
)
PARTITION_FORMAT = "%Y-%m-%d-%H:%M"


RESERVED_PREFIXES = ("_staging/",)  # scratch space of S3Store.replace_prefix; a lifecycle rule expires it


class SettingsError(ValueError):
    """Raised with one line per bad variable, e.g. ``TWEET_TOPICS_BUCKET: not a valid S3 bucket name``."""


class Settings(BaseModel):
    """Everything that differs between deployments. Field ``x`` is read from ``TWEET_TOPICS_X``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: Literal["local", "prod"] = "local"
    project: str = Field("tweet-topics", pattern=r"^[a-z][a-z0-9-]{1,30}$")
    region: str = "us-east-1"
    bucket: str = "tweet-topics-local"
    raw_prefix: str = "raw/tweets/"
    combined_prefix: str = "combined/"
    filtered_prefix: str = "filtered/"
    corpus_prefix: str = "corpus/"
    models_prefix: str = "models/"
    predictions_prefix: str = "predictions/"
    reports_prefix: str = "reports/"
    streamer_prefix: str = "streamer/"
    original_prefix: str = "original/"  # what X sent (or the archive's line), gzip NDJSON per hour (issue 25)
    compliance_prefix: str = "compliance/"  # deletion tombstones and audit entries (issue 25)
    keep_original: bool = True  # write the original/ dataset beside raw (off: no original JSON is kept)
    original_expiration_days: int | None = Field(None, ge=1, le=36500)  # lifecycle rule on original/ (None: kept)
    live_prefix: str = "live/"  # live topic results (tweet_topics/live), heartbeat and page
    firehose_stream: str = Field("tweet-topics-delivery", pattern=r"^[a-zA-Z0-9_.-]{1,64}$")
    aws_endpoint_url: str | None = None
    spark_master: str = "local[*]"
    spark_driver_memory: str = Field("4g", pattern=r"^\d+[mgMG]$")
    # How Spark reaches the bucket: ``datasource`` (executor tasks with boto3; any cluster) or ``uri`` (the
    # cluster's S3 connector reads the listed objects as <spark_uri_scheme>://bucket/key, e.g. EMRFS s3://).
    spark_io: Literal["datasource", "uri"] = "datasource"
    spark_uri_scheme: Literal["s3", "s3a"] = "s3a"
    # Where Spark ML saves and loads models: a path every Spark node sees (default: <local_dir>/spark-shared).
    spark_shared_dir: str | None = None
    local_dir: Path = PROJECT_ROOT / ".local"
    partitions_start: str = "2026-01-01-00:00"
    # Firehose BufferingHints interval (AWS allows 0-900 s for S3): lower is fresher live topics, more objects.
    firehose_buffer_seconds: int = Field(60, ge=0, le=900)
    live_retention_days: int = Field(7, ge=1, le=3650)  # live per-minute results expire after this
    live_trigger_seconds: int = Field(5, ge=1, le=10)  # the live query's micro-batch trigger
    live_checkpoint: str | None = None  # the live query's checkpoint dir (default: <local_dir>/live/checkpoint)

    # The topic-model promotion gate (lib/promotion.py): a new version becomes models/latest.json only when its
    # mean NPMI and topic diversity reach these floors and its log-perplexity is at most max_perplexity_rise
    # (relative) above the latest's on the same corpus; ``force`` promotes regardless (reasons still recorded).
    model_promotion: Literal["gate", "force"] = "gate"
    model_min_npmi: float = Field(0.05, ge=-1.0, le=1.0)
    model_min_diversity: float = Field(0.3, ge=0.0, le=1.0)
    model_max_perplexity_rise: float = Field(0.02, ge=0.0, le=1.0)

    # Alerts (issue 24): where alert links point, who gets them, whether WARN check failures go out too.
    ui_base_url: str = "http://127.0.0.1:3000"  # the Dagster UI address as users reach it (links in alerts)
    alert_emails: str = ""  # comma-separated e-mail addresses subscribed to the alert topic at provisioning
    alert_warn: bool = False  # also publish failed checks of WARN severity (default: ERROR only)

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in AWS_REGIONS:
            raise ValueError(f"unknown AWS region {value!r}")
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not _BUCKET.fullmatch(value) or re.fullmatch(r"^\d+\.\d+\.\d+\.\d+$", value):
            raise ValueError(f"{value!r} is not a valid S3 bucket name (3-63 chars, lowercase, digits, . -)")
        return value

    @field_validator(
        "raw_prefix",
        "combined_prefix",
        "filtered_prefix",
        "corpus_prefix",
        "models_prefix",
        "predictions_prefix",
        "reports_prefix",
        "streamer_prefix",
        "original_prefix",
        "compliance_prefix",
        "live_prefix",
    )
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _PREFIX.fullmatch(value):
            raise ValueError(f"{value!r} must be a relative S3 prefix ending in '/', e.g. 'raw/tweets/'")
        return value

    @field_validator("aws_endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.fullmatch(r"^https?://[^\s/]+(:\d+)?/?$", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("partitions_start")
    @classmethod
    def _partition_hour(cls, value: str) -> str:
        """A real calendar hour on the hour (``2026-02-30-00:00`` has the right shape but is no date)."""
        try:
            parsed = datetime.strptime(value, PARTITION_FORMAT)
        except ValueError:
            parsed = None
        if parsed is None or parsed.minute or parsed.strftime(PARTITION_FORMAT) != value:
            raise ValueError(f"{value!r} is not an hour as YYYY-MM-DD-HH:00 (e.g. 2026-11-28-00:00)")
        return value

    @field_validator("spark_master")
    @classmethod
    def _spark_master(cls, value: str) -> str:
        if not _SPARK_MASTER.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a Spark master URL (local, local[N], local[*], local[N,M], spark://host:port, "
                "yarn, k8s://…, mesos://…)"
            )
        return value

    @field_validator("ui_base_url")
    @classmethod
    def _ui_url(cls, value: str) -> str:
        if not re.fullmatch(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value):
            raise ValueError(f"{value!r} is not an http(s) URL of the Dagster UI (e.g. https://dagster.example.com)")
        return value.rstrip("/")

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, value: str) -> str:
        addresses = [a.strip() for a in value.split(",") if a.strip()]
        bad = [a for a in addresses if not re.fullmatch(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+", a)]
        if bad:
            raise ValueError(f"not e-mail addresses: {bad} (comma-separated, e.g. ops@example.com,me@example.com)")
        return ",".join(addresses)

    @model_validator(mode="after")
    def _prefixes_apart(self) -> Settings:
        """Dataset prefixes may not be equal or nested: a run replacing its hour would delete the other's objects
        (``TWEET_TOPICS_COMBINED_PREFIX=raw/tweets/`` once deleted the raw Firehose data)."""
        names = [n for n in type(self).model_fields if n.endswith("_prefix")]
        for name in names:
            if getattr(self, name).startswith(RESERVED_PREFIXES) or any(
                r.startswith(getattr(self, name)) for r in RESERVED_PREFIXES
            ):
                raise ValueError(
                    f"{env_name(name)}={getattr(self, name)!r} overlaps {RESERVED_PREFIXES}, which the project "
                    "reserves (leftovers there expire after a day)"
                )
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                pa, pb = getattr(self, a), getattr(self, b)
                if pa.startswith(pb) or pb.startswith(pa):
                    raise ValueError(
                        f"{env_name(a)}={pa!r} and {env_name(b)}={pb!r} overlap: dataset prefixes may not be "
                        "equal or nested"
                    )
        return self

    @field_validator("spark_shared_dir")
    @classmethod
    def _shared_dir(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not (value.startswith("/") or re.fullmatch(r"^(file|hdfs|s3|s3a|gs|abfss)://\S+$", value)):
            raise ValueError(f"{value!r} must be an absolute path or a URI every Spark node reads (hdfs://, s3://)")
        return value

    @property
    def stack_file(self) -> Path:
        """Where ``local up`` records the moto server's endpoint and pid."""
        return self.local_dir / "stack.json"


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ``TWEET_TOPICS_*`` variables (``AWS_REGION`` is honoured as the region fallback)."""
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for field in Settings.model_fields:
        raw = environ.get(env_name(field))
        if raw is not None:
            values[field] = raw
    if "region" not in values and environ.get("AWS_REGION"):
        values["region"] = environ["AWS_REGION"]
    unknown = sorted(
        k for k in environ if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX) :].lower() not in Settings.model_fields
    )
    unknown = [k for k in unknown if not k.startswith(("TWEET_TOPICS_TEST_", "TWEET_TOPICS_X_"))]
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{env_name(str(error['loc'][0]))}: {message}" if error["loc"] else message)
        raise SettingsError("invalid tweet_topics settings:\n  " + "\n  ".join(lines)) from None
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]} (known: TWEET_TOPICS_ + {list(Settings.model_fields)})")
    if settings.env == "prod" and settings.aws_endpoint_url:
        raise SettingsError(f"{env_name('aws_endpoint_url')}: must be unset when TWEET_TOPICS_ENV=prod")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``load_settings`` directly)."""
    return load_settings()
