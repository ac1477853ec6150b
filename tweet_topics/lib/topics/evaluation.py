"""Topic-model quality without Spark: NPMI coherence, topic diversity, planted-topic recovery."""

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
