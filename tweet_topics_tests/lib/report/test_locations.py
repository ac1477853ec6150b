"""Location -> country on known cases, placeholders, and coverage on the real-tweet sample (printed)."""

import json

import pytest

from tweet_topics.lib.report import locations
from tweet_topics_tests.conftest import REAL_TWEETS

KNOWN = [
    ("Los Angeles, CA", "US"),
    ("London, England", "GB"),
    ("ottawa, canada", "CA"),
    ("Madrid, España", "ES"),
    ("São Paulo, Brasil", "BR"),
    ("Lake Wobegon, MN, USA 🇺🇸", "US"),
    ("🇺🇸🌎🌺🌺", "US"),
    ("Vadodara, India", "IN"),
    ("Riyadh Saudi Arabia ", "SA"),
    ("Ulladulla, New South Wales", "AU"),
    ("Mumbai", "IN"),
    ("Deutschland", "DE"),
    ("Ciudad de México", "MX"),
    ("Secunda, South Africa", "ZA"),
    ("RSA", "ZA"),
    ("UK", "GB"),
    ("European Union, United Kingdom", "GB"),
    ("Paris, France", "FR"),
    ("Paris, TX", "US"),
    ("Georgia", "US"),
    ("Tbilisi, Georgia", "GE"),
    ("London, Ontario", "CA"),
    ("Long island , NY", "US"),
    ("South Padre Island, TX", "US"),
    ("east bay, northern California", "US"),
    ("Cali", "US"),
    ("Toronto", "CA"),
    ("Ohio USA", "US"),
    ("Buenos Aires", "AR"),
    ("Nairobi, Kenya", "KE"),
    ("Manila", "PH"),
    ("Washington, D.C. ", "US"),
    ("Salem wv", "US"),
    ("North East", None),
    ("Just Outside My Mind", None),
    ("Earth", None),
    ("Planet Earth", None),
    ("Worldwide", None),
    ("she/her", None),
    (None, None),
]


@pytest.mark.parametrize(("location", "expected"), KNOWN)
def test_known_locations(location, expected):
    assert locations.country_of(location) == expected


@pytest.mark.parametrize("value", ["Earth", "Worldwide", "Everywhere", "🌎🚀✨", "...", "", None, "she/her", "None"])
def test_placeholders(value):
    assert locations.is_placeholder(value)


@pytest.mark.parametrize("value", ["Houston, TX", "Mars Hill, NC", "Earthquake country"])
def test_real_places_are_not_placeholders(value):
    assert not locations.is_placeholder(value)


def test_country_names_for_display():
    assert locations.country_name("US") == "United States" and locations.country_name(None) == "unknown"


def test_coverage_on_real_tweets():
    """The users of the twarc sample (291 users, 200 with a location): most real places resolve."""
    users = [u for line in REAL_TWEETS.open() for u in json.loads(line)["includes"]["users"]]
    stats = locations.coverage(u.get("location") for u in users)
    print(f"\nlocation coverage on {REAL_TWEETS.name}: {stats}")
    assert stats["locations"] == 291 and stats["places"] > 150
    assert stats["coverage"] >= 0.85


KIB = 1024


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("Paris," + " " * 1000 * KIB + "France", "FR"),  # a long blank run: the old split rescanned it per start
        ("Paris, France" + " \t" * 500 * KIB + "x", "FR"),
        ("x," * 500 * KIB, None),
        ("Ohio " + "word " * 200 * KIB, "US"),
        ("🇫🇷" + "-" * 1000 * KIB, "FR"),
    ],
)
def test_a_1000_kib_location_resolves_from_its_first_characters(location, expected):
    """Linear (and bounded) work for any length: these finish; the old regex needed hours for the first one.

    Timing is in benchmarks, not here: this only has to finish and give the answer the leading text gives.
    """
    assert locations.country_of(location) == expected
    assert locations.is_placeholder(location) is locations.is_placeholder(location[: locations.MAX_LOCATION_CHARS])
