"""Hashtags, mentions and URLs in tweet text, found the way X's twitter-text finds them; and X's text conventions.

Extraction is used when a payload carries no ``entities`` block (v1.1 archives, replays, legacy rows), so it has to
agree with what X itself would have put there. The reference is twitter-text's conformance suite
(``conformance/extract.yml``, v3.1.0; a copy is in ``tweet_topics_tests/data/twitter-text``):

- URLs come from ``twitter-text-parser``, a port of twitter-text's URL extractor that passes that suite: X's
  gTLD/ccTLD lists, punycode, IDNA validation of hosts, directional marks, the 40-character t.co slug limit.
- Hashtags and mentions follow twitter-text's published rules (its ``Regex`` and ``Extractor``), written here with
  the ``regex`` module for Unicode letter, mark and digit classes that ``re`` lacks.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

# --- hashtags ----------------------------------------------------------------------------------------------------
# Besides letters, marks and decimal digits, twitter-text lets these into a hashtag: underscore, ZWNJ and ZWJ
# (Persian, Sinhala), Cyrillic paiyerok, Hebrew maqaf/geresh/gershayim, fullwidth tilde and wave dash, Japanese
# voiced sound marks, double hyphen, katakana middle dot, ditto mark, Tibetan tsheg and the middle dot (Catalan).
_HASHTAG_SPECIALS = "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"
_HASHTAG_ALPHA = r"[\p{L}\p{M}]"
_HASHTAG_ALNUM = rf"[\p{{L}}\p{{M}}\p{{Nd}}{_HASHTAG_SPECIALS}]"
_HASHTAG = (
    # Boundary: the start, an emoji variation selector, or any one character that could not be part of a hashtag
    # and is not '&' (``&#39;`` is no hashtag). It is consumed, as in twitter-text, so scanning matches its results.
    rf"(?:^|[\uFE0E\uFE0F]|(?!{_HASHTAG_ALNUM}|&).)"
    # A hash sign that does not start a keycap emoji (#️⃣).
    r"[#＃](?![\uFE0F\u20E3])"
    # The tag: letters, marks, digits and the specials, with at least one letter or mark (``#123`` is no hashtag).
    rf"({_HASHTAG_ALNUM}*{_HASHTAG_ALPHA}{_HASHTAG_ALNUM}*)"
)  # compiled with DOTALL by _regex
# A tag followed by another hash sign or by ``://`` is not one (``#tag#tag``, ``#http://...``).
_HASHTAG_END = r"[#＃]|://"

# --- mentions ----------------------------------------------------------------------------------------------------
_LATIN_ACCENTS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263\u0268\u026f"
    "\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_MENTION = (
    # Preceded by the start or a character that cannot continue a word, an e-mail, a hashtag or a cashtag;
    # ``RT``/``RT:`` glued to the ``@`` in any case counts as a boundary (old-style retweets).
    r"(?:^|[^a-zA-Z0-9_!#$%&*@＠]|(?:^|[^a-zA-Z0-9_+~.-])(?:rt|RT|rT|Rt):?)"
    # The screen name (twitter-text accepts up to 20 characters), then an optional list slug.
    r"[@＠]([a-zA-Z0-9_]{1,20})(/[a-zA-Z][a-zA-Z0-9_-]{0,24})?"
)
# A name followed by another at sign (``@a@b``, an e-mail), an accented latin letter or ``://`` is not a mention.
_MENTION_END = rf"[@＠{_LATIN_ACCENTS}]|://"


@functools.cache
def _regex(pattern: str, dotall: bool = False) -> Any:
    """The ``regex`` module's compiled pattern, on first use: importing and compiling is not paid by every
    definitions load (issue 27), only by payloads without an entities block."""
    import regex

    return regex.compile(pattern, regex.DOTALL if dotall else 0)


# --- X's text conventions ----------------------------------------------------------------------------------------
_X_ESCAPES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_X_ESCAPED = re.compile("&(?:amp|lt|gt);")
_WHITESPACE = re.compile(r"\s+")
_RT_PREFIX = re.compile(r"^RT @\w+:\s*")

Span = tuple[int, int]


def _without_overlaps(spans: Iterable[tuple[Span, bool]]) -> list[Span]:
    """Spans kept after twitter-text's overlap rule: in order of start, one overlapping an earlier kept one goes.

    Each item is ``(span, wanted)``; only the wanted spans that survive are returned (hashtags among URLs).
    """
    kept: list[Span] = []
    last_end = -1
    for (start, end), wanted in sorted(spans, key=lambda item: item[0][0]):
        if start < last_end:
            continue
        last_end = end
        if wanted:
            kept.append((start, end))
    return kept


def _hashtag_spans(text: str) -> list[Span]:
    """Spans of the tag text (without the hash sign), before checking for URLs."""
    spans = []
    for match in _regex(_HASHTAG, dotall=True).finditer(text):
        if _regex(_HASHTAG_END).match(text, match.end()):
            continue
        spans.append(match.span(1))
    return spans


@functools.cache
def _url_extractor() -> Callable[[str], list[dict[str, Any]]]:
    """twitter-text-parser, imported on first use: its import is ~0.3 s (TLD and emoji regexes, pkg_resources),
    paid by every definitions load otherwise; only texts without an entities block need it."""
    with warnings.catch_warnings():
        # twitter-text-parser loads its emoji table through pkg_resources (setuptools < 81 is pinned for it).
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        from twitter_text import extract_urls_with_indices
    return extract_urls_with_indices


# twitter-text's URL pattern backtracks in time quadratic in the dots of one unbroken run ("a.a.a…": 140 dots
# 0.13 s, 1,000 dots ~7 s, a 25,000-character note of them hours) and costs ~0.1 ms for every run holding a dot.
# Runs it would spend long on are blanked (same length, so every index holds) before it looks: a run of more than
# MAX_RUN_DOTS dots, and every dotted run once a text has spent DOT_WORK_BUDGET (dots squared + 16 per run). A
# real tweet's URLs spend a few hundred; only a hostile text reaches the budget.
MAX_RUN_DOTS = 24
DOT_WORK_BUDGET = 6_000
_RUN = re.compile(r"\S+")


def _url_scan_text(text: str) -> str:
    """``text`` with the runs twitter-text would spend long on blanked (its work bounded: tens of ms)."""
    if text.count(".") <= MAX_RUN_DOTS:
        return text
    pieces, done, work = [], 0, 0
    for run in _RUN.finditer(text):
        dots = run.group().count(".")
        if not dots:
            continue  # no domain, no URL: cheap for it
        cost = dots * dots + 16
        if dots > MAX_RUN_DOTS or work + cost > DOT_WORK_BUDGET:
            pieces += [text[done : run.start()], " " * (run.end() - run.start())]
            done = run.end()
        else:
            work += cost
    return "".join([*pieces, text[done:]])


def _urls(text: str) -> list[dict[str, Any]]:
    return _url_extractor()(_url_scan_text(text))


def _url_spans(text: str) -> list[Span]:
    return [(u["indices"][0], u["indices"][1]) for u in _urls(text)]


def extract_hashtags(text: str) -> list[str]:
    """Hashtag bodies without the hash sign, in order; a ``#`` inside a URL (a fragment) is not a hashtag."""
    if "#" not in text and "＃" not in text:
        return []
    tags = _hashtag_spans(text)
    if not tags:
        return []
    urls = _url_spans(text)
    if urls:
        # A hashtag's own span starts at its hash sign, one before the tag text.
        entities = [((start - 1, end), True) for start, end in tags] + [(span, False) for span in urls]
        tags = [(start + 1, end) for start, end in _without_overlaps(entities)]
    return [text[start:end] for start, end in tags]


