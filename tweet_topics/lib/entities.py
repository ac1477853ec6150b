"""Hashtag, mention and URL extraction from tweet text, following the rules X's twitter-text uses.

Used when a payload carries no ``entities`` block (v1.1 archives, replays, legacy rows).
"""

from __future__ import annotations

import re

import emoji

# A hashtag starts after a non-word character (or the start), may use any unicode letter or digit,
# and must contain at least one non-digit; ``#`` or the full-width ``＃`` both start one.
_HASHTAG = re.compile(r"(?<![\w&#＃])[#＃](\w*[^\W\d]\w*)")
# Mentions are 1-15 word characters; an ``@`` preceded by a word character (an e-mail) is no mention.
_MENTION = re.compile(r"(?<![\w@＠])[@＠](\w{1,15})(?![\w@＠])")
# URLs with a scheme, or bare domains with a known top-level domain.
_URL = re.compile(
    r"(?<![\w@.])(?:https?://[^\s<>\"]+|(?:www\.)?(?:[a-z0-9-]+\.)+(?:com|org|net|gov|edu|io|co|ly|me|ai|"
    r"int|space|info|news|tv|uk|de|fr|in|jp|au|ca)(?:/[^\s<>\"]*)?)",
    re.IGNORECASE,
)
_TRAILING_PUNCT = ".,;:!?)]}'\"…"
_WHITESPACE = re.compile(r"\s+")
_RT_PREFIX = re.compile(r"^RT @\w+:\s*")


def extract_hashtags(text: str) -> list[str]:
    """Hashtag bodies without ``#``, in order of appearance."""
    return _HASHTAG.findall(text)


def extract_mentions(text: str) -> list[str]:
    """Mentioned usernames without ``@``; e-mail addresses are not mentions."""
    return _MENTION.findall(text)


def extract_urls(text: str) -> list[str]:
    """URLs with or without scheme; trailing sentence punctuation is not part of a URL."""
    urls = []
    for match in _URL.findall(text):
        url = match.rstrip(_TRAILING_PUNCT)
        if url:
            urls.append(url)
    return urls


def strip_retweet_prefix(text: str) -> tuple[str, bool]:
    """Remove a leading ``RT @user:`` and say whether it was there (the reference's retweet flag)."""
    stripped = _RT_PREFIX.sub("", text, count=1)
    return stripped, stripped != text


def clean_text(text: str) -> str:
    """Text for modeling: emoji removed, whitespace (tabs, newlines) collapsed to single spaces."""
    return _WHITESPACE.sub(" ", emoji.replace_emoji(text, replace=" ")).strip()
