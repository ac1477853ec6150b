"""Tokenize and count the corpus once: Spark's tokenizer and stop words, then Arrow and numpy in the executors.

Why: fitting Spark's ``CountVectorizer`` and then tokenizing again for the LDA input read and split every text
twice, the largest stage of a fit. Here one pass turns each partition into CSR blocks over a partition-local
vocabulary plus one (term, document frequency, count) row per local term; Spark SQL sums those rows into the
corpus vocabulary with CountVectorizer's rules (minDF/maxDF on document frequency, the top ``vocabSize`` by
count, ties by term so every run agrees); the cached blocks are then renumbered to it in the executors. The
saved ``PipelineModel`` holds a ``CountVectorizerModel`` built from that vocabulary, so scoring counts exactly
the terms training counted. Nothing per document reaches the driver: only the vocabulary (≤ ``vocab_size``).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tweet_topics.lib.topics.online_vb import Batch
from tweet_topics.lib.topics.pipeline import TopicModelError, build_pipeline

PACKED_SCHEMA = "term string, df long, tf long, block binary"


@dataclass
class LocalBlock:
    """Documents of one Arrow batch as CSR rows over that batch's own terms (``terms``: a pyarrow string array)."""

    terms: Any
    batch: Batch


@dataclass
class Vectorized:
    """The corpus after the text stages, shared by every (k, seed) candidate: tokenized and counted once, held
    in executor memory as CSR blocks (nothing per document comes back to the driver)."""

    corpus: Any  # the input DataFrame (cached by the caller or cheap to recompute)
    text_model: Any  # PipelineModel of tokenizer, stop words, CountVectorizerModel (and IDF)
    blocks: Any  # cached RDD of online_lda.Batch over the vocabulary, one or more per partition
    vocabulary: list[str]
    documents: int  # documents with at least one vocabulary term
    tokens: float
    features: Any = None  # cached DataFrame of the LDA input column, only for Spark's own optimizers

    def release(self) -> None:
        self.blocks.unpersist()
        if self.features is not None:
            self.features.unpersist()


def local_blocks(batches: Iterator[Any], seed: int) -> Iterator[Any]:
    """Arrow batches with a ``terms`` list column -> ``PACKED_SCHEMA`` rows (runs in the executors).

    One row per Arrow batch carries a pickled ``LocalBlock`` (documents shuffled, so every mini-batch slice is
    a random sample even when the input is ordered by time or topic); the partition's term statistics follow,
    merged with Arrow's group-by.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = pa.schema([("term", pa.string()), ("df", pa.int64()), ("tf", pa.int64()), ("block", pa.binary())])
    rng = np.random.default_rng(seed)
    stats = []
    for record_batch in batches:
        terms = record_batch.column("terms")
        flat = pc.list_flatten(terms)
        if len(flat) == 0:
            continue
        lengths = pc.fill_null(pc.list_value_length(terms), 0).to_numpy(zero_copy_only=False)
        encoded = pc.dictionary_encode(flat)
        local_terms, index = encoded.dictionary, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        width = len(local_terms)
        doc_of = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        unique, counts = np.unique(doc_of * width + index, return_counts=True)
        docs, ids = unique // width, (unique % width).astype(np.int32)
        stats.append(
            pa.table(
                {
                    "term": local_terms,
                    "df": np.bincount(ids, minlength=width).astype(np.int64),
                    "tf": np.bincount(ids, weights=counts, minlength=width).astype(np.int64),
                }
            )
        )
        present, per_doc = np.unique(docs, return_counts=True)
        indptr = np.concatenate([[0], np.cumsum(per_doc)]).astype(np.int64)
        block = permute(Batch(indptr, ids, counts.astype(np.float32)), rng.permutation(len(present)))
        payload = pickle.dumps(LocalBlock(local_terms, block), protocol=5)
        yield pa.RecordBatch.from_pydict({"term": [None], "df": [None], "tf": [None], "block": [payload]}, schema)
    if stats:
        merged = pa.concat_tables(stats).group_by("term").aggregate([("df", "sum"), ("tf", "sum")])
        merged = merged.rename_columns(["term", "df", "tf"])
        merged = merged.append_column("block", pa.nulls(merged.num_rows, pa.binary()))
        yield from merged.select(schema.names).cast(schema).to_batches(max_chunksize=50_000)


def permute(block: Batch, order: np.ndarray) -> Batch:
    """``block`` with its documents in ``order``."""
    lengths = np.diff(block.indptr)[order]
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    take = np.arange(indptr[-1]) - np.repeat(indptr[:-1], lengths) + np.repeat(block.indptr[order], lengths)
    return Batch(indptr, block.ids[take], block.cts[take])


def renumber(block: LocalBlock, value_set: Any) -> Batch:
    """``block`` over the corpus vocabulary ``value_set``: unknown terms and then-empty documents dropped."""
    import pyarrow.compute as pc

    position = pc.index_in(block.terms, value_set=value_set)
    mapping = pc.fill_null(position, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    batch = block.batch
    ids = mapping[batch.ids]
    keep = ids >= 0
    doc_of = np.repeat(np.arange(batch.docs), np.diff(batch.indptr))
    per_doc = np.bincount(doc_of[keep], minlength=batch.docs)
    per_doc = per_doc[per_doc > 0]
    indptr = np.concatenate([[0], np.cumsum(per_doc)]).astype(np.int64)
    return Batch(indptr, ids[keep].astype(np.int32), batch.cts[keep])


def _renumber_partition(rows: Iterator[Any], vocabulary: list[str]) -> Iterator[Batch]:
    import pyarrow as pa

    value_set = pa.array(vocabulary, pa.string())
    for row in rows:
        batch = renumber(pickle.loads(row[0]), value_set)
        if batch.docs:
            yield batch


def select_vocabulary(stats: Any, documents: int, min_df: float, max_df: float, vocab_size: int) -> list[str]:
    """CountVectorizer's vocabulary from summed (term, df, tf) rows: df within [minDF, maxDF], top by count."""
    from pyspark.sql import functions as F

    low = min_df if min_df >= 1 else min_df * documents
    high = max_df if max_df >= 1 else max_df * documents
    totals = stats.groupBy("term").agg(F.sum("df").alias("df"), F.sum("tf").alias("tf"))
    kept = totals.where((F.col("df") >= low) & (F.col("df") <= high)).orderBy(F.desc("tf"), "term")
    return [row[0] for row in kept.limit(vocab_size).select("term").collect()]


