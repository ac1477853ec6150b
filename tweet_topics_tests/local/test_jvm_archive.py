"""The local driver's class-data-sharing archive: built once per JDK, Spark jars and conf dir, used by a session
without a word on its output, and harmless (silently unused) where it does not match."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tweet_topics.local import jvm_archive

# A session with the project's local settings and the archive of ``ARCHIVE_DIR``; reports which archives the
# driver JVM mapped.
SESSION = """
import json, os, sys
from pathlib import Path
from pyspark import SparkContext
from pyspark.sql import SparkSession
from tweet_topics.defs.resources import spark_config
from tweet_topics.local import environment, jvm_archive
from tweet_topics.settings import get_settings

jvm_archive.ARCHIVE_DIR = Path(os.environ["ARCHIVE_DIR"])
config = spark_config(get_settings())
config["spark.driver.extraJavaOptions"] = environment.local_driver_java_options(
    "-XX:TieredStopAtLevel=1", *os.environ.get("FORCE_ARCHIVE", "").split())
config["spark.master"] = "local[1]"
builder = SparkSession.builder
for key, value in config.items():
    builder = builder.config(key, value)
spark = builder.getOrCreate()
rows = spark.range(100).selectExpr("id % 3 as k").groupBy("k").count().count()
maps = open(f"/proc/{SparkContext._gateway.proc.pid}/maps").read().splitlines()
print(json.dumps({"rows": rows, "archives": sorted({m.split()[-1] for m in maps if m.endswith(".jsa")})}))
spark.stop()
"""


def _session(archive_dir: Path, **env: str) -> tuple[dict, str]:
    result = subprocess.run(
        [sys.executable, "-c", SESSION],
        env={**os.environ, "ARCHIVE_DIR": str(archive_dir), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    *printed, report = result.stdout.strip().splitlines()
    return json.loads(report), "\n".join(printed) + result.stderr


def test_the_archive_name_follows_the_jdk_the_jars_and_the_conf_dir(tmp_path, monkeypatch):
    jars = tmp_path / "spark" / "jars"
    jars.mkdir(parents=True)
    (jars / "a.jar").write_bytes(b"one")
    monkeypatch.setenv("SPARK_HOME", str(tmp_path / "spark"))
    monkeypatch.delenv("SPARK_CONF_DIR", raising=False)
    first = jvm_archive.archive_path(tmp_path)
    assert first is not None and first.parent == tmp_path and jvm_archive.archive_path(tmp_path) == first
    (jars / "a.jar").write_bytes(b"two, another size")
    upgraded = jvm_archive.archive_path(tmp_path)
    assert upgraded != first
    same_conf_family = upgraded.name.rsplit("-", 1)[0] == first.name.rsplit("-", 1)[0]
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    other_conf = jvm_archive.archive_path(tmp_path)
    assert same_conf_family and other_conf.name.rsplit("-", 1)[0] != first.name.rsplit("-", 1)[0]
    assert jvm_archive.java_options(tmp_path) == ()  # nothing built: the JVM starts as before


def test_a_built_archive_is_used_quietly_and_a_mismatched_one_is_ignored_quietly(tmp_path, monkeypatch):
    monkeypatch.delenv("SPARK_CONF_DIR", raising=False)
    built = jvm_archive.ensure(tmp_path, full=False)
    assert built is not None and built.is_file() and built == jvm_archive.archive_path(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([built.name, "build.lock"])  # no partial left
    assert jvm_archive.ensure(tmp_path, full=False) == built  # built once

    used, output = _session(tmp_path)
    assert used["rows"] == 3 and str(built) in used["archives"]
    assert "cds" not in output.lower() and "archive" not in output.lower()

    # Another conf dir puts another entry first on the class path: the JVM refuses this archive, silently.
    conf = tmp_path / "conf"
    conf.mkdir()
    forced = f"-XX:SharedArchiveFile={built} " + " ".join(jvm_archive.QUIET)
    ignored, output = _session(tmp_path / "none", SPARK_CONF_DIR=str(conf), FORCE_ARCHIVE=forced)
    assert ignored["rows"] == 3 and str(built) not in ignored["archives"]
    assert "cds" not in output.lower() and "archive" not in output.lower()


def test_a_build_stopped_midway_leaves_no_file_and_no_jvm(tmp_path):
    """SIGTERM (``make dev`` stopping its background build): the child's JVM is killed with it, so it cannot write
    its archive after the partial file was removed."""
    import signal
    import time

    build = (
        "import pathlib; from tweet_topics.local import jvm_archive as j; "
        f"j.ARCHIVE_DIR = pathlib.Path({str(tmp_path)!r}); j.main()"
    )
    builder = subprocess.Popen([sys.executable, "-c", build], stdout=subprocess.DEVNULL)

    def jvms() -> list[str]:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                command = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if proc.name.isdigit() and b"java" in command and str(tmp_path).encode() in command:
                found.append(proc.name)
        return found

    deadline = time.monotonic() + 120
    while not jvms() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert jvms(), "the build never started its JVM"
    builder.send_signal(signal.SIGTERM)
    assert builder.wait(timeout=60) != 0
    time.sleep(3)  # a surviving JVM would be dumping its archive now
    assert jvms() == []
    assert [p.name for p in tmp_path.iterdir()] == ["build.lock"]
