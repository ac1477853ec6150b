"""The online-VB kernels that run in the executors: digamma, CSR blocks, the E-step, NPMI counts (numpy only)."""

import pickle

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tweet_topics.lib.topics.evaluation import npmi_coherence, npmi_from_counts
from tweet_topics.lib.topics.online_vb import (
    Batch,
    digamma,
    e_step,
    top_term_cooccurrence,
    update_slice,
)
from tweet_topics.lib.topics.vectorize import local_blocks, renumber


def test_digamma_matches_known_values():
    values = digamma(np.array([0.5, 1.0, 2.0, 10.0, 1e-3]))
    euler = 0.5772156649015329
    expected = [
        -euler - 2 * np.log(2),
        -euler,
        1 - euler,
        2.251752589066721,
        -1000 - euler + np.pi**2 / 6e3 - 1.2020569e-6,
    ]
    assert np.allclose(values, expected, rtol=1e-9)


def test_blocks_count_terms_per_document_and_drop_unknown_and_empty():
    vocabulary = ["mars", "moon", "rover"]
    batch = pa.RecordBatch.from_pylist(
        [{"terms": ["mars", "mars", "rover", "zzz"]}, {"terms": ["zzz"]}, {"terms": []}, {"terms": ["moon"]}]
    )
    packed = pa.Table.from_batches(list(local_blocks(iter([batch]), seed=1)))
    stats = packed.filter(pc.is_null(packed["block"])).select(["term", "df", "tf"]).sort_by("term")
    assert stats.to_pylist() == [
        {"term": "mars", "df": 1, "tf": 2},
        {"term": "moon", "df": 1, "tf": 1},
        {"term": "rover", "df": 1, "tf": 1},
        {"term": "zzz", "df": 2, "tf": 2},
    ]
    (payload,) = [b for b in packed["block"].to_pylist() if b is not None]
    block = renumber(pickle.loads(payload), pa.array(vocabulary))
    assert block.docs == 2  # the documents without a vocabulary term are gone
    docs = sorted(
        tuple(sorted(zip(block.ids[a:b].tolist(), block.cts[a:b].tolist(), strict=True)))
        for a, b in zip(block.indptr[:-1], block.indptr[1:], strict=True)
    )
    assert docs == [((0, 2.0), (2, 1.0)), ((1, 1.0),)]


def test_update_slices_cover_each_document_once_per_pass():
    block = Batch(np.arange(11, dtype=np.int64), np.arange(10, dtype=np.int32), np.ones(10, np.float32))
    seen = np.concatenate([update_slice([block], u, 3).ids for u in range(3)])
    assert sorted(seen.tolist()) == list(range(10))
    assert update_slice([], 0, 3).docs == 0  # a partition without documents takes part in every update


def test_e_step_separates_two_planted_topics():
    """Two topics over disjoint halves of a 4-term vocabulary: each document's gamma favours its own topic."""
    exp_elog_beta = np.array([[0.49, 0.49, 0.01, 0.01], [0.01, 0.01, 0.49, 0.49]])
    batch = Batch(np.array([0, 2, 4]), np.array([0, 1, 2, 3], np.int32), np.array([5, 5, 5, 5], np.float32))
    gamma, sstats = e_step(batch, exp_elog_beta, np.full(2, 0.5), np.random.default_rng(0), 100, 1e-3)
    assert gamma[0, 0] > 9 * gamma[0, 1] and gamma[1, 1] > 9 * gamma[1, 0]
    assert np.isclose(sstats.sum(), 20.0)  # every token is assigned once
    assert sstats[0, :2].sum() > 9.5 and sstats[1, 2:].sum() > 9.5


def test_npmi_from_block_counts_equals_the_direct_computation():
    rng = np.random.default_rng(3)
    docs = [sorted(set(rng.integers(0, 12, size=5).tolist())) for _ in range(200)]
    indptr = np.concatenate([[0], np.cumsum([len(d) for d in docs])])
    block = Batch(indptr, np.concatenate(docs).astype(np.int32), np.ones(indptr[-1], np.float32))
    top = [[0, 1, 2], [3, 4, 5, 11]]
    terms = np.array(sorted({t for topic in top for t in topic}))
    co, df, n = top_term_cooccurrence([block.rows(0, 120), block.rows(120, 200)], terms)
    column = {int(t): i for i, t in enumerate(terms)}
    from_blocks = npmi_from_counts([[column[t] for t in topic] for topic in top], co, df, n)
    assert n == 200 and np.allclose(from_blocks, npmi_coherence(top, docs))


def test_initial_state_separates_unbalanced_and_short_themes():
    """k-means with 3k centres merged down to k: no theme merged or split on the shapes that broke plain k-means."""
    from collections import Counter

    from tweet_topics.lib.topics.evaluation import recovery_accuracy
    from tweet_topics.lib.topics.online_vb import kmeans_init
    from tweet_topics.lib.topics.planted import PlantedShape, planted_corpus

    for shape, seed in [
        (PlantedShape(docs=5_000, theme_weights=(8, 4, 2, 1, 1, 1)), 1),
        (PlantedShape(docs=6_000, length=(6, 14)), 1),
    ]:
        texts, labels = planted_corpus(shape, seed)
        docs = [t.split() for t in texts]
        df = Counter(w for d in docs for w in set(d))
        index = {w: i for i, w in enumerate(sorted(w for w, c in df.items() if 5 <= c <= 0.3 * len(docs)))}
        counts = [Counter(index[w] for w in d if w in index) for d in docs]
        kept = [i for i, c in enumerate(counts) if c]
        indptr = np.cumsum([0] + [len(counts[i]) for i in kept])
        ids = np.array([t for i in kept for t in counts[i]], np.int32)
        cts = np.array([n for i in kept for n in counts[i].values()], np.float32)
        sample = Batch(indptr.astype(np.int64), ids, cts)
        for init_seed in (88, 89):
            lam = kmeans_init(sample, 6, len(index), float(cts.sum()), init_seed)
            log_beta = np.log(lam / lam.sum(axis=1, keepdims=True))
            scores = np.add.reduceat(cts[:, None] * log_beta[:, ids].T, indptr[:-1], axis=0)
            accuracy, _ = recovery_accuracy([labels[i] for i in kept], scores.argmax(axis=1).tolist())
            assert accuracy >= 0.97, (shape, init_seed, accuracy)
