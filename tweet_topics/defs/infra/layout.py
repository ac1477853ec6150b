"""Where each dataset lives in the bucket and on local disk; one resource so tests can point elsewhere."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from tweet_topics.lib.layout import hour_prefix


class Layout(dg.ConfigurableResource):
    raw_prefix: str = "raw/tweets/"
    combined_prefix: str = "combined/"
    filtered_prefix: str = "filtered/"
    corpus_prefix: str = "corpus/"
    models_prefix: str = "models/"
    predictions_prefix: str = "predictions/"
    reports_prefix: str = "reports/"
    streamer_prefix: str = "streamer/"
    firehose_stream: str = "tweet-topics-delivery"
    local_dir: str = ".local"

    def raw(self, hour: datetime) -> str:
        return hour_prefix(self.raw_prefix, hour)

    def combined(self, hour: datetime) -> str:
        return hour_prefix(self.combined_prefix, hour)

    def filtered(self, hour: datetime) -> str:
        return hour_prefix(self.filtered_prefix, hour)

    def predictions(self, hour: datetime) -> str:
        return hour_prefix(self.predictions_prefix, hour)
