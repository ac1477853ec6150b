"""Topic-model quality without Spark: NPMI coherence, topic diversity, the variational bound, planted recovery."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np


def npmi_coherence(top_terms: Sequence[Sequence[int]], docs: Sequence[Sequence[int]]) -> list[float]:
    """Mean NPMI over pairs of each topic's top terms, using document co-occurrence in ``docs`` (small inputs;
    Spark computes the same counts with ``lda.npmi_from_blocks``)."""
    terms = sorted({t for topic in top_terms for t in topic})
    if not terms or not docs:
        return [float("nan")] * len(top_terms)
    column = {t: i for i, t in enumerate(terms)}
    matrix = np.zeros((len(docs), len(terms)), dtype=np.float32)
    for row, doc in enumerate(docs):
        for t in set(doc):
            if t in column:
                matrix[row, column[t]] = 1.0
    co = matrix.T @ matrix
    return npmi_from_counts([[column[t] for t in topic] for topic in top_terms], co, np.diag(co), len(docs))


def npmi_from_counts(top_terms: Sequence[Sequence[int]], co: np.ndarray, df: np.ndarray, n: int) -> list[float]:
    """Mean NPMI per topic from co-document counts ``co`` and document frequencies ``df`` over ``n`` documents.

    ``top_terms`` index rows of ``co``. A pair never seen together scores -1.
    """
    if not n:
        return [float("nan")] * len(top_terms)
    scores = []
    for topic in top_terms:
        values = []
        for i, j in itertools.combinations(topic, 2):
            joint = co[i, j] / n
            if joint <= 0 or df[i] == 0 or df[j] == 0:
                values.append(-1.0)
                continue
            if joint >= 1.0:
                values.append(1.0)
                continue
            pmi = math.log(joint / ((df[i] / n) * (df[j] / n)))
            values.append(pmi / -math.log(joint))
        scores.append(float(np.mean(values)) if values else float("nan"))
    return scores


def _lgamma(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.lgamma, otypes=[float])(x)


def _dirichlet_expectation(a: np.ndarray) -> np.ndarray:
    from tweet_topics.lib.topics.online_vb import dirichlet_expectation

    return dirichlet_expectation(a)


def documents_bound(
    indptr: np.ndarray, ids: np.ndarray, cts: np.ndarray, gamma: np.ndarray, elog_beta: np.ndarray, alpha: np.ndarray
) -> float:
    """The documents' part of LDA's variational bound (Spark's ``LDAModel.logLikelihoodBound``, gensim's
    ``bound``) for CSR documents with variational Dirichlets ``gamma``; ``elog_beta`` is E[log beta] (k x V)."""
    if not len(gamma):
        return 0.0
    elog_theta = _dirichlet_expectation(gamma)
    doc_of = np.repeat(np.arange(len(gamma)), np.diff(indptr))
    x = elog_theta[doc_of] + elog_beta[:, ids].T
    top = x.max(axis=1)
    words = float(np.dot(cts, top + np.log(np.exp(x - top[:, None]).sum(axis=1))))
    theta = ((alpha - gamma) * elog_theta).sum() + (_lgamma(gamma) - _lgamma(alpha)).sum()
    return words + float(theta + (math.lgamma(alpha.sum()) - _lgamma(gamma.sum(axis=1))).sum())


def topics_bound(lam: np.ndarray, eta: float) -> float:
    """The topics' part of the same bound (Spark adds it to every ``logLikelihood``): E[log p(beta|eta)] minus
    E[log q(beta|lambda)], for ``lam`` (k x V)."""
    elog_beta = _dirichlet_expectation(lam)
    vocab = lam.shape[1]
    part = ((eta - lam) * elog_beta).sum() + (_lgamma(lam) - math.lgamma(eta)).sum()
    return float(part + (math.lgamma(eta * vocab) - _lgamma(lam.sum(axis=1))).sum())


def topic_diversity(top_terms: Sequence[Sequence[int]]) -> float:
    """Share of unique terms among all topics' top terms (1.0 = no overlap)."""
    flat = [t for topic in top_terms for t in topic]
    return len(set(flat)) / len(flat) if flat else float("nan")


def recovery_accuracy(truth: Sequence[str], predicted: Sequence[int]) -> tuple[float, dict[int, str]]:
    """Best one-to-one mapping of model topics onto planted labels, and the accuracy under it.

    Exhaustive over permutations for up to 8 topics, greedy beyond.
    """
    labels = sorted(set(truth))
    topics = sorted(set(predicted))
    counts = Counter(zip(predicted, truth, strict=True))
    best: tuple[int, dict[int, str]] = (-1, {})
    if len(topics) <= 8 and len(labels) <= 8:
        for perm in itertools.permutations(labels, min(len(labels), len(topics))):
            mapping = dict(zip(topics, perm, strict=False))
            score = sum(counts[(t, lab)] for t, lab in mapping.items())
            if score > best[0]:
                best = (score, mapping)
    else:
        mapping, used = {}, set()
        for (t, lab), _ in counts.most_common():
            if t not in mapping and lab not in used:
                mapping[t] = lab
                used.add(lab)
        best = (sum(counts[(t, lab)] for t, lab in mapping.items()), mapping)
    return best[0] / max(len(truth), 1), best[1]
