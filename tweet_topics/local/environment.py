"""The project-local environment ``make demo`` and ``make dev`` share, written by the project so a first run is
quiet and the UI shows the hours that hold data:

- ``DAGSTER_HOME/dagster.yaml`` (telemetry off; without a file Dagster warns on every start);
- ``.env`` in the project root with ``TWEET_TOPICS_PARTITIONS_START`` (``dagster dev`` and the other ``dagster``
  commands load ``.env`` from their working directory; an exported variable still wins, see ``dotenv_line``);
- a Spark conf dir whose ``log4j2.properties`` sets the JVM's log levels (``SPARK_CONF_DIR``), and whose
  ``spark-defaults.conf`` keeps netlib from trying a native BLAS the machine does not have;
- the local driver's JVM options (``local_driver_java_options``), with the class-data-sharing archive
  ``jvm_archive.py`` builds.
"""

from __future__ import annotations

import ctypes.util
import os
import re
from datetime import datetime
from pathlib import Path

from tweet_topics.local import jvm_archive
from tweet_topics.settings import PARTITION_FORMAT, PROJECT_ROOT, Settings, env_name

DOTENV = PROJECT_ROOT / ".env"
PARTITIONS_VAR = env_name("partitions_start")

CONCURRENCY_YAML = """\
# One Spark step at a time (topic_corpus, topic_model, tweet_topic_assignments are in the pool "spark"): they
# share the one local Spark driver, however the run was launched (jobs, eager automation, the UI's asset page).
concurrency:
  pools:
    granularity: op
    default_limit: 1
"""
DAGSTER_YAML = (
    """\
# Written by tweet_topics (make demo / make dev) for the local instance; edit freely, it is not overwritten
# (a file from before the Spark pool existed gets the concurrency block appended once).
telemetry:
  enabled: false
"""
    + CONCURRENCY_YAML
)

# Spark's own default profile logs every stage at INFO/WARN; the demo shows its progress with its own step lines.
# Known lines silenced at every level: the optimizer's hint about caching (our input is cached one step earlier:
# MLlib checks the RDD it derives, not ours), netlib's note when it falls back to its Java BLAS, and Hadoop's
# missing native library (unused: we read and write through boto3/pyarrow, not HDFS).
LOG4J2 = """\
# Written by tweet_topics: Spark's JVM log levels for the local demo and dev (SPARK_CONF_DIR points here).
rootLogger.level = {level}
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{yy/MM/dd HH:mm:ss}} %p %c{{1}}: %m%n%ex
# PySpark's gateway starts logging as a shell does: unless its logger has a level, Spark resets the console to
# WARN and prints "Setting default log level to WARN" on stderr.
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = {level}
logger.lda.name = org.apache.spark.mllib.clustering.OnlineLDAOptimizer
logger.lda.level = error
logger.netlib.name = dev.ludovic.netlib
logger.netlib.level = error
logger.hadoop.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop.level = error
logger.jetty.name = org.sparkproject.jetty
logger.jetty.level = warn
logger.parquet.name = org.apache.parquet.CorruptStatistics
logger.parquet.level = error
"""


# netlib (MLlib's BLAS) dlopens libblas.so.3 and, when it is missing, prints "netlib-blas: JNI_OnLoad: dlopen
# (libblas.so.3) failed" from native code, which no log level reaches. Without a system BLAS we tell it not to try;
# with one (Debian: libopenblas0) MLlib uses it.
NO_NATIVE_BLAS_OPTION = "-Ddev.ludovic.netlib.blas.allowNative=false"
NO_NATIVE_BLAS = f"spark.driver.extraJavaOptions {NO_NATIVE_BLAS_OPTION}\n"


def local_driver_java_options(*options: str, archive: bool = True) -> str:
    """The local driver's JVM options: ``options``, the no-native-BLAS flag when there is no system BLAS, and the
    project's class-data-sharing archive when one was built for this JDK, Spark and conf dir (``jvm_archive``).

    A session that sets ``spark.driver.extraJavaOptions`` replaces spark-defaults.conf's value, so the flag the
    conf dir writes must be repeated there, or netlib's dlopen message comes back."""
    extra = () if ctypes.util.find_library("blas") else (NO_NATIVE_BLAS_OPTION,)
    shared = jvm_archive.java_options() if archive else ()
    return " ".join((*options, *extra, *shared))


def dagster_home(settings: Settings) -> Path:
    """``DAGSTER_HOME`` (set in the environment when unset) with the project's ``dagster.yaml`` in it."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.local_dir / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    elif "concurrency:" not in config.read_text():
        with config.open("a") as out:
            out.write("\n" + CONCURRENCY_YAML)
    return home


def spark_conf_dir(settings: Settings, level: str) -> Path:
    """A ``SPARK_CONF_DIR`` whose log4j2 root level is ``level`` (error for the demo, warn for dev)."""
    path = settings.local_dir / "spark_conf" / level
    path.mkdir(parents=True, exist_ok=True)
    (path / "log4j2.properties").write_text(LOG4J2.format(level=level))
    defaults = path / "spark-defaults.conf"
    if ctypes.util.find_library("blas") is None:
        defaults.write_text(NO_NATIVE_BLAS)
    else:
        defaults.unlink(missing_ok=True)
    return path


def dotenv_line(start: str) -> str:
    """``VAR=${VAR:-start}``: ``start`` unless the variable is exported, so a shell export (and each test's own
    start) wins over the file, as with every other setting; plain ``VAR=start`` would override the environment."""
    return f"{PARTITIONS_VAR}=${{{PARTITIONS_VAR}:-{start}}}"


def read_partitions_start(path: Path = DOTENV) -> str | None:
    """The start written in ``.env``, if any (the default part of ``VAR=${VAR:-start}`` or a plain value)."""
    if not path.exists():
        return None
    pattern = re.compile(rf"^{PARTITIONS_VAR}=(?:\$\{{{PARTITIONS_VAR}:-(?P<default>[^}}]*)\}}|(?P<plain>\S+))\s*$")
    for line in path.read_text().splitlines():
        found = pattern.match(line.strip())
        if found:
            return found["default"] or found["plain"]
    return None


def write_partitions_start(first_hour: datetime, path: Path = DOTENV) -> str:
    """Record the first seeded day in ``.env``, keeping an earlier start already there (older demo data stays
    visible) and every other line of the file; returns the start now in the file."""
    start = first_hour.replace(hour=0, minute=0, second=0, microsecond=0).strftime(PARTITION_FORMAT)
    current = read_partitions_start(path)
    if current and _valid(current):
        start = min(start, current)  # the format sorts like the time it names
    lines = [] if not path.exists() else path.read_text().splitlines()
    kept = [line for line in lines if not line.strip().startswith(f"{PARTITIONS_VAR}=")]
    header = "# TWEET_TOPICS_PARTITIONS_START: the first hourly partition; written by `make demo` (see README)."
    kept = [line for line in kept if line != header]
    path.write_text("\n".join([*kept, header, dotenv_line(start)]) + "\n")
    return start


def _valid(value: str) -> bool:
    try:
        return datetime.strptime(value, PARTITION_FORMAT).strftime(PARTITION_FORMAT) == value
    except ValueError:
        return False
