"""Shared helpers for the benchmark scripts: a private local stack and a small table printer."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
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


def spark_session(driver_memory: str = "2g"):
    """A local[*] session configured like the project's (loopback, no UI, 8 shuffle partitions)."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[*]")
        .config("spark.driver.memory", driver_memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.pyspark.python", sys.executable)
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark
