"""apply_deletions: honour X's deletions and compliance results across every stored dataset (issue 25).

Config: a text file of tweet ids, or the result file of an X batch compliance job (JSON lines with ``id`` and
``action``), on the run's host or as an s3:// URI. What each action does is in ``lib/archive/compliance.py``; the
storage side in ``tweet_topics/archive/deletions.py``. Run metadata carries counts only, never an id.
"""

import dagster as dg
from pydantic import Field

from tweet_topics.archive.deletions import apply_deletions as apply
from tweet_topics.archive.importer import s3_opener
from tweet_topics.lib.archive.compliance import read_actions
from tweet_topics.lib.archive.inputs import ArchiveError, open_binary, read_lines
from tweet_topics.storage.catalog import Storage


class DeletionConfig(dg.Config):
    ids_file: str = Field(description="tweet ids (one per line) or X compliance results (JSON lines: id, action)")


@dg.op
def apply_deletions_op(context: dg.OpExecutionContext, config: DeletionConfig, storage: Storage) -> dict:
    """Rewrite the hours holding the ids, re-commit what is built from them, record tombstones and an audit entry."""
    try:
        stream = open_binary(config.ids_file, s3_opener(storage))
        actions = read_actions(line.data for line in read_lines(config.ids_file, stream))
    except ArchiveError as exc:
        raise dg.Failure(description=str(exc)) from None
    if actions.unreadable:
        context.log.warning(f"{len(actions.unreadable)} unreadable lines, first at line {actions.unreadable[0][0]}")
    audit = apply(storage, actions, context.run_id, progress=context.log.info)
    context.log.info(
        f"{audit['ids']} ids: {audit['records_removed']} records removed, {audit['records_scrubbed']} scrubbed in "
        f"{len(audit['hours'])} hours; materialize topic_report again so the report no longer shows them"
    )
    context.add_output_metadata(
        {k: v for k, v in audit.items() if isinstance(v, int)}
        | {"hours": dg.MetadataValue.json(audit["hours"]), "by_action": dg.MetadataValue.json(audit["by_action"])}
    )
    return audit


@dg.job(description="remove tweets deleted on X (ids or compliance results) from every stored dataset")
def apply_deletions() -> None:
    apply_deletions_op()
