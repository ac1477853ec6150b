"""Entity extraction scored on X's own twitter-text conformance cases, plus X's text conventions."""

import json
from collections.abc import Callable, Iterator

import pytest
import yaml

from tweet_topics.lib.records.entities import (
    clean_text,
    escape_x_text,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    strip_retweet_prefix,
    unescape_x_text,
)
from tweet_topics_tests.conftest import DATA, REAL_TWEETS

CONFORMANCE = yaml.safe_load((DATA / "twitter-text" / "extract.yml").read_text(encoding="utf-8"))["tests"]
# Our three entity kinds and the upstream sections (with plain expected lists or url/hashtag records) behind each.
SECTIONS: dict[str, tuple[Callable[[str], list[str]], tuple[str, ...]]] = {
    "hashtags": (extract_hashtags, ("hashtags", "hashtags_from_astral")),
    "mentions": (extract_mentions, ("mentions",)),
    "urls": (extract_urls, ("urls", "urls_with_directional_markers", "tco_urls_with_params")),
}


def cases(kind: str) -> Iterator[tuple[str, str, list[str]]]:
    """``(description, text, expected)`` for one entity kind, expected values as plain strings."""
    for section in SECTIONS[kind][1]:
        for case in CONFORMANCE[section]:
            expected = [e["url"] if isinstance(e, dict) else e for e in case["expected"] or []]
            yield case["description"], case["text"], expected


def score(kind: str) -> tuple[int, int, list[str]]:
    """Cases passed, cases run, and a line for each failure."""
    extract = SECTIONS[kind][0]
    passed, total, failures = 0, 0, []
    for description, text, expected in cases(kind):
        got = extract(text)
        total += 1
        if got == expected:
            passed += 1
        else:
            failures.append(f"{kind}: {description}: got {got!r}, expected {expected!r}")
    return passed, total, failures


def test_conformance_scores_per_section():
    results = {kind: score(kind) for kind in SECTIONS}
    assert {kind: total for kind, (_, total, _) in results.items()} == {"hashtags": 68, "mentions": 23, "urls": 96}
    passed = sum(p for p, _, _ in results.values())
    total = sum(t for _, t, _ in results.values())
    for kind, (p, t, failures) in results.items():
        print(f"twitter-text conformance {kind}: {p}/{t} = {p / t:.3f}")
        for line in failures:
            print("  ", line)
    print(f"twitter-text conformance overall: {passed}/{total} = {passed / total:.3f}")
    for kind, (p, t, failures) in results.items():
        assert p / t >= 0.9, (kind, failures)
    assert passed / total >= 0.95


@pytest.mark.parametrize(
    ("text", "hashtags", "mentions", "urls"),
    [
        (
            "Launch! #Artemis #日本 #123 mail me@example.com @NASA_Webb, see nasa.gov/webb. (https://t.co/x1)",
            ["Artemis", "日本"],
            ["NASA_Webb"],
            ["nasa.gov/webb", "https://t.co/x1"],
        ),
        # A fragment is part of the URL, not a hashtag; an HTML numeric entity is no hashtag either.
        ("Webb https://nasa.gov/webb#JWST and &#39;quoted&#39; #JWST", ["JWST"], [], ["https://nasa.gov/webb#JWST"]),
        # Old-style retweets glue RT to the mention; list references are not mentions; 20 is twitter-text's limit.
        ("RT@esa RT:@NASA @NASA/astronauts @" + "a" * 20, [], ["esa", "NASA", "a" * 20], []),
        # An unknown TLD is no URL without a scheme; a real one is, even a new gTLD.
        ("rocket.science and spacex.space and launch.baz", [], [], ["rocket.science", "spacex.space"]),
    ],
)
def test_extraction_on_space_tweets(text, hashtags, mentions, urls):
    assert extract_hashtags(text) == hashtags
    assert extract_mentions(text) == mentions
    assert extract_urls(text) == urls


def test_x_html_escapes_round_trip_in_one_pass():
    assert unescape_x_text("sex &amp; drug &lt;3 &gt;_&lt;") == "sex & drug <3 >_<"
    # X sends a typed "&lt;" as "&amp;lt;": one pass gives back what was typed, and nothing else is touched.
    assert unescape_x_text("&amp;lt; &copy; &quot; AT&T") == "&lt; &copy; &quot; AT&T"
    for text in ("a & b < c > d", "&amp;lt;", "no escapes"):
        assert unescape_x_text(escape_x_text(text)) == text


def test_retweet_prefix_and_clean_text():
    assert strip_retweet_prefix("RT @NASA: Webb unfolds") == ("Webb unfolds", True)
    assert strip_retweet_prefix("Webb RT @NASA: unfolds") == ("Webb RT @NASA: unfolds", False)
    assert clean_text("Wow 🚀🚀\tliftoff\n now") == "Wow liftoff now"


def test_extraction_agrees_with_x_entities_on_real_tweets():
    """On real v2 tweets, text extraction gives what X put in the payload's own ``entities`` block.

    Retweet text cut off with "…" is left out: X drops a URL cut in half there, which no text rule can know.
    """
    checked = 0
    for line in REAL_TWEETS.read_text().splitlines():
        for tweet in json.loads(line)["data"]:
            text = unescape_x_text(tweet["text"])
            if text.endswith("…"):
                continue
            entities = tweet.get("entities") or {}
            assert extract_hashtags(text) == [h["tag"] for h in entities.get("hashtags", [])], text
            assert extract_mentions(text) == [m["username"] for m in entities.get("mentions", [])], text
            assert extract_urls(text) == [u["url"] for u in entities.get("urls", [])], text
            checked += 1
    assert checked >= 40  # 48 of the 200 are whole texts


def test_runs_twitter_text_would_spend_long_on_are_blanked_and_the_rest_is_found():
    """twitter-text's URL pattern is quadratic in the dots of one unbroken run (found by fuzzing the streamer:
    "a." * 1,000 took ~9 s, a 25,000-character note hours). Such runs are blanked before it looks, index for
    index, so the URLs around them are found where they are; a text's total work has a budget."""
    from tweet_topics.lib.records.entities import DOT_WORK_BUDGET, MAX_RUN_DOTS, _url_scan_text

    heavy = "a." * (MAX_RUN_DOTS + 1)
    text = f"see {heavy} https://x.com/a.b and example.com {heavy}#tag"
    scanned = _url_scan_text(text)
    assert len(scanned) == len(text) and heavy not in scanned and "https://x.com/a.b and example.com" in scanned
    assert extract_urls(text) == ["https://x.com/a.b", "example.com"]
    assert extract_urls("x.com." + "a." * MAX_RUN_DOTS) == []  # a URL inside such a run is not looked for
    ordinary = "NASA https://t.co/abc.def www.example.co.uk/a.html and e.g. i.e. 1.5 km. Mars."
    assert _url_scan_text(ordinary * 20) == ordinary * 20  # real texts stay whole
    dotted = "a.b.c.d.e "  # 4 dots: 32 units of work each
    many = dotted * (DOT_WORK_BUDGET // 32 + 50)
    kept = _url_scan_text(many)
    assert kept.startswith(dotted * (DOT_WORK_BUDGET // 32)) and kept.rstrip() != many.rstrip()
    assert kept.count(".") == 4 * (DOT_WORK_BUDGET // 32) and len(kept) == len(many)
