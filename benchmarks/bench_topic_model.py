"""Topic model fit time and planted-topic recovery: Spark LDA (online, EM) vs gensim, on the same corpus.

Synthetic tweets (6 planted themes) are cleaned the project's way; Spark session start and vectorizing are
timed apart from the model fit. gensim (``pip install -e '.[bench]'``) gets the same tokens and vocabulary rules.
Usage: python benchmarks/bench_topic_model.py [--sizes 10000 50000] [--em-max 10000]
"""

import argparse
import dataclasses
import time
from datetime import UTC, datetime, timedelta

import _common

from tweet_topics.config import STOPWORDS_FILE
from tweet_topics.lib.evaluation import recovery_accuracy
from tweet_topics.lib.filtering import read_term_file
from tweet_topics.lib.lda import LdaParams, build_pipeline, dominant_topics, fit_best
from tweet_topics.lib.records import record_from_v2
from tweet_topics.lib.synthetic import TweetGenerator
from tweet_topics.lib.text import clean_text_python


def corpus(n: int) -> list[tuple[str, str, str]]:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    tweets = TweetGenerator(seed=5).tweets_between(start, start + timedelta(days=7), n)
    keep = [t for t in tweets if t.kind in ("original", "reply", "goddard")]  # what filtered_tweets keeps
    return [(t.id, clean_text_python(record_from_v2(t.payload)["clean_text"]), t.topic) for t in keep]


def spark_fit(spark, rows, params: LdaParams, stop_words: list[str]) -> dict:
    from pyspark.ml import Pipeline, PipelineModel

    frame = spark.createDataFrame(rows, ["id", "processed_text", "truth"]).cache()
    frame.count()
    stages = build_pipeline(params, stop_words).getStages()
    t0 = time.perf_counter()
    text_model = Pipeline(stages=stages[:-1]).fit(frame)
    features = text_model.transform(frame).cache()
    features.count()
    vectorize = time.perf_counter() - t0
    t0 = time.perf_counter()
    lda = stages[-1].fit(features)
    fit = time.perf_counter() - t0
    model = PipelineModel(stages=[*text_model.stages, lda])
    predicted = dominant_topics(model.transform(frame)).select("truth", "dominant_topic").collect()
    accuracy, _ = recovery_accuracy([r[0] for r in predicted], [r[1] for r in predicted])
    features.unpersist()
    frame.unpersist()
    return {"vectorize_s": vectorize, "fit_s": fit, "accuracy": accuracy}


def spark_best_of(spark, rows, params: LdaParams, stop_words: list[str], restarts: int) -> dict:
    frame = spark.createDataFrame(rows, ["id", "processed_text", "truth"]).cache()
    t0 = time.perf_counter()
    fitted, _ = fit_best(frame, params, stop_words, restarts=restarts)
    total = time.perf_counter() - t0
    predicted = dominant_topics(fitted.model.transform(frame)).select("truth", "dominant_topic").collect()
    accuracy, _ = recovery_accuracy([r[0] for r in predicted], [r[1] for r in predicted])
    return {"vectorize_s": float("nan"), "fit_s": total, "accuracy": accuracy}


def gensim_fit(rows, params: LdaParams, stop_words: set[str], chunksize: int = 2000) -> dict:
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel

    t0 = time.perf_counter()
    docs = [
        [w for w in text.split() if len(w) >= params.min_token_length and w not in stop_words] for _, text, _ in rows
    ]
    dictionary = Dictionary(docs)
    dictionary.filter_extremes(no_below=int(params.min_df), no_above=params.max_df, keep_n=params.vocab_size)
    bows = [dictionary.doc2bow(d) for d in docs]
    vectorize = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = LdaModel(bows, num_topics=params.k, id2word=dictionary, passes=1, random_state=1, chunksize=chunksize)
    fit = time.perf_counter() - t0
    predicted = [
        max(model.get_document_topics(b, minimum_probability=0), key=lambda p: p[1])[0] if b else -1 for b in bows
    ]
    accuracy, _ = recovery_accuracy([r[2] for r in rows], predicted)
    return {"vectorize_s": vectorize, "fit_s": fit, "accuracy": accuracy}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--em-max", type=int, default=10_000, help="largest size to run EM on (slow, memory hungry)")
    args = parser.parse_args()
    from pyspark.ml.feature import StopWordsRemover
    from pyspark.sql import SparkSession

    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[*]")
        .config("spark.driver.memory", "6g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    session_start = time.perf_counter() - t0
    stop_words = read_term_file(STOPWORDS_FILE)
    all_stops = set(StopWordsRemover.loadDefaultStopWords("english")) | set(stop_words)
    params = LdaParams()
    rows_out = []
    for size in args.sizes:
        rows = corpus(size)
        runs = {
            "spark online (1 fit)": lambda r=rows: spark_fit(spark, r, params, stop_words),
            "spark online best of 3 (default; time incl. vectorizing)": lambda r=rows: spark_best_of(
                spark, r, params, stop_words, 3
            ),
        }
        if size <= args.em_max:
            em = dataclasses.replace(params, optimizer="em", max_iter=50)
            runs["spark em (50 iterations, counts)"] = lambda r=rows, p=em: spark_fit(spark, r, p, stop_words)
        try:
            import gensim  # noqa: F401

            runs["gensim LdaModel (1 pass, defaults)"] = lambda r=rows: gensim_fit(r, params, all_stops)
            runs["gensim LdaModel (1 pass, chunksize 500)"] = lambda r=rows: gensim_fit(r, params, all_stops, 500)
        except ImportError:
            print("gensim not installed: pip install -e '.[bench]' for the reference row")
        results = {name: run() for name, run in runs.items()}
        reference = results.get("gensim LdaModel (1 pass, chunksize 500)", {}).get("fit_s")
        for name, result in results.items():
            rows_out.append(
                {
                    "tweets": size,
                    "documents": len(rows),
                    "model": name,
                    "vectorize s": result["vectorize_s"],
                    "fit s": result["fit_s"],
                    "accuracy": result["accuracy"],
                    "fit / gensim chunksize 500": (result["fit_s"] / reference) if reference else float("nan"),
                }
            )
    _common.table(rows_out, f"topic recovery, k=6 (Spark session start {session_start:.1f} s, not in fit times)")
    spark.stop()


if __name__ == "__main__":
    main()