def extract_mentions(text: str) -> list[str]:
    """Mentioned screen names without the at sign, in order; list references (``@user/list``) are not mentions."""
    if "@" not in text and "＠" not in text:
        return []
    names = []
    for match in _regex(_MENTION).finditer(text):
        if _regex(_MENTION_END).match(text, match.end()) or match.group(2):
            continue
        names.append(match.group(1))
    return names


def extract_urls(text: str) -> list[str]:
    """URLs as they appear in the text, with or without a scheme, trailing punctuation left out."""
    return [u["url"] for u in _urls(text)]


def unescape_x_text(text: str) -> str:
    """Undo X's HTML escaping of tweet text (``&amp;``, ``&lt;``, ``&gt;``; X escapes nothing else).

    One pass, so a literal ``&lt;`` typed by a user (sent as ``&amp;lt;``) stays ``&lt;``; no other entity is
    touched, since X leaves everything else as typed.
    """
    if "&" not in text:
        return text
    return _X_ESCAPED.sub(lambda match: _X_ESCAPES[match.group()], text)


def escape_x_text(text: str) -> str:
    """X's escaping of tweet text, the inverse of ``unescape_x_text`` (for writing text as X sent it)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def strip_retweet_prefix(text: str) -> tuple[str, bool]:
    """Remove a leading ``RT @user:`` and say whether it was there (the reference's retweet flag)."""
    stripped = _RT_PREFIX.sub("", text, count=1)
    return stripped, stripped != text


# emoji.replace_emoji walks the text character by character in Python (over half of the streamer's conversion
# time). It can only change runs of characters that occur in some emoji (plus the variation selectors, which it
# always drops), and ASCII alone is never an emoji, so only those runs of a non-ASCII text go through it: the same
# output (tested against the library on the whole emoji table and random mixes), several times faster.
# The emoji table is loaded on the first non-ASCII text, not at import (definitions load time).


def _char_class(chars: Iterable[str]) -> str:
    """A regex character class of ``chars`` as ranges (``re`` scans a list of astral literals one by one)."""
    points, ranges = sorted(map(ord, chars)), []
    for point in points:
        if ranges and point == ranges[-1][1] + 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    return "[" + "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in ranges) + "]"


