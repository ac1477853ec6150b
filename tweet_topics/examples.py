"""The command lines README's "From the command line" shows, for given hours: ``make demo`` prints them with its
own hours, and a test runs them, so README's examples cannot go stale again.

``dg`` (Dagster's project CLI, ``dg launch``; ``dagster asset materialize`` is superseded) comes from the ``dev``
extra, which ``make demo`` installs.
"""

from __future__ import annotations

HOURLY = "combined_tweets,filtered_tweets"


def cli_examples(first: str, last: str) -> list[tuple[str, str]]:
    """(comment, command) pairs over partition keys ``first``..``last`` (YYYY-MM-DD-HH:00)."""
    return [
        ("one hour", f"dg launch --assets {HOURLY} --partition {first}"),
        ("a range, as one run", f"dg launch --assets {HOURLY} --partition-range {first}...{last}"),
        ("fit a new model version", "dg launch --job topics_job"),
        ("score the range with it", f"dg launch --assets tweet_topic_assignments --partition-range {first}...{last}"),
        ("rebuild the report", "dg launch --job report_job"),
    ]


def render(first: str, last: str) -> str:
    """The examples as a shell block body, one ``# comment`` line before each command."""
    return "\n".join(f"# {comment}\n{command}" for comment, command in cli_examples(first, last))
