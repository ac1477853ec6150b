"""The report pages: in the bucket, their system of record; a local copy is only a download (``report open``).

A page lives under ``<reports prefix><model version>/<window>/`` (one self-contained ``index.html`` with plotly.js
inline, so a pre-signed link to that one object renders, plus one JSON per figure); ``latest.json`` beside the
versions names the newest page and is written after it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tweet_topics.lib.report.page import REPORT_FILE
from tweet_topics.storage.s3 import S3Store
from tweet_topics.storage.versions import check_version

LATEST = "latest.json"
WINDOW_PATTERN = re.compile(r"[0-9]{10}-[0-9]{10}|empty")  # lib/naming.window_label, or "empty"
PRESIGNED_SECONDS = 7 * 24 * 3600  # the longest a SigV4 pre-signed URL may live


class NoReport(LookupError):
    """No report page has been published to the bucket yet."""


@dataclass(frozen=True)
class ReportPages:
    store: S3Store
    prefix: str

    def page_prefix(self, version: str, window: str) -> str:
        if not WINDOW_PATTERN.fullmatch(window):
            raise ValueError(f"{window!r} is not a report window label")
        return f"{self.prefix}{check_version(version)}/{window}/"

    @property
    def latest_key(self) -> str:
        return self.prefix + LATEST

    def uri(self, key: str) -> str:
        return f"s3://{self.store.bucket}/{key}"

    def publish(self, version: str, window: str, files: dict[str, bytes]) -> str:
        """Replace the page of (version, window) with ``files`` (index.html last), then point latest.json at it;
        returns the page's key."""
        prefix = self.page_prefix(version, window)
        objects = {n: (d, "text/html" if n.endswith(".html") else "application/json") for n, d in files.items()}
        self.store.replace_prefix(prefix, objects, commit_last=REPORT_FILE)
        latest = {"version": version, "window": window, "page": prefix + REPORT_FILE}
        self.store.put(self.latest_key, json.dumps(latest).encode(), "application/json")
        return prefix + REPORT_FILE

    def latest(self) -> dict[str, Any]:
        if not self.store.exists(self.latest_key):
            raise NoReport(f"no report yet in {self.uri(self.prefix)}: run `make demo` or materialize topic_report")
        latest = json.loads(self.store.get(self.latest_key))
        self.page_prefix(latest["version"], latest["window"])  # validated before it names a local path
        return latest

    def presigned_url(self, key: str, seconds: int = PRESIGNED_SECONDS) -> str:
        """An https link to one page object that works without AWS credentials until it expires."""
        return self.store.presigned_url(key, seconds)


def download_latest_report(pages: ReportPages, dest: Path) -> tuple[Path, str]:
    """Download the latest page from the bucket into ``dest/<version>/<window>/``; returns (local index.html,
    its s3:// URI). The bucket stays the system of record: this copy is only for opening in a browser."""
    latest = pages.latest()
    prefix = pages.page_prefix(latest["version"], latest["window"])
    local = dest / latest["version"] / latest["window"]
    local.mkdir(parents=True, exist_ok=True)
    pages.store.download_prefix(prefix, local)
    return local / REPORT_FILE, pages.uri(prefix + REPORT_FILE)