def spread(corpus: Any, sizes: list[int], parts: int) -> Any:
    """``corpus`` in ``parts`` partitions (one per core: every update is one task per partition), merged without
    a shuffle when its documents are spread evenly enough (``sizes``: documents per input partition), else
    redistributed: one Parquet row group is one task's whole input (a 50k-document file written in one row group
    was one task's tokenizing and ~80 % of every update's documents)."""
    docs = sum(sizes)
    if len([n for n in sizes if n]) >= parts and max(sizes, default=0) <= 2 * docs / parts:
        return corpus.coalesce(parts)
    return corpus.repartition(parts)


def vectorize(corpus: Any, params: Any, stop_words: list[str]) -> Vectorized:
    """Fit the text stages on a DataFrame with ``processed_text``; raise TopicModelError on unusable input.

    ``params`` is an ``lda.LdaParams``; the tokenizer and stop words are the pipeline's own stages.
    """
    from pyspark import StorageLevel
    from pyspark.ml import PipelineModel
    from pyspark.ml.feature import IDF
    from pyspark.sql import functions as F

    # Documents per partition without a shuffle; its tasks also start the Python workers the packing needs.
    sizes = [r[0] for r in corpus.select(F.lit(True).alias("x")).mapInArrow(_count_rows, "n long").collect()]
    docs = sum(sizes)
    if docs < max(params.k, 2):
        raise TopicModelError(f"corpus has {docs} documents, fewer than k={params.k}: widen the corpus window")
    if params.min_df >= 1 and docs < params.min_df:
        raise TopicModelError(f"corpus has {docs} documents, fewer than min_df={params.min_df:g}")
    sc = corpus.sparkSession.sparkContext
    tokenizer, remover = build_pipeline(params, stop_words).getStages()[:2]
    terms = remover.transform(tokenizer.transform(spread(corpus, sizes, sc.defaultParallelism))).select("terms")
    seed = params.seed

    def pack(batches: Iterator[Any]) -> Iterator[Any]:
        from pyspark import TaskContext

        return local_blocks(batches, seed + TaskContext.get().partitionId())

    packed = terms.mapInArrow(pack, PACKED_SCHEMA)
    packed = packed.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        stats = packed.where(F.col("block").isNull())
        vocabulary = select_vocabulary(stats, docs, params.min_df, params.max_df, params.vocab_size)
        if len(vocabulary) < params.k:
            raise TopicModelError(
                f"vocabulary has {len(vocabulary)} terms after min_df={params.min_df:g}/max_df={params.max_df:g} "
                f"and stop words, fewer than k={params.k}: lower min_df or add documents"
            )
        shared = sc.broadcast(vocabulary)
        rows = packed.where(F.col("block").isNotNull()).select("block").rdd
        blocks = rows.mapPartitions(lambda it: _renumber_partition(it, shared.value))
        blocks = blocks.persist(StorageLevel.MEMORY_AND_DISK)
        documents, tokens = blocks.map(lambda b: (b.docs, float(b.cts.sum()))).fold((0, 0.0), _add_pair)
    finally:
        packed.unpersist()
    if documents < params.k:
        blocks.unpersist()
        raise TopicModelError(f"only {documents} documents contain a vocabulary term, fewer than k={params.k}")
    counter = count_vectorizer(vocabulary, sc)
    stages: list[Any] = [tokenizer, remover, counter]
    if params.use_idf:
        stages.append(IDF(inputCol="counts", outputCol="tfidf").fit(counter.transform(terms)))
    text_model = PipelineModel(stages=stages)
    features = text_model.transform(corpus).cache() if params.optimizer != "vb" else None
    return Vectorized(corpus, text_model, blocks, vocabulary, documents, tokens, features)


def count_vectorizer(vocabulary: list[str], sc: Any) -> Any:
    """``CountVectorizerModel.from_vocabulary`` in one JVM call: pyspark's sets the Java array one py4j round trip
    per term (0.55 s for 5,000 terms, 2.2 s for 20,000; this: 0.05 s). The terms travel as one JSON text, decoded
    by Spark's own ``StringArrayParam.jsonDecode``."""
    import json

    from pyspark.ml.feature import CountVectorizerModel

    feature = sc._jvm.org.apache.spark.ml.feature
    terms = feature.StopWordsRemover().stopWords().jsonDecode(json.dumps(vocabulary, ensure_ascii=False))
    model = CountVectorizerModel(feature.CountVectorizerModel(terms)).setInputCol("terms").setOutputCol("counts")
    model._set(vocabSize=len(vocabulary))  # as from_vocabulary does: the saved pipeline's metadata records it
    return model


def _count_rows(batches: Iterator[Any]) -> Iterator[Any]:
    import pyarrow as pa

    yield pa.RecordBatch.from_pydict({"n": [sum(batch.num_rows for batch in batches)]})


def _add_pair(a: tuple[int, float], b: tuple[int, float]) -> tuple[int, float]:
    return a[0] + b[0], a[1] + b[1]
