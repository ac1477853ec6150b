"""The production user path, for real: Postgres-backed deploy/dagster.yaml, a gRPC code server, the webserver
and the daemon; a backfill of 6 hourly partitions launched through the webserver's GraphQL API (what the UI
sends), run by the daemon, checked in Postgres-backed asset status and in S3: each hour has a different volume and
each partition's latest materialization shows its own count (issue 24). Loopback only."""

import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from tweet_topics.storage.keys import parse_partition_key
from tweet_topics_tests.e2e.processes import Processes, free_port, http_ok, port_open, postgres, wait_until
from tweet_topics_tests.helpers import START, seed

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOURS = 6

LAUNCH = """mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
  }
}"""
STATUS = """query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status numCancelable }
    ... on PythonError { message }
  }
}"""
PARTITIONS = """query($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    ... on AssetNode { partitionStats { numMaterialized numFailed } }
  }
}"""

LATEST = """query($path: [String!]!, $partition: String!) {
  assetNodeOrError(assetKey: {path: $path}) {
    ... on AssetNode {
      assetMaterializations(partitions: [$partition], limit: 1) {
        partition
        metadataEntries { label ... on IntMetadataEntry { intValue } }
      }
    }
  }
}"""


def graphql(port: int, query: str, variables: dict) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"GraphQL HTTP {exc.code}: {exc.read()[:2000]!r}") from None
    assert "errors" not in payload, payload
    return payload["data"]


def run_backfill(port: int, keys: list[str], procs: Processes) -> str:
    launched = graphql(
        port,
        LAUNCH,
        {
            "params": {
                "partitionNames": keys,
                "assetSelection": [{"path": ["combined_tweets"]}, {"path": ["filtered_tweets"]}],
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    def done():
        procs.check_alive()
        status = graphql(port, STATUS, {"id": backfill_id})["partitionBackfillOrError"]["status"]
        return status if status not in ("REQUESTED", "CANCELING") else None

    status = wait_until(done, "the daemon to finish the backfill", timeout=150, interval=1)
    assert status in ("COMPLETED", "COMPLETED_SUCCESS"), (status, procs.tail("daemon"))
    return backfill_id


def test_ui_backfill_of_six_hours_through_webserver_and_daemon(resources, bucket, tmp_path):
    expected_by_hour: dict[str, dict] = {}
    for i in range(HOURS):  # a different volume every hour: 30, 37, 44, ... tweets
        summary = seed(resources, hours=1, tweets_per_hour=30 + 7 * i, start=START + timedelta(hours=i), seed_value=i)
        expected_by_hour.update(summary.expected)
    keys = sorted(expected_by_hour)
    assert len({e["kept"] for e in expected_by_hour.values()}) == HOURS
    store, layout = resources["storage"].s3, resources["storage"]
    endpoint = resources["aws"].endpoint_url
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = Processes(logs)
    grpc_port, web_port = free_port(), free_port()
    with postgres() as pg_env:
        try:
            env = {
                **os.environ,
                **pg_env,
                "DAGSTER_HOME": str(home),
                "TWEET_TOPICS_AWS_ENDPOINT_URL": endpoint,
                # Compute logs go to S3 via the production S3ComputeLogManager; point boto3 at moto.
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "TWEET_TOPICS_BUCKET": store.bucket,
            }
            workspace = tmp_path / "workspace.yaml"
            workspace.write_text(
                f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {grpc_port}\n"
                "      location_name: tweet_topics\n"
            )
            procs.start(
                "code-server",
                [
                    str(BIN / "dagster"),
                    "code-server",
                    "start",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(grpc_port),
                    "-m",
                    "tweet_topics.definitions",
                    "--location-name",
                    "tweet_topics",
                ],
                env,
                cwd=ROOT,
            )
            wait_until(lambda: procs.check_alive() or port_open(grpc_port), "the code server", timeout=90)
            procs.start(
                "webserver",
                [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port), "-w", str(workspace)],
                env,
                cwd=ROOT,
            )
            procs.start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], env, cwd=ROOT)
            wait_until(
                lambda: procs.check_alive() or http_ok(f"http://127.0.0.1:{web_port}/server_info"),
                "the webserver",
                timeout=90,
            )

            started = time.monotonic()
            run_backfill(web_port, keys, procs)
            first_duration = time.monotonic() - started
            for path in (["combined_tweets"], ["filtered_tweets"]):
                stats = graphql(web_port, PARTITIONS, {"path": path})["assetNodeOrError"]["partitionStats"]
                assert stats == {"numMaterialized": HOURS, "numFailed": 0}, (path, stats)
            for key in keys:
                hour = parse_partition_key(key)
                meta = layout.combined.read_metadata(hour)
                expected = expected_by_hour[key]
                assert (meta["kept"], meta["malformed"], meta["duplicates"]) == (
                    expected["kept"],
                    expected["malformed"],
                    expected["duplicates"],
                )
                assert layout.filtered.read_parquet(hour, "tweets.parquet").num_rows > 0
                # The partition's latest materialization (what its partition page shows) carries its own count.
                node = graphql(web_port, LATEST, {"path": ["combined_tweets"], "partition": key})["assetNodeOrError"]
                [latest] = node["assetMaterializations"]
                entries = {e["label"]: e.get("intValue") for e in latest["metadataEntries"]}
                assert latest["partition"] == key and entries["kept"] == expected["kept"], (key, entries)
                assert entries["dagster/row_count"] == expected["kept"] and "hours" not in entries
            # (Byte-identical reruns are tested in-process: tweet_topics_tests/defs/hourly/test_hourly_assets.py.)
            wait_until(lambda: any(True for _ in store.list("dagster/compute-logs/")), "compute logs in S3", timeout=60)
            print(f"first backfill took {first_duration:.1f}s")
        finally:
            procs.stop_all()
            for port in (grpc_port, web_port):
                wait_until(lambda p=port: not port_open(p), f"port {port} to be freed", timeout=30)
