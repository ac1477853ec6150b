"""The fitted topic pipeline written in Spark ML's saved-model layout by the driver, from state it already holds.

Why: the online-VB model is ``lambda`` (k x V) on the driver. Handing it to Spark (its model format written and
loaded back) and then saving the pipeline through Spark's writers were ~20 small Spark jobs, 4-6 s of a
5k-document run (issue 27). The files here are the ones ``PipelineModel.write()`` writes (metadata JSON, Parquet
data carrying Spark's row schema), so ``PipelineModel.load`` and every Spark node read them as Spark's own; a
test compares them with Spark's save. Other stages (IDF) and Spark's own optimizers keep Spark's writer.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Python stage class -> the JVM class its saved metadata names (stages with no data beyond their params, or
# the vocabulary for CountVectorizerModel).
JAVA_CLASSES = {
    "RegexTokenizer": "org.apache.spark.ml.feature.RegexTokenizer",
    "StopWordsRemover": "org.apache.spark.ml.feature.StopWordsRemover",
    "CountVectorizerModel": "org.apache.spark.ml.feature.CountVectorizerModel",
}
GAMMA_SHAPE = 100.0  # Spark's LocalLDAModel default (the E-step's initial Gamma shape when scoring)


@dataclass(frozen=True)
class LdaState:
    """The online-VB result as the driver holds it: ``lam`` (k x V), the Dirichlet priors and the chosen seed."""

    lam: np.ndarray
    alpha: float
    eta: float
    seed: int


def writable(text_stages: list[Any]) -> bool:
    """Whether ``write_pipeline`` knows every text stage (otherwise Spark's writer saves the pipeline)."""
    return all(type(stage).__name__ in JAVA_CLASSES for stage in text_stages)


def write_pipeline(
    directory: Path, text_stages: list[Any], vocabulary: list[str], state: LdaState, spark_version: str
) -> None:
    """Write ``PipelineModel(text_stages + LocalLDAModel(state))`` into ``directory`` (which must not exist);
    ``vocabulary`` is the CountVectorizerModel's (the driver has it: no round trip through the JVM)."""
    lda_uid = f"LDA_{uuid.uuid4().hex[:12]}"
    uids = [stage.uid for stage in text_stages] + [lda_uid]
    directory.mkdir(parents=True)
    pipeline_uid = f"PipelineModel_{uuid.uuid4().hex[:12]}"
    _metadata(directory, "org.apache.spark.ml.PipelineModel", pipeline_uid, {"stageUids": uids}, spark_version)
    digits = len(str(len(uids)))
    stage_dirs = [directory / "stages" / f"{index:0{digits}d}_{uid}" for index, uid in enumerate(uids)]
    for stage, stage_dir in zip(text_stages, stage_dirs, strict=False):
        params = {p.name: _json_value(stage.getOrDefault(p)) for p in stage.params if stage.isSet(p)}
        _metadata(stage_dir, JAVA_CLASSES[type(stage).__name__], stage.uid, params, spark_version)
        if type(stage).__name__ == "CountVectorizerModel":
            _vocabulary_data(stage_dir / "data", vocabulary)
    k = int(state.lam.shape[0])
    lda_params = {
        "featuresCol": "counts",
        "topicDistributionCol": "topic_distribution",
        "k": k,
        "optimizer": "online",
        "seed": int(state.seed),
        "docConcentration": [float(state.alpha)] * k,
        "topicConcentration": float(state.eta),
    }
    _metadata(stage_dirs[-1], "org.apache.spark.ml.clustering.LocalLDAModel", lda_uid, lda_params, spark_version)
    _lda_data(stage_dirs[-1] / "data", state)


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _part_name(suffix: str) -> str:
    """Spark's own part-file name (a fresh UUID per save), so a stored model looks like one Spark saved."""
    return f"part-00000-{uuid.uuid4()}-c000{suffix}"


def _metadata(stage_dir: Path, java_class: str, uid: str, params: dict[str, Any], spark_version: str) -> None:
    """``<stage>/metadata/``: the one-line JSON ``DefaultParamsReader`` reads. ``defaultParamMap`` is empty: a
    loaded stage keeps its class's own defaults, and every value this pipeline set is in ``paramMap``."""
    target = stage_dir / "metadata"
    target.mkdir(parents=True)
    metadata = {
        "class": java_class,
        "timestamp": int(time.time() * 1000),
        "sparkVersion": spark_version,
        "uid": uid,
        "paramMap": params,
        "defaultParamMap": {},
    }
    (target / _part_name(".txt")).write_text(json.dumps(metadata, separators=(",", ":")) + "\n")
    (target / "_SUCCESS").write_bytes(b"")


def _parquet(target: Path, table: Any, spark_schema: Any) -> None:
    """One Parquet part whose footer carries Spark's schema (its UDTs included), as Spark's writer leaves it."""
    import pyarrow.parquet as pq
    import pyspark

    target.mkdir(parents=True)
    metadata = {
        b"org.apache.spark.version": pyspark.__version__.encode(),
        b"org.apache.spark.sql.parquet.row.metadata": spark_schema.json().encode(),
    }
    part = target / _part_name(".snappy.parquet")
    pq.write_table(table.replace_schema_metadata(metadata), part, compression="snappy")
    (target / "_SUCCESS").write_bytes(b"")


def _vocabulary_data(target: Path, vocabulary: list[str]) -> None:
    import pyarrow as pa
    from pyspark.sql.types import ArrayType, StringType, StructField, StructType

    table = pa.table({"vocabulary": pa.array([vocabulary], pa.list_(pa.string()))})
    _parquet(target, table, StructType([StructField("vocabulary", ArrayType(StringType()))]))


def _lda_data(target: Path, state: LdaState) -> None:
    """``LocalLDAModel``'s one row: vocabSize, topicsMatrix (V x k, dense, column-major), docConcentration,
    topicConcentration, gammaShape."""
    import pyarrow as pa
    from pyspark.ml.linalg import MatrixUDT, VectorUDT
    from pyspark.sql.types import DoubleType, IntegerType, StructField, StructType

    k, vocab = state.lam.shape
    ints, doubles = pa.list_(pa.field("element", pa.int32(), False)), pa.list_(pa.field("element", pa.float64(), False))
    matrix_type = pa.struct(
        [
            pa.field("type", pa.int8(), False),
            pa.field("numRows", pa.int32(), False),
            pa.field("numCols", pa.int32(), False),
            pa.field("colPtrs", ints),
            pa.field("rowIndices", ints),
            pa.field("values", doubles),
            pa.field("isTransposed", pa.bool_(), False),
        ]
    )
    vector_type = pa.struct(
        [
            pa.field("type", pa.int8(), False),
            pa.field("size", pa.int32()),
            pa.field("indices", ints),
            pa.field("values", doubles),
        ]
    )
    # Column-major V x k: column j is topic j's row of lambda, so lambda's rows in order (C order).
    values = np.ascontiguousarray(state.lam, dtype=np.float64).ravel()
    matrix = {"type": 1, "numRows": vocab, "numCols": k, "values": values, "isTransposed": False}
    vector = {"type": 1, "values": [float(state.alpha)] * k}
    schema = pa.schema(
        [
            pa.field("vocabSize", pa.int32(), False),
            pa.field("topicsMatrix", matrix_type),
            pa.field("docConcentration", vector_type),
            pa.field("topicConcentration", pa.float64(), False),
            pa.field("gammaShape", pa.float64(), False),
        ]
    )
    table = pa.table(
        {
            "vocabSize": [vocab],
            "topicsMatrix": [matrix],
            "docConcentration": [vector],
            "topicConcentration": [float(state.eta)],
            "gammaShape": [GAMMA_SHAPE],
        },
        schema=schema,
    )
    spark_schema = StructType(
        [
            StructField("vocabSize", IntegerType(), False),
            StructField("topicsMatrix", MatrixUDT()),
            StructField("docConcentration", VectorUDT()),
            StructField("topicConcentration", DoubleType(), False),
            StructField("gammaShape", DoubleType(), False),
        ]
    )
    _parquet(target, table, spark_schema)


def load_pipeline(spark: Any, text_stages: list[Any], vocabulary: list[str], state: LdaState, scratch: str) -> Any:
    """The pipeline as a Spark ``PipelineModel``, loaded from files written under ``scratch`` (a directory every
    Spark node reads: a plain path, ``file://``, or any URI Hadoop writes, copied there from the driver)."""
    import tempfile

    from pyspark.ml import PipelineModel

    name = f"pipeline-{uuid.uuid4().hex}"
    if "://" not in scratch or scratch.startswith("file://"):
        target = Path(scratch.removeprefix("file://")) / name
        write_pipeline(target, text_stages, vocabulary, state, spark.version)
        return PipelineModel.load(str(target))
    local = Path(tempfile.mkdtemp(prefix="tweet-topics-pipeline-")) / name
    write_pipeline(local, text_stages, vocabulary, state, spark.version)
    jvm = spark.sparkContext._jvm
    remote = jvm.org.apache.hadoop.fs.Path(f"{scratch.rstrip('/')}/{name}")
    fs = remote.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(str(local)), remote)
    return PipelineModel.load(str(remote))
