import pyarrow as pa

from tweet_topics.config import BLOCKLIST_FILE
from tweet_topics.lib.filtering import FILTER_REASONS, Blocklist, filter_tweets, read_term_file, word_counts


def table(rows):
    base = {"is_retweet": False, "lang": "en", "hashtags": ""}
    rows = [base | r for r in rows]
    return pa.Table.from_pylist([dict(r, id=str(i), clean_text=r["clean_text"]) for i, r in enumerate(rows)])


def test_reference_blocklist_loads_with_its_bugs_fixed():
    terms = read_term_file(BLOCKLIST_FILE)
    assert "god" in terms and "muslims" in terms and "muslims," not in terms
    assert terms.count("nung") == 1
    assert "watch" not in terms


def test_word_boundaries_keep_goddard_and_escape_specials():
    blocklist = Blocklist(("god", "c++", "(promo)", "crypto*", "nasty"))
    texts = [
        "Goddard Space Flight Center tests the telescope",
        "oh my god",
        "I code in C++ daily",
        "big (promo) today",
        "cryptocurrency to the moon",
        "a Chinese dynasty ruled",
        "cryptic message",
    ]
    assert blocklist.matches(texts).to_pylist() == [False, True, True, True, True, False, False]


def test_filter_reasons_and_reconciliation():
    blocklist = Blocklist.from_file(BLOCKLIST_FILE)
    rows = [
        {"clean_text": "goddard space flight center builds the new telescope mirror"},
        {"clean_text": "rocket launch from the pad this morning was great", "is_retweet": True},
        {"clean_text": "el cohete despega hoy hacia la luna", "lang": "es"},
        {"clean_text": "buy dogecoin now before the rocket launch tonight"},
        {"clean_text": "mars rover"},
        {"clean_text": "perseverance drilled another rock core sample at jezero", "lang": None},
        {"clean_text": "a cool rocket photo taken at the pad https://t.co/abc #Binance", "hashtags": "Binance"},
    ]
    result = filter_tweets(table(rows), blocklist, min_words=5)
    assert result.kept["id"].to_pylist() == ["0", "5"]
    assert result.rejected.to_pylist() == [
        {"id": "1", "reason": "retweet"},
        {"id": "2", "reason": "non_english"},
        {"id": "3", "reason": "blocklisted"},
        {"id": "4", "reason": "too_short"},
        {"id": "6", "reason": "blocklisted"},
    ]
    counts = result.counts
    assert counts["input"] == counts["kept"] + sum(counts[r] for r in FILTER_REASONS)


def test_word_counts_ignore_urls_mentions_numbers():
    counts = word_counts(pa.array(["see https://t.co/x @nasa #mars 2024 the moon!", "", None]))
    assert counts.to_pylist() == [3, 0, 0]
