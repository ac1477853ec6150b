"""The ``original/`` dataset's keys (issue 25), exposed as ``Storage.original`` by the catalog.

Plain Python on purpose: the streamer writes originals too, and importing the catalog there would import Dagster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from tweet_topics.storage.keys import hour_prefix

_RUN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")  # lib.ledger's run ids


@dataclass(frozen=True)
class OriginalKeys:
    """What X sent (or the archive's line) per raw hour: gzip NDJSON, one object per batch, one payload a line."""

    prefix: str

    def hour(self, hour: datetime) -> str:
        """``<original prefix>YYYY/MM/DD/HH/``."""
        return hour_prefix(self.prefix, hour)

    def imported(self, hour: datetime, digest: str) -> str:
        """The originals of the imported raw object with the same content digest, in its order."""
        return f"{self.hour(hour)}{digest[:32]}.ndjson.gz"

    def streamed(self, hour: datetime, run: str, first: int, last: int) -> str:
        """The originals of one streamer batch (delivery run, its first and last sequence numbers)."""
        if not _RUN.match(run):
            raise ValueError(f"not a delivery run id: {run!r}")
        return f"{self.hour(hour)}stream-{run}-{first:010d}-{last:010d}.ndjson.gz"
