"""Planted-topic corpora shaped like the tweets (issue 14): the benchmark's and the tests' ground truth.

Each document draws its length uniformly from ``length``; each token comes from the document's theme (a
Zipf-weighted theme vocabulary) with probability ``1 - background - noise``, from a shared Zipf background
vocabulary with probability ``background``, or from a long, flat noise tail. Words are made-up letter strings,
so no stop word list or token-length rule removes them by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

_LETTERS = np.array(list("bcdfghjklmnprstvwz"))
_VOWELS = np.array(list("aeiou"))


@dataclass(frozen=True)
class PlantedShape:
    docs: int = 50_000
    themes: int = 6
    length: tuple[int, int] = (20, 40)
    theme_words: int = 300
    background_words: int = 3_000
    noise_words: int = 200_000
    background: float = 0.30
    noise: float = 0.05
    zipf: float = 1.1
    theme_weights: tuple[float, ...] | None = None  # None: balanced


def _words(rng: np.random.Generator, n: int, syllables: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        batch = rng.integers(0, [len(_LETTERS), len(_VOWELS)] * syllables, size=(n, 2 * syllables))
        for row in batch:
            word = "".join(
                _LETTERS[c] if i % 2 == 0 else _VOWELS[c]
                for i, c in enumerate(row)  # consonant-vowel pairs
            )
            if word not in taken:
                taken.add(word)
                out.append(word)
                if len(out) == n:
                    break
    return out


def _zipf(n: int, s: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** s
    return weights / weights.sum()


def planted_corpus(shape: PlantedShape = PlantedShape(), seed: int = 0) -> tuple[list[str], list[int]]:
    """(texts, theme label per text) for ``shape``; deterministic in ``seed``."""
    texts, labels = next(planted_chunks(shape, seed, shape.docs))
    return texts, labels


def planted_chunks(shape: PlantedShape, seed: int, chunk_docs: int) -> Iterator[tuple[list[str], list[int]]]:
    """``shape.docs`` documents over one vocabulary, ``chunk_docs`` at a time (a 1M corpus without 1M strings
    in memory at once); the first chunk equals ``planted_corpus`` of that size."""
    rng = np.random.default_rng(seed)
    taken: set[str] = set()
    themes = [np.array(_words(rng, shape.theme_words, 3, taken)) for _ in range(shape.themes)]
    background = np.array(_words(rng, shape.background_words, 3, taken))
    noise = np.array(_words(rng, shape.noise_words, 4, taken))
    weights = np.array(shape.theme_weights or [1.0] * shape.themes, dtype=float)
    theme_p, background_p = _zipf(shape.theme_words, shape.zipf), _zipf(shape.background_words, shape.zipf)
    source_p = [1 - shape.background - shape.noise, shape.background, shape.noise]
    for first in range(0, shape.docs, max(chunk_docs, 1)):
        n = min(chunk_docs, shape.docs - first)
        labels = rng.choice(shape.themes, size=n, p=weights / weights.sum())
        lengths = rng.integers(shape.length[0], shape.length[1] + 1, size=n)
        total = int(lengths.sum())
        source = rng.choice(3, size=total, p=source_p)
        theme_pick = rng.choice(shape.theme_words, size=total, p=theme_p)
        background_pick = rng.choice(shape.background_words, size=total, p=background_p)
        noise_pick = rng.integers(0, shape.noise_words, size=total)
        texts: list[str] = []
        start = 0
        for label, length in zip(labels, lengths, strict=True):
            end = start + int(length)
            src = source[start:end]
            tokens = np.where(
                src == 0,
                themes[label][theme_pick[start:end]],
                np.where(src == 1, background[background_pick[start:end]], noise[noise_pick[start:end]]),
            )
            texts.append(" ".join(tokens.tolist()))
            start = end
        yield texts, [int(x) for x in labels]
