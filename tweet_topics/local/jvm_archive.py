"""A class-data-sharing (AppCDS) archive for the local Spark driver JVM, built by the project and used when present.

Why: a fresh Spark driver loads, verifies and links ~10,000 classes from ~250 jars before and during its first
queries; on 2 cores that was most of a short topic run's session start and much of its first SQL jobs (issue 27).
A dynamic CDS archive (Java 13+: ``-XX:ArchiveClassesAtExit`` once, then ``-XX:SharedArchiveFile``) maps those
classes already parsed from one file.

The JVM uses an archive only with the JDK, jars and class path it was written with (the class path starts with
``SPARK_CONF_DIR``), so the file name carries a hash of all of them: another Spark or Java, or another conf dir,
looks for another file, and a missing one only costs the old start-up time. A truncated archive would crash the
JVM, so one is built in a separate process into a private file, checked by a JVM that must map it
(``-Xshare:on``), and only then renamed into place (atomic); one build at a time (a lock); archives of other
versions for the same conf dir are deleted. Local sessions only: prod and cluster settings never name it. The
archive lives under ``.local/jvm`` (git-ignored), shared by every local session of this checkout.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tweet_topics.settings import PROJECT_ROOT

ARCHIVE_DIR = PROJECT_ROOT / ".local" / "jvm"
# CDS reports a stale or mismatched archive as a warning on stdout; a stale archive is harmless (the JVM starts
# without it), so its messages must not reach users or the quiet tests.
QUIET = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")
# Environment variables the Spark launcher builds the driver's class path from (besides the jars).
CLASSPATH_VARS = ("SPARK_CONF_DIR", "HADOOP_CONF_DIR", "YARN_CONF_DIR", "SPARK_DIST_CLASSPATH", "SPARK_CLASSPATH")


def _java_home() -> Path | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        return Path(home).resolve()
    java = shutil.which("java")
    return Path(java).resolve().parent.parent if java else None


def _spark_home() -> Path:
    home = os.environ.get("SPARK_HOME")
    if home:
        return Path(home).resolve()
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _stamp(path: Path) -> list[object]:
    try:
        stat = path.stat()
    except OSError:
        return [str(path), None]
    return [str(path), stat.st_size, stat.st_mtime_ns]


def archive_path(directory: Path | None = None) -> Path | None:
    """Where the archive for this JDK, these Spark jars and this class path environment is (or would be)."""
    directory = directory or ARCHIVE_DIR
    java = _java_home()
    if java is None:
        return None
    jars = sorted((_spark_home() / "jars").glob("*.jar"))
    version = [_stamp(java / "lib" / "server" / "libjvm.so"), _stamp(java / "lib" / "modules")]
    version += [_stamp(jar) for jar in jars]
    env = {name: os.environ.get(name, "") for name in CLASSPATH_VARS}
    conf = env["SPARK_CONF_DIR"]
    env["SPARK_CONF_DIR"] = str(Path(conf).resolve()) if conf else ""
    family = hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()[:12]
    digest = hashlib.sha256(json.dumps(version).encode()).hexdigest()[:12]
    return directory / f"spark-driver-{family}-{digest}.jsa"


def java_options(directory: Path | None = None) -> tuple[str, ...]:
    """The driver options that use the archive when it exists (nothing otherwise: the JVM starts as before)."""
    path = archive_path(directory)
    if path is None or not path.is_file() or any(c.isspace() or c in "\"'" for c in str(path)):
        return ()
    return (f"-XX:SharedArchiveFile={path}", *QUIET)


def ensure(directory: Path | None = None, timeout: float = 600.0, full: bool = True) -> Path | None:
    """Build the archive for the current environment unless it exists or another process is building it.

    ``full=False`` records only a session's start and one query (a smaller archive, for tests). Returns its path,
    or None when it could not be built (no Java, no room, a failed build): never raises for that, since a run
    without the archive is only slower."""
    path = archive_path(directory)
    if path is None:
        return None
    if path.is_file():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.parent / "build.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # another process builds it; this run starts without it
            for stale in [*path.parent.glob("*.partial"), *path.parent.glob("*.classpath")]:
                stale.unlink(missing_ok=True)  # left by a build that was killed (we hold the lock)
            if not path.is_file():
                _build(path, timeout, full)
    except (OSError, subprocess.SubprocessError):
        return None
    return path if path.is_file() else None


def _build(path: Path, timeout: float, full: bool) -> None:
    """Dump the classes of a small topic run in a child process, check the file maps, rename it into place."""
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial")
    classpath_file = path.with_name(f"{path.stem}.{os.getpid()}.classpath")
    workload = [sys.executable, "-m", "tweet_topics.local.archive_workload", str(partial), str(classpath_file)]
    workload += [] if full else ["--session-only"]
    try:
        _run_group(workload, timeout)
        java = _java_home()
        assert java is not None
        check = [str(java / "bin" / "java"), "-Xshare:on", f"-XX:SharedArchiveFile={partial}", *QUIET]
        check += ["-cp", classpath_file.read_text(), "-version"]
        subprocess.run(check, check=True, timeout=120, capture_output=True)
        os.replace(partial, path)
        for old in path.parent.glob(path.name.rsplit("-", 1)[0] + "-*.jsa"):
            if old != path:
                old.unlink(missing_ok=True)  # another JDK or Spark than this one: never used again
    finally:
        partial.unlink(missing_ok=True)
        classpath_file.unlink(missing_ok=True)


def _run_group(command: list[str], timeout: float) -> None:
    """Run ``command`` in its own process group; stopped early (timeout, Ctrl+C, SIGTERM), the whole group is
    killed, so the child's JVM does not go on to write its archive after the partial file was removed."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        code = child.wait(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise
    if code:
        raise subprocess.CalledProcessError(code, command)


def start_background_build(env: Mapping[str, str]) -> subprocess.Popen | None:
    """``python -m tweet_topics.local.jvm_archive`` for ``env`` (its ``SPARK_CONF_DIR``), at low priority, unless
    that archive exists: ``make dev`` builds its conf dir's archive while the UI is in use."""
    saved = {name: os.environ.get(name) for name in CLASSPATH_VARS}
    os.environ.update({name: env[name] for name in CLASSPATH_VARS if name in env})
    try:
        path = archive_path()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    if path is None or path.is_file():
        return None
    command = [sys.executable, "-m", "tweet_topics.local.jvm_archive"]
    return subprocess.Popen(command, env=dict(env), preexec_fn=lambda: os.nice(10), stdout=subprocess.DEVNULL)


def main() -> None:
    """``python -m tweet_topics.local.jvm_archive``: build the archive for this environment unless it exists."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(1)  # SIGTERM: remove the partial file on the way out

    signal.signal(signal.SIGTERM, stop)
    path = archive_path()
    if path is None or path.is_file():
        return
    print("building the Spark driver's class archive (once per Java/Spark install and conf dir, about a minute)")
    if ensure() is None:
        print("no class archive built (another process is building it, or the build failed): Spark starts as before")


if __name__ == "__main__":
    main()
