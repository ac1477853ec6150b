"""Topic model time and planted-topic recovery at 50k documents: the project default vs one fit vs gensim.

The corpus is ``lib/topics/planted.py`` (issue 14's shape: 6 themes, 20-40 tokens, Zipf theme words, 30 % background,
5 % noise tail). Times start from texts already in a cached DataFrame (Spark session started) or, for gensim,
from the token lists: vectorizing / dictionary building is included everywhere. Accuracy is Spark's own
``transform`` of every document (what ``tweet_topic_assignments`` does), best one-to-one topic mapping.
Usage: python benchmarks/bench_topic_model.py [--docs 50000] [--seeds 0] [--shapes default short long unbalanced k8]
[--cold] [--fresh] [--job]. The default runs twice per corpus: first (the corpus new to the JVM) and again (warm).
``--fresh``: the topic clock of issue 27, from a new process's start (Spark session included) to a saved model,
vs gensim. ``--job``: ``topics_job`` as its own process on the demo's corpus (target: 20 s). Both first build the
driver's class-data-sharing archive if it is missing, as ``make install`` does (``local/jvm_archive.py``).
"""

import argparse
import dataclasses
import re
import tempfile
import time
from pathlib import Path

import _common

from tweet_topics.lib.topics.evaluation import recovery_accuracy
from tweet_topics.lib.topics.lda import dominant_topics, fit_best
from tweet_topics.lib.topics.pipeline import LdaParams
from tweet_topics.lib.topics.planted import PlantedShape, planted_corpus

SHAPES = {
    "default": (PlantedShape(), 6),
    "short": (PlantedShape(length=(6, 14)), 6),
    "long": (PlantedShape(length=(80, 160)), 6),
    "unbalanced": (PlantedShape(theme_weights=(8, 4, 2, 1, 1, 1)), 6),
    "k8": (PlantedShape(), 8),  # k != number of themes: accuracy over the 6 best-matching topics
}


def accuracy(truth: list[int], predicted: list[int]) -> float:
    """One-to-one recovery when k equals the themes; many-to-one purity (each topic -> its majority theme) else."""
    if len(set(predicted) - {-1}) <= len(set(truth)):
        return recovery_accuracy(truth, predicted)[0]
    from collections import Counter

    counts = Counter(zip(predicted, truth, strict=True))
    best: dict[int, int] = {}
    for (topic, _), n in counts.items():
        best[topic] = max(best.get(topic, 0), n)
    return sum(best.values()) / len(truth)


def warm_up(spark) -> None:
    """One small fit first: JIT and Python workers warm, as in a running Dagster process (not timed)."""
    texts, _ = planted_corpus(PlantedShape(docs=3_000), seed=99)
    frame = spark.createDataFrame(list(enumerate(texts)), "row long, processed_text string")
    fit_best(frame, LdaParams(), [], tempfile.mkdtemp(prefix="bench-lda-"), restarts=3)


def spark_default(spark, frame, truth, params: LdaParams, restarts: int) -> dict:
    scratch = tempfile.mkdtemp(prefix="bench-lda-")
    t0 = time.perf_counter()
    fitted, _ = fit_best(frame, params, [], scratch, restarts=restarts)
    total = time.perf_counter() - t0
    predicted = dominant_topics(fitted.model.transform(frame)).select("row", "dominant_topic").collect()
    by_row = {r[0]: r[1] for r in predicted}
    score = accuracy(truth, [by_row[i] for i in range(len(truth))])
    stages = ", ".join(f"{name} {seconds:.1f}" for name, seconds in fitted.metrics["seconds"].items())
    return {"s": total, "accuracy": score, "npmi": fitted.metrics["coherence_npmi"], "stages": stages}