@functools.cache
def _emoji_run() -> re.Pattern[str]:
    import emoji

    chars = {char for key in emoji.EMOJI_DATA for char in key} | {"\ufe0e", "\ufe0f", "\u200d"}
    return re.compile(_char_class(chars) + "+")


# emoji.replace_emoji is quadratic in a chain of zero-width joiners ("👨\u200d" * 8,000: 2.7 s, a 1 MB line
# minutes), so a long run goes through it in pieces of at most EMOJI_PIECE characters, cut where no emoji
# sequence can go on: not next to a joiner, not before a modifier, variation selector, keycap or tag, not inside
# a flag's pair of regional indicators. Every emoji is far shorter, so the output is the same; only a joiner
# chain longer than a piece (no emoji is) is cut where it must.
EMOJI_PIECE = 64
_ZWJ = "\u200d"
_GOES_ON = re.compile("[\u200d\ufe0e\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")
_REGIONAL = re.compile("[\U0001f1e6-\U0001f1ff]")


def _sequence_may_end_before(run: str, i: int, start: int) -> bool:
    """Whether an emoji sequence can end before ``run[i]`` (``start``: where the current piece begins, at such a
    place, so a flag's pairs are counted from there)."""
    if run[i - 1] == _ZWJ or _GOES_ON.match(run[i]):
        return False
    if _REGIONAL.match(run[i]) and _REGIONAL.match(run[i - 1]):
        before = i
        while before > start and _REGIONAL.match(run[before - 1]):
            before -= 1
        return (i - before) % 2 == 0  # a flag is a pair: cut only after whole pairs
    return True


def _emoji_pieces(run: str) -> list[str]:
    pieces, start = [], 0
    while len(run) - start > EMOJI_PIECE:
        end = start + EMOJI_PIECE
        cut = next((i for i in range(end, start, -1) if _sequence_may_end_before(run, i, start)), end)
        pieces.append(run[start:cut])
        start = cut
    return [*pieces, run[start:]]


def _replace_emoji_run(match: re.Match[str]) -> str:
    import emoji  # loaded by _emoji_run already

    run = match.group()
    if run.isascii():
        return run  # digits, # and * alone stay
    return "".join(emoji.replace_emoji(piece, replace=" ") for piece in _emoji_pieces(run))


def clean_text(text: str) -> str:
    """Text for modeling: emoji removed, whitespace (tabs, newlines) collapsed to single spaces."""
    if not text.isascii():
        text = _emoji_run().sub(_replace_emoji_run, text)
    return " ".join(text.split())  # = _WHITESPACE.sub(" ", text).strip(): the same Unicode whitespace, tested
