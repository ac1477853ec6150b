"""Live topics end to end: the synthetic streamer at 50 tweets/s through the local Firehose into the live query.

Latency is from a tweet's ``created_at`` (the synthetic source stamps each tweet when it is due to be received, at
1 s resolution) to the ``committed_at`` of its row in the live minute objects: p50/p95/max. Then the throughput
ceiling: the same query over a backlog of raw objects (tweets/s it parses, filters, scores and commits on this
machine), and the peak RSS of the process and its JVM. Firehose on moto delivers each PutRecordBatch at once; on
AWS add the buffering interval (TWEET_TOPICS_FIREHOSE_BUFFER_SECONDS).
Usage: python benchmarks/bench_live.py [--tweets 5000] [--rate 50] [--ceiling-tweets 20000]
"""

import argparse
import contextlib
import io
import os
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _common
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tweet_topics.defs.resources import build_resources
from tweet_topics.lib.records import dumps_record, record_from_v2
from tweet_topics.lib.synthetic import TweetGenerator
from tweet_topics.lib.synthetic.firehose import firehose_key
from tweet_topics.lib.topics.pipeline import LdaParams, build_pipeline
from tweet_topics.lib.topics.text import cleaned_text_column
from tweet_topics.live.runner import LiveOptions, LiveProcess, live_session
from tweet_topics.local import stack
from tweet_topics.settings import get_settings
from tweet_topics.streamer.options import synthetic_command


def peak_rss_mb(stop: threading.Event, out: list[float]) -> None:
    """Sample the RSS of this process plus its child processes (the JVM) every 0.5 s."""
    me = os.getpid()
    while not stop.is_set():
        total = 0
        for pid in [me, *_children(me)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        out.append(total / 1024)
        stop.wait(0.5)


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):  # a process may end while it is being looked at
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found + [g for c in found for g in _children(c)]


def fit_model(spark, storage, version: str) -> None:
    tweets = TweetGenerator(seed=3).tweets_between(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), 3000
    )
    frame = spark.createDataFrame([(record_from_v2(t.payload)["clean_text"],) for t in tweets], "clean_text string")
    frame = frame.withColumn("processed_text", cleaned_text_column("clean_text"))
    model = build_pipeline(LdaParams(k=6, optimizer="online", max_iter=10, min_df=2.0), []).fit(frame)
    vocabulary = model.stages[2].vocabulary
    topics = [
        {"topic": int(r["topic"]), "terms": [vocabulary[i] for i in r["termIndices"]]}
        for r in model.stages[-1].describeTopics(5).collect()
    ]
    local = Path(tempfile.mkdtemp()) / version
    model.write().save(str(local / "pipeline"))
    storage.models.write(version, local, {"version": version, "topics": topics})


def committed(storage, since: datetime):
    tables = []
    hour = since.replace(minute=0, second=0, microsecond=0)
    while hour <= datetime.now(UTC):
        for info in storage.s3.list(storage.live.minutes_of_hour(hour)):
            tables.append(pq.read_table(io.BytesIO(storage.s3.get(info.key)), columns=["created_at", "committed_at"]))
        hour += timedelta(hours=1)
    return tables


