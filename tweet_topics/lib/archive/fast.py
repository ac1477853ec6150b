"""The record conversion of ``lib.records`` with one exact shortcut: emoji removal only where emoji can be.

``clean_text`` runs ``emoji.replace_emoji``, a pure-Python tokenizer that walks every character (about three
quarters of the conversion's time on tweets). Every emoji in the emoji library's table contains at least one
non-ASCII character from its sequences, and at most one ASCII character before it (keycaps such as ``#️⃣``) and
none after; so a text without such a character has no emoji, and one with them is tokenized only from one character
before the first to the last of them. The result is the same string (tested against ``clean_text`` itself).

``record_from_v2``/``record_from_v1`` are used as they are, with only their ``_finish``'s ``clean_text`` bound to
the shortcut: the same code, so any change to the parsers applies here too. Once ``entities.clean_text`` has a
shortcut of its own (it no longer hands the whole text to ``replace_emoji``), the parsers are used unchanged.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from typing import Any

import emoji

from tweet_topics.lib.records import entities, payloads


def _char_class(chars: set[str]) -> str:
    """A regex class of ``chars`` as ranges (a class of 1,400 single astral characters is scanned linearly)."""
    points = sorted(map(ord, chars))
    ranges: list[list[int]] = []
    for point in points:
        if ranges and point == ranges[-1][1] + 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    return "[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges) + "]"


_EMOJI_CHAR = re.compile(_char_class({c for key in emoji.EMOJI_DATA for c in key if not c.isascii()}))
# ASCII characters an emoji sequence may have before its first non-ASCII one (keycaps: 1 - checked at import).
LEAD = max(next(i for i, c in enumerate(key) if not c.isascii()) for key in emoji.EMOJI_DATA)
_WHITESPACE = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """``entities.clean_text(text)``, tokenizing only the span that can hold emoji."""
    first = _EMOJI_CHAR.search(text)
    if first is None:
        return _WHITESPACE.sub(" ", text).strip()
    last = first.end()
    for match in _EMOJI_CHAR.finditer(text, last):
        last = match.end()
    start = max(0, first.start() - LEAD)
    middle = emoji.replace_emoji(text[start:last], replace=" ")
    return _WHITESPACE.sub(" ", text[:start] + middle + text[last:]).strip()


def _rebound(function: Callable[..., Any], **names: Any) -> Callable[..., Any]:
    """``function``'s own code with some of its module's global names bound to other objects."""
    rebound = types.FunctionType(
        function.__code__, {**function.__globals__, **names}, function.__name__, function.__defaults__
    )
    rebound.__doc__ = function.__doc__
    return rebound


if "replace_emoji" in entities.clean_text.__code__.co_names:  # the library's tokenizer over the whole text
    _finish = _rebound(payloads._finish, clean_text=clean_text)
    record_from_v2 = _rebound(payloads.record_from_v2, _finish=_finish)
    record_from_v1 = _rebound(payloads.record_from_v1, _finish=_finish)
else:  # entities.clean_text has a shortcut of its own: nothing to add
    record_from_v2, record_from_v1 = payloads.record_from_v2, payloads.record_from_v1
