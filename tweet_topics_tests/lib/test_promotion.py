"""The promotion decision on manifests (what topic_model gates models/latest.json with)."""

import math

from tweet_topics.lib.promotion import PromotionPolicy, decide


def manifest(npmi: float = 0.3, diversity: float = 0.8, perplexity: float = 5.0, corpus: str = "c1", **metrics):
    base = {"coherence_npmi": npmi, "topic_diversity": diversity, "log_perplexity": perplexity}
    base |= {"vocabulary_size": 500, "metric_sample_documents": 1500, "documents": 1500, **metrics}
    return {"version": f"v-{corpus}-{npmi}", "corpus": {"fingerprint": corpus}, "metrics": base}


LATEST_OF_ANOTHER_CORPUS = manifest(corpus="c0")  # a latest exists, but its perplexity is not comparable


def test_floors():
    other = LATEST_OF_ANOTHER_CORPUS
    assert decide(manifest(), PromotionPolicy(), other).promoted
    refused = decide(manifest(npmi=0.01, diversity=0.2), PromotionPolicy(), other)
    assert not refused.promoted and len(refused.reasons) == 2 and refused.summary().startswith("refused: mean NPMI")
    assert not decide(manifest(npmi=math.nan), PromotionPolicy(), other).promoted  # NaN never passes a floor
    assert decide(manifest(npmi=0.01), PromotionPolicy(min_npmi=0.0), other).promoted


def test_the_first_model_is_promoted_below_the_floors_and_says_so():
    first = decide(manifest(npmi=0.01), PromotionPolicy())
    assert first.promoted and first.first and not first.forced and first.reasons
    assert first.summary().startswith("promoted as the first model (no latest to keep) despite: mean NPMI")
    assert not decide(manifest(), PromotionPolicy()).first  # passed: nothing to excuse


def test_comparison_only_on_the_same_corpus_and_vocabulary():
    current = manifest(perplexity=5.0)
    assert decide(manifest(perplexity=5.09), PromotionPolicy(), current).promoted  # within 2 %
    worse = decide(manifest(perplexity=5.2), PromotionPolicy(), current)
    assert not worse.promoted and worse.compared_with == current["version"] and "log-perplexity" in worse.reasons[0]
    assert decide(manifest(perplexity=5.2), PromotionPolicy(max_perplexity_rise=0.05), current).promoted
    other_corpus = decide(manifest(perplexity=9.0, corpus="c2"), PromotionPolicy(), current)
    assert other_corpus.promoted and other_corpus.compared_with is None
    other_vocabulary = decide(manifest(perplexity=9.0, vocabulary_size=800), PromotionPolicy(), current)
    assert other_vocabulary.promoted and other_vocabulary.compared_with is None
    assert not decide(manifest(perplexity=math.nan), PromotionPolicy(), current).promoted


def test_force_promotes_and_keeps_the_reasons():
    forced = decide(manifest(npmi=-0.2), PromotionPolicy(mode="force"), LATEST_OF_ANOTHER_CORPUS)
    assert forced.promoted and forced.forced and forced.reasons
    assert forced.to_dict()["summary"].startswith("forced despite: mean NPMI coherence -0.200")
    assert not decide(manifest(), PromotionPolicy(mode="force")).forced  # nothing to force
