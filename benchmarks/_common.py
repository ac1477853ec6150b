"""Shared helpers for the benchmark scripts: a private local stack and a small table printer."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("TWEET_TOPICS_LOCAL_DIR", tempfile.mkdtemp(prefix="tweet-topics-bench-"))
os.environ.setdefault("TWEET_TOPICS_BUCKET", "tweet-topics-bench")


def table(rows: list[dict], title: str) -> None:
    print(f"\n## {title}\n")
    headers = list(rows[0])
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print(
            "| "
            + " | ".join(
                f"{v:,.2f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
                for v in row.values()
            )
            + " |"
        )
