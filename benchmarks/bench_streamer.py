"""20,000 synthetic tweets into the local Firehose (moto server): the batched producer vs one ``put_record`` per
tweet (the reference's way), in the same run. Prints tweets/s, API calls and the ratio.
Usage: python benchmarks/bench_streamer.py [--tweets 20000]
"""

import argparse
import tempfile
import time
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tweets", type=int, default=20_000)
    args = parser.parse_args()
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
