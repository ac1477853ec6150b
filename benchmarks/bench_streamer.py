"""The streamer's throughput, per stage and sustained, against a local stub endpoint that only counts.

1. Stages, one core each, CPU time: parse + convert (X's bytes -> checked NDJSON record with ``delivery``) by the
   general path (``to_record(parse_line(raw))``, the peer) and by the fast path (``raw_to_record``), journal (the
   write-ahead log, one ``os.write`` per chunk of records), batch + serialize + send (``Sender`` with
   PutRecordBatch of 500 to the stub: botocore serialization + HTTP), also by the wall clock.
2. Sustained: a real ``stream x`` process (tweepy replaced by a pump of pre-serialized v2 messages, paced only by
   the streamer's own backpressure) into ``benchmarks/firehose_stub.py`` for ``--seconds`` (60): tweets/s per
   5-second window (min and mean), peak RSS, PutRecordBatch calls per 500 records, and the exit books (write-ahead
   log, sequence numbers, ledger objects and the original JSON all on, as in production), the process's CPU
   seconds per 1,000 tweets and the load average while it ran.
   The stub, not moto: one Firehose stream takes 5 MB/s by default and moto stores every record itself.
3. ``--moto``: the batched producer vs one ``put_record`` per tweet into the local Firehose (moto server).

Usage: python benchmarks/bench_streamer.py [--seconds 60] [--moto]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import _common

from tweet_topics.defs.resources import build_resources
from tweet_topics.lib.records import dumps_record, record_from_payload
from tweet_topics.lib.synthetic import TweetGenerator
from tweet_topics.local import stack
from tweet_topics.settings import get_settings
from tweet_topics.streamer.counters import Counters
from tweet_topics.streamer.producer import MAX_RECORDS, Batch, Sender
from tweet_topics.streamer.spool import Spool

HERE = Path(__file__).resolve().parent
TARGET = 18_000  # tweets/s: the order of the global public tweet rate at peaks (issue 27)


def start_stub(workdir: Path) -> tuple[subprocess.Popen, str]:
    portfile = workdir / "stub.port"
    stub = subprocess.Popen([sys.executable, str(HERE / "firehose_stub.py"), str(portfile)])
    deadline = time.monotonic() + 20
    while not portfile.exists() or not portfile.read_text():
        if time.monotonic() > deadline:
            stub.kill()
            raise RuntimeError("the stub did not start within 20 s")
        time.sleep(0.05)
    return stub, f"http://127.0.0.1:{portfile.read_text()}"


def stub_counts(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/counts", timeout=5) as response:
        return json.loads(response.read())


def cpu_rate(fn, items: list) -> tuple[list, float]:
    start = time.process_time()
    out = [fn(item) for item in items]
    return out, len(items) / max(time.process_time() - start, 1e-9)


def stages(url: str, workdir: Path, n: int = 10_000) -> list[dict]:
    """Each stage alone on one core (CPU time of this process, so other load on the machine counts less)."""
    from tweet_topics.streamer.app import streamer_client
    from tweet_topics.streamer.convert import parse_line, raw_to_record, to_record
    from tweet_topics.streamer.journal import Journal
    from tweet_topics.streamer.runner import CHUNK

    lines = [json.dumps(t.payload).encode() for t in TweetGenerator(seed=6).stream(n)]  # as tweepy hands them over
    _, general = cpu_rate(lambda item: to_record(parse_line(item[1]), "bench", item[0]), list(enumerate(lines)))
    converted, fast = cpu_rate(lambda item: raw_to_record(item[1], "bench", item[0]), list(enumerate(lines)))
    records = [line for line, _ in converted]
    worker_wall, worker_main_cpu = worker_conversion(lines, records)
    journal = Journal(workdir / "journal").start("bench", 1)
    chunks = [b"".join(records[i : i + CHUNK]) for i in range(0, n, CHUNK)]
    _, per_chunk = cpu_rate(journal.append, chunks)
    journal.discard()
    settings = get_settings().model_copy(update={"aws_endpoint_url": url})
    counters = Counters(received=n, in_memory=n)
    client = streamer_client(settings, "firehose", 10.0)
    sender = Sender(client, settings.firehose_stream, Spool(workdir / "spool"), counters)
    sender.start()
    start, wall = time.process_time(), time.perf_counter()
    for first in range(0, n, MAX_RECORDS):
        sender.submit(Batch(records[first : first + MAX_RECORDS], time.monotonic()), timeout=60)
    sender.close(network_until=time.monotonic() + 60)
    sender.join()
    send, send_wall = n / (time.process_time() - start), n / (time.perf_counter() - wall)
    assert counters.sent == n, counters
    return [
        {"stage": "parse + convert, general path (the peer)", "tweets/s (1 core)": int(general), "ratio": 1.0},
        {"stage": "parse + convert, fast path", "tweets/s (1 core)": int(fast), "ratio": fast / general},
        {"stage": "parse + convert in the worker process, wall clock", "tweets/s (1 core)": int(worker_wall)},
        {"stage": "  the same: the main interpreter's share (CPU)", "tweets/s (1 core)": int(worker_main_cpu)},
        {"stage": f"journal (write-ahead log, one write per {CHUNK})", "tweets/s (1 core)": int(per_chunk * CHUNK)},
        {"stage": "batch + serialize + send (PutRecordBatch of 500)", "tweets/s (1 core)": int(send)},
        {"stage": "batch + serialize + send, wall clock (stub included)", "tweets/s (1 core)": int(send_wall)},
    ]


def worker_conversion(lines: list[bytes], expected: list[bytes]) -> tuple[float, float]:
    """The fast path through ``ConvertPool`` (chunks of 250, 4 in flight, results in order): tweets/s by the wall
    clock, and per CPU second of this (the main) process - what conversion still costs the main interpreter."""
    from collections import deque

    from tweet_topics.streamer.convert_pool import ConvertPool
    from tweet_topics.streamer.runner import CHUNK, IN_FLIGHT

    pool = ConvertPool()
    deadline = time.monotonic() + 60
    while not pool.active and time.monotonic() < deadline:
        time.sleep(0.05)
    out: list[bytes | None] = []
    pending: deque = deque()
    start, wall = time.process_time(), time.perf_counter()
    for first in range(0, len(lines), CHUNK):
        pending.append(pool.submit(lines[first : first + CHUNK], "bench", first))
        while len(pending) > IN_FLIGHT:
            out += [line for line, _, _ in pool.result(pending.popleft())]
    while pending:
        out += [line for line, _, _ in pool.result(pending.popleft())]
    cpu, wall = time.process_time() - start, time.perf_counter() - wall
    pool.close()
    assert out == expected and not pool.fallbacks, "the worker's lines differ from the in-process ones"
    return len(lines) / wall, len(lines) / max(cpu, 1e-9)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mib(pid: int) -> float:
    """Proportional set size: shared pages (the interpreter, libraries) split between the processes that map them,
    so a sum over processes counts each page once (a sum of RSS counts shared pages in every process)."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The process's child processes (the conversion worker, multiprocessing's resource tracker)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            continue
    return out


