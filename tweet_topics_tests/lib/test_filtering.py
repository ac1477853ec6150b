import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tweet_topics.config import BLOCKLIST_FILE
from tweet_topics.lib import filtering
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


def regex_word_counts(texts):
    """The definition before issue 27: strip URLs and mentions, then one RE2 match per word."""
    stripped = pc.replace_substring_regex(pc.fill_null(texts, ""), filtering._URL_MENTION, " ")
    return pc.count_substring_regex(stripped, filtering.WORD_PATTERN).to_pylist()


TRICKY = [
    "",
    " ",
    "🚀🚀 launch🚀day 🌕",
    "see https://t.co/x @nasa #mars 2024 the moon!",
    "foohttps://x.y/z bar",
    "HTTPS://NOT.STRIPPED case matters",
    "http:// nothing after the scheme",
    "wwww.example.com and www. alone",
    "@xhttp://a@bc d",
    "@abc日本 #日本語 #_x @@nasa a@b",
    "東京 の 宇宙 ステーション",
    "火星探査機パーセベランス",
    "naïve café Ωmega ١٢٣ arabic digits ٣ stay letters",
    "nbsp\u00a0joins\u3000ideographic space",
    "tabs\tnew\nlines\rcarriage\x0bvertical\x0cform",
    "under_score snake_case x_y 3d 4k mars2020",
    "don't it's C++ e-mail (promo) [tag] {x} ~y~ `z`",
    "\x00nul\x01ctl \x7fdel",
    "#ISS @NASA https://t.co/81046273",
    "emoji\u200dzwj 👩‍🚀 astronaut",
    "trailing word",
]


def test_word_counts_equal_the_regex_definition_on_tricky_texts():
    texts = pa.array([*TRICKY, None], pa.string())
    assert word_counts(texts).to_pylist() == regex_word_counts(texts)
    assert word_counts(texts).to_pylist()[:4] == [0, 0, 3, 3]


def test_word_counts_on_slices_chunks_and_large_strings():
    texts = pa.array([*TRICKY, None] * 3, pa.string())
    expected = regex_word_counts(texts)
    sliced = texts.slice(5, 30)
    assert word_counts(sliced).to_pylist() == expected[5:35]
    chunked = pa.chunked_array([texts.slice(0, 7), texts.slice(7, 0), texts.slice(7)])
    assert word_counts(chunked).to_pylist() == expected
    assert word_counts(texts.cast(pa.large_string())).to_pylist() == expected
    assert word_counts(pa.array([], pa.string())).to_pylist() == []
    assert word_counts(pa.array(["", None, ""], pa.string())).to_pylist() == [0, 0, 0]


def test_word_counts_equal_the_regex_definition_on_random_texts():
    pieces = [
        *" \t\n\r\x0c\x0b\u00a0\u3000", *"aZ09_@#.:/-'!?~`[]{}\x00\x7f", "é", "日", "٣", "🚀", "\u200d",
        "http", "https", "://", "www", "www.", "@nasa", "#mars", "http://t.co/x", "ab", "x@y",
    ]  # fmt: skip
    rng = random.Random(27)
    texts = pa.array(["".join(rng.choices(pieces, k=rng.randint(0, 30))) for _ in range(5000)], pa.string())
    assert word_counts(texts).to_pylist() == regex_word_counts(texts)


def test_every_byte_is_a_word_byte_exactly_when_re2_says_so():
    ascii_chars = pa.array([chr(b) for b in range(128)], pa.string())
    re2_word = pc.match_substring_regex(ascii_chars, f"^{filtering.WORD_PATTERN}$").to_pylist()
    ours = filtering._word_bytes(np.arange(256, dtype=np.uint8)).tolist()
    assert ours[:128] == re2_word and all(ours[128:])  # every byte of a non-ASCII character is a letter's
    assert sum(re2_word) == 52 + 28 + 1  # letters, controls other than \t \n \f \r, DEL


def test_filter_on_many_chunks_and_row_slices_equals_one_contiguous_scan(monkeypatch):
    rng = random.Random(5)
    words = ["goddard", "dogecoin", "the", "moon", "🚀", "@nasa", "#mars", "https://t.co/x", "日本", "42"]
    rows = [{"clean_text": " ".join(rng.choices(words, k=rng.randint(0, 9)))} for _ in range(400)]
    whole = table(rows)
    chunked = pa.concat_tables([whole.slice(i, 37) for i in range(0, 400, 37)])
    blocklist = Blocklist.from_file(BLOCKLIST_FILE)
    expected = filter_tweets(whole, blocklist)
    monkeypatch.setattr(filtering, "SCAN_PART_ROWS", 50)
    monkeypatch.setattr(filtering.os, "cpu_count", lambda: 3)  # three slices on three threads
    result = filter_tweets(chunked, blocklist)
    assert result.counts == expected.counts and result.rejected.equals(expected.rejected)
    assert result.kept.equals(expected.kept)
    assert result.counts["blocklisted"] > 0 and result.counts["too_short"] > 0 and result.counts["kept"] > 0