def latency(storage, settings, args, spark) -> dict:
    process = LiveProcess(settings, LiveOptions(trigger_seconds=settings.live_trigger_seconds, start_back_minutes=5))
    thread = threading.Thread(target=process.run, args=(spark,), daemon=True)
    thread.start()
    # Warm-up (a long-running process pays its cold start once: Python workers, model load): 200 tweets first.
    warm = synthetic_command(max_tweets=200, rate=args.rate, seed=11, state_dir=Path(tempfile.mkdtemp()))
    subprocess.run(warm, check=True, capture_output=True, env=os.environ.copy())
    cold = time.monotonic()
    while sum(process.status.rows_by_reason.values()) < 200 and time.monotonic() - cold < 300:
        time.sleep(0.5)
    print(f"  warm-up: first 200 tweets committed {time.monotonic() - cold:.1f} s after they were sent")
    warm_rows, warm_batches, warm_busy = (
        sum(process.status.rows_by_reason.values()),
        process.status.batches,
        process.status.busy_seconds,
    )
    time.sleep(2 * settings.live_trigger_seconds)
    began = datetime.now(UTC)
    command = synthetic_command(max_tweets=args.tweets, rate=args.rate, seed=12, state_dir=Path(tempfile.mkdtemp()))
    subprocess.run(command, check=True, capture_output=True, env=os.environ.copy())
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and sum(process.status.rows_by_reason.values()) < args.tweets + warm_rows:
        time.sleep(1)
    time.sleep(2 * settings.live_trigger_seconds)
    progress = [p["durationMs"] for p in process.query.recentProgress if p.get("numInputRows")]
    process.stopping.set()
    thread.join(120)
    for name in ("latestOffset", "addBatch", "walCommit", "commitOffsets", "triggerExecution"):
        values = [p.get(name, 0) for p in progress]
        print(f"  {name}: mean {np.mean(values) / 1000 if values else 0:.2f} s over {len(values)} batches")
    rows = [
        t.filter(pc.greater_equal(t["created_at"], began.strftime("%Y-%m-%dT%H:%M:%SZ")))
        for t in committed(storage, began)
    ]
    created = np.concatenate(
        [np.array([c.rstrip("Z") for c in t["created_at"].to_pylist()], "datetime64[s]") for t in rows]
    )
    done = np.concatenate([t["committed_at"].to_numpy().astype("datetime64[ms]") for t in rows])
    seconds = (done - created.astype("datetime64[ms]")).astype(float) / 1000
    return {
        "tweets streamed": args.tweets,
        "rows scored": len(seconds),
        "rate (tweets/s)": float(args.rate),
        "p50 latency (s)": float(np.percentile(seconds, 50)),
        "p95 latency (s)": float(np.percentile(seconds, 95)),
        "max latency (s)": float(seconds.max()),
        "micro-batches": process.status.batches - warm_batches,
        "mean batch (s)": (process.status.busy_seconds - warm_busy) / max(process.status.batches - warm_batches, 1),
    }


def ceiling(storage, settings, args, spark) -> dict:
    """A backlog of raw objects scored by a fresh query: how many tweets/s the query sustains on this machine."""
    generator, rng, now = TweetGenerator(seed=21), __import__("random").Random(1), datetime.now(UTC)
    s3 = storage.s3.aws.client("s3")
    per_object = 500
    for i in range(args.ceiling_tweets // per_object):
        at = now + timedelta(seconds=i)
        body = b"".join(dumps_record(record_from_v2(t.payload)) for t in generator.tweets_between(at, at, per_object))
        s3.put_object(Bucket=storage.bucket, Key=firehose_key(storage.raw_prefix, "ceiling", at, rng), Body=body)
    options = LiveOptions(checkpoint=tempfile.mkdtemp(), start_back_minutes=0, max_objects=10_000)
    process = LiveProcess(settings, options)
    process.query = process.start_query(spark)
    started = time.perf_counter()
    process.query.processAllAvailable()
    seconds = time.perf_counter() - started
    process.query.stop()
    lines = sum(process.status.rows_by_reason.values())
    return {
        "backlog tweets": args.ceiling_tweets,
        "rows (all lines)": lines,
        "scored": process.status.tweets_scored,
        "seconds": seconds,
        "tweets/s": lines / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tweets", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--ceiling-tweets", type=int, default=20_000)
    args = parser.parse_args()
    status = stack.up(get_settings())
    os.environ["TWEET_TOPICS_AWS_ENDPOINT_URL"] = status.endpoint or ""
    get_settings.cache_clear()
    settings = get_settings()
    stop, samples = threading.Event(), []
    threading.Thread(target=peak_rss_mb, args=(stop, samples), daemon=True).start()
    try:
        resources = build_resources(settings)
        infra, storage = resources["infra"], resources["storage"]
        for reconciler in (infra.bucket, infra.logs, infra.iam):
            reconciler.ensure()
        infra.ensure_firehose()
        spark = live_session(settings)
        spark.sparkContext.setLogLevel("ERROR")
        fit_model(spark, storage, "bench-live")
        _common.table([latency(storage, settings, args, spark)], "Live latency: streamer -> committed live row")
        _common.table([ceiling(storage, settings, args, spark)], "Live throughput ceiling (backlog, local[*])")
        stop.set()
        _common.table([{"peak RSS (MB), process + JVM": max(samples)}], "Memory")
        spark.stop()
    finally:
        stack.down(settings, save=False)


if __name__ == "__main__":
    main()
