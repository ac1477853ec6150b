"""Start, stop and inspect the local moto server; keep S3 contents across restarts.

moto holds state in memory, so ``down`` snapshots every bucket to ``.local/snapshot/`` and ``up`` restores it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tweet_topics.local.processes import process_alive, terminate
from tweet_topics.settings import Settings
from tweet_topics.storage.clients import ensure_bucket, make_client


@dataclass(frozen=True)
class StackStatus:
    running: bool
    endpoint: str | None
    pid: int | None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status(settings: Settings) -> StackStatus:
    if not settings.stack_file.exists():
        return StackStatus(False, None, None)
    info = json.loads(settings.stack_file.read_text())
    if not process_alive(info["pid"]):
        return StackStatus(False, info["endpoint"], info["pid"])
    return StackStatus(True, info["endpoint"], info["pid"])


def _wait_ready(endpoint: str, timeout: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/", timeout=1):
                pass
            return
        except Exception as exc:  # connection refused until the server listens; HTTP errors mean it is up
            if hasattr(exc, "code"):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server at {endpoint} did not start within {timeout:.0f}s") from exc
            time.sleep(0.1)


def up(settings: Settings, port: int | None = None) -> StackStatus:
    """Start the moto server (idempotent) and restore the last snapshot."""
    current = status(settings)
    if current.running:
        return current
    settings.local_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = open(settings.local_dir / "moto.log", "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # AWS-managed IAM policies (e.g. AmazonSSMManagedInstanceCore) exist in real accounts; load them.
        env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
    )
    _wait_ready(endpoint)
    settings.stack_file.write_text(json.dumps({"pid": proc.pid, "endpoint": endpoint, "port": port}))
    restore(settings, endpoint)
    return StackStatus(True, endpoint, proc.pid)


def down(settings: Settings, save: bool = True) -> StackStatus:
    """Snapshot S3 (unless ``save`` is False) and stop the server (idempotent)."""
    current = status(settings)
    if current.running and current.pid:
        if save and current.endpoint:
            snapshot(settings, current.endpoint)
        terminate(current.pid, timeout=10, group=True)
    settings.stack_file.unlink(missing_ok=True)
    return StackStatus(False, None, None)


def _snapshot_dir(settings: Settings) -> Path:
    return settings.local_dir / "snapshot"


def snapshot(settings: Settings, endpoint: str) -> int:
    """Copy every object of every bucket to disk; returns the object count. Replaces the old snapshot."""
    s3 = make_client(settings, "s3", endpoint_url=endpoint)
    target = _snapshot_dir(settings)
    staging = target.with_name("snapshot.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "objects").mkdir(parents=True)
    manifest: list[dict[str, Any]] = []
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                digest = hashlib.sha1(f"{name}/{obj['Key']}".encode()).hexdigest()
                s3.download_file(name, obj["Key"], str(staging / "objects" / digest))
                manifest.append({"bucket": name, "key": obj["Key"], "file": digest})
        if not any(m["bucket"] == name for m in manifest):
            manifest.append({"bucket": name, "key": None, "file": None})
    (staging / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return sum(1 for m in manifest if m["key"])


def restore(settings: Settings, endpoint: str) -> int:
    """Re-create buckets and objects from the snapshot, if there is one; returns the object count."""
    manifest_file = _snapshot_dir(settings) / "manifest.json"
    if not manifest_file.exists():
        return 0
    s3 = make_client(settings, "s3", endpoint_url=endpoint)
    manifest = json.loads(manifest_file.read_text())
    created: set[str] = set()
    for entry in manifest:
        if entry["bucket"] not in created:
            ensure_bucket(s3, entry["bucket"], settings.region)
            created.add(entry["bucket"])
        if entry["key"]:
            s3.upload_file(str(_snapshot_dir(settings) / "objects" / entry["file"]), entry["bucket"], entry["key"])
    return sum(1 for m in manifest if m["key"])