def gensim_fit(texts: list[str], truth: list[int], params: LdaParams, stop_words: set[str]) -> dict:
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel

    tokens = [t.split() for t in texts]
    t0 = time.perf_counter()
    docs = [[w for w in doc if len(w) >= params.min_token_length and w not in stop_words] for doc in tokens]
    dictionary = Dictionary(docs)
    dictionary.filter_extremes(no_below=int(params.min_df), no_above=params.max_df, keep_n=params.vocab_size)
    bows = [dictionary.doc2bow(d) for d in docs]
    model = LdaModel(bows, num_topics=params.k, id2word=dictionary, passes=1, random_state=1)
    total = time.perf_counter() - t0
    predicted = [
        max(model.get_document_topics(b, minimum_probability=0), key=lambda p: p[1])[0] if b else -1 for b in bows
    ]
    return {"s": total, "accuracy": accuracy(truth, predicted), "npmi": float("nan")}


def tomotopy_fit(texts: list[str], truth: list[int], params: LdaParams) -> dict:
    import tomotopy

    tokens = [t.split() for t in texts]
    t0 = time.perf_counter()
    model = tomotopy.LDAModel(k=params.k, min_df=int(params.min_df), seed=1)
    for doc in tokens:
        model.add_doc(doc)
    model.train(50, workers=2)
    total = time.perf_counter() - t0
    predicted = [int(max(range(params.k), key=lambda i: d.get_topic_dist()[i])) for d in model.docs]
    return {"s": total, "accuracy": accuracy(truth, predicted), "npmi": float("nan")}


