"""Topic model time and planted-topic recovery at 50k documents: the project default vs one fit vs gensim.

The corpus is ``lib/topics/planted.py`` (issue 14's shape: 6 themes, 20-40 tokens, Zipf theme words, 30 % background,
5 % noise tail). Times start from texts already in a cached DataFrame (Spark session started) or, for gensim,
from the token lists: vectorizing / dictionary building is included everywhere. Accuracy is Spark's own
``transform`` of every document (what ``tweet_topic_assignments`` does), best one-to-one topic mapping.
Usage: python benchmarks/bench_topic_model.py [--docs 50000] [--seeds 0] [--shapes default short long unbalanced k8]
[--cold]. The default runs twice per corpus: first (the corpus new to the JVM) and again (warm).
"""

import argparse
import dataclasses
import tempfile
import time

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--shapes", nargs="+", default=["default"], choices=sorted(SHAPES))
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--cold", action="store_true", help="no warm-up fit: the first row pays JIT and workers")
    args = parser.parse_args()
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
