"""Topic model at scale (issue 14 item 5): 50k -> 200k -> 1M planted documents on local[*], driver memory 2 GiB.

The corpus (``lib/topics/planted.py``, the issue's shape) is written as Parquet files first (not timed), then read by
Spark's executors like a topic corpus. Stages, each timed and reported as docs/s: vectorize (tokenize, count,
vocabulary, cached CSR blocks), fit (online VB, 3 screened restarts: the default), metrics (NPMI + bounded
perplexity of the winner), score (Spark ``transform`` of every document + dominant topic, as
``tweet_topic_assignments`` does, counted per (topic, theme) for the accuracy). Peak RSS is sampled every
0.2 s over this process tree: the driver Python, the driver JVM and the Python workers. Time should grow no
worse than linearly with documents. A 5k-document fit first warms the JVM (not reported).
Usage: python benchmarks/bench_topic_scale.py [--docs 50000 200000 1000000] [--driver-memory 2g]
"""

import argparse
import itertools
import os
import tempfile
import threading
import time
from pathlib import Path

import _common

from tweet_topics.lib.topics.lda import dominant_topics, fit_best
from tweet_topics.lib.topics.pipeline import LdaParams
from tweet_topics.lib.topics.planted import PlantedShape, planted_chunks


class PeakRss:
    """Samples the RSS of this process and all its descendants; keeps the peak of the sum and per kind."""

    def __init__(self) -> None:
        self.peak = {"total": 0, "driver python": 0, "jvm": 0, "python workers": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = {"driver python": 0, "jvm": 0, "python workers": 0}
            for pid, command in _tree(os.getpid()):
                kind = "driver python" if pid == os.getpid() else "jvm" if "java" in command else "python workers"
                sizes[kind] += _rss(pid)
            for kind, value in [*sizes.items(), ("total", sum(sizes.values()))]:
                self.peak[kind] = max(self.peak[kind], value)
            time.sleep(0.2)


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            out.setdefault(parent, []).append(int(entry.name))
    return out


def _tree(root: int) -> list[tuple[int, str]]:
    children, todo, out = _children(), [root], []
    while todo:
        pid = todo.pop()
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        out.append((pid, command))
        todo.extend(children.get(pid, []))
    return out


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def write_corpus(docs: int, folder: Path, seed: int = 0) -> None:
    """The planted corpus as Parquet files of 50k documents (id, processed_text, label)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    first = 0
    for n, (texts, labels) in enumerate(planted_chunks(PlantedShape(docs=docs), seed, 50_000)):
        ids = list(range(first, first + len(texts)))
        table = pa.table({"id": ids, "processed_text": texts, "label": labels})
        pq.write_table(table, folder / f"part-{n:04d}.parquet")
        first += len(texts)


def accuracy(counts: dict[tuple[int, int], int], total: int) -> float:
    """Best one-to-one topic -> theme mapping from (topic, theme) counts."""
    topics = sorted({t for t, _ in counts if t >= 0})
    themes = sorted({lab for _, lab in counts})
    best = 0
    for perm in itertools.permutations(themes, min(len(themes), len(topics))):
        best = max(best, sum(counts.get((t, lab), 0) for t, lab in zip(topics, perm, strict=False)))
    return best / max(total, 1)


def run(spark, docs: int, folder: Path) -> dict:
    from pyspark.sql import functions as F

    corpus = spark.read.parquet(str(folder)).select("id", "processed_text", "label")
    params = LdaParams()
    with PeakRss() as rss:
        t0 = time.perf_counter()
        fitted, _ = fit_best(corpus, params, [], tempfile.mkdtemp(prefix="bench-scale-"), restarts=3)
        t1 = time.perf_counter()
        scored = dominant_topics(fitted.model.transform(corpus))
        counts = scored.groupBy("dominant_topic", "label").agg(F.count("*").alias("n")).collect()
        t2 = time.perf_counter()
    stages = dict(fitted.metrics["seconds"])
    stages["score"] = t2 - t1
    row = {"documents": docs, "total s": t2 - t0}
    for name in ("vectorize", "fit", "metrics", "score"):
        row[f"{name} s"] = stages[name]
        row[f"{name} docs/s"] = docs / stages[name]
    row["accuracy"] = accuracy({(r[0], r[1]): r[2] for r in counts}, docs)
    row["peak RSS GiB (total)"] = rss.peak["total"] / 2**30
    row["driver JVM"] = rss.peak["jvm"] / 2**30
    row["python workers"] = rss.peak["python workers"] / 2**30
    row["driver python"] = rss.peak["driver python"] / 2**30
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, nargs="+", default=[50_000, 200_000, 1_000_000])
    parser.add_argument("--driver-memory", default="2g")
    args = parser.parse_args()
    spark = _common.spark_session(args.driver_memory)
    print(f"cores: {os.cpu_count()}, driver memory {args.driver_memory}, load at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-scale-warm-") as folder:  # JIT and workers warm, not reported
        write_corpus(5_000, Path(folder), seed=99)
        run(spark, 5_000, Path(folder))
    rows = []
    for docs in args.docs:
        with tempfile.TemporaryDirectory(prefix="bench-scale-corpus-") as folder:
            write_corpus(docs, Path(folder))
            load = os.getloadavg()[0]
            rows.append({**run(spark, docs, Path(folder)), "load (1 min)": load})
        _common.table(rows[-1:], f"{docs:,} documents")
    base = rows[0]
    for row in rows:
        scale = row["documents"] / base["documents"]
        row["time / (linear from first)"] = row["total s"] / (base["total s"] * scale)
    _common.table(rows, "topic model scale (time / linear <= 1: no worse than linear)")
    spark.stop()


if __name__ == "__main__":
    main()
