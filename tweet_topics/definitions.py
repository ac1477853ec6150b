"""The code location: every definition under ``tweet_topics/defs`` (one folder per domain) plus the resources.

``load_definitions_from_package_module`` walks the defs package like ``dg.load_from_defs_folder`` does, without
the components machinery, which spends ~1 s discovering component libraries at every load (this project has no
components); that keeps ``dagster definitions validate`` under 3 s.
"""

import dagster as dg

from tweet_topics.known_warnings import filter_known_warnings

filter_known_warnings()  # before the defs package is imported: it opts into the preview/beta APIs listed there

import tweet_topics.defs  # noqa: E402
from tweet_topics.defs.resources import build_resources  # noqa: E402
from tweet_topics.settings import get_settings  # noqa: E402

defs = dg.Definitions.merge(
    dg.load_definitions_from_package_module(tweet_topics.defs),
    dg.Definitions(resources=build_resources(get_settings())),
)
