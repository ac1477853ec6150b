"""The code location: every definition under ``tweet_topics/defs`` (one folder per domain) plus the resources.

``load_definitions_from_package_module`` walks the defs package like ``dg.load_from_defs_folder`` does, without
the components machinery, which spends ~1 s discovering component libraries at every load (this project has no
components); that keeps ``dagster definitions validate`` under 3 s.
"""

import gc

import dagster as dg

# Objects that live as long as the process (Dagster's modules, then these definitions) are moved out of the
# garbage collector's view (gc.freeze), so its full collections stop walking them again and again: those walks
# were ~1 s of `dagster definitions validate` (median 3.2 -> 2.2 s), paid by every process that loads them.
# The price: a reference cycle that was already garbage at a freeze is never freed (what the imports left behind).
gc.freeze()

from tweet_topics.known_warnings import filter_known_warnings  # noqa: E402

filter_known_warnings()  # before the defs package is imported: it opts into the preview/beta APIs listed there

import tweet_topics.defs  # noqa: E402
from tweet_topics.defs.resources import build_resources  # noqa: E402
from tweet_topics.settings import get_settings  # noqa: E402

# One owner per domain (a domain's assets share its group name), declared once here rather than on every asset:
# the UI filters by owner and shows who to ask about an asset. A new group without an owner fails the load.
DOMAIN_OWNERS = {
    "ingest": "team:data-platform",
    "hourly": "team:data-platform",
    "topics": "team:topic-modeling",
    "live": "team:topic-modeling",
    "reports": "team:analytics",
    "infra": "team:platform",
}


def _with_domain_owner(spec: dg.AssetSpec) -> dg.AssetSpec:
    if spec.group_name not in DOMAIN_OWNERS:
        raise ValueError(f"asset {spec.key.to_user_string()}: group {spec.group_name!r} has no entry in DOMAIN_OWNERS")
    return spec.replace_attributes(owners=[DOMAIN_OWNERS[spec.group_name]])


defs = dg.Definitions.merge(
    dg.load_definitions_from_package_module(tweet_topics.defs).map_asset_specs(func=_with_domain_owner),
    dg.Definitions(resources=build_resources(get_settings())),
)
gc.freeze()