def fresh_child(path: str) -> None:
    """One topic run as a Dagster run does it: a new process, a new Spark session, the corpus read from files,
    the default fit (3 restarts), the model written. Prints its stage times as JSON (the parent owns the clock)."""
    import json

    from pyspark.sql import SparkSession

    from tweet_topics.defs.resources import spark_config
    from tweet_topics.settings import get_settings

    stages = {}
    t0 = time.perf_counter()
    builder = SparkSession.builder
    for key, value in spark_config(get_settings()).items():  # the session a Dagster run gets
        builder = builder.config(key, value)
    spark = builder.config("spark.driver.memory", "2g").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    stages["session"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame = spark.read.parquet(path).cache()
    stages["read"] = time.perf_counter() - t0
    fitted, _ = fit_best(frame, LdaParams(), [], tempfile.mkdtemp(prefix="bench-lda-"), restarts=3)
    stages.update(fitted.metrics["seconds"])
    t0 = time.perf_counter()
    if not fitted.write_local(Path(tempfile.mkdtemp(prefix="bench-model-")) / "pipeline"):  # as topic_model saves
        fitted.model.write().save(tempfile.mkdtemp(prefix="bench-model-") + "/pipeline")
    stages["save"] = time.perf_counter() - t0
    # The clock ends here; the process's exit (Spark's shutdown) comes after. CLOCK_MONOTONIC is
    # system-wide on Linux, so the parent compares it with its own start.
    saved_at = time.monotonic()
    progress = fitted.metrics.get("progress", {})
    print("RESULT " + json.dumps({"stages": stages, "saved_at": saved_at, "progress": progress}))


def fresh_run(docs: int, seed: int) -> None:
    """The topic clock of issue 27: from the process's start to a saved model, vs gensim (1 pass) in this process."""
    import json
    import os
    import subprocess
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    from tweet_topics.local import jvm_archive

    archive = jvm_archive.ensure()  # as `make install` builds it (not timed)
    texts, truth = planted_corpus(PlantedShape(docs=docs), seed=seed)
    path = os.path.join(tempfile.mkdtemp(prefix="bench-corpus-"), "corpus.parquet")
    pq.write_table(pa.table({"row": list(range(len(texts))), "processed_text": texts}), path)
    started, started_at = time.perf_counter(), time.monotonic()
    out = subprocess.run(
        [sys.executable, __file__, "--fresh-child", path], capture_output=True, text=True, check=True
    ).stdout
    total = time.perf_counter() - started
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    to_model = result["saved_at"] - started_at
    reference = gensim_fit(texts, truth, LdaParams(), set())  # made-up words: no stop word is in the corpus
    stages = ", ".join(f"{name} {seconds:.1f}" for name, seconds in result["stages"].items())
    rows = [
        {
            "run": "fresh process start to saved model: session + read + default fit (3 restarts) + save",
            "s": to_model,
            "x gensim": to_model / reference["s"],
            "stages s": stages,
            "class archive": "yes" if archive else "no",
        },
        {
            "run": "the same, to the process's exit (Spark's shutdown included)",
            "s": total,
            "x gensim": total / reference["s"],
            "stages s": "",
            "class archive": "",
        },
        {
            "run": "gensim LdaModel 1 pass (in process)",
            "s": reference["s"],
            "x gensim": 1.0,
            "stages s": "",
            "class archive": "",
        },
    ]
    _common.table(rows, f"topic run from a fresh process, {docs:,} planted documents")


def topics_job_run(hours: int, tweets_per_hour: int) -> None:
    """``topics_job`` on the demo's corpus (24 h x 250 seeded tweets -> ~4,100 documents) as its own
    ``dagster job execute`` process against a local moto stack; the hourly assets run first, untimed."""
    import os
    import subprocess
    import sys
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 2, 1, tzinfo=UTC)
    os.environ["TWEET_TOPICS_PARTITIONS_START"] = f"{start:%Y-%m-%d-%H}:00"
    from tweet_topics.local import jvm_archive, stack
    from tweet_topics.local.seed_data import seed_bucket
    from tweet_topics.settings import get_settings

    settings = get_settings()
    archive = jvm_archive.ensure()  # as `make install` builds it (not timed)
    status = stack.up(settings)
    try:
        os.environ["TWEET_TOPICS_AWS_ENDPOINT_URL"] = status.endpoint or ""
        get_settings.cache_clear()
        settings = get_settings()
        seed_bucket(settings, start, hours, tweets_per_hour, 7, faults=True)
        import dagster as dg

        from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
        from tweet_topics.defs.resources import build_resources

        resources = build_resources(settings)
        first, last = f"{start:%Y-%m-%d-%H}:00", f"{start + timedelta(hours=hours - 1):%Y-%m-%d-%H}:00"
        tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
        with dg.instance_for_test() as instance:
            hourly = [RAW_TWEETS, combined_tweets, filtered_tweets]
            assert dg.materialize(hourly, resources=resources, instance=instance, tags=tags).success
        command = [
            sys.executable,
            "-m",
            "dagster",
            "job",
            "execute",
            "-m",
            "tweet_topics.definitions",
            "-j",
            "topics_job",
        ]
        env = {**os.environ, "DAGSTER_HOME": tempfile.mkdtemp(prefix="bench-home-")}
        started = time.perf_counter()
        log = subprocess.run(command, cwd=_common.ROOT, env=env, check=True, capture_output=True, text=True)
        total = time.perf_counter() - started
        steps = re.findall(r'Finished execution of step "(\w+)" in (?:(\d+)m)?([\d.]+)(m?s)', log.stdout + log.stderr)
        step_text = ", ".join(
            f"{name} {int(m or 0) * 60 + float(v) / (1000 if unit == 'ms' else 1):.1f}" for name, m, v, unit in steps
        )
        models = resources["storage"].models
        metrics = models.manifest(models.latest())["metrics"]
        stages = ", ".join(f"{name} {seconds:.1f}" for name, seconds in metrics["seconds"].items())
        corpus = corpus_seconds(env["DAGSTER_HOME"])
        corpus_stages = ", ".join(f"{name} {seconds:.1f}" for name, seconds in corpus.items())
        passes = metrics.get("progress", {}).get("passes")
        _common.table(
            [
                {
                    "run": "topics_job (dagster job execute: corpus, model, terms; one process)",
                    "documents": metrics["documents"],
                    "s": total,
                    "target s": 20.0,
                    "x target": total / 20.0,
                    "steps s": step_text,
                    "topic_corpus stages s": corpus_stages,
                    "topic_model stages s": f"{stages}; passes {passes}",
                    "class archive": "yes" if archive else "no",
                    "load average": Path("/proc/loadavg").read_text().split()[0],
                }
            ],
            f"topics_job from a fresh process on the demo corpus ({hours} h x {tweets_per_hour} tweets)",
        )
    finally:
        stack.down(settings, save=False)


