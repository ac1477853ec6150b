"""The hourly assets over partitions that start on the real sample's day (2021-03-23; the suite starts in 2026)."""

import dagster as dg

from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets

ARCHIVE_HOURS = dg.HourlyPartitionsDefinition(start_date="2021-03-23-00:00", timezone="UTC", fmt="%Y-%m-%d-%H:%M")


def from_2021(asset: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """The same asset (same code, same checks) over partitions that start at the sample's day."""
    attributes = asset.get_attributes_dict()
    return asset.__class__.dagster_internal_init(
        **{
            **attributes,
            "specs": [spec.replace_attributes(partitions_def=ARCHIVE_HOURS) for spec in asset.specs],
            "check_specs_by_output_name": {
                name: spec._replace(partitions_def=ARCHIVE_HOURS)
                for name, spec in attributes["check_specs_by_output_name"].items()
            },
        }
    )


RAW_2021 = RAW_TWEETS.replace_attributes(partitions_def=ARCHIVE_HOURS)
COMBINED_2021 = from_2021(combined_tweets)
FILTERED_2021 = from_2021(filtered_tweets)
