"""A quiet demo: loading the code location shows no Dagster preview/beta notice, and the Spark paths we use run
with pandas 3 under warnings-as-errors and print nothing through the project's Spark conf dir."""

import json
import os
import subprocess
import sys

import pandas

from tweet_topics.known_warnings import KNOWN
from tweet_topics.local import environment

LOAD_DEFINITIONS = """
import warnings
import dagster as dg
warnings.simplefilter("error", dg.PreviewWarning)
warnings.simplefilter("error", dg.BetaWarning)
from tweet_topics.definitions import defs
print(len([job.name for job in defs.resolve_all_job_defs()]))
"""

# What our Spark code does: rows in, Arrow batches through Python workers (mapInArrow), Spark ML's LDA pipeline,
# dominant topics, a numpy scalar literal, Arrow out.
SPARK_PATHS = """
import json
import warnings
warnings.simplefilter("error", FutureWarning)
from tweet_topics.known_warnings import filter_known_warnings
filter_known_warnings()
import numpy as np
from pyspark.sql import SparkSession, functions as F
from tweet_topics.defs.resources import spark_config
from tweet_topics.lib.topics.lda import dominant_topics
from tweet_topics.lib.topics.pipeline import LdaParams, build_pipeline
from tweet_topics.settings import get_settings

builder = SparkSession.builder
for key, value in {**spark_config(get_settings()), "spark.master": "local[1]"}.items():
    builder = builder.config(key, value)
spark = builder.getOrCreate()
themes = [["mars", "rover", "crater", "dust"], ["moon", "lander", "orbit", "apollo"]]
rows = [(str(i), " ".join(themes[i % 2] * 3)) for i in range(60)]
frame = spark.createDataFrame(rows, ["id", "processed_text"])
frame = frame.mapInArrow(lambda batches: (b for b in batches), frame.schema)
params = LdaParams(k=2, optimizer="online", max_iter=10, min_df=1.0, max_df=0.9)
scored = dominant_topics(build_pipeline(params, []).fit(frame).transform(frame))
table = scored.select("id", "dominant_topic", "topic_probabilities", F.lit(np.float64(0.5)).alias("w")).toArrow()
print(json.dumps({"rows": table.num_rows, "topics": sorted(set(table.column("dominant_topic").to_pylist())),
                  "weight": table.column("w")[0].as_py()}))
spark.stop()
"""


def test_loading_the_code_location_shows_no_preview_or_beta_warning():
    result = subprocess.run(
        [sys.executable, "-c", LOAD_DEFINITIONS], capture_output=True, text=True, timeout=180, cwd="/"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip()) > 0
    assert "Warning" not in result.stderr


def test_known_warnings_each_say_why():
    assert all(len(why) > 30 for _category, _message, why in KNOWN)


def test_spark_paths_we_use_work_with_pandas_3_and_print_nothing(settings, tmp_path):
    """PySpark warns that it does not fully support pandas >= 3 (it probes pandas when it loads its helpers); we
    silence that one warning, so this shows that what we do with Spark works with the pandas we install."""
    assert int(pandas.__version__.split(".")[0]) >= 3  # else the warning this test is about is not emitted
    conf = environment.spark_conf_dir(settings.model_copy(update={"local_dir": tmp_path}), "error")
    env = {**os.environ, "SPARK_CONF_DIR": str(conf)}
    result = subprocess.run([sys.executable, "-c", SPARK_PATHS], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["rows"] == 60 and set(out["topics"]) <= {0, 1} and out["weight"] == 0.5
    # The JVM announces the incubator vector module it is started with (Spark's launcher adds it): not ours to mute.
    noise = [line for line in result.stderr.splitlines() if line.strip() and "jdk.incubator.vector" not in line]
    assert noise == []