def sustained(url: str, workdir: Path, seconds: float, workers: int = 1, **extra_env: str) -> dict:
    """A real streamer process into the stub for ``seconds``: rates per 5-s window, peak RSS (the streamer and
    its children together), calls, books, CPU of the streamer and of its children (the conversion worker)."""
    workdir.mkdir(parents=True, exist_ok=True)
    argv = ["stream", "x", "--duration", str(seconds), "--state-dir", str(workdir / "state")]
    argv += ["--convert-workers", str(workers)]
    env = {**os.environ, "TWEET_TOPICS_AWS_ENDPOINT_URL": url, "TWEET_TOPICS_X_BEARER_TOKEN": "bench-token"}
    env.update(extra_env)
    log = open(workdir / "streamer.log", "wb")  # noqa: SIM115 - closed below
    child = subprocess.Popen(
        [sys.executable, str(HERE / "streamer_child.py"), "5000", "--", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    windows, peak, peak_pss, last, last_at, cpu, kids = [], 0.0, 0.0, None, None, 0.0, {}
    before = stub_counts(url)["records"]  # what the stage runs sent
    load = os.getloadavg()[0]
    while child.poll() is None:
        time.sleep(1.0)
        try:
            family = children(child.pid)
            peak = max(peak, rss_mib(child.pid) + sum(rss_mib(pid) for pid in family))
            peak_pss = max(peak_pss, pss_mib(child.pid) + sum(pss_mib(pid) for pid in family))
            cpu = cpu_seconds(child.pid)
            for pid in family:
                kids[pid] = cpu_seconds(pid)
        except (OSError, IndexError, ValueError):  # a process ended between reads: the next second reads again
            if child.poll() is not None:
                break
        records = stub_counts(url)["records"] - before
        now = time.monotonic()
        if records and last is None:
            last, last_at = records, now  # the clock starts at the first delivered batch
        elif last is not None and now - last_at >= 5.0:
            windows.append((records - last) / (now - last_at))
            last, last_at = records, now
    out, _ = child.communicate(timeout=120)
    log.close()
    summary = json.loads(out.decode().strip().splitlines()[-1])
    counts = stub_counts(url)
    full = windows[:-1] or windows  # the last window holds the shutdown
    return {
        "summary": summary,
        "counts": counts,
        "min": min(full),
        "mean": sum(full) / len(full),
        "windows": len(full),
        "peak_rss_mib": peak,
        "peak_pss_mib": peak_pss,
        "exit": child.returncode,
        "cpu_per_1k": cpu / max(summary["received"], 1) * 1000,  # CPU seconds per 1,000 tweets, all threads
        "worker_cpu_per_1k": sum(kids.values()) / max(summary["received"], 1) * 1000,  # its child processes
        "load": f"{load:.1f}-{os.getloadavg()[0]:.1f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--moto", action="store_true", help="also the batched vs per-tweet comparison on moto")
    parser.add_argument("--tweets", type=int, default=20_000, help="--moto: tweets")
    parser.add_argument("--originals", action="store_true", help="only: sustained with the original JSON off vs on")
    parser.add_argument("--runs", type=int, default=2, help="sustained runs of each conversion mode, alternated")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-streamer-"))
    stub, url = start_stub(workdir)
    if args.originals:
        try:
            originals_comparison(url, workdir, args.seconds)
        finally:
            stub.kill()
        return
    try:
        _common.table(stages(url, workdir), "Streamer stages, each alone on one core (CPU time)")
        rows = [sustained_row(url, workdir / f"w{w}-{i}", args.seconds, w) for i in range(args.runs) for w in (0, 1)]
    finally:
        stub.kill()
    peer = max(r["tweets/s mean"] for r in rows if r["conversion"] == "in-process (peer)")
    for row in rows:
        row["ratio (mean / best in-process)"] = row["tweets/s mean"] / peer
    _common.table(
        rows,
        f"Sustained {args.seconds:.0f} s: a real `stream x` process into a local stub endpoint that only counts "
        f"(benchmarks/firehose_stub.py; not moto, not Firehose); target {TARGET:,} tweets/s",
    )
    print(f"\nlogs in {workdir}/*/streamer.log")
    if args.moto:
        moto_comparison(args.tweets)


def sustained_row(url: str, workdir: Path, seconds: float, workers: int) -> dict:
    """One sustained run as a table row: rates, memory, calls per 500 records, CPU per process, the books."""
    before = stub_counts(url)
    result = sustained(url, workdir, seconds, workers)
    summary, counts = result["summary"], result["counts"]
    calls = counts["put_record_batch"] - before["put_record_batch"]
    received = max(summary["received"], 1)
    stub_cpu = (counts["cpu_seconds"] - before["cpu_seconds"]) / received * 1000
    return {
        "conversion": "worker process" if workers else "in-process (peer)",
        "tweets/s min of 5-s windows": int(result["min"]),
        "tweets/s mean": int(result["mean"]),
        "peak RSS MiB (all processes)": int(result["peak_rss_mib"]),
        "peak PSS MiB (all processes)": int(result["peak_pss_mib"]),
        "records per PutRecordBatch": round((counts["records"] - before["records"]) / max(calls, 1), 1),
        "CPU s per 1,000 tweets: streamer": f"{result['cpu_per_1k']:.3f}",
        "worker": f"{result['worker_cpu_per_1k']:.3f}",
        "stub": f"{stub_cpu:.3f}",
        "load average (2 cores)": result["load"],
        "received": summary["received"],
        "lost": summary["lost"],
        "balanced": summary["received"] == summary["sent"] + summary["rejected"] and not summary["lost"],
        "exit": result["exit"],
    }


def originals_comparison(url: str, workdir: Path, seconds: float) -> None:
    """Sustained with the original JSON off (the peer) and on (issue 25: one gzip object per batch beside the
    records), alternated twice in this process; the ratio is on/off of the mean rate."""
    rows = []
    for attempt in range(2):
        for keep in ("false", "true"):
            load = os.getloadavg()[0]
            before = stub_counts(url)["s3_puts"]
            result = sustained(url, workdir / f"{keep}-{attempt}", seconds, TWEET_TOPICS_KEEP_ORIGINAL=keep)
            rows.append(
                {
                    "original JSON": "on" if keep == "true" else "off (peer)",
                    "tweets/s min of 5-s windows": int(result["min"]),
                    "tweets/s mean": int(result["mean"]),
                    "S3 puts": stub_counts(url)["s3_puts"] - before,
                    "peak RSS MiB": int(result["peak_rss_mib"]),
                    "exit": result["exit"],
                    "load average (2 cores)": f"{load:.1f}-{os.getloadavg()[0]:.1f}",
                }
            )
    off = max(r["tweets/s mean"] for r in rows if r["original JSON"] != "on")
    for row in rows:
        row["ratio (mean / best off)"] = row["tweets/s mean"] / off
    _common.table(rows, f"Sustained {seconds:.0f} s into the stub, original JSON off vs on")


def moto_comparison(tweets: int) -> None:
    """The batched producer vs one put_record per tweet (the reference), both into the local Firehose (moto)."""
    args = argparse.Namespace(tweets=tweets)
    settings = get_settings()
    status = stack.up(settings)
    try:
        resources = build_resources(settings.model_copy(update={"aws_endpoint_url": status.endpoint}))
        infra = resources["infra"]
        names = infra.deployment
        for reconciler in (infra.bucket, infra.logs, infra.iam):
            reconciler.ensure()
        infra.ensure_firehose()
        client = resources["aws"].client("firehose")
        payloads = [t.payload for t in TweetGenerator(seed=4).stream(args.tweets)]

        start = time.perf_counter()
        for payload in payloads:
            client.put_record(
                DeliveryStreamName=names.firehose_stream, Record={"Data": dumps_record(record_from_payload(payload))}
            )
        baseline = time.perf_counter() - start

        counters = Counters()
        sender = Sender(client, names.firehose_stream, Spool(Path(tempfile.mkdtemp()) / "spool"), counters)
        sender.start()
        start = time.perf_counter()
        records = [dumps_record(record_from_payload(payload)) for payload in payloads]
        counters.add(received=len(records), in_memory=len(records))
        for first in range(0, len(records), MAX_RECORDS):
            sender.submit(Batch(records[first : first + MAX_RECORDS], time.monotonic()), timeout=60)
        sender.close(network_until=time.monotonic() + 60)
        sender.join()
        batched = time.perf_counter() - start
        assert counters.sent == args.tweets
        _common.table(
            [
                {
                    "producer": "one put_record per tweet (reference)",
                    "tweets": args.tweets,
                    "seconds": baseline,
                    "tweets/s": int(args.tweets / baseline),
                    "API calls": args.tweets,
                    "ratio": 1.0,
                },
                {
                    "producer": "PutRecordBatch <=500 / 4 MiB (ours)",
                    "tweets": args.tweets,
                    "seconds": batched,
                    "tweets/s": int(args.tweets / batched),
                    "API calls": counters.api_calls,
                    "ratio": baseline / batched,
                },
            ],
            f"{args.tweets:,} synthetic tweets into the local Firehose (moto server on 127.0.0.1)",
        )
    finally:
        stack.down(settings, save=False)


if __name__ == "__main__":
    main()
