"""A snapshot of the asset graph (keys, deps, groups, partitions, checks, jobs): a refactor that changes the graph
shows up here. After an intended change: ``UPDATE_SNAPSHOTS=1 pytest tweet_topics_tests/test_asset_graph.py``.
"""

import json
import os
from pathlib import Path

from tweet_topics.definitions import defs

SNAPSHOT = Path(__file__).parent / "data" / "asset_graph.json"


def graph_snapshot() -> dict:
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "group": node.group_name,
            "owners": list(node.owners),
            "partitions": None
            if partitions is None
            else f"{type(partitions).__name__}(start={partitions.start:%Y-%m-%d-%H:%M}, tz={partitions.timezone})",
            "checks": sorted(c.name for c in node.check_keys),
            "materializable": node.is_materializable,
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")),
        "sensors": sorted(s.name for s in repo.sensor_defs),
        "resources": sorted(defs.resources or {}),
    }


def test_asset_graph_matches_snapshot():
    current = graph_snapshot()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())
