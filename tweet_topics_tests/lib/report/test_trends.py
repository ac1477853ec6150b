"""Trend logic on synthetic hours: a planted share shift and a planted term burst are found, flat ones are not."""

import random

import pyarrow as pa
import pytest

from tweet_topics.lib.report import trends

NAMES = {0: "launches", 1: "mars", 2: "webb"}
FLAT_WORDS = ["rocket", "orbit", "crater", "rover", "galaxy", "infrared", "booster", "launchpad", "telescope"]


def hour_table(rng: random.Random, n: int = 200, shares=(0.4, 0.35, 0.25), burst: str | None = None, burst_n: int = 0):
    topics, probs, texts = [], [], []
    for i in range(n):
        topic = rng.choices([0, 1, 2], weights=shares)[0]
        words = rng.sample(FLAT_WORDS, 4)
        if i < burst_n and burst:
            words.append(burst)
        topics.append(topic)
        probs.append(rng.uniform(0.6, 0.95))
        texts.append("https://t.co/x @nasa " + " ".join(words) + " the and")
    return pa.table({"dominant_topic": topics, "dominant_prob": probs, "clean_text": texts})


def counts(table):
    return trends.hour_counts([table], min_probability=0.5, stop_words=frozenset({"the", "and"}))


@pytest.fixture(scope="module")
def baseline():
    rng = random.Random(7)
    return [counts(hour_table(rng)) for _ in range(24)]


def test_tokens_drop_urls_mentions_stop_words_and_short_words():
    words = trends.tokens(pa.array(["Mars ROVER https://t.co/abc @nasa of the Jezero!"]), frozenset({"the"}))
    assert words.to_pylist() == ["mars", "rover", "jezero"]


def test_burst_term_is_found_and_flat_terms_are_not(baseline):
    now = counts(hour_table(random.Random(99), burst="starship", burst_n=30))
    found = trends.emerging_terms(now.terms, trends.merged_terms(baseline), min_count=5)
    assert [t.term for t in found] == ["starship"]
    assert found[0].count == 30 and found[0].baseline_count == 0 and found[0].g2 > 100
    assert not set(FLAT_WORDS) & {t.term for t in found}
    # Below the minimum count a burst is not reported.
    small = counts(hour_table(random.Random(98), burst="starship", burst_n=3))
    assert trends.emerging_terms(small.terms, trends.merged_terms(baseline), min_count=5) == []


def test_g2_matches_a_hand_computed_value():
    # a=10 of 1000 vs b=10 of 10000: E1 = 1000*20/11000, E2 = 10000*20/11000.
    e1, e2 = 20 * 1000 / 11000, 20 * 10000 / 11000
    import math

    expected = 2 * (10 * math.log(10 / e1) + 10 * math.log(10 / e2))
    assert trends.log_likelihood(10, 10, 1000, 10000) == pytest.approx(expected)


def test_planted_share_shift_alerts_and_a_flat_hour_does_not(baseline):
    flat = counts(hour_table(random.Random(5)))
    topics, stale = trends.topic_shifts(flat, baseline, NAMES, z_threshold=3.0)
    assert not any(s.alert for s in topics) and not stale.alert
    shifted = counts(hour_table(random.Random(5), shares=(0.1, 0.3, 0.6)))
    topics, _ = trends.topic_shifts(shifted, baseline, NAMES, z_threshold=3.0)
    by_name = {s.name: s for s in topics}
    assert by_name["webb"].alert and by_name["webb"].z >= 3
    assert by_name["launches"].alert and by_name["launches"].z <= -3
    # Too little history: no alert, however large the move.
    topics, _ = trends.topic_shifts(shifted, baseline[:3], NAMES, z_threshold=3.0)
    assert not any(s.alert for s in topics)


def test_rising_low_confidence_share_alerts(baseline):
    rng = random.Random(3)
    table = hour_table(rng)
    probs = [0.2 if i % 2 else p for i, p in enumerate(table["dominant_prob"].to_pylist())]
    stale_hour = counts(table.set_column(1, "dominant_prob", pa.array(probs)))
    _, stale = trends.topic_shifts(stale_hour, baseline, NAMES)
    assert stale.alert and stale.share == pytest.approx(0.5, abs=0.01) and stale.baseline == 0.0