def corpus_seconds(home: str) -> dict[str, float]:
    """``topic_corpus``'s per-stage seconds from its materialization in the run's own instance."""
    import os

    import dagster as dg

    os.environ["DAGSTER_HOME"] = home
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("topic_corpus"))
    return event.asset_materialization.metadata["seconds"].value if event else {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--shapes", nargs="+", default=["default"], choices=sorted(SHAPES))
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--cold", action="store_true", help="no warm-up fit: the first row pays JIT and workers")
    parser.add_argument("--fresh", action="store_true", help="only the fresh-process run vs gensim (issue 27)")
    parser.add_argument("--fresh-child", help=argparse.SUPPRESS)
    parser.add_argument("--job", action="store_true", help="only topics_job on the demo corpus (issue 27)")
    args = parser.parse_args()
    if args.fresh_child:
        return fresh_child(args.fresh_child)
    if args.fresh or args.job:
        if args.fresh:
            fresh_run(args.docs, args.seeds[0])
        if args.job:
            topics_job_run(24, 250)
        return
    from pyspark.ml.feature import StopWordsRemover

    spark = _common.spark_session(args.driver_memory)
    all_stops = set(StopWordsRemover.loadDefaultStopWords("english"))
    if not args.cold:
        warm_up(spark)
    rows_out = []
    for shape_name in args.shapes:
        shape, k = SHAPES[shape_name]
        for seed in args.seeds:
            texts, truth = planted_corpus(dataclasses.replace(shape, docs=args.docs), seed=seed)
            frame = spark.createDataFrame(
                [(i, text) for i, text in enumerate(texts)], "row long, processed_text string"
            ).cache()
            frame.count()
            params = LdaParams(k=k)
            runs = {
                "project default (3 restarts screened)": lambda f=frame, t=truth, p=params: spark_default(
                    spark, f, t, p, 3
                ),
                "one fit (1 seed)": lambda f=frame, t=truth, p=params: spark_default(spark, f, t, p, 1),
                "project default, run again (warm)": lambda f=frame, t=truth, p=params: spark_default(
                    spark, f, t, p, 3
                ),
            }
            try:
                import gensim  # noqa: F401

                runs["gensim LdaModel 1 pass"] = lambda x=texts, t=truth, p=params: gensim_fit(x, t, p, all_stops)
            except ImportError:
                print("gensim not installed: pip install -e '.[bench]' for the reference row")
            try:
                import tomotopy  # noqa: F401

                runs["tomotopy 50 iterations"] = lambda x=texts, t=truth, p=params: tomotopy_fit(x, t, p)
            except ImportError:
                pass
            results = {name: run() for name, run in runs.items()}
            reference = results.get("gensim LdaModel 1 pass", {}).get("s")
            for name, result in results.items():
                rows_out.append(
                    {
                        "shape": shape_name,
                        "seed": seed,
                        "k": k,
                        "model": name,
                        "time s": result["s"],
                        "accuracy": result["accuracy"],
                        "NPMI": result["npmi"],
                        "time / gensim": result["s"] / reference if reference else float("nan"),
                        "stages s": result.get("stages", ""),
                    }
                )
            frame.unpersist()
            _common.table(rows_out[-len(results) :], f"{shape_name} seed {seed}: {args.docs:,} documents")
    _common.table(rows_out, f"topic recovery, {args.docs:,} planted documents (all runs)")
    spark.stop()


if __name__ == "__main__":
    main()
