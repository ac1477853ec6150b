"""``Storage``: the one resource of the data path - the bucket and every dataset in it, built from settings.

Assets, sensors and checks take ``storage: Storage`` and use its datasets; none of them builds a key by hand.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

import dagster as dg

from tweet_topics.lib.ledger import StreamerKeys
from tweet_topics.lib.naming import topic_names
from tweet_topics.lib.promotion import PromotionPolicy
from tweet_topics.settings import Settings
from tweet_topics.storage.hourly import HourlyDataset
from tweet_topics.storage.keys import hour_prefix
from tweet_topics.storage.live_keys import LiveKeys
from tweet_topics.storage.original_keys import OriginalKeys
from tweet_topics.storage.reports import ReportPages
from tweet_topics.storage.s3 import AwsResource, S3Store
from tweet_topics.storage.versions import VersionedStore

# The files of each hourly dataset (besides _commit.json, the commit marker).
COMBINED_CSV = "tweets.csv"
QUARANTINE = "quarantine.ndjson"
FILTERED_PARQUET = "tweets.parquet"
REJECTED_PARQUET = "rejected.parquet"
PREDICTIONS_PARQUET = "part.parquet"
TRENDS_JSON = "trends.json"
CORPUS_MANIFEST = "manifest.json"
MODEL_MANIFEST = "model.json"
TOPIC_NAMES_JSON = "topic_names.json"  # beside a model version, written by topic_terms
IMPORT_STREAM = "archive-import"  # the stream name in imported raw object names (issue 25)


class Storage(dg.ConfigurableResource):
    """Where every dataset lives; field values come from ``Settings`` (no defaults of its own)."""

    s3: S3Store
    raw_prefix: str
    combined_prefix: str
    filtered_prefix: str
    corpus_prefix: str
    models_prefix: str
    predictions_prefix: str
    reports_prefix: str
    streamer_prefix: str
    live_prefix: str
    original_prefix: str  # issue 25: the original JSON beside raw
    compliance_prefix: str  # issue 25: deletion tombstones and audit entries
    keep_original: bool  # issue 25: write the original JSON beside imported raw objects
    local_dir: str
    # How Spark reaches these datasets (defs/topics/spark_io.py): the project's Python data source, or the
    # cluster's S3 connector through <spark_uri_scheme>://bucket/key; and the dir every Spark node shares.
    spark_io: str
    spark_uri_scheme: str
    spark_shared_dir: str | None
    # The model promotion gate's policy (settings TWEET_TOPICS_MODEL_*): when models/latest.json may move.
    model_promotion: str
    model_min_npmi: float
    model_min_diversity: float
    model_max_perplexity_rise: float

    @classmethod
    def from_settings(cls, settings: Settings, aws: AwsResource | None = None) -> Storage:
        aws = aws or AwsResource.from_settings(settings)
        prefixes = {name: getattr(settings, name) for name in cls.model_fields if name.endswith("_prefix")}
        return cls(
            s3=S3Store(aws=aws, bucket=settings.bucket, protected_prefix=settings.raw_prefix),
            local_dir=str(settings.local_dir),
            spark_io=settings.spark_io,
            spark_uri_scheme=settings.spark_uri_scheme,
            spark_shared_dir=settings.spark_shared_dir,
            keep_original=settings.keep_original,
            model_promotion=settings.model_promotion,
            model_min_npmi=settings.model_min_npmi,
            model_min_diversity=settings.model_min_diversity,
            model_max_perplexity_rise=settings.model_max_perplexity_rise,
            **prefixes,
        )

    @property
    def bucket(self) -> str:
        return self.s3.bucket

    def raw_hour(self, hour: datetime) -> str:
        """Firehose's own layout: ``<raw prefix>YYYY/MM/DD/HH/`` (read-only for the project)."""
        return hour_prefix(self.raw_prefix, hour)

    @property
    def combined(self) -> HourlyDataset:
        return HourlyDataset("combined_tweets", self.combined_prefix, (COMBINED_CSV, QUARANTINE), self.s3)

    @property
    def filtered(self) -> HourlyDataset:
        return HourlyDataset("filtered_tweets", self.filtered_prefix, (FILTERED_PARQUET, REJECTED_PARQUET), self.s3)

    @property
    def predictions(self) -> HourlyDataset:
        return HourlyDataset("tweet_topic_assignments", self.predictions_prefix, (PREDICTIONS_PARQUET,), self.s3)

    @property
    def reports(self) -> ReportPages:
        """topic_report's pages (the system of record; ``report open`` downloads the latest) and latest.json."""
        return ReportPages(self.s3, self.reports_prefix)

    @property
    def trends(self) -> HourlyDataset:
        """topic_trends: one trends.json per hour, beside the reports."""
        return HourlyDataset("topic_trends", self.reports_prefix + "trends/", (TRENDS_JSON,), self.s3)

    @property
    def corpus(self) -> VersionedStore:
        return VersionedStore(
            "topic corpus", self.corpus_prefix, CORPUS_MANIFEST, self.s3, self.local_path("cache", "corpus")
        )

    @property
    def models(self) -> VersionedStore:
        return VersionedStore(
            "topic model", self.models_prefix, MODEL_MANIFEST, self.s3, self.local_path("cache", "models")
        )

    @property
    def promotion_policy(self) -> PromotionPolicy:
        """What ``topic_model`` gates ``models/latest.json`` with."""
        mode = "force" if self.model_promotion == "force" else "gate"
        return PromotionPolicy(mode, self.model_min_npmi, self.model_min_diversity, self.model_max_perplexity_rise)

    def topic_names(self, version: str) -> dict[int, str]:
        """Display names of ``version``'s topics: the names ``topic_terms`` stored, else the top terms."""
        stored = (
            self.models.read_json(version, TOPIC_NAMES_JSON) if self.models.exists(version, TOPIC_NAMES_JSON) else {}
        )
        return topic_names(self.models.manifest(version)["topics"], stored)

    def put_topic_names(self, version: str, names: dict[int, str]) -> None:
        self.models.put(version, TOPIC_NAMES_JSON, json.dumps({str(t): n for t, n in names.items()}).encode())

    @property
    def streamer(self) -> StreamerKeys:
        """The streamer's objects: heartbeat, desired state, ledger objects, ledger summary."""
        return StreamerKeys(self.streamer_prefix)

    @property
    def live(self) -> LiveKeys:
        """The live query's objects (tweet_topics/live)."""
        return LiveKeys(self.live_prefix)

    def raw_import_key(self, hour: datetime, digest: str) -> str:
        """An imported object in Firehose's own layout (``<stream>-1-<time>-<uuid>``) named by its content's
        sha256, so importing the same tweets again names the same object (issue 25)."""
        return f"{self.raw_hour(hour)}{IMPORT_STREAM}-1-{hour:%Y-%m-%d-%H-00-00}-{uuid.UUID(digest[:32])}"

    @property
    def original(self) -> OriginalKeys:
        """The original JSON beside raw (storage/original_keys.py: the streamer uses it without Dagster)."""
        return OriginalKeys(self.original_prefix)

    def original_hour(self, hour: datetime) -> str:
        """``<original prefix>YYYY/MM/DD/HH/``: what X sent (or the archive's line), gzip NDJSON per batch."""
        return self.original.hour(hour)

    def original_key(self, hour: datetime, digest: str) -> str:
        """The original payloads of the imported raw object with the same digest (one object per batch)."""
        return self.original.imported(hour, digest)

    @property
    def tombstones_prefix(self) -> str:
        """Deleted tweet ids, one object per deletion run (``apply_deletions``)."""
        return f"{self.compliance_prefix}tombstones/"

    @property
    def audit_prefix(self) -> str:
        return f"{self.compliance_prefix}audit/"

    def local_path(self, *parts: str) -> Path:
        """A directory under the local dir (Spark staging, caches, report copies)."""
        path = Path(self.local_dir).resolve().joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path
