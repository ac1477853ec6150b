"""Archive import (issue 25): N generated tweets as twarc2 pages (gzip) into the local stack, then again.

Measures the import end to end (parse + convert + spill + write raw and original objects + ledger): tweets/s, the
CPU seconds of each part (conversion workers, the importer's parse and write phases, the moto server: on a shared
machine the wall clock says how busy it was, the CPU seconds what the import costs), peak RSS of the importing
process, objects written (raw, original, ledger); then a re-import of the same file, which must write 0 objects.
``--parse-only`` times the parse phase alone (no storage), then the fast path, the batch path and the per-tweet
path (the peer) in this process.
Usage: python benchmarks/bench_import.py [--tweets 1000000] [--hours 48] [--workers 2] [--parse-only]
"""

import argparse
import gzip
import json
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _common

from tweet_topics.lib.synthetic import TweetGenerator

START = datetime(2025, 6, 1, tzinfo=UTC)
PAGE = 100  # twarc2 writes one API response page of up to 100 (search) or 500 (full archive) tweets per line


def generate(path: Path, tweets: int, hours: int, seed: int = 5) -> None:
    """twarc2 pages: ``data`` (PAGE tweets) and ``includes`` (their users and referenced tweets), gzip."""
    generator = TweetGenerator(seed=seed)
    step = timedelta(hours=hours) / tweets
    with gzip.open(path, "wb", compresslevel=1) as out:
        for first in range(0, tweets, PAGE):
            messages = [generator.tweet(START + step * i).payload for i in range(first, min(first + PAGE, tweets))]
            users = {u["id"]: u for m in messages for u in m.get("includes", {}).get("users", [])}
            refs = {t["id"]: t for m in messages for t in m.get("includes", {}).get("tweets", [])}
            page = {
                "data": [m["data"] for m in messages],
                "includes": {"users": list(users.values()), "tweets": list(refs.values())},
                "meta": {"result_count": len(messages)},
            }
            out.write(json.dumps(page).encode() + b"\n")


def written(storage) -> int:
    """Objects in the bucket (raw, original, ledger): the difference is what a run wrote."""
    return sum(1 for _ in storage.s3.list(""))


def peak_rss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def parse_only(path: Path, workers: int) -> float:
    from tweet_topics.lib.archive.pipeline import RejectsFile, parse_inputs
    from tweet_topics.lib.archive.spill import HourSpill

    with tempfile.TemporaryDirectory() as tmp:
        spill = HourSpill(Path(tmp))
        started = time.perf_counter()
        stats = parse_inputs([str(path)], spill, RejectsFile(None), "import-bench", workers=workers)
        seconds = time.perf_counter() - started
        spill.close()
    return stats.read / seconds


def per_tweet_units(units, latest: str) -> list:
    """The first peer: every tweet through the per-tweet gate (storable + validate_record + json.dumps)."""
    from tweet_topics.lib.archive.convert import convert_all

    return [result for number, payloads, raw in units for result in convert_all(number, payloads, latest, raw)]


def parse_paths(path: Path) -> list[dict]:
    """The fast path vs the batch path (fast path off) vs the per-tweet path, in this process (1 worker),
    alternated twice: same load for all three."""
    from tweet_topics.lib.archive import readers

    batch_units, fast_line = readers.convert_units, readers.fast_line
    paths = {
        "fast path (msgspec, lib/archive/fast_pages)": (batch_units, fast_line),
        "batch path (vectorized gate)": (batch_units, lambda *args: None),
        "per tweet (peer)": (per_tweet_units, lambda *args: None),
    }
    rates: dict[str, list[float]] = {label: [] for label in paths}
    try:
        for _ in range(2):
            for label, (units, fast) in paths.items():
                readers.convert_units, readers.fast_line = units, fast
                rates[label].append(parse_only(path, 1))
    finally:
        readers.convert_units, readers.fast_line = batch_units, fast_line
    peer = max(rates["per tweet (peer)"])
    return [
        {"parse path (1 worker)": k, "tweets/s (best of 2)": int(max(v)), "ratio to per tweet": max(v) / peer}
        for k, v in rates.items()
    ]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of another process so far (the moto server)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tweets", type=int, default=1_000_000)
    parser.add_argument("--hours", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parse-only", action="store_true", help="time the parse phase only (no stack)")
    args = parser.parse_args()
    path = Path(tempfile.gettempdir()) / f"bench-import-{args.tweets}-{args.hours}.jsonl.gz"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.tweets, args.hours)
        print(f"generated {path} ({path.stat().st_size / 2**20:.0f} MiB gzip) in {time.perf_counter() - started:.0f} s")
    if args.parse_only:
        load = os.getloadavg()[0]
        rate = parse_only(path, args.workers)
        print(f"parse phase, {args.workers} workers: {rate:,.0f} tweets/s (load {load:.1f}-{os.getloadavg()[0]:.1f})")
        load = os.getloadavg()[0]
        _common.table(parse_paths(path), f"parse phase by path, load {load:.1f}-{os.getloadavg()[0]:.1f}")
        return
    from tweet_topics.archive.importer import run_import
    from tweet_topics.defs.resources import build_resources
    from tweet_topics.local import stack
    from tweet_topics.settings import get_settings
    from tweet_topics.storage.clients import ensure_bucket

    settings = get_settings()
    status = stack.up(settings)
    try:
        storage = build_resources(settings.model_copy(update={"aws_endpoint_url": status.endpoint}))["storage"]
        ensure_bucket(storage.s3.aws.client("s3"), settings.bucket, settings.region)
        rows = []
        for label in ("first import", "re-import of the same file"):
            before = written(storage)
            load = os.getloadavg()[0]
            moto_cpu = process_cpu(status.pid)
            started = time.perf_counter()
            result = run_import(storage, [str(path)], workers=args.workers)
            seconds = time.perf_counter() - started
            cpu = result.seconds
            moto_cpu = process_cpu(status.pid) - moto_cpu
            total_cpu = cpu["parse_cpu_converters"] + cpu["parse_cpu_importer"] + cpu["write_cpu_importer"] + moto_cpu
            rows.append(
                {
                    "run": label,
                    "tweets": result.parse.read,
                    "imported": result.imported,
                    "duplicates": result.duplicates,
                    "objects written": written(storage) - before,
                    "seconds": seconds,
                    "parse s": cpu["parse"],
                    "write s": cpu["write"],
                    "tweets/s": result.parse.read / seconds,
                    "CPU s: converters": cpu["parse_cpu_converters"],
                    "importer parse": cpu["parse_cpu_importer"],
                    "importer write": cpu["write_cpu_importer"],
                    "moto": moto_cpu,
                    "CPU us per tweet": int(1e6 * total_cpu / max(result.parse.read, 1)),
                    "peak RSS MiB (importer)": peak_rss_mib(resource.RUSAGE_SELF),
                    "load average (2 cores)": f"{load:.1f}-{os.getloadavg()[0]:.1f}",
                }
            )
        _common.table(
            rows, f"import of {args.tweets:,} twarc2 tweets (gzip) over {args.hours} h, {args.workers} workers"
        )
    finally:
        stack.down(settings, save=False)


if __name__ == "__main__":
    main()
