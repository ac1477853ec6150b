"""Jobs a user launches from the UI or CLI for the topic chain and the report.

One Spark step at a time comes from the Spark assets' pool ("spark"), not from job tags; the assignments job's
partitions follow from its hourly assets."""

import dagster as dg

topics_job = dg.define_asset_job(
    "topics_job",
    selection=dg.AssetSelection.assets("topic_corpus", "topic_model", "topic_terms"),
    description="Rebuild the corpus from filtered hours, fit a new model version, write its topic terms.",
    # One process for all three steps: the Spark session (JVM, Python workers) starts once per run, not once
    # per step (two Spark applications of ~35 s and ~45 s before, issue 27). The steps run in sequence anyway.
    executor_def=dg.in_process_executor,
)

assignments_job = dg.define_asset_job(
    "assignments_job",
    selection=dg.AssetSelection.assets("tweet_topic_assignments", "topic_trends"),
    description="Score hours with the latest (or a pinned) model version, then their topic trends; backfill a range "
    "to re-score it.",
)

report_job = dg.define_asset_job("report_job", selection=dg.AssetSelection.assets("topic_report"))
