"""A real Spark standalone cluster for the tests: one master and two workers, separate JVM processes.

Started from the installed pyspark (``spark-class``, which execs the JVM, so the pid we hold is the JVM's) on
127.0.0.1 with 1 core / 1 GiB and a work dir per worker; stopped by pid. The workers share this machine's disk,
so a local directory serves as the shared dir for Spark ML models.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tweet_topics.local.processes import process_alive, terminate


@dataclass(frozen=True)
class SparkCluster:
    master_url: str
    ui_url: str
    pids: tuple[int, ...]  # master, worker, worker (JVMs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive_workers(ui_url: str) -> int:
    try:
        with urllib.request.urlopen(f"{ui_url}/json/", timeout=2) as response:
            return int(json.loads(response.read())["aliveworkers"])
    except (OSError, ValueError, KeyError):
        return 0


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkCluster]:
    import pyspark

    home = Path(pyspark.__file__).parent
    spark_class = str(home / "bin" / "spark-class")
    root = tmp_path_factory.mktemp("spark-cluster")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOG_DIR": str(root / "logs"),
    }
    port, ui_port = _free_port(), _free_port()
    master_url, ui_url = f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui_port}"
    processes = []

    def start(name: str, args: list[str]) -> None:
        log = open(root / f"{name}.log", "wb")  # noqa: SIM115 - the process keeps writing after this returns
        processes.append(subprocess.Popen([spark_class, *args], env=env, stdout=log, stderr=subprocess.STDOUT))

    start(
        "master",
        [
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui_port),
        ],
    )
    for n in (1, 2):
        work = root / f"worker-{n}"
        work.mkdir()
        start(
            f"worker-{n}",
            [
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "1g",
                "--work-dir",
                str(work),
                "--webui-port",
                str(_free_port()),
                master_url,
            ],
        )
    try:
        deadline = time.monotonic() + 90
        while _alive_workers(ui_url) < 2:
            dead = [p.args[1] for p in processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = {p.name: p.read_text()[-2000:] for p in root.glob("*.log")}
                pytest.fail(f"Spark cluster did not start (exited: {dead}): {logs}")
            time.sleep(0.3)
        yield SparkCluster(master_url, ui_url, tuple(p.pid for p in processes))
    finally:
        for process in reversed(processes):
            if process_alive(process.pid):
                terminate(process.pid, timeout=10)
            process.wait(timeout=10)
